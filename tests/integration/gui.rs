//! The window, driven through its accessibility tree (`egui_kittest`): temp files, an in-memory
//! store (or the real keychain for the first start), real registries and scripted servers. Each
//! test is one thing a person does: the first start, the keyboard, a test pull, the unsaved-edit
//! guard, export, conflicts, keychain states, the list as a dashboard, the layout at small sizes.

use std::os::unix::fs::PermissionsExt as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use regcred::auth_files::{Env, encode_auth};
use regcred::gui::{App, Opener, State, TestVerdict};
use regcred::keychain::{Credential, KeychainState, MemoryStore, SecretStore};
use regcred::registry::Outcome;
use regcred::secret::Secret;
use serde_json::Value;

use crate::support::registry::{self, Registry};
use crate::support::tiny_http::{TinyServer, response};
use crate::support::{TempHome, component_available, fixture, keychain, keychain_turn, unique_server};

pub(crate) struct Window {
    pub(crate) harness: Harness<'static, App>,
    pub(crate) store: Arc<MemoryStore>,
    _runtime: tokio::runtime::Runtime,
}

/// How a test window is made.
pub(crate) struct Make<'a> {
    pub(crate) home: &'a std::path::Path,
    pub(crate) size: [f32; 2],
    pub(crate) render: bool,
    pub(crate) opener: Option<Opener>,
}

impl<'a> Make<'a> {
    pub(crate) fn new(home: &'a std::path::Path) -> Self {
        Self { home, size: [1280.0, 800.0], render: false, opener: None }
    }
}

pub(crate) fn window(home: &TempHome) -> Window {
    make(Make::new(home.path()))
}

pub(crate) fn make(how: Make<'_>) -> Window {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let store = Arc::new(MemoryStore::default());
    let shared = store.clone();
    let real = how.opener.is_some();
    let opener =
        how.opener.unwrap_or_else(|| Arc::new(move |_: &str| Ok(Box::new(shared.clone()) as Box<dyn SecretStore>)));
    let env = Env { home: Some(how.home.to_path_buf()), ..Env::default() };
    let handle = runtime.handle().clone();
    let mut builder = Harness::builder().with_size(how.size);
    if how.render {
        builder = builder.wgpu();
    }
    let harness = builder.build_eframe(move |cc| App::new(&cc.egui_ctx, State::default(), env, handle, opener, false));
    let mut window = Window { harness, store, _runtime: runtime };
    window.settle();
    if !real {
        // The in-memory store stands for an available keychain, whatever this machine has.
        window.harness.state_mut().set_keychain_state(KeychainState::Available);
        window.harness.run_steps(2);
    }
    window
}

impl Window {
    /// Runs frames until background jobs have finished and the window has drawn what they
    /// brought (commands apply a frame late, and a new window needs a sizing frame).
    pub(crate) fn settle(&mut self) {
        let deadline = Instant::now() + Duration::from_mins(1);
        let mut idle_frames = 0;
        while idle_frames < 5 {
            self.harness.step();
            idle_frames = if self.harness.state().busy() { 0 } else { idle_frames + 1 };
            assert!(Instant::now() < deadline, "the window stayed busy");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The table's row for `key` (a list item described as `KEY — user … — secret … — last test …`).
    pub(crate) fn row(&self, key: &str) -> egui_kittest::Node<'_> {
        let start = format!("{key} — ");
        self.harness.get_by(move |node: &egui_kittest::kittest::AccessKitNode<'_>| {
            node.role() == egui::accesskit::Role::ListItem && node.label().is_some_and(|l| l.starts_with(&start))
        })
    }

    /// Selects `key`'s row with a click on its middle (on its words, as people click).
    pub(crate) fn select(&mut self, key: &str) {
        self.row(key).click();
        self.settle();
        if !self.shows("has changes that are not saved") {
            assert_eq!(self.app().selected().as_deref(), Some(key), "a click on the row selects it");
        }
    }

    /// Shows a tab of the detail pane.
    pub(crate) fn tab(&mut self, name: &str) {
        let node = self.harness.get_by_role_and_label(egui::accesskit::Role::Tab, name);
        if visible_rect(&node).contains_rect(node.rect().shrink(1.0)) {
            node.click();
        } else {
            node.click_accesskit();
        }
        self.settle();
    }

    /// Makes `label` reachable as a person would: the tab or menu it lives in is opened first.
    pub(crate) fn reveal(&mut self, label: &str) {
        if self.harness.query_by_label(label).is_some() {
            return;
        }
        match label {
            "Image" | "Platform" | "Run test pull" | "Full (download every blob)" | "Quick" => self.tab("Test pull"),
            "Server" | "Username" | "Password" | "Email" | "Save" | "Revert" | "Copy password" | "Remove…" => {
                self.tab("Login");
            }
            "Copy" | "Export YAML…" | "Secret name" | "Namespace" | "Pod" | "Reveal secrets" => {
                self.tab("Kubernetes");
            }
            "Reload" | "Orphans…" | "Move plaintext to keychain…" | "Compact rows" => {
                self.harness.get_by_label("More…").click();
                self.harness.run_steps(2);
            }
            _ => {}
        }
    }

    /// Focuses the field labelled `label` and types `text` into it (after what it holds).
    pub(crate) fn type_into(&mut self, label: &str, text: &str) {
        self.reveal(label);
        self.harness.get_by_label(label).focus();
        self.harness.run_steps(1);
        self.harness.get_by_label(label).type_text(text);
        self.harness.run_steps(2);
    }

    /// Clicks `label` as a person would: its tab or menu opened, scrolled into view; without
    /// waiting for what it starts.
    pub(crate) fn press(&mut self, label: &str) {
        self.reveal(label);
        let node = self.harness.get_by_label(label);
        // On screen: a real click at its middle. Scrolled away: the click a screen reader sends
        // (a person would scroll first).
        if visible_rect(&node).contains_rect(node.rect().shrink(1.0)) {
            node.click();
        } else {
            node.click_accesskit();
        }
    }

    pub(crate) fn click(&mut self, label: &str) {
        self.press(label);
        self.settle();
    }

    /// Clicks the last widget labelled `label` (a dialog's, over the panel's of the same name).
    pub(crate) fn click_last(&mut self, label: &str) {
        self.harness.get_all_by_label(label).last().unwrap().click();
        self.settle();
    }

    pub(crate) fn key(&mut self, modifiers: egui::Modifiers, key: egui::Key) {
        self.harness.key_press_modifiers(modifiers, key);
        self.harness.run_steps(2);
        self.settle();
    }

    pub(crate) fn app(&self) -> &App {
        self.harness.state()
    }

    pub(crate) fn shows(&self, text: &str) -> bool {
        self.harness.query_all_by_label_contains(text).next().is_some()
    }

    /// The label of the focused widget.
    pub(crate) fn focused(&self) -> String {
        let node = self.harness.query(egui_kittest::kittest::by().predicate(accesskit_consumer_focused));
        node.map(|n| n.accesskit_node().label().unwrap_or_default()).unwrap_or_default()
    }

    /// Every label and value in the accessibility tree, one per line.
    pub(crate) fn tree_text(&self) -> String {
        let mut out = String::new();
        for node in self.harness.root().children_recursive() {
            let node = node.accesskit_node();
            out.push_str(&node.label().unwrap_or_default());
            out.push(' ');
            out.push_str(&node.value().unwrap_or_default());
            out.push('\n');
        }
        out
    }

    pub(crate) fn copied(&self) -> Vec<String> {
        self.harness
            .output()
            .platform_output
            .commands
            .iter()
            .filter_map(|c| match c {
                egui::OutputCommand::CopyText(text) => Some(text.clone()),
                _ => None,
            })
            .collect()
    }
}

/// One way of leaving the registry being edited.
type Way = Box<dyn Fn(&mut Window)>;

fn accesskit_consumer_focused(node: &egui_kittest::kittest::AccessKitNode<'_>) -> bool {
    node.is_focused()
}

pub(crate) fn plaintext_config(entries: &[(&str, &str, &str)]) -> Vec<u8> {
    let auths: serde_json::Map<String, Value> = entries
        .iter()
        .map(|(key, user, password)| {
            ((*key).to_owned(), serde_json::json!({ "auth": encode_auth(user, &Secret::new(*password)) }))
        })
        .collect();
    serde_json::to_vec_pretty(&serde_json::json!({ "auths": auths })).unwrap()
}

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

// ---- #13: the window as a first-time user meets it -------------------------------------------

