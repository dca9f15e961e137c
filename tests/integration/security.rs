//! Security and robustness against a hostile or careless other side: credentials never travel in
//! clear text to another host, registry text is inert everywhere it is shown, nothing waits
//! forever on a stopped keychain or a FIFO, no plaintext secret stays behind in a backup, and a
//! writer that takes no lock (as Docker and Podman) is not overtaken.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use regcred::auth_files::{AuthFile, AuthFileError, ConflictPolicy, FileKind, SaveStage, parse_server};
use regcred::credentials::{self, CredentialsError, StoreChoice};
use regcred::keychain::{Credential, MemoryStore, SecretStore};
use regcred::registry::{FailureClass, Outcome, PullOptions, PullReport, Puller, Stage, Timeouts};
use regcred::secret::Secret;

use crate::support::tiny_http::{TinyServer, response};
use crate::support::{TempHome, assert_no_panic, component_available, helper_bin, keychain, unique_server};

const CANARY: &str = "sec-canary-5e1d+/x";

fn alice() -> Credential {
    Credential { username: "alice".into(), secret: Secret::new(CANARY) }
}

fn short() -> PullOptions {
    let timeouts =
        Timeouts { connect: Duration::from_secs(2), request: Duration::from_secs(2), idle: Duration::from_secs(1) };
    PullOptions { timeouts, ..PullOptions::default() }
}

fn pull(image: &str, credential: Option<&Credential>, options: &PullOptions) -> PullReport {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(Puller::default().pull(image, credential, "test", options, None, None))
}

fn failure(report: &PullReport) -> &regcred::registry::Failure {
    match &report.outcome {
        Outcome::Failure(failure) => failure,
        Outcome::Success(_) => panic!("expected a failure: {}", report.to_text()),
    }
}

/// A loopback "registry" whose challenge sends clients to `realm` for a token.
fn registry_with_realm(realm: String) -> TinyServer {
    TinyServer::start(move |head, _| {
        if head.starts_with("GET /v2/ ") {
            let challenge = format!("Bearer realm=\"{realm}\",service=\"registry\"");
            return response("401 Unauthorized", &[("WWW-Authenticate", &challenge)], b"");
        }
        response("404 Not Found", &[], b"")
    })
}

