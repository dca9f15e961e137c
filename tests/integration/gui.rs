//! The window, driven through its accessibility tree (`egui_kittest`) on an in-memory store and
//! temp files: add → save, edit → preview, export, broken entries, and a real test pull.

use std::os::unix::fs::PermissionsExt as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use regcred::auth_files::Env;
use regcred::gui::{App, Opener, State};
use regcred::keychain::{MemoryStore, SecretStore};
use regcred::registry::Outcome;
use serde_json::Value;

use crate::support::registry::{self, Registry};
use crate::support::{TempHome, component_available, fixture};

struct Window {
    harness: Harness<'static, App>,
    store: Arc<MemoryStore>,
    _runtime: tokio::runtime::Runtime,
}

fn window(home: &TempHome) -> Window {
    window_with(home, false)
}

fn window_with(home: &TempHome, render: bool) -> Window {
    window_at(home.path(), render)
}

fn window_at(home: &std::path::Path, render: bool) -> Window {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let store = Arc::new(MemoryStore::default());
    let shared = store.clone();
    let opener: Opener = Arc::new(move |_: &str| Ok(Box::new(shared.clone()) as Box<dyn SecretStore>));
    let env = Env { home: Some(home.to_path_buf()), ..Env::default() };
    let handle = runtime.handle().clone();
    let mut builder = Harness::builder().with_size([1280.0, 800.0]);
    if render {
        builder = builder.wgpu();
    }
    let harness = builder.build_eframe(move |cc| App::new(&cc.egui_ctx, State::default(), env, handle, opener, false));
    let mut window = Window { harness, store, _runtime: runtime };
    window.settle();
    window
}

