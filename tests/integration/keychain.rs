//! The OS keychain (gnome-keyring's Secret Service) and Docker's credential helpers, for real:
//! interoperability both ways, helper conformance, login/logout end to end with skopeo and a
//! real registry, migration with injected faults, locked and absent keychains, and a canary.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use regcred::auth_files::{AuthFile, FileKind};
use regcred::credentials::{self, CredentialsError, StoreChoice};
use regcred::keychain::{Credential, KeychainError, KeyringStore, SecretStore};
use regcred::secret::Secret;
use serde_json::Value;

use crate::support::registry::{self, Registry};
use crate::support::{TempHome, component_available, helper_bin, keychain, keychain_turn as serial, unique_server};

fn secretservice() -> Option<&'static str> {
    let found = registry::which("docker-credential-secretservice").is_some();
    component_available("docker-credential-secretservice", found).then_some("docker-credential-secretservice")
}

/// Runs a helper program with `input` on stdin; returns (stdout, exit code).
fn helper(program: &str, action: &str, input: &str) -> (String, i32) {
    let mut child = Command::new(program)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    (String::from_utf8_lossy(&output.stdout).into_owned(), output.status.code().unwrap_or(-1))
}

fn cred(username: &str, secret: &str) -> Credential {
    Credential { username: username.to_owned(), secret: Secret::new(secret) }
}

fn items_for(server: &str) -> usize {
    let output = Command::new("secret-tool").args(["search", "--all", "server", server]).output().unwrap();
    String::from_utf8_lossy(&output.stdout).matches("attribute.server").count()
        + String::from_utf8_lossy(&output.stderr).matches("attribute.server").count()
}