/// A server standing in for a non-loopback host: test traffic never leaves the machine, the name
/// is pinned to it (like curl's `--resolve`) and it records whatever reaches it.
fn elsewhere(name: &str) -> (TinyServer, Vec<(String, SocketAddr)>) {
    let capture = TinyServer::start(|_, _| response("200 OK", &[], br#"{"token":"anonymous-token"}"#));
    let resolve = vec![(name.to_owned(), capture.addr)];
    (capture, resolve)
}

#[test]
fn a_password_never_goes_in_clear_text_to_a_token_service_on_another_host() {
    let (capture, resolve) = elsewhere("token.example.com");
    let realm = format!("http://token.example.com:{}/token", capture.addr.port());
    let registry = registry_with_realm(realm.clone());
    let options = PullOptions { resolve, ..short() };
    let image = format!("{}/team/app:1", registry.addr);

    let report = pull(&image, Some(&alice()), &options);
    let refused = failure(&report);
    assert_eq!((refused.class, refused.stage), (FailureClass::Refused, Stage::Token), "{}", report.to_text());
    assert!(
        refused.detail.contains("token.example.com") && refused.detail.contains("plain HTTP"),
        "{}",
        refused.detail
    );
    assert!(capture.requests().is_empty(), "refused before any connection: {:?}", capture.requests());

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let login = runtime.block_on(Puller::default().verify_login(&registry.addr.to_string(), &alice(), &options));
    assert!(matches!(&login, Err(f) if f.class == FailureClass::Refused), "{login:?}");
    assert!(capture.requests().is_empty(), "the login check sent nothing either");

    // Marking the registry insecure does not make another host insecure.
    let insecure = PullOptions { insecure: true, ..options.clone() };
    let report = pull(&image, Some(&alice()), &insecure);
    assert_eq!(failure(&report).class, FailureClass::Refused, "{}", report.to_text());
    assert!(capture.requests().is_empty());

    // Without credentials an anonymous token may be asked for anywhere: nothing secret goes.
    let anonymous = pull(&image, None, &options);
    assert!(!capture.requests().is_empty(), "{}", anonymous.to_text());
    assert!(capture.requests().iter().all(|head| !head.to_ascii_lowercase().contains("authorization")));
}

#[test]
fn a_realm_on_the_insecure_registry_itself_or_on_loopback_may_get_the_password() {
    let token = TinyServer::start(|_, _| response("401 Unauthorized", &[], b""));
    let realm = format!("http://{}/token", token.addr);
    let registry = registry_with_realm(realm);
    let report = pull(&format!("{}/team/app:1", registry.addr), Some(&alice()), &short());
    assert_eq!(failure(&report).class, FailureClass::WrongCredentialsToken, "{}", report.to_text());
    assert!(token.requests().iter().any(|head| head.contains("password=")), "loopback realms take the form");
}

#[test]
fn a_plain_http_registry_redirecting_elsewhere_keeps_its_credentials() {
    let (capture, resolve) = elsewhere("blobs.example.com");
    let target = format!("http://blobs.example.com:{}/stolen", capture.addr.port());
    let registry = TinyServer::start(move |head, _| {
        if head.starts_with("GET /v2/ ") {
            return response("401 Unauthorized", &[("WWW-Authenticate", "Basic realm=\"r\"")], b"");
        }
        response("307 Temporary Redirect", &[("Location", &target)], b"")
    });
    let options = PullOptions { resolve, ..short() };
    let report = pull(&format!("{}/team/app:1", registry.addr), Some(&alice()), &options);
    assert!(!report.succeeded());
    assert!(registry.requests().iter().any(|h| h.to_ascii_lowercase().contains("authorization: basic")));
    for head in capture.requests() {
        assert!(!head.to_ascii_lowercase().contains("authorization"), "credentials left their host: {head}");
    }
}

/// A registry that puts terminal escape sequences in its error messages and echoes back every
/// credential it receives: the `Authorization` header, and a token form's body.
fn hostile_registry() -> TinyServer {
    TinyServer::start(|head, _| {
        let echoed = head.replace(['\r', '\n'], " ").replace('"', "'");
        if head.starts_with("GET /v2/ ") && !head.to_ascii_lowercase().contains("authorization") {
            return response("401 Unauthorized", &[("WWW-Authenticate", "Basic realm=\"r\"")], b"");
        }
        let message = format!(
            "\u{1b}[2J\u{1b}[H\u{2714} would pull\u{1b}]0;owned\u{7}\n\u{2714} would pull\r\n you sent: {echoed}"
        );
        let body = serde_json::json!({"errors": [{"code": "DENIED", "message": message, "detail": echoed}]});
        response("403 Forbidden", &[("Content-Type", "application/json")], body.to_string().as_bytes())
    })
}

fn assert_inert(text: &str) {
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "escape sequences reached the output: {text:?}");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("alice:{CANARY}"));
    for secret in [CANARY, basic.as_str(), "sec-canary-5e1d%2B%2Fx"] {
        assert!(!text.contains(secret), "a credential was echoed into the output: {text}");
    }
}