impl Window {
    /// Runs frames until background jobs have finished and the window has drawn what they
    /// brought (commands apply a frame late, and a new window needs a sizing frame).
    fn settle(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut idle_frames = 0;
        while idle_frames < 5 {
            self.harness.step();
            idle_frames = if self.harness.state().busy() { 0 } else { idle_frames + 1 };
            assert!(Instant::now() < deadline, "the window stayed busy");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Focuses the field labelled `label` and types `text` into it.
    fn type_into(&mut self, label: &str, text: &str) {
        self.harness.get_by_label(label).focus();
        self.harness.run_steps(1);
        self.harness.get_by_label(label).type_text(text);
        self.harness.run_steps(2);
    }

    fn app(&self) -> &App {
        self.harness.state()
    }
}

#[test]
fn add_a_registry_save_it_to_the_keychain_and_export_its_yaml() {
    let home = TempHome::new();
    home.write(&home.docker_config(), &fixture("ecr-gcr.json"));
    let mut window = window(&home);
    assert!(window.app().title().starts_with("regcred — "), "{}", window.app().title());
    window.harness.get_by_label("Add registry").click();
    window.harness.run_steps(2);
    window.type_into("Server", "registry.example.com:5000");
    window.type_into("Username", "robot");
    window.type_into("Password", "s3cret-from-gui");
    window.harness.run_steps(2);
    assert!(window.app().title().ends_with(" •"), "unsaved mark: {}", window.app().title());
    let before = window.app().preview().unwrap().text;
    window.harness.get_by_label("Save").click();
    window.settle();
    let config: Value = serde_json::from_slice(&std::fs::read(home.docker_config()).unwrap()).unwrap();
    assert_eq!(config["auths"]["registry.example.com:5000"], serde_json::json!({}), "a stub in the file");
    assert_eq!(config["credHelpers"]["registry.example.com:5000"], "regcred");
    assert_eq!(config["auths"]["quay.io"]["email"], "ops@example.com", "other entries untouched");
    let stored = window.store.get("registry.example.com:5000").unwrap().unwrap();
    assert_eq!(stored.secret.expose(), "s3cret-from-gui");
    assert!(!window.app().title().ends_with(" •"), "saved: {}", window.app().title());

    window.type_into("Username", "-2");
    window.harness.run_steps(2);
    let after = window.app().preview().unwrap().text;
    assert_ne!(before, after, "the preview follows the editor");

    window.harness.get_by_label("Export YAML…").click();
    window.settle();
    let target = home.path().join("exported.yaml");
    window.type_into("Export to", target.to_str().unwrap());
    window.harness.run_steps(2);
    window.harness.get_by_label("Write").click();
    window.settle();
    let written = std::fs::read_to_string(&target).unwrap();
    assert_eq!(written, window.app().preview().unwrap().text);
    assert_eq!(std::fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn broken_entries_are_flagged_and_left_alone_by_a_save() {
    let home = TempHome::new();
    let original = fixture("broken-entries.json");
    home.write(&home.docker_config(), &original);
    let mut window = window(&home);
    assert!(window.harness.query_by_label_contains("urlsafe.example.com").is_some());
    assert!(window.harness.query_all_by_label_contains("(!) problem").count() >= 10);
    window.harness.get_by_label_contains("good.example.com").click();
    window.settle();
    window.type_into("Password", "-changed");
    window.harness.get_by_label("Save").click();
    window.settle();
    let before: Value = serde_json::from_slice(&original).unwrap();
    let after: Value = serde_json::from_slice(&std::fs::read(home.docker_config()).unwrap()).unwrap();
    for (key, value) in before["auths"].as_object().unwrap() {
        if key != "good.example.com" {
            assert_eq!(after["auths"][key], *value, "{key:?} untouched");
        }
    }
}

#[test]
fn test_pull_from_the_window_shows_success_and_the_kubelet_line() {
    if !component_available("docker-registry and skopeo", registry::available()) {
        return;
    }
    let registry = Registry::start(Some(("alice", "gui-pull-pw")));
    registry.push_image("team/app", "v1");
    let home = TempHome::new();
    let auth = regcred::auth_files::encode_auth("alice", &regcred::secret::Secret::new("gui-pull-pw"));
    home.write(&home.docker_config(), format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, registry.host).as_bytes());
    let mut window = window(&home);
    window.harness.get_by_label_contains(&registry.host).click();
    window.settle();
    window.type_into("Image", &format!("{}/team/app:v1", registry.host));
    window.harness.get_by_label("Test pull").click();
    window.settle();
    let report = window.app().pull_result(&registry.host).expect("a result card");
    assert!(matches!(report.outcome, Outcome::Success(_)), "{}", report.to_text());
    assert!(window.harness.query_by_label_contains("Would pull").is_some());

    window.type_into("Password", "-wrong");
    window.harness.run_steps(2);
    window.harness.get_by_label("Test pull").click();
    window.settle();
    let report = window.app().pull_result(&registry.host).unwrap();
    let Outcome::Failure(failure) = &report.outcome else { panic!("{}", report.to_text()) };
    assert!(failure.kubelet_event.contains("401 Unauthorized"));
    assert!(window.harness.query_by_label_contains("What the kubelet will report").is_some());
}

#[test]
fn a_conflicting_write_by_another_program_asks_before_anything_is_lost() {
    let home = TempHome::new();
    home.write(&home.docker_config(), &fixture("ecr-gcr.json"));
    let mut window = window(&home);
    window.harness.get_by_label_contains("quay.io").click();
    window.settle();
    window.type_into("Password", "-mine");
    let mut theirs: Value = serde_json::from_slice(&fixture("ecr-gcr.json")).unwrap();
    theirs["auths"]["quay.io"]["auth"] =
        regcred::auth_files::encode_auth("other", &regcred::secret::Secret::new("theirs")).into();
    theirs["auths"]["ghcr.io"] = serde_json::json!({"auth": "dTpw"});
    std::fs::write(home.docker_config(), serde_json::to_vec(&theirs).unwrap()).unwrap();
    window.harness.get_by_label("Save").click();
    window.settle();
    assert!(window.harness.query_by_label_contains("The file changed on disk").is_some(), "the conflict dialog");
    let on_disk: Value = serde_json::from_slice(&std::fs::read(home.docker_config()).unwrap()).unwrap();
    assert_eq!(on_disk, theirs, "nothing written before the user chooses");
    window.harness.get_by_label("Keep mine").click();
    window.settle();
    let saved: Value = serde_json::from_slice(&std::fs::read(home.docker_config()).unwrap()).unwrap();
    let expected = regcred::auth_files::encode_auth("robot+ci", &regcred::secret::Secret::new("tok-mine"));
    assert_eq!(saved["auths"]["quay.io"]["auth"], expected, "mine kept knowingly");
    assert_eq!(saved["auths"]["ghcr.io"]["auth"], "dTpw", "their other change merged");
}

/// The main screens, rendered with wgpu on Mesa's software Vulkan and compared with the images
/// under `tests/snapshots` (`UPDATE_SNAPSHOTS=1` rewrites them after a deliberate change).
#[test]
fn snapshots_of_the_main_screens() {
    let lavapipe = std::path::Path::new("/usr/share/vulkan/icd.d").read_dir().is_ok_and(|mut d| d.next().is_some());
    if !component_available("a Vulkan driver (mesa-vulkan-drivers) for snapshot rendering", lavapipe) {
        return;
    }
    // Fixed paths and a fixed keychain state: the images must not depend on the machine.
    let root = std::path::Path::new("/tmp/regcred-snapshots");
    let _ = std::fs::remove_dir_all(root);
    std::fs::create_dir_all(root.join("empty")).unwrap();
    let mut empty = window_at(&root.join("empty"), true);
    empty.harness.state_mut().set_keychain_state(regcred::keychain::KeychainState::Available);
    empty.harness.run_steps(2);
    empty.harness.snapshot("window_empty");
    let mut results = empty.harness.take_snapshot_results();

    let home = root.join("home");
    std::fs::create_dir_all(home.join(".docker")).unwrap();
    std::fs::write(home.join(".docker/config.json"), fixture("broken-entries.json")).unwrap();
    let mut window = window_at(&home, true);
    window.harness.state_mut().set_keychain_state(regcred::keychain::KeychainState::Available);
    window.harness.get_by_label_contains("good.example.com").click();
    window.settle();
    window.harness.snapshot("window_list_and_secret");
    window.harness.get_by_label("Pod").click();
    window.type_into("Image", "nonexistent.invalid/team/app:1.0");
    window.harness.run_steps(2);
    window.harness.snapshot("window_yaml_pod");
    window.harness.get_by_label("Secret (dockerconfigjson)").click();
    window.harness.get_by_label("Test pull").click();
    window.settle();
    window.harness.snapshot("window_failure_card");
    window.harness.ctx.set_theme(egui::Theme::Light);
    window.harness.run_steps(3);
    window.harness.snapshot("window_failure_card_light");
    results.extend(window.harness.take_snapshot_results());
    results.unwrap();
}

/// The success card, from a real pull against the basic-auth registry on a fixed port (the host
/// is on screen), compared like the images above. Its own fixed home: the test above clears
/// `/tmp/regcred-snapshots` while this one may run.
#[test]
fn snapshot_of_a_successful_test_pull() {
    let lavapipe = std::path::Path::new("/usr/share/vulkan/icd.d").read_dir().is_ok_and(|mut d| d.next().is_some());
    if !component_available("a Vulkan driver (mesa-vulkan-drivers) for snapshot rendering", lavapipe)
        || !component_available("docker-registry and skopeo", registry::available())
    {
        return;
    }
    let registry = Registry::start_with(&registry::Setup {
        basic: Some(("alice", "snapshot-pw")),
        port: Some(24_999),
        ..registry::Setup::default()
    });
    registry.push_image("team/app", "v1");
    let home = std::path::Path::new("/tmp/regcred-snapshot-pull");
    let _ = std::fs::remove_dir_all(home);
    std::fs::create_dir_all(home.join(".docker")).unwrap();
    let auth = regcred::auth_files::encode_auth("alice", &regcred::secret::Secret::new("snapshot-pw"));
    let config = format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, registry.host);
    std::fs::write(home.join(".docker/config.json"), config).unwrap();
    let mut window = window_at(home, true);
    window.harness.state_mut().set_keychain_state(regcred::keychain::KeychainState::Available);
    window.harness.get_by_label_contains(&registry.host).click();
    window.settle();
    window.type_into("Image", &format!("{}/team/app:v1", registry.host));
    window.harness.get_by_label("Test pull").click();
    window.settle();
    assert!(window.harness.query_by_label_contains("Would pull").is_some());
    window.harness.snapshot("window_success_card");
}

#[test]
fn plaintext_secrets_move_to_the_keychain_after_a_confirmation_that_says_what_changes() {
    let home = TempHome::new();
    home.write(&home.docker_config(), &fixture("ecr-gcr.json"));
    let mut window = window(&home);
    window.harness.get_by_label("Move plaintext secrets to the keychain…").click();
    window.settle();
    assert!(window.harness.query_by_label_contains("Each secret is stored in the OS keychain and read back").is_some());
    assert_eq!(
        std::fs::read(home.docker_config()).unwrap(),
        fixture("ecr-gcr.json"),
        "nothing before the confirmation"
    );
    window.harness.get_by_label("Move them").click();
    window.settle();
    let config: Value = serde_json::from_slice(&std::fs::read(home.docker_config()).unwrap()).unwrap();
    assert_eq!(config["auths"]["quay.io"], serde_json::json!({"email": "ops@example.com"}));
    assert_eq!(config["credHelpers"]["quay.io"], "regcred");
    assert_eq!(window.store.get("quay.io").unwrap().unwrap().username, "robot+ci");
    window.harness.get_by_label_contains("· keychain").click();
    window.settle();
    window.type_into("Image", "quay.io/team/app");
    assert!(
        window
            .harness
            .query_by_label_contains("this image would use: credHelpers, docker-credential-regcred")
            .is_some()
    );
}

#[test]
fn orphans_are_listed_with_a_fix_that_asks_first() {
    let home = TempHome::new();
    home.write(
        &home.docker_config(),
        br#"{"auths":{"ghost.example.com":{},"quay.io":{"auth":"dTpw"}},"credHelpers":{"ghost.example.com":"regcred"}}"#,
    );
    let mut window = window(&home);
    window.harness.get_by_label("Orphans…").click();
    window.settle();
    assert!(
        window
            .harness
            .query_by_label_contains("ghost.example.com: docker-credential-regcred has no secret for it")
            .is_some()
    );
    let before = std::fs::read(home.docker_config()).unwrap();
    window.harness.get_by_label("Remove the empty entry").click();
    window.settle();
    assert!(
        window.harness.query_by_label_contains("Removes the entry ghost.example.com from").is_some(),
        "the confirmation says what will change"
    );
    assert_eq!(std::fs::read(home.docker_config()).unwrap(), before, "nothing before the confirmation");
    window.harness.get_by_label("Remove the entry").click();
    window.settle();
    let config: Value = serde_json::from_slice(&std::fs::read(home.docker_config()).unwrap()).unwrap();
    assert!(config["auths"].get("ghost.example.com").is_none(), "{config}");
    assert!(config.get("credHelpers").is_none_or(|h| h.get("ghost.example.com").is_none()), "{config}");
    assert_eq!(config["auths"]["quay.io"]["auth"], "dTpw");
}