#[test]
fn regcred_and_docker_credential_secretservice_see_each_others_items() {
    let _turn = serial();
    let (Some(store), Some(peer)) = (keychain(), secretservice()) else { return };
    let ours = [unique_server("ours-a"), unique_server("ours-b")];
    for (index, server) in ours.iter().enumerate() {
        store.store(server, &cred(&format!("user{index}"), &format!("pw:{index} ü"))).unwrap();
        let (stdout, code) = helper(peer, "get", server);
        assert_eq!(code, 0, "{stdout}");
        let got: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(got["Username"], format!("user{index}"));
        assert_eq!(got["Secret"], format!("pw:{index} ü"));
    }
    let listing: BTreeMap<String, String> = serde_json::from_str(&helper(peer, "list", "").0).unwrap();
    assert!(ours.iter().all(|s| listing.contains_key(s)), "{listing:?}");

    let theirs = unique_server("theirs");
    let input = format!(r#"{{"ServerURL":"{theirs}","Username":"docker","Secret":"from-docker"}}"#);
    assert_eq!(helper(peer, "store", &input).1, 0);
    assert_eq!(store.get(&theirs).unwrap(), Some(cred("docker", "from-docker")));
    assert_eq!(store.list().unwrap().get(&theirs).map(String::as_str), Some("docker"));
    store.store(&theirs, &cred("edited", "by-regcred")).unwrap();
    let (stdout, _) = helper(peer, "get", &theirs);
    assert!(stdout.contains("\"Username\":\"edited\"") && stdout.contains("by-regcred"), "{stdout}");
    assert_eq!(items_for(&theirs), 1, "a second store replaces, never duplicates");
    store.store(&ours[0], &cred("again", "again")).unwrap();
    assert_eq!(items_for(&ours[0]), 1);
    store.erase(&theirs).unwrap();
    assert_eq!(helper(peer, "get", &theirs), ("credentials not found in native keychain\n".to_owned(), 1));
    for server in &ours {
        store.erase(server).unwrap();
    }
}

#[test]
fn docker_credential_regcred_answers_exactly_like_secretservice() {
    let _turn = serial();
    let (Some(_), Some(peer)) = (keychain(), secretservice()) else { return };
    let server = unique_server("conformance");
    let unknown = unique_server("unknown");
    let store = format!(r#"{{"ServerURL":"{server}","Username":"robot","Secret":"s<e>&c:r\"et"}}"#);
    let token = format!(r#"{{"ServerURL":"{server}","Username":"<token>","Secret":"identity-token"}}"#);
    let steps: Vec<(&str, String)> = vec![
        ("store", store),
        ("get", server.clone()),
        ("get", format!("{server}\n")),
        ("store", token),
        ("get", server.clone()),
        ("get", unknown.clone()),
        ("get", String::new()),
        ("store", r#"{"ServerURL":"","Username":"u","Secret":"p"}"#.to_owned()),
        ("store", format!(r#"{{"ServerURL":"{server}","Username":"","Secret":"p"}}"#)),
        ("store", "garbage".to_owned()),
        ("store", "[1]".to_owned()),
        ("store", format!(r#"{{"ServerURL":"{server}""#)),
        ("erase", unknown),
        ("erase", server.clone()),
        ("get", server.clone()),
        ("erase", String::new()),
        ("bogus", String::new()),
    ];
    for (action, input) in steps {
        let ours = helper(helper_bin(), action, &input);
        let theirs = helper(peer, action, &input);
        assert_eq!(ours, theirs, "{action} {input:?}");
    }
    let ours: BTreeMap<String, String> = serde_json::from_str(&helper(helper_bin(), "list", "").0).unwrap();
    let theirs: BTreeMap<String, String> = serde_json::from_str(&helper(peer, "list", "").0).unwrap();
    assert!(!ours.contains_key(&server) && !theirs.contains_key(&server));
}

#[test]
fn list_shows_the_user_names_another_helper_lists() {
    let _turn = serial();
    let (Some(_), Some(peer)) = (keychain(), secretservice()) else { return };
    let server = unique_server("listed");
    let stored = format!(r#"{{"ServerURL":"{server}","Username":"bob-from-helper","Secret":"pw"}}"#);
    assert_eq!(helper(peer, "store", &stored).1, 0);
    let home = TempHome::new();
    let config = format!(r#"{{"auths":{{"{server}":{{}}}},"credHelpers":{{"{server}":"secretservice"}}}}"#);
    home.write(&home.docker_config(), config.as_bytes());
    let json: Value = serde_json::from_slice(&home.run(&["list", "--json"]).stdout).unwrap();
    let text = String::from_utf8(home.run(&["list"]).stdout).unwrap();
    helper(peer, "erase", &server);
    assert_eq!(json[0]["username"], "bob-from-helper", "{json}");
    assert_eq!(json[0]["stored_in"], "helper secretservice");
    assert!(text.contains("bob-from-helper"), "{text}");
}

fn skopeo_inspect(home: &TempHome, registry: &Registry, repo: &str) -> Output {
    Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false", "--authfile"])
        .arg(home.docker_config())
        .arg(format!("docker://{}/{repo}:v1", registry.host))
        .env("PATH", crate::support::path_with_helper())
        .env("HOME", home.path())
        .output()
        .unwrap()
}

#[test]
fn login_into_the_keychain_works_for_skopeo_and_logout_takes_it_away() {
    let _turn = serial();
    let Some(_) = keychain() else { return };
    if !component_available("docker-registry and skopeo", registry::available()) {
        return;
    }
    let password = format!("canary-{}", std::process::id());
    let registry = Registry::start(Some(("alice", &password)));
    registry.push_image("team/app", "v1");
    let home = TempHome::new();
    let mut login = home
        .regcred(&["login", &registry.host, "-u", "alice", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    login.stdin.take().unwrap().write_all(password.as_bytes()).unwrap();
    let output = login.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let config = std::fs::read_to_string(home.docker_config()).unwrap();
    assert!(!config.contains(&password), "no plaintext in the file: {config}");
    let file: Value = serde_json::from_str(&config).unwrap();
    assert_eq!(file["credHelpers"][&registry.host], "regcred");
    assert_eq!(file["auths"][&registry.host], serde_json::json!({}));

    let inspect = skopeo_inspect(&home, &registry, "team/app");
    assert!(
        inspect.status.success(),
        "skopeo with credHelpers → regcred: {}",
        String::from_utf8_lossy(&inspect.stderr)
    );

    let logout = home.run(&["logout", &registry.host]);
    assert!(logout.status.success(), "{}", String::from_utf8_lossy(&logout.stderr));
    let after = skopeo_inspect(&home, &registry, "team/app");
    assert!(!after.status.success());
    assert!(
        String::from_utf8_lossy(&after.stderr).contains("unauthorized"),
        "{}",
        String::from_utf8_lossy(&after.stderr)
    );
    assert_eq!(KeyringStore::open().unwrap().get(&registry.host).unwrap(), None);
}

/// A store that fails on purpose, around the real keychain.
struct Faulty {
    inner: KeyringStore,
    fail_store_on: Option<String>,
    lie_on_read: Option<String>,
}

impl SecretStore for Faulty {
    fn label(&self) -> String {
        "faulty keychain".to_owned()
    }
    fn get(&self, server: &str) -> Result<Option<Credential>, KeychainError> {
        let found = self.inner.get(server)?;
        if self.lie_on_read.as_deref() == Some(server) && found.as_ref().is_some_and(|c| c.username == "robot") {
            return Ok(Some(cred("robot", "something else")));
        }
        Ok(found)
    }
    fn store(&self, server: &str, credential: &Credential) -> Result<(), KeychainError> {
        if self.fail_store_on.as_deref() == Some(server) {
            return Err(KeychainError::Unavailable { message: "injected write failure".into() });
        }
        self.inner.store(server, credential)
    }
    fn erase(&self, server: &str) -> Result<(), KeychainError> {
        self.inner.erase(server)
    }
    fn list(&self) -> Result<BTreeMap<String, String>, KeychainError> {
        self.inner.list()
    }
}

#[test]
fn a_failed_migration_leaves_file_and_keychain_as_they_were() {
    let _turn = serial();
    let Some(store) = keychain() else { return };
    let home = TempHome::new();
    let (first, second) = (unique_server("migrate-a"), unique_server("migrate-b"));
    let content = format!(
        "{{\n\t\"auths\": {{\n\t\t\"{first}\": {{\n\t\t\t\"auth\": \"{}\"\n\t\t}},\n\t\t\"{second}\": {{\n\t\t\t\"auth\": \"{}\"\n\t\t}}\n\t}}\n}}",
        regcred::auth_files::encode_auth("robot", &Secret::new("pw-1")),
        regcred::auth_files::encode_auth("robot", &Secret::new("pw-2")),
    );
    home.write(&home.docker_config(), content.as_bytes());
    store.store(&first, &cred("previous", "previous-secret")).unwrap();
    let cases: [(&str, Option<String>, Option<String>); 3] = [
        ("keychain write fails", Some(second.clone()), None),
        ("read-back differs", None, Some(second.clone())),
        ("file save conflicts", None, None),
    ];
    for (case, fail_store_on, lie_on_read) in cases {
        let mut file = AuthFile::load(home.docker_config(), FileKind::DockerConfig).unwrap();
        let expected_on_disk = if case == "file save conflicts" {
            let mut doc: Value = serde_json::from_str(&content).unwrap();
            doc["auths"][&second]["email"] = "changed@elsewhere".into();
            let bytes = serde_json::to_vec(&doc).unwrap();
            std::fs::write(home.docker_config(), &bytes).unwrap();
            bytes
        } else {
            content.clone().into_bytes()
        };
        let faulty = Faulty {
            inner: KeyringStore::open().unwrap(),
            fail_store_on: fail_store_on.clone(),
            lie_on_read: lie_on_read.clone(),
        };
        let faulty = std::sync::Arc::new(faulty);
        let open = |_: &str| -> Result<Box<dyn SecretStore>, KeychainError> { Ok(Box::new(Shared(faulty.clone()))) };
        let error = credentials::migrate(&mut file, &[], &StoreChoice::Keychain, &open).unwrap_err();
        match case {
            "keychain write fails" => {
                assert!(matches!(error, CredentialsError::Store(_)), "{case}: {error}");
            }
            "read-back differs" => {
                assert!(matches!(error, CredentialsError::ReadBackDiffers { .. }), "{case}: {error}");
            }
            _ => assert!(matches!(error, CredentialsError::File(_)), "{case}: {error}"),
        }
        assert_eq!(std::fs::read(home.docker_config()).unwrap(), expected_on_disk, "{case}: file changed");
        assert_eq!(
            store.get(&first).unwrap(),
            Some(cred("previous", "previous-secret")),
            "{case}: first item restored"
        );
        assert_eq!(store.get(&second).unwrap(), None, "{case}: second item not left behind");
        std::fs::write(home.docker_config(), &content).unwrap();
    }
    store.erase(&first).unwrap();
}

struct Shared(std::sync::Arc<Faulty>);

impl SecretStore for Shared {
    fn label(&self) -> String {
        self.0.label()
    }
    fn get(&self, server: &str) -> Result<Option<Credential>, KeychainError> {
        self.0.get(server)
    }
    fn store(&self, server: &str, credential: &Credential) -> Result<(), KeychainError> {
        self.0.store(server, credential)
    }
    fn erase(&self, server: &str) -> Result<(), KeychainError> {
        self.0.erase(server)
    }
    fn list(&self) -> Result<BTreeMap<String, String>, KeychainError> {
        self.0.list()
    }
}

#[test]
fn locked_and_absent_keychains_fail_fast_and_clearly() {
    let _turn = serial();
    let Some(_) = keychain() else { return };
    let home = TempHome::new();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/with-keyring");
    let start = Instant::now();
    let mut locked = Command::new(&script);
    locked
        .arg(crate::support::regcred_bin())
        .args(["login", "locked.example.com", "-u", "u", "--password-stdin", "--no-verify"])
        .env("REGCRED_KEYRING_LOCKED", "1")
        .env("HOME", home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = locked.spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"pw").unwrap();
    let output = child.wait_with_output().unwrap();
    let locked_time = start.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the keychain is locked"), "{stderr}");
    assert!(!home.docker_config().exists(), "nothing written, no plaintext fallback");

    let start = Instant::now();
    let mut absent = home.regcred(&["login", "absent.example.com", "-u", "u", "--password-stdin", "--no-verify"]);
    let mut child = absent
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/regcred-bus")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"pw").unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the OS keychain is not available"), "{stderr}");
    assert!(!home.docker_config().exists());
    println!(
        "locked keychain answered in {locked_time:?} (including a keyring daemon start); absent in {:?}",
        start.elapsed()
    );
}

#[test]
fn a_canary_password_appears_only_in_the_helpers_get_output() {
    let _turn = serial();
    let Some(_) = keychain() else { return };
    let home = TempHome::new();
    let canary = format!("CANARY-{}-{}", std::process::id(), unique_server("c"));
    let server = unique_server("canary");
    let other = unique_server("canary-file");
    let mut outputs: Vec<(String, Output)> = Vec::new();
    let mut run = |label: &str, args: &[&str], stdin: Option<&str>| {
        let mut command = home.regcred(args);
        command.env("RUST_LOG", "trace").env("RUST_BACKTRACE", "1");
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.unwrap_or_default().as_bytes()).unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{label}: {}", String::from_utf8_lossy(&output.stderr));
        outputs.push((label.to_owned(), output));
    };
    run("login", &["login", &server, "-u", "canary-user", "--password-stdin", "--no-verify"], Some(&canary));
    run(
        "login to file",
        &["login", &other, "-u", "canary-user", "--password-stdin", "--store", "file", "--no-verify"],
        Some(&canary),
    );
    run("list", &["list"], None);
    run("list json", &["list", "--json"], None);
    run("sources", &["sources"], None);
    run("resolve", &["resolve", &format!("{server}/app")], None);
    run("migrate", &["migrate"], None);
    run("orphans", &["orphans"], None);
    let (get, code) = helper(helper_bin(), "get", &server);
    assert_eq!(code, 0);
    assert!(get.contains(&canary), "the helper's get is the one place the secret is printed");
    run("logout", &["logout", &server], None);
    run("logout file", &["logout", &other], None);
    for (label, output) in &outputs {
        for stream in [&output.stdout, &output.stderr] {
            let text = String::from_utf8_lossy(stream);
            assert!(!text.contains(&canary), "{label} leaked the canary: {text}");
        }
    }
    let leftovers: Vec<_> = std::fs::read_dir(home.docker_config().parent().unwrap()).unwrap().flatten().collect();
    for item in leftovers {
        let text = std::fs::read_to_string(item.path()).unwrap_or_default();
        assert!(!text.contains(&canary) && !text.contains(&base64_of(&canary)), "{:?} keeps the canary", item.path());
    }
}

fn base64_of(text: &str) -> String {
    regcred::auth_files::encode_auth("canary-user", &Secret::new(text))
}