#[test]
fn registry_text_is_inert_and_echoed_credentials_are_redacted() {
    let registry = hostile_registry();
    let report = pull(&format!("{}/team/app:1", registry.addr), Some(&alice()), &short());
    assert_eq!(failure(&report).class, FailureClass::Denied, "{}", report.to_text());
    // containerd 2.x puts the registry's errors on a line of their own; the registry's own line
    // breaks never make one.
    let event = &failure(&report).kubelet_event;
    assert_eq!(event.lines().count(), 2, "{event}");
    assert!(event.lines().all(|line| !line.trim_start().starts_with('\u{2714}')), "{event}");
    assert!(registry.requests().iter().any(|h| h.to_ascii_lowercase().contains("authorization: basic")));
    assert_inert(&report.to_text());
    assert_inert(&serde_json::to_string(&report).unwrap());
    assert!(report.to_text().contains("<redacted>"), "{}", report.to_text());

    let home = TempHome::new();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("alice:{CANARY}"));
    let config = serde_json::json!({"auths": {registry.addr.to_string(): {"auth": auth}}});
    home.write(&home.docker_config(), config.to_string().as_bytes());
    let image = format!("{}/team/app:1", registry.addr);
    for args in [vec!["test-pull", image.as_str()], vec!["test-pull", image.as_str(), "--json"]] {
        let output = home.run(&args);
        assert_eq!(output.status.code(), Some(1));
        assert_no_panic(&output);
        assert_inert(&String::from_utf8_lossy(&output.stdout));
        assert_inert(&String::from_utf8_lossy(&output.stderr));
    }
}

/// Runs a command with a deadline that only guards against a hang (never a performance check).
fn run_guarded(mut command: Command, stdin: &str) -> Output {
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("{command:?} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// A D-Bus "session bus" that accepts connections and never says a word.
fn silent_bus(dir: &std::path::Path) -> String {
    let path = dir.join("silent-bus");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    std::thread::Builder::new()
        .name("silent-bus".into())
        .spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                held.push(stream);
            }
        })
        .unwrap();
    format!("unix:path={}", path.display())
}

#[test]
fn a_keychain_that_never_answers_is_a_clear_error_not_a_hang() {
    let home = TempHome::new();
    let bus = silent_bus(home.path());
    let stub = serde_json::json!({"auths": {"stub.example.com": {}}, "credHelpers": {"stub.example.com": "regcred"}});
    home.write(&home.docker_config(), stub.to_string().as_bytes());
    let before = std::fs::read(home.docker_config()).unwrap();
    let with_bus = |args: &[&str]| {
        let mut command = home.regcred(args);
        command.env("DBUS_SESSION_BUS_ADDRESS", &bus).env("REGCRED_KEYCHAIN_TIMEOUT", "1");
        command
    };
    let login =
        run_guarded(with_bus(&["login", "new.example.com", "-u", "a", "--password-stdin", "--no-verify"]), "pw");
    assert_eq!(login.status.code(), Some(1), "{login:?}");
    let stderr = String::from_utf8_lossy(&login.stderr);
    assert!(stderr.contains("did not answer within 1 s"), "{stderr}");
    assert_eq!(std::fs::read(home.docker_config()).unwrap(), before, "nothing was written, not even plaintext");

    let list = run_guarded(with_bus(&["list"]), "");
    assert!(list.status.success(), "{list:?}");
    assert!(String::from_utf8_lossy(&list.stdout).contains("stub.example.com"));
    assert!(String::from_utf8_lossy(&list.stderr).contains("did not answer"), "{list:?}");

    let plain = serde_json::json!({"auths": {"p.example.com": {"auth": "YTpi"}}});
    home.write(&home.docker_config(), plain.to_string().as_bytes());
    let migrate = run_guarded(with_bus(&["migrate"]), "");
    assert_eq!(migrate.status.code(), Some(1), "{migrate:?}");
    assert!(String::from_utf8_lossy(&migrate.stderr).contains("did not answer"), "{migrate:?}");

    let mut helper = Command::new(helper_bin());
    helper.arg("get").env("DBUS_SESSION_BUS_ADDRESS", &bus).env("REGCRED_KEYCHAIN_TIMEOUT", "1");
    let get = run_guarded(helper, "stub.example.com\n");
    assert_eq!(get.status.code(), Some(1), "{get:?}");
    assert!(String::from_utf8_lossy(&get.stdout).contains("did not answer"), "{get:?}");
}