/// Item 1, with the real Secret Service: an empty HOME, the empty state's one action, Ctrl+S.
#[test]
fn first_start_with_no_file_saves_to_the_real_keychain() {
    let Some(real) = keychain() else { return };
    let _turn = keychain_turn();
    let home = TempHome::new();
    let mut window = make(Make { opener: Some(regcred::gui::system_opener()), ..Make::new(home.path()) });
    assert!(window.shows("Add your first registry"), "the empty state's action");
    assert!(window.shows("This file does not exist yet"));
    window.click("Add your first registry");
    let server = unique_server("first-start");
    window.type_into("Server", &server);
    window.type_into("Username", "robot");
    window.type_into("Password", "first-start-secret");
    assert!(window.app().title().ends_with(" •"), "{}", window.app().title());
    window.key(egui::Modifiers::COMMAND, egui::Key::S);

    let config = home.docker_config();
    let json = read_json(&config);
    assert_eq!(json["auths"][&server], serde_json::json!({}), "a stub: {json}");
    assert_eq!(json["credHelpers"][&server], "regcred", "{json}");
    assert_eq!(std::fs::metadata(&config).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(config.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
    let stored = real.get(&server).unwrap().expect("the secret in the keychain");
    assert_eq!(stored.secret.expose(), "first-start-secret");
    assert!(!window.app().title().ends_with(" •"), "saved: {}", window.app().title());
    assert_eq!(window.app().visible_keys(), vec![server.clone()]);
    real.erase(&server).unwrap();
}

/// Item 2: Ctrl+N, the cursor in Server, Tab in reading order; a blank form is not "unsaved".
#[test]
fn ctrl_n_puts_the_cursor_in_server_and_tab_follows_the_form() {
    let home = TempHome::new();
    home.write(&home.docker_config(), &fixture("ecr-gcr.json"));
    let mut window = window(&home);
    window.key(egui::Modifiers::COMMAND, egui::Key::N);
    assert_eq!(window.focused(), "Server");
    assert!(!window.app().title().ends_with(" •"), "blank is not unsaved: {}", window.app().title());
    assert!(window.shows("Cancel"), "a new entry has Cancel");
    for next in ["Username", "Password", "Email"] {
        window.key(egui::Modifiers::NONE, egui::Key::Tab);
        assert_eq!(window.focused(), next);
    }
    window.harness.get_by_label("Email").type_text("me@example.com");
    window.harness.run_steps(2);
    assert!(window.app().title().ends_with(" •"), "typed: {}", window.app().title());
    window.click("Cancel");
    assert!(window.app().draft().is_none(), "Cancel drops the new entry");
    assert_eq!(std::fs::read(home.docker_config()).unwrap(), fixture("ecr-gcr.json"));
}

/// A registry that asks for Basic credentials on every request and records what it was sent.
fn capture_server() -> TinyServer {
    TinyServer::start(|_, _| {
        response(
            "401 Unauthorized",
            &[("WWW-Authenticate", r#"Basic realm="capture""#), ("Content-Type", "application/json")],
            br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
        )
    })
}

/// A home whose Docker config has one plaintext login (alice, `password`) for a registry that
/// answers every request 401 (kept alive by the server returned), and that registry's host.
fn capture_registry(password: &str) -> (TinyServer, TempHome, String) {
    let server = capture_server();
    let host = server.addr.to_string();
    let home = TempHome::new();
    home.write(&home.docker_config(), &plaintext_config(&[(&host, "alice", password)]));
    (server, home, host)
}

fn authorizations(server: &TinyServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .flat_map(|head| head.lines().map(str::to_owned).collect::<Vec<_>>())
        .filter(|line| line.to_ascii_lowercase().starts_with("authorization:"))
        .collect()
}

/// Item 3: with registry A open, an image on host B is tested with B's credential (none), never
/// A's; an image on A's own host is tested with the unsaved draft, and the hint says which.
#[test]
fn a_test_pull_sends_a_credential_only_to_its_own_registry() {
    let other = capture_server();
    let own = capture_server();
    let own_host = own.addr.to_string();
    let home = TempHome::new();
    home.write(
        &home.docker_config(),
        &plaintext_config(&[("a.example.com", "alice", "canary-of-a"), (&own_host, "bob", "file-pw")]),
    );
    let mut window = window(&home);
    window.select("a.example.com");
    window.type_into("Image", &format!("{}/team/app:1", other.addr));
    assert!(window.shows("tested with: anonymous"), "{}", window.tree_text());
    window.click("Run test pull");
    assert!(!other.requests().is_empty(), "the test reached host B");
    assert_eq!(authorizations(&other), Vec::<String>::new(), "no credential of A went to B");
    let report = window.app().pull_result("a.example.com").expect("the card");
    assert!(!report.to_text().contains("canary-of-a"));
    assert!(report.credential_source.contains("anonymous"), "{}", report.credential_source);

    window.select(&own_host);
    window.type_into("Password", "-draft");
    window.type_into("Image", &format!("{own_host}/team/app:1"));
    assert!(window.shows("tested with: unsaved draft"), "{}", window.tree_text());
    window.click("Run test pull");
    let expected = format!("basic {}", encode_auth("bob", &Secret::new("file-pw-draft")));
    let sent = authorizations(&own);
    assert!(
        !sent.is_empty() && sent.iter().all(|h| h.to_ascii_lowercase().ends_with(&expected.to_ascii_lowercase())),
        "{sent:?}"
    );
    assert!(authorizations(&other).is_empty());
}

/// A registry that answers its ping at once and every other request after `delay`, with a 404.
fn slow_server(delay: Duration) -> TinyServer {
    TinyServer::start(move |head, _| {
        if head.starts_with("GET /v2/ ") {
            return response("200 OK", &[("Content-Type", "application/json")], b"{}");
        }
        std::thread::sleep(delay);
        response(
            "404 Not Found",
            &[("Content-Type", "application/json")],
            br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#,
        )
    })
}

/// Item 4: a pull started on A and finished while B is open lands on A; Cancel is neutral.
#[test]
fn a_result_lands_on_the_registry_and_image_it_was_started_for() {
    let slow = slow_server(Duration::from_millis(1500));
    let a = slow.addr.to_string();
    let home = TempHome::new();
    home.write(&home.docker_config(), &plaintext_config(&[(&a, "alice", "pw-a"), ("b.example.com", "bob", "pw-b")]));
    let mut window = window(&home);
    window.select(&a);
    window.type_into("Image", &format!("{a}/team/app:1"));
    window.press("Full (download every blob)");
    window.press("Run test pull");
    window.harness.run_steps(3);
    window.select("b.example.com");
    assert_eq!(window.app().draft().and_then(|d| d.key.clone()).as_deref(), Some("b.example.com"));
    assert!(window.app().pull_result("b.example.com").is_none(), "B got nothing");
    assert!(!window.shows("Would not pull"), "B shows no card");
    assert!(window.app().test_record("b.example.com").is_none());
    let report = window.app().pull_result(&a).expect("A's card");
    assert!(matches!(report.outcome, Outcome::Failure(_)), "{}", report.to_text());
    assert!(matches!(window.app().test_record(&a).map(|r| &r.verdict), Some(TestVerdict::Fails(_))));
    window.select(&a);
    assert!(window.shows("Would not pull"), "A's card is A's");

    // Cancel: neutral words, no badge changed, no invented kubelet line.
    let before = window.app().test_record(&a).cloned();
    window.press("Run test pull");
    window.harness.run_steps(3);
    assert!(!window.shows("Would not pull"), "starting a new pull clears the old card: {}", window.tree_text());
    window.harness.get_all_by_label("Cancel").last().unwrap().click();
    window.settle();
    assert!(
        window.shows("Cancelled"),
        "{}",
        window.app().pull_result(&a).map(regcred::registry::PullReport::to_text).unwrap_or_default()
    );
    assert!(!window.shows("What the kubelet will report"));
    assert_eq!(window.app().test_record(&a).cloned(), before, "a cancelled test changes no badge");
}

/// Item 5: Copy (YAML), Copy password and Copy report hand their text to the platform's clipboard
/// (the smoke test reads the real X CLIPBOARD back).
#[test]
fn copy_hands_the_text_to_the_clipboard() {
    let home = TempHome::new();
    home.write(&home.docker_config(), &plaintext_config(&[("quay.io", "robot", "copy-me")]));
    let mut window = window(&home);
    window.select("quay.io");
    window.press("Copy");
    window.harness.run_steps(1);
    assert_eq!(window.copied(), vec![window.app().preview().unwrap()]);
    window.press("Copy password");
    window.harness.run_steps(1);
    assert_eq!(window.copied(), vec!["copy-me".to_owned()]);
    window.settle();
    assert!(window.app().toasts().iter().any(|t| t.contains("Copied")));
}

/// Item 6: every way of leaving an edited registry asks Save / Discard / Cancel.
#[test]
fn no_edit_is_thrown_away_silently() {
    let home = TempHome::new();
    let original = plaintext_config(&[("a.example.com", "alice", "pw-a"), ("b.example.com", "bob", "pw-b")]);
    home.write(&home.docker_config(), &original);
    let mut window = window(&home);
    window.select("a.example.com");
    window.type_into("Password", "-1");
    let ways: [(&str, Way); 5] = [
        ("select another", Box::new(|w: &mut Window| w.select("b.example.com"))),
        ("add", Box::new(|w: &mut Window| w.click("Add registry"))),
        ("reload", Box::new(|w: &mut Window| w.click("Reload"))),
        ("quit", Box::new(|w: &mut Window| w.key(egui::Modifiers::COMMAND, egui::Key::Q))),
        (
            "close the window",
            Box::new(|w: &mut Window| {
                w.harness
                    .input_mut()
                    .viewports
                    .entry(egui::ViewportId::ROOT)
                    .or_default()
                    .events
                    .push(egui::ViewportEvent::Close);
                w.harness.run_steps(2);
                w.settle();
            }),
        ),
    ];
    for (way, act) in &ways {
        act(&mut window);
        assert!(window.shows("has changes that are not saved"), "{way}: the question");
        window.click("Cancel");
        assert_eq!(window.app().draft().and_then(|d| d.key.clone()).as_deref(), Some("a.example.com"), "{way}");
        assert_eq!(window.app().draft().unwrap().current.password.as_str(), "pw-a-1", "{way}: the edit kept");
    }
    assert_eq!(std::fs::read(home.docker_config()).unwrap(), original, "nothing written");

    window.select("b.example.com");
    window.click("Discard");
    assert_eq!(window.app().draft().and_then(|d| d.key.clone()).as_deref(), Some("b.example.com"));
    assert_eq!(std::fs::read(home.docker_config()).unwrap(), original, "discarded");

    window.type_into("Password", "-2");
    window.click("Add registry");
    window.click_last("Save");
    assert_eq!(
        read_json(&home.docker_config())["auths"]["b.example.com"]["auth"],
        encode_auth("bob", &Secret::new("pw-b-2"))
    );
    assert!(window.app().draft().is_some_and(|d| d.key.is_none()), "then the new entry");
}

/// Item 7: Export asks before replacing a file, expands `~`, proposes `~/<name>.yaml`, says the
/// absolute path.
#[test]
fn export_asks_before_replacing_and_expands_the_home() {
    let home = TempHome::new();
    home.write(&home.docker_config(), &plaintext_config(&[("quay.io", "robot", "pw")]));
    let precious = home.path().join("precious.txt");
    std::fs::write(&precious, "precious").unwrap();
    let mut window = window(&home);
    window.select("quay.io");
    window.click("Export YAML…");
    assert_eq!(window.harness.get_by_label("Export to").value().as_deref(), Some("~/regcred.yaml"), "the proposal");
    window.click("Write");
    let written = home.path().join("regcred.yaml");
    assert_eq!(std::fs::read_to_string(&written).unwrap(), window.app().preview().unwrap(), "~ is the home");
    assert!(!std::path::Path::new("~").exists(), "no directory named ~");
    assert!(
        window.app().toasts().iter().any(|t| t.contains(&written.display().to_string())),
        "{:?}",
        window.app().toasts()
    );

    window.click("Export YAML…");
    window.harness.get_by_label("Export to").focus();
    window.harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    window.harness.get_by_label("Export to").type_text("~/precious.txt");
    window.harness.run_steps(2);
    window.click("Write");
    assert!(window.shows("Replace"), "asks first");
    window.harness.key_press(egui::Key::Escape);
    window.settle();
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "precious", "kept");
    window.click("Write");
    window.click("Replace");
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), window.app().preview().unwrap(), "replaced knowingly");
}

/// Item 8: a conflict from any save path (here an email edit and a remove) opens the dialog.
#[test]
fn a_conflict_from_any_save_path_opens_the_dialog() {
    let home = TempHome::new();
    home.write(&home.docker_config(), &fixture("ecr-gcr.json"));
    let mut window = window(&home);
    window.select("quay.io");
    window.type_into("Password", "-mine");
    let theirs = |home: &TempHome, user: &str| {
        let mut theirs: Value = serde_json::from_slice(&fixture("ecr-gcr.json")).unwrap();
        theirs["auths"]["quay.io"]["auth"] = encode_auth(user, &Secret::new("theirs")).into();
        theirs["auths"]["ghcr.io"] = serde_json::json!({"auth": "dTpw"});
        std::fs::write(home.docker_config(), serde_json::to_vec(&theirs).unwrap()).unwrap();
        theirs
    };
    let written = theirs(&home, "other");
    window.click("Save");
    assert!(window.shows("The file changed on disk"), "the conflict dialog");
    assert_eq!(read_json(&home.docker_config()), written, "nothing written before the user chooses");
    window.click("Keep mine");
    let saved = read_json(&home.docker_config());
    assert_eq!(
        saved["auths"]["quay.io"]["auth"],
        encode_auth("robot+ci", &Secret::new("tok-mine")),
        "mine kept knowingly"
    );
    assert_eq!(saved["auths"]["ghcr.io"]["auth"], "dTpw", "their other change merged");

    window.select("quay.io");
    window.type_into("Email", ".uk");
    let written = theirs(&home, "again");
    window.click("Save");
    assert!(window.shows("The file changed on disk"), "an email edit's conflict");
    window.click("Keep theirs");
    let saved = read_json(&home.docker_config());
    assert_eq!(saved["auths"]["quay.io"]["auth"], written["auths"]["quay.io"]["auth"], "their secret kept");

    let written = theirs(&home, "third");
    window.select("ghcr.io");
    window.click("Remove…");
    window.click("Remove");
    if window.shows("The file changed on disk") {
        window.click("Reload");
        assert_eq!(read_json(&home.docker_config()), written, "a remove's conflict: theirs kept on Reload");
    } else {
        // The remove read the file after their write: nothing of theirs was in the way.
        assert_eq!(read_json(&home.docker_config())["auths"]["quay.io"]["auth"], written["auths"]["quay.io"]["auth"]);
    }
}

/// Item 9: no keychain or a locked one: words and colours, never Rust Debug text.
#[test]
fn keychain_states_are_told_in_words() {
    let home = TempHome::new();
    home.write(&home.docker_config(), &fixture("ecr-gcr.json"));
    let mut window = window(&home);
    let absent = KeychainState::Absent("org.freedesktop.DBus.Error.ServiceUnknown: zbus error".to_owned());
    window.harness.state_mut().set_keychain_state(absent.clone());
    window.click("Add registry");
    assert!(window.shows("Keychain: not available"));
    let text = window.tree_text();
    assert!(!text.contains("Absent(") && !text.contains("zbus"), "{text}");
    assert!(window.shows("No OS keychain is running"), "the store choice says why: {text}");
    assert_eq!(
        window.app().draft().unwrap().current.store,
        regcred::credentials::StoreChoice::File,
        "defaults to what works"
    );
    let advice = regcred::gui::keychain_advice(&absent);
    assert!(!advice.contains("Absent(") && advice.contains("Secret Service"), "{advice}");

    window.harness.state_mut().set_keychain_state(KeychainState::Locked("the collection is locked".to_owned()));
    window.harness.run_steps(3);
    assert!(window.shows("Keychain: locked"));
    let advice = regcred::gui::keychain_advice(&KeychainState::Locked("x".to_owned()));
    assert!(advice.contains("nlock"), "{advice}");
}

/// Item 10: the small truths.
#[test]
fn small_truths_hold() {
    let home = TempHome::new();
    home.write(&home.docker_config(), &plaintext_config(&[("quay.io", "robot", "pw")]));
    std::fs::set_permissions(home.docker_config(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut window = window(&home);
    window.select("quay.io");
    window.type_into("Password", "2");
    window.click("Save");
    assert_eq!(std::fs::metadata(home.docker_config()).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(window.app().toasts().iter().any(|t| t.contains("0600")), "says it tightened: {:?}", window.app().toasts());

    // Typing a server letter by letter remembers no image for each prefix.
    window.click("Add registry");
    window.type_into("Server", "127.0.0.1:5000");
    window.type_into("Image", "127.0.0.1:5000/team/app");
    window.select("quay.io");
    window.click("Discard");
    let typed: Vec<&String> = window.app().state.images.keys().filter(|k| k.starts_with('1')).collect();
    assert!(typed.is_empty(), "no image slot for any prefix of the server typed: {typed:?}");
    let kept = window.app().persisted_state().images;
    assert!(kept.keys().all(|k| k == "quay.io"), "{kept:?}");

    // A bad platform is an inline error and disables the test.
    window.type_into("Image", "quay.io/team/app");
    window.type_into("Platform", "/arm64/");
    assert!(window.shows("Platform: \"linux/amd64/arm64/\" is not OS/ARCH"), "{}", window.tree_text());
    assert!(window.harness.get_by_label("Run test pull").accesskit_node().is_disabled());
}

/// Item 10, the keychain's rows: the user name shown; a stub with no secret behind it warned.
#[test]
fn keychain_rows_show_their_user_and_a_missing_secret() {
    let home = TempHome::new();
    home.write(
        &home.docker_config(),
        br#"{"auths":{"kept.example.com":{},"lost.example.com":{}},"credHelpers":{"kept.example.com":"regcred","lost.example.com":"regcred"}}"#,
    );
    let runtime_store = MemoryStore::default();
    runtime_store
        .store("kept.example.com", &Credential { username: "keeper".to_owned(), secret: Secret::new("pw") })
        .unwrap();
    let store = Arc::new(runtime_store);
    let shared = store.clone();
    let opener: Opener = Arc::new(move |_: &str| Ok(Box::new(shared.clone()) as Box<dyn SecretStore>));
    let mut window = make(Make { opener: Some(opener), ..Make::new(home.path()) });
    window.harness.state_mut().set_keychain_state(KeychainState::Available);
    window.settle();
    assert!(window.shows("keeper"), "the keychain user name: {}", window.tree_text());
    assert!(window.shows("not in the keychain"), "the stub with nothing behind it: {}", window.tree_text());
}

// ---- #16: the window as a dashboard --------------------------------------------------------

/// The row's Test button: the remembered image, or the login check.
#[test]
fn the_row_test_button_checks_the_login_or_pulls_the_remembered_image() {
    if !component_available("docker-registry and skopeo", registry::available()) {
        return;
    }
    let registry = Registry::start(Some(("alice", "row-pw")));
    registry.push_image("team/app", "v1");
    let home = TempHome::new();
    home.write(&home.docker_config(), &plaintext_config(&[(&registry.host, "alice", "row-pw")]));
    let mut window = window(&home);
    window.click(&format!("Test pull {}", registry.host));
    assert_eq!(window.app().test_record(&registry.host).map(|r| r.verdict.clone()), Some(TestVerdict::LoginWorks));
    assert!(window.shows("login works"), "the badge");
    window.harness.state_mut().state.images.insert(registry.host.clone(), format!("{}/team/app:v1", registry.host));
    window.click(&format!("Test pull {}", registry.host));
    assert_eq!(window.app().test_record(&registry.host).map(|r| r.verdict.clone()), Some(TestVerdict::Pulls));
    assert!(window.shows("pulls"), "the badge");
}

/// Test all: each row gets its own verdict, in whatever order they arrive; results (never
/// secrets) are kept in the preferences with their time.
#[test]
fn test_all_files_each_result_under_its_row() {
    if !component_available("docker-registry and skopeo", registry::available()) {
        return;
    }
    let good = Registry::start(Some(("alice", "all-pw")));
    let slow = slow_server(Duration::from_millis(800));
    let refusing = capture_server();
    let (slow_host, refusing_host) = (slow.addr.to_string(), refusing.addr.to_string());
    let home = TempHome::new();
    home.write(
        &home.docker_config(),
        &plaintext_config(&[
            (&slow_host, "s", "secret-slow"),
            (&good.host, "alice", "all-pw"),
            (&refusing_host, "r", "secret-refused"),
        ]),
    );
    let mut window = window(&home);
    window.harness.state_mut().state.images.insert(slow_host.clone(), format!("{slow_host}/team/app:1"));
    window.click("Test all");
    let verdict = |w: &Window, key: &str| w.app().test_record(key).map(|r| r.verdict.clone());
    assert_eq!(verdict(&window, &good.host), Some(TestVerdict::LoginWorks));
    assert!(
        matches!(verdict(&window, &slow_host), Some(TestVerdict::Fails(reason)) if reason.contains("tag")),
        "{:?}",
        verdict(&window, &slow_host)
    );
    assert!(matches!(verdict(&window, &refusing_host), Some(TestVerdict::Fails(_))));
    let persisted = serde_json::to_string(&window.app().persisted_state()).unwrap();
    assert!(persisted.contains("LoginWorks") && !persisted.contains("secret-"), "{persisted}");
}

/// Ticking several registries shows one Secret for all of them, byte-identical to `regcred yaml`.
#[test]
fn ticked_registries_make_one_secret_like_the_cli() {
    let home = TempHome::new();
    home.write(
        &home.docker_config(),
        &plaintext_config(&[("quay.io", "robot", "pw-q"), ("ghcr.io", "octo", "pw-g"), ("b.example.com", "b", "pw-b")]),
    );
    let mut window = window(&home);
    window.click("Tick quay.io");
    window.click("Tick ghcr.io");
    let output = home.run(&["yaml", "--name", "regcred", "ghcr.io", "quay.io"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(window.app().preview().unwrap(), String::from_utf8(output.stdout).unwrap());
}

/// Open file…: a path field where there is no native dialog, and the recent files.
#[test]
fn open_file_shows_another_file_and_remembers_it() {
    let home = TempHome::new();
    home.write(&home.docker_config(), &plaintext_config(&[("quay.io", "robot", "pw")]));
    let other = home.path().join("elsewhere/auth.json");
    home.write(&other, &plaintext_config(&[("opened.example.com", "me", "pw")]));
    let mut window = window(&home);
    window.key(egui::Modifiers::COMMAND, egui::Key::O);
    window.type_into("Path", other.to_str().unwrap());
    window.click("Open");
    assert_eq!(window.app().visible_keys(), vec!["opened.example.com".to_owned()]);
    assert_eq!(window.app().state.recent_files.first(), Some(&other));
}

/// Esc closes every dialog.
#[test]
fn escape_closes_every_dialog() {
    let home = TempHome::new();
    home.write(
        &home.docker_config(),
        br#"{"auths":{"ghost.example.com":{},"quay.io":{"auth":"cm9ib3Q6cHc="}},"credHelpers":{"ghost.example.com":"regcred"}}"#,
    );
    let mut window = window(&home);
    let esc = |w: &mut Window, what: &str, shown: &str| {
        assert!(w.shows(shown), "{what}: {}", w.tree_text());
        w.harness.key_press(egui::Key::Escape);
        w.harness.run_steps(2);
        w.settle();
        assert!(!w.shows(shown), "{what} closed by Esc");
    };
    window.click("Move plaintext to keychain…");
    esc(&mut window, "Migrate", "will move");
    window.click("Orphans…");
    esc(&mut window, "Orphans", "Remove the empty entry");
    window.click("Orphans…");
    window.click("Remove the empty entry");
    esc(&mut window, "the orphan's confirmation", "Remove the entry");
    window.select("quay.io");
    window.click("Remove…");
    esc(&mut window, "Remove", "Remove this registry?");
    window.key(egui::Modifiers::COMMAND, egui::Key::O);
    esc(&mut window, "Open file", "Open a credential file");
    window.key(egui::Modifiers::NONE, egui::Key::F1);
    esc(&mut window, "Help", "Select the previous or next registry");
    window.type_into("Password", "x");
    window.select("ghost.example.com");
    esc(&mut window, "Unsaved", "has changes that are not saved");
    assert_eq!(window.app().draft().unwrap().current.password.as_str(), "pwx", "Esc is Cancel");
}

/// The table like a native list: ↓ from the Filter selects the first row (the detail follows),
/// ↓/↑/Home/End move the selection itself, Enter opens the Login tab, Delete asks to remove,
/// Ctrl+T tests the selection; no widget keeps a second focus ring.
#[test]
fn the_list_works_from_the_keyboard() {
    let slow = slow_server(Duration::from_millis(10));
    let host = slow.addr.to_string();
    let home = TempHome::new();
    home.write(
        &home.docker_config(),
        &plaintext_config(&[("a.example.com", "a", "pw"), (&host, "b", "pw"), ("c.example.com", "c", "pw")]),
    );
    let mut window = window(&home);
    let keys = window.app().visible_keys();
    window.key(egui::Modifiers::COMMAND, egui::Key::F);
    assert_eq!(window.focused(), "Filter");
    window.key(egui::Modifiers::NONE, egui::Key::ArrowDown);
    assert_eq!(window.app().selected().as_deref(), Some(keys[0].as_str()), "↓ from Filter enters the list");
    assert_eq!(window.focused(), "", "one focus indicator: the selection");
    assert_eq!(window.row(&keys[0]).accesskit_node().is_selected(), Some(true), "the row says it is selected");
    window.key(egui::Modifiers::NONE, egui::Key::ArrowDown);
    assert_eq!(window.app().selected().as_deref(), Some(keys[1].as_str()), "the detail follows");
    window.key(egui::Modifiers::NONE, egui::Key::End);
    assert_eq!(window.app().selected().as_deref(), Some(keys[2].as_str()));
    window.key(egui::Modifiers::NONE, egui::Key::Home);
    assert_eq!(window.app().selected().as_deref(), Some(keys[0].as_str()));
    window.key(egui::Modifiers::NONE, egui::Key::ArrowUp);
    assert_eq!(window.app().selected().as_deref(), Some(keys[0].as_str()), "stays on the first row");
    window.tab("Kubernetes");
    let at = keys.iter().position(|k| *k == host).unwrap();
    for _ in 0..at {
        window.key(egui::Modifiers::NONE, egui::Key::ArrowDown);
    }
    window.key(egui::Modifiers::NONE, egui::Key::Enter);
    assert_eq!(window.app().selected().as_deref(), Some(host.as_str()));
    assert_eq!(window.app().tab(), regcred::gui::Tab::Login, "Enter opens the Login tab");
    window.key(egui::Modifiers::COMMAND, egui::Key::T);
    assert!(window.app().test_record(&host).is_some(), "Ctrl+T tested the selected row");
    window.key(egui::Modifiers::NONE, egui::Key::Delete);
    assert!(window.shows("Remove this registry?"), "Delete asks first");
    window.harness.key_press(egui::Key::Escape);
    window.settle();
    assert!(read_json(&home.docker_config())["auths"][&host].is_object(), "nothing removed without a yes");
}

/// ↓ past the visible rows scrolls the selection into view (Enter never opens a hidden row).
#[test]
fn the_selection_scrolls_into_view() {
    let home = TempHome::new();
    let entries: Vec<(String, String, String)> =
        (0..60).map(|i| (format!("r{i:02}.example.com"), "u".to_owned(), "pw".to_owned())).collect();
    let refs: Vec<(&str, &str, &str)> = entries.iter().map(|(k, u, p)| (k.as_str(), u.as_str(), p.as_str())).collect();
    home.write(&home.docker_config(), &plaintext_config(&refs));
    let mut window = make(Make { size: [900.0, 560.0], ..Make::new(home.path()) });
    window.key(egui::Modifiers::COMMAND, egui::Key::F);
    for _ in 0..30 {
        window.key(egui::Modifiers::NONE, egui::Key::ArrowDown);
    }
    let selected = window.app().selected().unwrap();
    assert_eq!(selected, "r29.example.com");
    let row = window.row(&selected).rect();
    assert!(row.top() >= 0.0 && row.bottom() <= 560.0, "the selected row is on screen: {row:?}");
    window.key(egui::Modifiers::NONE, egui::Key::End);
    let row = window.row("r59.example.com").rect();
    assert!(row.bottom() <= 560.0, "End scrolls to the last row: {row:?}");
    window.key(egui::Modifiers::NONE, egui::Key::PageUp);
    let selected = window.app().selected().unwrap();
    assert!(selected.as_str() < "r59.example.com", "Page Up moved up: {selected}");
}

/// Every leaf widget's rectangle, for the overlap check.
/// What the scroll areas around `node` show of it: the rest is scrolled away, not on screen.
pub(crate) fn visible_rect(node: &egui_kittest::Node<'_>) -> egui::Rect {
    let mut rect = node.rect();
    let mut parent = node.accesskit_node().parent();
    while let Some(ancestor) = parent {
        if ancestor.role() == egui::accesskit::Role::ScrollView
            && let Some(bounds) = ancestor.bounding_box()
        {
            #[expect(clippy::cast_possible_truncation, reason = "screen points")]
            let clip = egui::Rect::from_min_max(
                egui::pos2(bounds.x0 as f32, bounds.y0 as f32),
                egui::pos2(bounds.x1 as f32, bounds.y1 as f32),
            );
            rect = rect.intersect(clip);
        }
        parent = ancestor.parent();
    }
    rect
}

fn leaf_rects(window: &Window) -> Vec<(String, egui::Rect)> {
    window
        .harness
        .root()
        .children_recursive()
        .filter(|node| node.children().next().is_none())
        .filter_map(|node| {
            let rect = visible_rect(&node);
            let label = node.accesskit_node().label().unwrap_or_default();
            (rect.width() > 1.0 && rect.height() > 1.0)
                .then_some((format!("{:?} {label}", node.accesskit_node().role()), rect))
        })
        .collect()
}

/// At 800×600, 900×560, 1280×800 and 1920×1080 nothing overlaps and nothing leaves the window,
/// on every tab (of what a scroll area shows; what it scrolls away is not on screen).
#[test]
fn nothing_overlaps_at_small_sizes() {
    let home = TempHome::new();
    let long = "a-registry-with-a-rather-long-name.internal.example.com:5000";
    home.write(
        &home.docker_config(),
        &plaintext_config(&[
            ("good.example.com", "robot", "pw"),
            (long, "a-long-user-name@example.com", "pw"),
            ("quay.io", "q", "pw"),
        ]),
    );
    for size in [[900.0, 560.0], [800.0, 600.0], [1280.0, 800.0], [1920.0, 1080.0]] {
        let mut window = make(Make { size, ..Make::new(home.path()) });
        window.select("good.example.com");
        for screen in ["Login", "Test pull", "Kubernetes"] {
            window.tab(screen);
            let screen_rect = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(size[0], size[1]));
            let rects: Vec<_> = leaf_rects(&window).into_iter().filter(|(_, r)| screen_rect.intersects(*r)).collect();
            for (i, (a, ra)) in rects.iter().enumerate() {
                assert!(
                    screen_rect.expand(1.0).contains_rect(*ra) || a.contains("ScrollView"),
                    "{size:?} {screen}: {a} {ra:?} leaves the window"
                );
                for (b, rb) in &rects[i + 1..] {
                    let overlap = ra.intersect(*rb);
                    assert!(
                        !(overlap.width() > 1.0 && overlap.height() > 1.0),
                        "{size:?} {screen}: {a} {ra:?} overlaps {b} {rb:?}"
                    );
                }
            }
        }
    }
}

// ---- #18: presets and expiry in the window -------------------------------------------------

/// The preset picker fills the form and checks it offline; the list shows expiry badges and the
/// YAML warns.
#[test]
fn the_preset_picker_checks_a_login_and_the_list_shows_expiry() {
    let now = std::time::SystemTime::now();
    let unix = |at: std::time::SystemTime| at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let soon = crate::presets::jwt(unix(now + Duration::from_hours(3)));
    let gone = crate::presets::jwt(unix(now - Duration::from_hours(2)));
    let home = TempHome::new();
    home.write(
        &home.docker_config(),
        &plaintext_config(&[
            ("myregistry.azurecr.io", "00000000-0000-0000-0000-000000000000", &soon),
            ("old.example.com", "robot", &gone),
        ]),
    );
    let mut window = window(&home);
    assert!(window.shows("expires in 2 h") || window.shows("expires in 3 h"), "{}", window.tree_text());
    assert!(window.shows("expired 2 h ago"), "{}", window.tree_text());
    window.select("myregistry.azurecr.io");
    window.tab("Kubernetes");
    assert!(
        window.shows("this Secret stops working"),
        "the YAML warns: {}",
        window
            .tree_text()
            .lines()
            .filter(|l| l.contains("azurecr") || l.contains("Secret"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(window.shows("acr-credential-provider"));
    // #23, one decision, two faces: what `regcred yaml` warns about this Secret, the window says.
    let cli = home.run(&["yaml", "--name", "pull", "myregistry.azurecr.io"]);
    let stderr = String::from_utf8(cli.stderr).unwrap();
    let warnings: Vec<&str> = stderr.lines().filter_map(|line| line.strip_prefix("warning: ")).collect();
    assert!(!warnings.is_empty(), "{stderr}");
    for warning in warnings {
        // The moment in words ("expires in 2 h") may turn over between the two; the rest is fixed.
        let fixed = warning.split_once("): ").map_or(warning, |(_, rest)| rest);
        assert!(window.shows(fixed), "the window does not say {fixed:?}");
    }

    window.key(egui::Modifiers::COMMAND, egui::Key::N);
    window.harness.get_by_label("Preset").click();
    window.harness.run_steps(2);
    window.click("GitHub Container Registry");
    assert_eq!(window.app().draft().unwrap().current.server, "ghcr.io", "the preset fills the server");
    window.type_into("Username", "octocat");
    window.type_into(
        "Password",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab",
    );
    assert!(window.shows("does not accept fine-grained personal access tokens"), "{}", window.tree_text());
    assert!(!window.tree_text().contains("github_pat_11ABCDEFG"), "the token is never in the accessibility tree");
}

// ---- #17: Check manifests… ----------------------------------------------------------------

/// The window's check: open the view, name a file, results arrive, a failure opens to the
/// kubelet's words.
#[test]
fn check_manifests_shows_which_pods_would_pull() {
    if !component_available("docker-registry and skopeo", registry::available()) {
        return;
    }
    let registry = Registry::start(Some(("alice", "view-pw")));
    registry.push_image("team/app", "v1");
    let home = TempHome::new();
    let image = format!("{}/team/app:v1", registry.host);
    let secret = |name: &str, password: &str| {
        let config = serde_json::json!({"auths": {registry.host.as_str(): {"auth": encode_auth("alice", &Secret::new(password))}}});
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\ntype: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '{config}'\n"
        )
    };
    let pod = |name: &str, pull_secret: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  imagePullSecrets:\n  - name: {pull_secret}\n  containers:\n  - name: app\n    image: {image}\n"
        )
    };
    let file = home.path().join("shop.yaml");
    let documents = [
        secret("good", "view-pw"),
        secret("stale", "old-pw"),
        pod("web", "good"),
        pod("broken", "stale"),
        pod("lost", "absent"),
    ];
    std::fs::write(&file, documents.join("---\n")).unwrap();
    let mut window = window(&home);
    window.click("Check manifests…");
    assert_eq!(window.focused(), "Files", "the keyboard goes into the view, not the window behind it");
    window.type_into("Files", file.to_str().unwrap());
    window.click("Check");
    let report = window.app().check_report().expect("the results");
    assert_eq!((report.summary.pulls, report.summary.fails), (1, 2), "{report:?}");
    assert!(window.shows("1 of 3 containers would pull, 2 would fail"), "{}", window.tree_text());
    // What to do is said in the window's own terms, not as command-line flags.
    window.harness.get_by_label_contains("fails · default/Pod/lost").click();
    window.settle();
    let text = window.tree_text();
    assert!(text.contains("the box \"with my own credentials\""), "{text}");
    assert!(text.contains("none of those the kubelet would use has one for it"), "{text}");
    assert!(!text.contains("--local") && !text.contains("`regcred"), "{text}");
    // A pull opens, as a failure does, to the credential it pulled with: no hovering needed.
    window.harness.get_by_label_contains("pulls · default/Pod/web").click();
    window.settle();
    assert!(window.shows("with Secret default/good"), "{}", window.tree_text());
    // Enter in Files checks again, and the keyboard stays in Files.
    window.harness.get_by_label("Files").focus();
    window.key(egui::Modifiers::NONE, egui::Key::Enter);
    assert_eq!(window.focused(), "Files", "Enter ran the check and kept the field");
    assert!(!window.shows("These results are of the manifests as they were"));
    window.type_into("Namespace", "shop");
    assert!(window.shows("These results are of the manifests as they were when checked"), "{}", window.tree_text());
    window.harness.get_by_label_contains("fails · default/Pod/broken").click();
    window.settle();
    assert!(window.shows("What the kubelet will report"), "{}", window.tree_text());
    assert!(window.shows("401 Unauthorized"));
    assert!(!window.tree_text().contains("old-pw"));
    window.harness.key_press(egui::Key::Escape);
    window.settle();
    assert!(!window.shows("Will these pods pull?"), "Esc closes the view");
}

/// The keyboard goes through a row of buttons at the right as it reads (Add registry, Test all,
/// More…), and a view opened from the keyboard gives it back to its button when it closes.
#[test]
fn tab_reads_the_header_left_to_right_and_a_view_gives_the_keyboard_back() {
    let home = TempHome::new();
    home.write(&home.docker_config(), &plaintext_config(&[("r.example", "alice", "pw")]));
    let mut window = window(&home);
    window.harness.get_by_label("Add registry").focus();
    window.harness.run_steps(2);
    window.key(egui::Modifiers::NONE, egui::Key::Tab);
    assert_eq!(window.focused(), "Test all");
    window.key(egui::Modifiers::NONE, egui::Key::Tab);
    assert_eq!(window.focused(), "More…");
    window.harness.get_by_label("Check manifests…").focus();
    window.harness.run_steps(2);
    window.key(egui::Modifiers::NONE, egui::Key::Enter);
    assert_eq!(window.focused(), "Files");
    window.key(egui::Modifiers::NONE, egui::Key::Escape);
    assert!(!window.shows("Will these pods pull?"), "Esc closes the view");
    assert_eq!(window.focused(), "Check manifests…", "the keyboard is back where it was");
    // The keyboard's help is a view too: it holds the keyboard, and gives it back.
    window.harness.get_by_label("Help").focus();
    window.harness.run_steps(2);
    window.key(egui::Modifiers::NONE, egui::Key::Enter);
    assert!(window.shows("Ctrl+Shift+C"), "{}", window.tree_text());
    window.key(egui::Modifiers::NONE, egui::Key::Escape);
    assert!(!window.shows("Ctrl+Shift+C"), "Esc closes the help");
    assert_eq!(window.focused(), "Help");
    // A row's menu closed with Esc gives the keyboard back to ⋮.
    window.harness.get_by_label("Actions for r.example").focus();
    window.harness.run_steps(2);
    window.key(egui::Modifiers::NONE, egui::Key::Enter);
    assert!(window.shows("Duplicate"), "{}", window.tree_text());
    window.key(egui::Modifiers::NONE, egui::Key::Escape);
    assert!(!window.shows("Duplicate"), "Esc closes the menu");
    assert_eq!(window.focused(), "Actions for r.example");
}

// ---- Flows kept from before ------------------------------------------------------------------

#[test]
fn add_a_registry_save_it_to_the_keychain_and_export_its_yaml() {
    let home = TempHome::new();
    home.write(&home.docker_config(), &fixture("ecr-gcr.json"));
    let mut window = window(&home);
    assert!(window.app().title().starts_with("regcred — "), "{}", window.app().title());
    window.click("Add registry");
    window.type_into("Server", "registry.example.com:5000");
    window.type_into("Username", "robot");
    window.type_into("Password", "s3cret-from-gui");
    assert!(window.app().title().ends_with(" •"), "unsaved mark: {}", window.app().title());
    let before = window.app().preview().unwrap();
    window.click("Save");
    let config = read_json(&home.docker_config());
    assert_eq!(config["auths"]["registry.example.com:5000"], serde_json::json!({}), "a stub in the file");
    assert_eq!(config["credHelpers"]["registry.example.com:5000"], "regcred");
    assert_eq!(config["auths"]["quay.io"]["email"], "ops@example.com", "other entries untouched");
    let stored = window.store.get("registry.example.com:5000").unwrap().unwrap();
    assert_eq!(stored.secret.expose(), "s3cret-from-gui");
    assert!(!window.app().title().ends_with(" •"), "saved: {}", window.app().title());

    window.type_into("Username", "-2");
    assert_ne!(before, window.app().preview().unwrap(), "the preview follows the editor");
}

#[test]
fn broken_entries_are_flagged_and_left_alone_by_a_save() {
    let home = TempHome::new();
    let original = fixture("broken-entries.json");
    home.write(&home.docker_config(), &original);
    let mut window = window(&home);
    assert!(window.shows("urlsafe.example.com"));
    assert!(window.harness.query_all_by_label("broken entry").count() >= 10, "{}", window.tree_text());
    window.select("good.example.com");
    window.type_into("Password", "-changed");
    window.click("Save");
    let before: Value = serde_json::from_slice(&original).unwrap();
    let after = read_json(&home.docker_config());
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
    home.write(&home.docker_config(), &plaintext_config(&[(&registry.host, "alice", "gui-pull-pw")]));
    let mut window = window(&home);
    window.select(&registry.host);
    window.type_into("Image", &format!("{}/team/app:v1", registry.host));
    window.click("Run test pull");
    let report = window.app().pull_result(&registry.host).expect("a result card");
    assert!(matches!(report.outcome, Outcome::Success(_)), "{}", report.to_text());
    assert!(window.shows("Would pull"));

    window.type_into("Password", "-wrong");
    window.click("Run test pull");
    let report = window.app().pull_result(&registry.host).unwrap();
    let Outcome::Failure(failure) = &report.outcome else { panic!("{}", report.to_text()) };
    assert!(failure.kubelet_event.contains("401 Unauthorized"));
    for part in [
        "What the kubelet will report",
        "ErrImagePull, then ImagePullBackOff",
        "stage manifest",
        "tested with",
        "Copy report",
    ] {
        assert!(window.shows(part), "the card says {part:?}: {}", window.tree_text());
    }
}

#[test]
fn plaintext_secrets_move_to_the_keychain_after_a_confirmation_that_says_what_changes() {
    let home = TempHome::new();
    home.write(&home.docker_config(), &fixture("ecr-gcr.json"));
    let mut window = window(&home);
    window.click("Move plaintext to keychain…");
    assert!(window.shows("Each secret is stored in the OS keychain and read back"));
    // Said before, not after: without the helper on PATH, Docker cannot read what moves.
    let missing = regcred::keychain::find_helper("regcred").is_none();
    assert_eq!(window.shows("docker-credential-regcred is not on PATH"), missing, "{}", window.tree_text());
    assert_eq!(
        std::fs::read(home.docker_config()).unwrap(),
        fixture("ecr-gcr.json"),
        "nothing before the confirmation"
    );
    window.click("Move it");
    let config = read_json(&home.docker_config());
    assert_eq!(config["auths"]["quay.io"], serde_json::json!({"email": "ops@example.com"}));
    assert_eq!(config["credHelpers"]["quay.io"], "regcred");
    assert_eq!(window.store.get("quay.io").unwrap().unwrap().username, "robot+ci");
    window.select("quay.io");
    window.type_into("Image", "quay.io/team/app");
    assert!(window.shows("tested with: keychain"), "{}", window.tree_text());
}

/// A path-scoped key and an unreadable entry stay in the file, and the dialog says why first.
#[test]
fn the_move_to_the_keychain_says_what_stays_in_the_file_and_why() {
    let home = TempHome::new();
    let file = home.path().join("auth.json");
    home.write(
        &file,
        br#"{"auths":{"host:5000/team/deep":{"auth":"dTpw"},"host:5000":{"auth":"YTpi"},"bad.example.com":{"auth":"!!!"}}}"#,
    );
    let mut window = window(&home);
    window.key(egui::Modifiers::COMMAND, egui::Key::O);
    window.type_into("Path", file.to_str().unwrap());
    window.click("Open");
    window.click("Move plaintext to keychain…");
    assert!(window.shows("host:5000/team/deep: it is scoped to a path"), "{}", window.tree_text());
    assert!(window.shows("bad.example.com: it cannot be read"), "{}", window.tree_text());
    window.click("Move it");
    let config = read_json(&file);
    assert_eq!(config["auths"]["host:5000/team/deep"]["auth"], "dTpw", "the scoped key keeps its secret");
    assert_eq!(config["auths"]["bad.example.com"]["auth"], "!!!", "the unreadable entry is untouched");
    assert_eq!(config["auths"]["host:5000"], serde_json::json!({}), "the host's entry moved: {config}");
    assert_eq!(window.store.get("host:5000").unwrap().unwrap().username, "a");
}

/// Saving a new registry over an existing one asks first; replacing forgets its last test.
#[test]
fn a_new_registry_never_silently_replaces_an_existing_one() {
    let home = TempHome::new();
    let original = plaintext_config(&[("quay.io", "alice", "pw-a")]);
    home.write(&home.docker_config(), &original);
    let mut window = window(&home);
    window.harness.state_mut().state.results.insert(
        "quay.io".to_owned(),
        regcred::gui::TestRecord { at: 1, image: None, verdict: TestVerdict::LoginWorks, file: None },
    );
    window.key(egui::Modifiers::COMMAND, egui::Key::N);
    window.type_into("Server", "quay.io");
    window.type_into("Username", "robot");
    window.type_into("Password", "pw-r");
    window.key(egui::Modifiers::COMMAND, egui::Key::S);
    assert!(window.shows("already has an entry"), "{}", window.tree_text());
    assert_eq!(std::fs::read(home.docker_config()).unwrap(), original, "nothing written before the answer");
    window.click_last("Cancel");
    window.key(egui::Modifiers::COMMAND, egui::Key::S);
    window.click("Replace it");
    assert_eq!(window.store.get("quay.io").unwrap().unwrap().username, "robot", "replaced knowingly");
    assert!(window.app().test_record("quay.io").is_none(), "the old result was alice's");
}

#[test]
fn orphans_are_listed_with_a_fix_that_asks_first() {
    let home = TempHome::new();
    home.write(
        &home.docker_config(),
        br#"{"auths":{"ghost.example.com":{},"quay.io":{"auth":"dTpw"}},"credHelpers":{"ghost.example.com":"regcred"}}"#,
    );
    let mut window = window(&home);
    window.click("Orphans…");
    assert!(window.shows("ghost.example.com: docker-credential-regcred has no secret for it"));
    let before = std::fs::read(home.docker_config()).unwrap();
    window.click("Remove the empty entry");
    assert!(window.shows("Removes the entry ghost.example.com from"), "the confirmation says what will change");
    assert_eq!(std::fs::read(home.docker_config()).unwrap(), before, "nothing before the confirmation");
    window.click("Remove the entry");
    let config = read_json(&home.docker_config());
    assert!(
        config["auths"].get("ghost.example.com").is_none(),
        "{config} {:?} {}",
        window.app().toasts(),
        window.tree_text()
    );
    assert!(config.get("credHelpers").is_none_or(|h| h.get("ghost.example.com").is_none()), "{config}");
    assert_eq!(config["auths"]["quay.io"]["auth"], "dTpw");
}

// ---- Snapshots ------------------------------------------------------------------------------

pub(crate) fn lavapipe() -> bool {
    let found = std::path::Path::new("/usr/share/vulkan/icd.d").read_dir().is_ok_and(|mut d| d.next().is_some());
    component_available("a Vulkan driver (mesa-vulkan-drivers) for snapshot rendering", found)
}

/// The sizes every screen is drawn at, as `tests/snapshots` names them.
const SIZES: [([f32; 2], &str); 3] =
    [([900.0, 560.0], "900x560"), ([1280.0, 800.0], "1280x800"), ([1920.0, 1080.0], "1920x1080")];

/// Snapshots `name` in the dark and the light theme (`NAME_SIZE_dark`, `NAME_SIZE_light`).
fn both_themes(window: &mut Window, name: &str, size: &str) {
    window.harness.remove_cursor();
    for (theme, suffix) in [(egui::Theme::Dark, "dark"), (egui::Theme::Light, "light")] {
        window.harness.ctx.set_theme(theme);
        window.harness.run_steps(3);
        window.harness.snapshot(format!("{name}_{size}_{suffix}"));
    }
    window.harness.ctx.set_theme(egui::Theme::Dark);
}

/// The first start (an empty HOME: the welcome) at every size, dark and light, rendered with
/// wgpu on Mesa's software Vulkan and compared with `tests/snapshots` (`UPDATE_SNAPSHOTS=1`
/// rewrites them after a deliberate change).
#[test]
fn snapshots_of_the_first_start() {
    if !lavapipe() {
        return;
    }
    // Fixed paths: the images must not depend on the machine.
    let root = std::path::Path::new("/tmp/regcred-snapshots-first");
    let _ = std::fs::remove_dir_all(root);
    std::fs::create_dir_all(root).unwrap();
    let mut results = egui_kittest::SnapshotResults::default();
    for (size, name) in SIZES {
        let mut window = make(Make { size, render: true, ..Make::new(root) });
        assert!(window.shows("Welcome to regcred"));
        both_themes(&mut window, "first_start", name);
        results.extend(window.harness.take_snapshot_results());
    }
    results.unwrap();
}

/// The screens of a day's work, against real registries on fixed ports (the hosts are on screen),
/// at every size, dark and light: the table after Test all with the detail of a failed row, the
/// Kubernetes tab with two rows ticked, and Check manifests. The 1280×800 dark table is the
/// README's screenshot.
#[test]
fn snapshots_after_test_all_of_the_secret_and_of_check() {
    if !lavapipe() || !component_available("docker-registry and skopeo", registry::available()) {
        return;
    }
    let good = Registry::start_with(&registry::Setup {
        basic: Some(("alice", "snapshot-pw")),
        port: Some(24_999),
        ..registry::Setup::default()
    });
    good.push_image("team/app", "v1");
    let second = Registry::start_with(&registry::Setup {
        basic: Some(("ci", "other-pw")),
        port: Some(24_998),
        ..registry::Setup::default()
    });
    let home = std::path::Path::new("/tmp/regcred-snapshot-pull");
    let _ = std::fs::remove_dir_all(home);
    std::fs::create_dir_all(home.join(".docker")).unwrap();
    // Rows that Test all can reach here: one pulls, one is refused, one lacks its tag, one
    // checks its login.
    let alias = good.host.replace("127.0.0.1", "localhost");
    let config = plaintext_config(&[
        (&good.host, "alice", "snapshot-pw"),
        (&second.host, "ci", "wrong-pw"),
        (&alias, "alice", "snapshot-pw"),
        ("[::1]:24999", "alice", "snapshot-pw"),
    ]);
    std::fs::write(home.join(".docker/config.json"), config).unwrap();
    let manifests = home.join("shop.yaml");
    let pod = |name: &str, image: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n  - name: app\n    image: {image}\n"
        )
    };
    let documents =
        [pod("web", &format!("{}/team/app:v1", good.host)), pod("worker", &format!("{}/team/worker:2", second.host))];
    std::fs::write(&manifests, documents.join("---\n")).unwrap();
    let mut results = egui_kittest::SnapshotResults::default();
    for (size, name) in SIZES {
        let mut window = make(Make { size, render: true, ..Make::new(home) });
        let images = &mut window.harness.state_mut().state.images;
        images.insert(good.host.clone(), format!("{}/team/app:v1", good.host));
        images.insert(alias.clone(), format!("{alias}/team/app:v2"));
        window.click("Test all");
        window.select(&second.host);
        assert!(window.shows("What to do"), "a failed row's card says what to do: {}", window.tree_text());
        // Ages say "just now" for a minute: the snapshots are taken well within it.
        both_themes(&mut window, "table_after_test_all", name);

        window.harness.get_by_label(&format!("Tick {}", good.host)).click();
        window.harness.get_by_label(&format!("Tick {}", second.host)).click();
        window.settle();
        window.tab("Kubernetes");
        assert!(window.shows("one Secret for 2 ticked registries"), "{}", window.tree_text());
        both_themes(&mut window, "kubernetes_two_ticked", name);

        // Narrow windows fold Check manifests and Check cluster into one menu.
        if window.harness.query_by_label("Check…").is_some() {
            window.harness.get_by_label("Check…").click();
            window.harness.run_steps(2);
        }
        window.harness.get_all_by_label("Check manifests…").next().unwrap().click();
        window.settle();
        window.type_into("Files", manifests.to_str().unwrap());
        window.click("Check");
        assert!(window.app().check_report().is_some());
        both_themes(&mut window, "check_manifests", name);
        results.extend(window.harness.take_snapshot_results());
    }
    results.unwrap();
}

// ---- #22: the window redesigned -------------------------------------------------------------

/// The Theme control (System / Light / Dark) switches the window and is remembered.
#[test]
fn the_theme_control_switches_light_and_dark_and_is_remembered() {
    let home = TempHome::new();
    let mut window = window(&home);
    for (choice, dark) in [(regcred::gui::ThemeChoice::Light, false), (regcred::gui::ThemeChoice::Dark, true)] {
        window.harness.get_by_label("Theme").click();
        window.harness.run_steps(2);
        window.harness.get_by_label(choice.label()).click();
        window.settle();
        assert_eq!(window.harness.ctx.theme() == egui::Theme::Dark, dark, "{choice:?}");
        assert_eq!(window.app().persisted_state().theme, choice, "remembered");
    }
}

/// A key with a path (`host:port/team`) is saved under that key, with where its secret can live
/// said before saving in words that agree with the key shown; a keyboard save never moves a secret
/// to plaintext unseen: it asks, and offers the whole registry in the keychain instead.
#[test]
fn a_path_scoped_key_keeps_its_path_and_its_secret_where_the_user_saw_it_go() {
    let home = TempHome::new();
    home.write(
        &home.docker_config(),
        br#"{"auths":{"registry.example.com:5000":{}},"credHelpers":{"registry.example.com:5000":"regcred"}}"#,
    );
    let mut window = window(&home);
    window
        .store
        .store("registry.example.com:5000", &Credential { username: "host".into(), secret: Secret::new("host-pw") })
        .unwrap();
    let add = |window: &mut Window, server: &str| {
        window.key(egui::Modifiers::COMMAND, egui::Key::N);
        window.harness.get_by_label("Server").type_text(server);
        window.harness.run_steps(2);
        window.key(egui::Modifiers::NONE, egui::Key::Tab);
        window.harness.get_by_label("Username").type_text("robot");
        window.harness.run_steps(2);
        window.key(egui::Modifiers::NONE, egui::Key::Tab);
        window.harness.get_by_label("Password").type_text("scoped-secret");
        window.harness.run_steps(2);
    };
    add(&mut window, "registry.example.com:5000/team");
    assert!(window.shows("saved as registry.example.com:5000/team"), "{}", window.tree_text());
    assert!(window.shows("this key keeps its password in the file, in plaintext"), "{}", window.tree_text());
    let before = std::fs::read(home.docker_config()).unwrap();
    window.key(egui::Modifiers::COMMAND, egui::Key::S);
    assert!(window.shows("Save this password in plaintext?"), "asks before plaintext: {}", window.tree_text());
    assert_eq!(std::fs::read(home.docker_config()).unwrap(), before, "nothing written before the answer");
    window.click("Save in the file");
    let config = read_json(&home.docker_config());
    assert_eq!(
        config["auths"]["registry.example.com:5000/team"]["auth"],
        encode_auth("robot", &Secret::new("scoped-secret")),
        "the key keeps its path: {config}"
    );
    assert_eq!(config["auths"]["registry.example.com:5000"], serde_json::json!({}), "the host's entry stays: {config}");
    assert_eq!(config["credHelpers"]["registry.example.com:5000"], "regcred", "and its keychain route: {config}");
    assert_eq!(window.store.get("registry.example.com:5000").unwrap().unwrap().secret.expose(), "host-pw");

    add(&mut window, "other.example.com:5000/team");
    window.key(egui::Modifiers::COMMAND, egui::Key::S);
    window.click("Use other.example.com:5000 and the keychain");
    let config = read_json(&home.docker_config());
    assert_eq!(config["auths"]["other.example.com:5000"], serde_json::json!({}), "{config}");
    assert_eq!(config["credHelpers"]["other.example.com:5000"], "regcred", "{config}");
    assert_eq!(window.store.get("other.example.com:5000").unwrap().unwrap().secret.expose(), "scoped-secret");
}

/// A token kept in the keychain shows its expiry on the first frame after a restart, without a
/// click; a helper that is not installed is a problem in its row.
#[test]
fn status_is_visible_without_clicking() {
    let soon = crate::presets::jwt(
        (std::time::SystemTime::now() + Duration::from_hours(3))
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    );
    let home = TempHome::new();
    home.write(
        &home.docker_config(),
        br#"{"auths":{"tok.example.com":{},"gone.example.com":{}},"credHelpers":{"tok.example.com":"regcred","gone.example.com":"not-installed-anywhere"}}"#,
    );
    let mut window = window(&home);
    window
        .store
        .store("tok.example.com", &Credential { username: "robot".into(), secret: Secret::new(soon.as_str()) })
        .unwrap();
    // A restart: a new window over the same files and keychain.
    let store = window.store.clone();
    let opener: Opener = Arc::new(move |_: &str| Ok(Box::new(store.clone()) as Box<dyn SecretStore>));
    window = make(Make { opener: Some(opener), ..Make::new(home.path()) });
    window.harness.state_mut().set_keychain_state(KeychainState::Available);
    window.settle();
    let row = window.row("tok.example.com").accesskit_node().label().unwrap_or_default();
    assert!(row.contains("expires in 2 h") || row.contains("expires in 3 h"), "{row}");
    let row = window.row("gone.example.com").accesskit_node().label().unwrap_or_default();
    assert!(row.contains("not-installed-anywhere (not installed)"), "{row}");
    assert!(window.app().selected().is_none(), "nothing was clicked");
}

/// A real-world file with a long name at 1280×800: the layout stays wide, every row's Test
/// button stays inside the window, the file is a Docker config by its content, and the user's own
/// config stays listed beside it.
#[test]
fn a_long_file_name_never_breaks_the_layout() {
    let home = TempHome::new();
    home.write(&home.docker_config(), &plaintext_config(&[("mine.example.com", "me", "pw")]));
    let long = home.path().join("testcontainers-java__config-with-helper-and-store.json");
    std::fs::write(
        &long,
        br#"{"auths":{"registry.example.com":{},"https://index.docker.io/v1/":{"auth":"dTpw"},"quay.io":{"auth":"dTpw"}},"credsStore":"desktop","credHelpers":{"registry.example.com":"gcloud"}}"#,
    )
    .unwrap();
    let mut window = make(Make { size: [1280.0, 800.0], ..Make::new(home.path()) });
    let grip = window.harness.get_by_label("Resize the registry table").rect().center().x;
    window.key(egui::Modifiers::COMMAND, egui::Key::O);
    window.type_into("Path", long.to_str().unwrap());
    window.click("Open");
    assert_eq!(window.app().visible_keys().len(), 3, "the opened file is shown");
    let file = window.harness.get_by_label("File").value().unwrap_or_default();
    assert!(file.starts_with("Docker config.json"), "a Docker config by its content: {file}");
    let after = window.harness.get_by_label("Resize the registry table").rect().center().x;
    assert!((after - grip).abs() < 1.0, "the split did not move: {grip} → {after}");
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1280.0, 800.0));
    for key in window.app().visible_keys() {
        let test = window.harness.get_by_label(&format!("Test pull {key}")).rect();
        assert!(screen.contains_rect(test) && test.right() < after, "{key}'s Test {test:?} inside its pane");
    }
    window.key(egui::Modifiers::COMMAND, egui::Key::O);
    assert!(window.shows(&home.docker_config().display().to_string()), "your own config is offered");
    window.harness.key_press(egui::Key::Escape);
    window.settle();
    window.harness.get_by_label("File").click();
    window.harness.run_steps(2);
    assert!(window.shows("mine.example.com") || window.shows("~/.docker/config.json"), "{}", window.tree_text());
}

/// Test all, then a failed row selected: its card says what the registry said, what the kubelet
/// will report is left out of a login check, and what to do, with a button to the field to fix.
#[test]
fn a_failed_rows_card_says_what_to_do_and_jumps_to_the_fix() {
    let (_server, home, host) = capture_registry("wrong");
    let mut window = window(&home);
    window.click("Test all");
    window.select(&host);
    assert!(window.shows("Login check failed"), "{}", window.tree_text());
    assert!(window.shows("What to do"));
    assert!(window.shows("The registry said UNAUTHORIZED: authentication required"));
    window.click("Fix the password");
    assert_eq!(window.app().tab(), regcred::gui::Tab::Login);
    assert_eq!(window.focused(), "Password", "the cursor is in the field to fix");
    window.harness.get_by_label("Password").type_text("right");
    window.harness.run_steps(2);
    assert_eq!(window.app().draft().unwrap().current.password.as_str(), "right", "typing replaces the old password");
}

/// An image on another registry, tried from this registry's Test pull tab, is not a test of this
/// registry: its row keeps its last test, and the card's fix is the image, not the server.
#[test]
fn a_pull_from_another_registry_is_not_charged_to_this_one() {
    let (_server, home, host) = capture_registry("pw");
    let mut window = window(&home);
    window.select(&host);
    window.type_into("Image", "127.0.0.1:1/team/app:1");
    window.key(egui::Modifiers::COMMAND, egui::Key::T);
    assert!(window.shows("Would not pull"), "{}", window.tree_text());
    assert!(window.app().test_record(&host).is_none(), "the row's last test is not another registry's");
    assert!(window.shows("Fix the image") && !window.shows("Fix the server"), "{}", window.tree_text());
}

/// A password the registry just refused is never handed on in silence: the Kubernetes tab, Copy
/// and the question before quitting say that the YAML holds unsaved changes whose test failed,
/// and that question gives the keyboard to Cancel, not Save.
#[test]
fn a_refused_draft_is_said_wherever_its_yaml_goes() {
    let (_server, home, host) = capture_registry("right");
    let mut window = window(&home);
    window.select(&host);
    window.type_into("Password", "-typo");
    window.key(egui::Modifiers::COMMAND, egui::Key::T);
    assert!(window.shows("Login check failed"), "{}", window.tree_text());
    window.key(egui::Modifiers::COMMAND, egui::Key::Num3);
    assert!(
        window.shows("This Secret: it holds what is typed in the Login tab, not saved yet."),
        "{}",
        window.tree_text()
    );
    assert!(window.shows("This Secret: its last test failed: "), "{}", window.tree_text());
    window.key(egui::Modifiers::COMMAND | egui::Modifiers::SHIFT, egui::Key::C);
    let toasts = window.app().toasts();
    let copied = toasts.iter().find(|t| t.starts_with("Copied the YAML (secrets in clear)")).expect("copied");
    assert!(copied.contains("not saved yet; its last test failed: "), "{copied}");
    window.key(egui::Modifiers::COMMAND, egui::Key::Q);
    assert!(window.shows("Careful: its last test failed: "), "{}", window.tree_text());
    assert_eq!(window.focused(), "Cancel", "saving what was refused is not the default");
    window.key(egui::Modifiers::NONE, egui::Key::Escape);
    // Typed again, the old answer no longer speaks for it.
    window.type_into("Password", "x");
    window.key(egui::Modifiers::COMMAND, egui::Key::Num3);
    assert!(!window.shows("This Secret: its last test failed"), "{}", window.tree_text());
}

/// Small truths: an empty Save says what to enter in words; the status line shows a repeated
/// message once.
#[test]
fn an_empty_save_says_what_to_enter_and_the_status_line_does_not_repeat() {
    let home = TempHome::new();
    let mut window = window(&home);
    window.key(egui::Modifiers::COMMAND, egui::Key::N);
    window.key(egui::Modifiers::COMMAND, egui::Key::S);
    window.key(egui::Modifiers::COMMAND, egui::Key::S);
    let toasts = window.app().toasts();
    assert!(toasts.iter().any(|t| t.starts_with("Enter a server")), "{toasts:?}");
    assert!(!toasts.iter().any(|t| t.contains("is not a registry key")), "{toasts:?}");
    let shown = window.harness.query_all_by_label_contains("Enter a server").count();
    assert_eq!(shown, 1, "once in the status line: {}", window.tree_text());
}

/// Duplicate of a registry whose secret is in the keychain copies the secret once it is read
/// (it waited forever), and a file whose helper is not installed never hands its ignored plaintext
/// to the Kubernetes tab.
#[test]
fn duplicate_copies_a_keychain_secret_and_a_missing_helper_gives_no_secret() {
    let home = TempHome::new();
    home.write(&home.docker_config(), br#"{"auths":{"kc.example.com":{}},"credHelpers":{"kc.example.com":"regcred"}}"#);
    let mut window = window(&home);
    window
        .store
        .store("kc.example.com", &Credential { username: "robot".into(), secret: Secret::new("kc-secret") })
        .unwrap();
    window.harness.get_by_label("Actions for kc.example.com").click();
    window.harness.run_steps(2);
    window.click("Duplicate");
    let draft = window.app().draft().unwrap();
    assert!(draft.key.is_none() && !draft.secret_loading, "the duplicate is ready");
    assert_eq!((draft.current.username.as_str(), draft.current.password.as_str()), ("robot", "kc-secret"));

    let other = TempHome::new();
    other.write(
        &other.docker_config(),
        br#"{"auths":{"a.example.com":{"auth":"dTpw"}},"credsStore":"not-installed-here"}"#,
    );
    let mut window = make(Make { opener: Some(regcred::gui::system_opener()), ..Make::new(other.path()) });
    window.select("a.example.com");
    assert!(window.app().draft().unwrap().current.password.is_empty(), "the ignored plaintext is not the secret");
    assert!(window.app().preview().is_err(), "no Secret without the secret: {:?}", window.app().preview());
}

/// Removing a key with a path leaves its host's keychain login (route and secret) alone.
#[test]
fn removing_a_path_scoped_key_leaves_its_hosts_keychain_login() {
    let home = TempHome::new();
    home.write(
        &home.docker_config(),
        br#"{"auths":{"reg.example.com:5000":{},"reg.example.com:5000/team":{"auth":"dTpw"}},"credHelpers":{"reg.example.com:5000":"regcred"}}"#,
    );
    let mut window = window(&home);
    window
        .store
        .store("reg.example.com:5000", &Credential { username: "host".into(), secret: Secret::new("host-pw") })
        .unwrap();
    window.select("reg.example.com:5000/team");
    window.click("Remove…");
    window.click_last("Remove");
    let config = read_json(&home.docker_config());
    assert!(config["auths"].get("reg.example.com:5000/team").is_none(), "{config}");
    assert_eq!(config["credHelpers"]["reg.example.com:5000"], "regcred", "{config}");
    assert_eq!(window.store.get("reg.example.com:5000").unwrap().unwrap().secret.expose(), "host-pw");
}

#[test]
fn a_login_podman_takes_from_an_earlier_file_is_marked_shadowed() {
    let home = TempHome::new();
    home.write(&home.path().join(".config/containers/auth.json"), br#"{"auths":{"quay.io":{"auth":"dTpw"}}}"#);
    home.write(&home.docker_config(), br#"{"auths":{"quay.io":{"auth":"dTpw"},"ghcr.io":{"auth":"dTpw"}}}"#);
    let mut window = window(&home);
    let shadowed = window.row("quay.io").accesskit_node().label().unwrap_or_default();
    assert!(shadowed.contains("secret: plaintext · shadowed"), "{shadowed}");
    let alone = window.row("ghcr.io").accesskit_node().label().unwrap_or_default();
    assert!(!alone.contains("shadowed"), "{alone}");
    window.select("quay.io");
    assert!(window.shows("Podman and skopeo read ~/.config/containers/auth.json first"), "{}", window.tree_text());
}

/// #23, one decision, two faces: the preset checks the window shows for a login are the ones
/// `regcred login` prints for the same input (both from `presets::check_login`).
#[test]
fn the_window_and_the_cli_check_a_login_against_its_preset_alike() {
    let home = TempHome::new();
    let token = "github_pat_11ABCDEF0123456789_abcdefghijklmnopqrstuvwxyz";
    let cli = crate::support::with_stdin(
        home.regcred(&[
            "login",
            "ghcr.io",
            "-u",
            "me@example.com",
            "--password-stdin",
            "--no-verify",
            "--store",
            "file",
        ]),
        token.as_bytes(),
    );
    let stderr = String::from_utf8(cli.stderr).unwrap();
    let findings: Vec<&str> = stderr.lines().filter_map(|line| line.strip_prefix("warning: ")).collect();
    assert_eq!(findings.len(), 2, "{stderr}");
    let window_home = TempHome::new();
    let mut window = window(&window_home);
    window.click("Add registry");
    window.type_into("Server", "ghcr.io");
    window.type_into("Username", "me@example.com");
    window.type_into("Password", token);
    for finding in findings {
        assert!(window.shows(finding), "the window does not say {finding:?}: {}", window.tree_text());
    }
}

/// #23, one decision, two faces: the window's Check reads its inputs as `regcred check` does — a
/// path that cannot be read is an input error said in the same words, and the rest is checked.
#[test]
fn the_window_and_the_cli_read_check_inputs_alike() {
    let home = TempHome::new();
    let good = home.path().join("cached.yaml");
    std::fs::write(
        &good,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: cached\nspec:\n  containers:\n  - name: app\n    image: registry.example.com/app:1\n    imagePullPolicy: Never\n",
    )
    .unwrap();
    let missing = home.path().join("missing.yaml");
    let cli = home.run(&["check", "--json", "-f", missing.to_str().unwrap(), "-f", good.to_str().unwrap()]);
    assert_eq!(cli.status.code(), Some(2), "an input error");
    let json: serde_json::Value = serde_json::from_slice(&cli.stdout).unwrap();
    let errors: Vec<&str> = json["errors"].as_array().unwrap().iter().map(|e| e.as_str().unwrap()).collect();
    assert_eq!(errors.len(), 1, "{json}");
    assert_eq!(json["summary"]["skipped"], 1, "the readable file is still checked: {json}");
    let mut window = window(&home);
    window.click("Check manifests…");
    window.type_into("Files", &format!("{} {}", missing.display(), good.display()));
    // Enter in Files runs the check, as a search field runs its search.
    window.key(egui::Modifiers::NONE, egui::Key::Enter);
    window.settle();
    assert!(window.shows(errors[0]), "the window says {:?}: {}", errors[0], window.tree_text());
    assert!(window.shows("1 skipped"), "and checks the rest: {}", window.tree_text());
}

/// The keyboard is never lost, at the smallest size: Tab through the Login form scrolls each
/// control it reaches into view; a dialog opens with its safe choice focused (Enter presses it,
/// a destructive choice is never the default); a file whose kind is a guess says so when opened;
/// and the welcome does not promise a keychain the chip says is missing.
#[test]
fn the_keyboard_is_never_lost_and_the_window_says_what_it_assumed() {
    let home = TempHome::new();
    home.write(&home.docker_config(), &plaintext_config(&[("quay.io", "robot", "pw")]));
    let mut window = make(Make { size: [900.0, 560.0], ..Make::new(home.path()) });
    // The top bar in reading order.
    window.harness.get_by_label("File").focus();
    window.harness.run_steps(2);
    let mut bar = Vec::new();
    for _ in 0..3 {
        window.key(egui::Modifiers::NONE, egui::Key::Tab);
        bar.push(window.focused());
    }
    assert_eq!(bar, ["Check…", "Theme", "Help"], "Tab goes left to right");
    window.select("quay.io");
    window.tab("Login");
    window.harness.get_by_label("Server").focus();
    window.harness.run_steps(2);
    let mut reached = Vec::new();
    for _ in 0..12 {
        window.key(egui::Modifiers::NONE, egui::Key::Tab);
        let focused = window.focused();
        if focused.is_empty() {
            continue;
        }
        let node = window.harness.get_by_label(&focused);
        let visible = visible_rect(&node);
        assert!(
            visible.height() >= node.rect().height() - 1.0,
            "{focused} has the focus and is out of sight: {:?} shown of {:?}",
            visible,
            node.rect()
        );
        reached.push(focused);
    }
    assert!(reached.iter().any(|label| label == "Email"), "Tab went down the form: {reached:?}");

    window.click("Remove…");
    assert_eq!(window.focused(), "Keep", "the safe choice, focused");
    window.key(egui::Modifiers::NONE, egui::Key::Enter);
    assert!(!window.shows("Remove this registry?"), "Enter pressed Keep");
    assert_eq!(window.app().visible_keys(), vec!["quay.io".to_owned()], "nothing removed");

    let guessed = home.path().join("ci-creds.json");
    home.write(&guessed, &plaintext_config(&[("opened.example.com", "me", "pw")]));
    window.key(egui::Modifiers::COMMAND, egui::Key::O);
    window.type_into("Path", guessed.to_str().unwrap());
    window.click("Open");
    let toasts = window.app().toasts();
    assert!(
        toasts.iter().any(|t| t.contains("ci-creds.json is read as a Podman auth.json") && t.contains("--authfile")),
        "{toasts:?}"
    );

    let empty = TempHome::new();
    let mut window = make(Make::new(empty.path()));
    assert!(window.shows("with the passwords in the OS keychain."));
    window.harness.state_mut().set_keychain_state(KeychainState::Absent("no Secret Service".to_owned()));
    window.harness.run_steps(2);
    assert!(window.shows("Here it does not answer"), "{}", window.tree_text());
}

/// A stranger's second walk: a registry in an opened file is tested with that file's entry (not
/// another file's login for the same host), and its answer stays with that file; Ctrl+T on a
/// registry not saved yet checks the login as typed; a short image name says it means Docker Hub
/// and offers this registry's; Verify and Apply wait for a kubeconfig and say so; the plaintext
/// question does not focus "Save in the file".
#[test]
fn each_file_answers_for_its_own_entries_and_the_window_says_what_it_will_do() {
    if !component_available("docker-registry and skopeo", registry::available()) {
        return;
    }
    let registry = Registry::start(Some(("alice", "second-walk-pw")));
    let home = TempHome::new();
    home.write(&home.docker_config(), &plaintext_config(&[(&registry.host, "alice", "wrong-pw")]));
    let staging = home.path().join("files/staging-auth");
    home.write(&staging, &plaintext_config(&[(&registry.host, "alice", "second-walk-pw")]));
    let mut window = window(&home);
    window.select(&registry.host);
    window.key(egui::Modifiers::COMMAND, egui::Key::T);
    assert_eq!(
        window.app().test_record(&registry.host).map(|r| &r.verdict),
        Some(&TestVerdict::Fails("the registry refused the user name or password".to_owned()))
    );
    window.key(egui::Modifiers::COMMAND, egui::Key::O);
    window.type_into("Path", staging.to_str().unwrap());
    window.click("Open");
    assert!(window.app().test_record(&registry.host).is_none(), "the other file's answer is not this file's");
    window.select(&registry.host);
    window.key(egui::Modifiers::COMMAND, egui::Key::T);
    assert_eq!(
        window.app().test_record(&registry.host).map(|r| &r.verdict),
        Some(&TestVerdict::LoginWorks),
        "tested with this file's entry: {}",
        window.tree_text()
    );
    // Back to the Docker config (the File list, by keyboard): its own answer is still there.
    window.harness.get_by_label("File").click();
    window.harness.run_steps(2);
    let docker = window.harness.query_all_by_label_contains("Docker config.json ·").last().unwrap().rect();
    window.harness.hover_at(docker.center());
    window.harness.get_all_by_label_contains("Docker config.json ·").last().unwrap().click();
    window.settle();
    assert!(!window.shows("Open file…  (Ctrl+O)"), "the list closed once a file was chosen");
    assert_eq!(
        window.app().test_record(&registry.host).map(|r| &r.verdict),
        Some(&TestVerdict::Fails("the registry refused the user name or password".to_owned())),
        "each file keeps its own answer"
    );

    // A registry not saved yet: Ctrl+T checks the login with what is typed.
    window.key(egui::Modifiers::COMMAND, egui::Key::N);
    window.type_into("Server", &registry.host);
    window.type_into("Username", "alice");
    window.type_into("Password", "second-walk-pw");
    window.key(egui::Modifiers::COMMAND, egui::Key::T);
    assert!(window.shows("Login check"), "{}", window.tree_text());
    assert!(window.shows("unsaved draft"), "{}", window.tree_text());

    // A short name is Docker Hub's; this registry's is offered.
    window.type_into("Image", "shop/web:1.0");
    assert!(window.shows("shop/web:1.0 is on Docker Hub (docker.io)"), "{}", window.tree_text());
    let suggestion = format!("Use {}/shop/web:1.0", registry.host);
    window.click(&suggestion);
    assert!(!window.shows("is on Docker Hub"), "{}", window.tree_text());
    // The cursor is back in Image, at the end of the completed name: typing goes on from there.
    assert_eq!(window.focused(), "Image");
    window.harness.get_by_label("Image").type_text("-rc1");
    window.harness.run_steps(2);
    let image = window.harness.get_by_label("Image").accesskit_node().value().unwrap_or_default();
    assert_eq!(image, format!("{}/shop/web:1.0-rc1", registry.host));

    // No kubeconfig: Verify waits for one, and says why.
    let verify = window.harness.get_by_label("Verify in cluster");
    assert!(verify.accesskit_node().is_disabled(), "Verify needs a cluster");
    assert!(window.shows("No kubeconfig found"), "{}", window.tree_text());

    // Saving it: the registry is in the file already; the safe answer has the focus.
    window.click("Login");
    window.key(egui::Modifiers::COMMAND, egui::Key::S);
    assert!(window.shows("already has an entry"), "{}", window.tree_text());
    assert_eq!(window.focused(), "Open the existing entry");

    // The plaintext question: not "Save in the file" focused.
    let empty = TempHome::new();
    let mut window = make(Make::new(empty.path()));
    window.harness.state_mut().set_keychain_state(KeychainState::Absent("none".to_owned()));
    window.harness.run_steps(2);
    window.key(egui::Modifiers::COMMAND, egui::Key::N);
    window.type_into("Server", "new.example.com");
    window.type_into("Username", "me");
    window.type_into("Password", "pw");
    window.key(egui::Modifiers::COMMAND, egui::Key::S);
    assert!(window.shows("Save this password in plaintext?"), "{}", window.tree_text());
    assert_eq!(window.focused(), "Cancel", "the safe choice: {}", window.tree_text());
    window.key(egui::Modifiers::NONE, egui::Key::Escape);
    assert!(!window.shows("Save this password in plaintext?"));
    assert_eq!(window.focused(), "Password", "Esc gives the keyboard back to where it was");
}

/// A test of what is typed: it says so once the typing changes, and a current one becomes the
/// saved registry's answer when it is saved (remembered for its row).
#[test]
fn a_draft_answer_goes_stale_when_the_typing_changes_and_is_kept_when_saved() {
    if !component_available("docker-registry and skopeo", registry::available()) {
        return;
    }
    let registry = Registry::start(Some(("alice", "draft-pw")));
    let home = TempHome::new();
    let mut window = make(Make::new(home.path()));
    window.key(egui::Modifiers::COMMAND, egui::Key::N);
    window.type_into("Server", &registry.host);
    window.type_into("Username", "alice");
    window.type_into("Password", "draft-p");
    window.key(egui::Modifiers::COMMAND, egui::Key::T);
    assert!(window.shows("refused the user name or password"), "{}", window.tree_text());
    window.type_into("Password", "w");
    assert!(window.shows("This answered what was typed before your last change"), "{}", window.tree_text());
    window.key(egui::Modifiers::COMMAND, egui::Key::T);
    assert!(window.shows("accepts the login"), "{}", window.tree_text());
    assert!(!window.shows("This answered what was typed before"), "current again");
    window.key(egui::Modifiers::COMMAND, egui::Key::S);
    window.settle();
    assert_eq!(
        window.app().test_record(&registry.host).map(|r| &r.verdict),
        Some(&TestVerdict::LoginWorks),
        "the saved row remembers the draft's answer"
    );
}

/// Check manifests "with my own credentials": a login whose secret cannot be read is said in the
/// report (as `regcred check --local` warns), not left for "none configured" to explain.
#[test]
fn check_with_my_own_credentials_says_which_could_not_be_read() {
    let home = TempHome::new();
    home.write(
        &home.docker_config(),
        br#"{"auths":{"ghost.example.com":{}},"credHelpers":{"ghost.example.com":"nosuch"}}"#,
    );
    let mut window = window(&home);
    window.click("Check manifests…");
    window.click("Check Secrets missing from the manifests with my own credentials");
    window.type_into(
        "Manifests",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: ghost.example.com/app:1\n    imagePullPolicy: Never\n",
    );
    window.click("Check");
    window.settle();
    assert!(window.shows("ghost.example.com: not used"), "{}", window.tree_text());
}