#[test]
fn a_stopped_keychain_daemon_is_a_clear_error_not_a_hang() {
    let with_keyring = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/with-keyring");
    let tools = ["dbus-run-session", "gnome-keyring-daemon", "dbus-send"];
    if !component_available(
        "dbus-run-session and gnome-keyring",
        tools.iter().all(|t| crate::support::registry::which(t).is_some()),
    ) {
        return;
    }
    let home = TempHome::new();
    let script = r#"
        pid=$(dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
              org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets | awk '/uint32/ {print $2}')
        [ -n "$pid" ] || { echo "no keyring daemon" >&2; exit 99; }
        kill -STOP "$pid"
        printf pw | "$@"; status=$?
        kill -CONT "$pid"
        exit $status
    "#;
    let login = home.regcred(&["login", "stopped.example.com", "-u", "a", "--password-stdin", "--no-verify"]);
    let mut command = Command::new(&with_keyring);
    command.arg("sh").arg("-c").arg(script).arg("_").arg(login.get_program()).args(login.get_args());
    for (name, value) in login.get_envs() {
        if let Some(value) = value {
            command.env(name, value);
        }
    }
    command.env_remove("DBUS_SESSION_BUS_ADDRESS").env("REGCRED_KEYCHAIN_TIMEOUT", "2");
    let output = run_guarded(command, "");
    assert_ne!(output.status.code(), Some(99), "the private keyring did not start: {output:?}");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("did not answer within 2 s"), "{output:?}");
    assert!(!home.docker_config().exists(), "no plaintext fallback");
}

#[test]
fn a_fifo_where_a_credential_file_should_be_is_refused_at_once() {
    let home = TempHome::new();
    std::fs::create_dir_all(home.docker_config().parent().unwrap()).unwrap();
    let status = Command::new("mkfifo").arg(home.docker_config()).status().unwrap();
    assert!(status.success());
    for args in [
        vec!["list"],
        vec!["sources"],
        vec!["login", "x.example.com", "-u", "a", "--password-stdin", "--no-verify", "--store", "file"],
    ] {
        let output = run_guarded(home.regcred(&args), "pw");
        assert_no_panic(&output);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned() + &String::from_utf8_lossy(&output.stdout);
        assert!(stderr.contains("FIFO"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_secret_moved_to_the_keychain_is_not_left_in_the_backup_without_a_word() {
    let Some(_store) = keychain() else { return };
    let home = TempHome::new();
    let server = unique_server("backup");
    let old = base64::engine::general_purpose::STANDARD.encode(format!("alice:{CANARY}"));
    let plain = serde_json::json!({"auths": {server.clone(): {"auth": old}}});
    home.write(&home.docker_config(), plain.to_string().as_bytes());
    let output = run_guarded(
        home.regcred(&["login", &server, "-u", "alice", "--password-stdin", "--no-verify", "--store", "keychain"]),
        "new-password",
    );
    assert!(output.status.success(), "{output:?}");
    let backup = home.docker_config().with_file_name("config.json.regcred-backup");
    assert!(!backup.exists(), "the backup still holds the old password");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("removed the backup") && stderr.contains("regcred-backup"), "{stderr}");
    assert!(!std::fs::read_to_string(home.docker_config()).unwrap().contains(&old));
    let logout = run_guarded(home.regcred(&["logout", &server]), "");
    assert!(logout.status.success(), "{logout:?}");
}

#[test]
fn a_backup_without_the_secret_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, br#"{"auths": {"a.example.com": {}}, "credHelpers": {"a.example.com": "regcred"}}"#).unwrap();
    let mut file = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
    let store = std::sync::Arc::new(MemoryStore::default());
    let opener = |_: &str| Ok(Box::new(store.clone()) as Box<dyn SecretStore>);
    store.store("a.example.com", &alice()).unwrap();
    let report = credentials::logout(&mut file, &parse_server("a.example.com").unwrap(), &opener).unwrap();
    assert!(report.found);
    assert!(report.save.backup_removed.is_none(), "the backup holds no secret of this entry");
    assert!(dir.path().join("config.json.regcred-backup").exists());
}

/// Writes `path` as Docker does: read, change, write a temp file, rename over it; no lock.
fn docker_style_write(path: &std::path::Path, key: &str) {
    let mut document: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    document["auths"][key] = serde_json::json!({"auth": "ZG9ja2VyOnB3"});
    let temp = path.with_extension("docker-tmp");
    std::fs::write(&temp, serde_json::to_vec_pretty(&document).unwrap()).unwrap();
    std::fs::rename(&temp, path).unwrap();
}

#[test]
fn a_lock_free_writer_between_prepare_and_rename_is_merged_not_overtaken() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, b"{\n\t\"auths\": {}\n}").unwrap();
    let mut file = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
    let key = file.add_entry(&parse_server("ours.example.com").unwrap()).unwrap();
    file.set_credentials(&key, "me", &Secret::new("pw")).unwrap();
    let mut raced = false;
    let report = file
        .save_racing(ConflictPolicy::Refuse, &mut |stage| {
            if stage == SaveStage::Prepared && !raced {
                raced = true;
                docker_style_write(&path, "docker.example.com");
            }
        })
        .unwrap();
    assert_eq!(report.retries, 1, "{report:?}");
    let on_disk: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert!(on_disk["auths"].get("docker.example.com").is_some(), "the other program's change survived: {on_disk}");
    assert!(on_disk["auths"].get("ours.example.com").is_some(), "{on_disk}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "only the file and its backup: no temp left");
}

#[test]
fn a_login_that_would_keep_the_other_programs_value_is_a_conflict_not_a_success() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    let mine = base64::engine::general_purpose::STANDARD.encode("alice:same");
    std::fs::write(&path, format!(r#"{{"auths": {{"r.example.com": {{"auth": "{mine}"}}}}}}"#)).unwrap();
    let mut file = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
    std::fs::write(&path, r#"{"auths": {"r.example.com": {"auth": "b3RoZXI6dmFsdWU="}}}"#).unwrap();
    let credential = Credential { username: "alice".into(), secret: Secret::new("same") };
    let store = std::sync::Arc::new(MemoryStore::default());
    let opener = |_: &str| Ok(Box::new(store.clone()) as Box<dyn SecretStore>);
    let server = parse_server("r.example.com").unwrap();
    let result = credentials::login(&mut file, &server, &credential, Some(StoreChoice::File), &opener);
    assert!(
        matches!(&result, Err(CredentialsError::File(AuthFileError::Conflict { entries, .. })) if entries == &["auths › r.example.com"]),
        "{result:?}"
    );
    let text = result.unwrap_err().to_string();
    assert!(!text.contains("your edits are kept"), "the CLI exits: nothing is kept: {text}");
    assert!(std::fs::read_to_string(&path).unwrap().contains("b3RoZXI6dmFsdWU="), "their value is untouched");
}

#[test]
fn a_file_is_never_written_past_what_regcred_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    let padding = "x".repeat(regcred::auth_files::MAX_FILE_BYTES - 200);
    let original = format!(r#"{{"auths": {{}}, "padding": "{padding}"}}"#);
    std::fs::write(&path, &original).unwrap();
    let mut file = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
    let key = file.add_entry(&parse_server("big.example.com").unwrap()).unwrap();
    file.set_credentials(&key, "user", &Secret::new("p".repeat(400))).unwrap();
    let result = file.save(ConflictPolicy::Refuse);
    assert!(matches!(&result, Err(AuthFileError::WouldBeTooLarge { .. })), "{result:?}");
    assert!(result.unwrap_err().to_string().contains("too large"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original, "unchanged");
}

#[test]
fn digests_docker_refuses_are_refused_with_dockers_words() {
    let home = TempHome::new();
    let cases = [
        (format!("nginx@sha256:{}", "AB".repeat(32)), "invalid checksum digest format"),
        (format!("nginx@sha256:{}", "a".repeat(63)), "invalid checksum digest length"),
        (format!("nginx@md5:{}", "a".repeat(32)), "unsupported digest algorithm"),
    ];
    for (image, words) in cases {
        let output = home.run(&["test-pull", &image]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains(words) && stdout.contains("InvalidImageName"), "{image}: {stdout}");
    }
}
