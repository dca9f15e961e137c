//! Credential files as people write them: an edit touches only its entry in any style, nothing
//! appears or disappears on its own, the backup keeps the file as it was before regcred first
//! wrote it, login and logout through a helper on `PATH` give the file back, the legacy file and
//! missing helpers are handled honestly, Kubernetes-style keys,
//! identity tokens, one rule for a file's kind, no secret in `Debug`, an atomic logout.

use std::sync::Arc;

use base64::Engine as _;
use regcred::auth_files::{AuthFile, AuthFileError, ConflictPolicy, FileKind, parse_server};
use regcred::credentials::{self, CredentialsError, StoreChoice};
use regcred::keychain::{Credential, MemoryStore, SecretStore};
use regcred::secret::Secret;

use crate::support::{TempHome, assert_no_panic};

const CANARY: &str = "style-canary-8d2f";

/// Files in the styles people and tools write: (name, text).
fn styles() -> Vec<(&'static str, String)> {
    vec![
        ("docker tabs", "{\n\t\"auths\": {\n\t\t\"a.example.com\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t}\n\t}\n}".into()),
        ("two spaces", "{\n  \"auths\": {\n    \"a.example.com\": {\n      \"auth\": \"dTpw\"\n    }\n  }\n}\n".into()),
        ("four spaces", "{\n    \"auths\": {\n        \"a.example.com\": {\n            \"auth\": \"dTpw\"\n        }\n    },\n    \"credsStore\": \"\"\n}\n".into()),
        ("inline entries", "{\n  \"auths\": {\n    \"a.example.com\": { \"auth\": \"dTpw\" },\n    \"b.example.com\": { \"auth\": \"dTpw\", \"email\": \"e@x\" }\n  }\n}\n".into()),
        ("blank lines", "{\n\n  \"auths\": {\n\n    \"a.example.com\": {\"auth\": \"dTpw\"}\n\n  },\n\n  \"HttpHeaders\": {\"User-Agent\": \"x\"}\n}\n".into()),
        ("spaced colons", "{\n  \"auths\" : {\n    \"a.example.com\" : {\n      \"auth\" : \"dTpw\"\n    }\n  }\n}".into()),
        ("crlf", "{\r\n  \"auths\": {\r\n    \"a.example.com\": {\r\n      \"auth\": \"dTpw\"\r\n    }\r\n  }\r\n}\r\n".into()),
        ("compact", "{\"auths\":{\"a.example.com\":{\"auth\":\"dTpw\"}}}".into()),
        ("empty auths", "{\n\t\"auths\": {}\n}".into()),
        ("only credHelpers", "{\n  \"credHelpers\": {\n    \"123.dkr.ecr.us-east-1.amazonaws.com\": \"ecr-login\"\n  }\n}\n".into()),
        ("empty credHelpers", "{\n  \"auths\": {},\n  \"credHelpers\": {}\n}\n".into()),
        ("unknown keys and numbers", "{\n  \"auths\": {},\n  \"proxies\": {\"default\": {\"httpProxy\": \"http://p:3128\"}},\n  \"n\": 2.50,\n  \"big\": 12345678901234567890\n}\n".into()),
    ]
}

fn store_opener(
    store: &Arc<MemoryStore>,
) -> impl Fn(&str) -> Result<Box<dyn SecretStore>, regcred::keychain::KeychainError> + '_ {
    move |_: &str| Ok(Box::new(store.clone()) as Box<dyn SecretStore>)
}

fn credential() -> Credential {
    Credential { username: "me".into(), secret: Secret::new(CANARY) }
}

#[test]
fn a_login_and_a_logout_give_back_the_file_byte_for_byte_in_every_style() {
    for store in [StoreChoice::File, StoreChoice::Keychain, StoreChoice::Helper("stub".into())] {
        for (style, text) in styles() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("config.json");
            std::fs::write(&path, &text).unwrap();
            let memory = Arc::new(MemoryStore::default());
            let open = store_opener(&memory);
            let server = parse_server("new.example.com").unwrap();
            let mut file = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
            credentials::login(&mut file, &server, &credential(), Some(store.clone()), &open).unwrap();
            let after_login = std::fs::read_to_string(&path).unwrap();
            assert!(after_login.contains("new.example.com"), "{style}: {after_login}");
            if text.contains("\r\n") {
                assert!(!after_login.replace("\r\n", "").contains('\n'), "{style}: a bare LF in a CRLF file");
            }
            if !text.contains('\t') {
                assert!(!after_login.contains('\t'), "{style}: a tab in a space-indented file:\n{after_login}");
            }
            credentials::logout(&mut file, &server, &open).unwrap();
            assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "{style} ({store:?}): login then logout");
        }
    }
}

/// A credential helper for tests, `docker-credential-stub`: `store`, `get`, `erase` and `list` on
/// one file per server in `store_dir`, with the protocol's words for a missing credential.
fn stub_helper(bin_dir: &std::path::Path, store_dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(bin_dir).unwrap();
    std::fs::create_dir_all(store_dir).unwrap();
    let script = format!(
        r#"#!/bin/sh
dir='{}'
field() {{ sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }}
item() {{ printf '%s/%s' "$dir" "$(printf %s "$1" | tr '/:' '__')"; }}
case "$1" in
store) input=$(cat); server=$(printf %s "$input" | field ServerURL); printf %s "$input" > "$(item "$server")" ;;
get) server=$(cat); if [ -f "$(item "$server")" ]; then cat "$(item "$server")"; else echo 'credentials not found in native keychain'; exit 1; fi ;;
erase) server=$(cat); rm -f "$(item "$server")" ;;
list) sep=''; printf '{{'; for f in "$dir"/*; do [ -f "$f" ] || continue; printf '%s"%s":"%s"' "$sep" "$(field ServerURL < "$f")" "$(field Username < "$f")"; sep=','; done; printf '}}' ;;
*) echo "unknown action $1"; exit 1 ;;
esac
"#,
        store_dir.display()
    );
    let program = bin_dir.join("docker-credential-stub");
    std::fs::write(&program, script).unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_login_and_a_logout_through_the_cli_give_back_the_file_with_a_helper_on_path() {
    let home = TempHome::new();
    let (bin_dir, store_dir) = (home.path().join("bin"), home.path().join("helper-store"));
    stub_helper(&bin_dir, &store_dir);
    let mut path_var = std::ffi::OsString::from(&bin_dir);
    path_var.push(":");
    path_var.push(crate::support::path_with_helper());
    let regcred = |args: &[&str], input: Option<&[u8]>| {
        let mut command = home.regcred(args);
        command.env("PATH", &path_var);
        let output = match input {
            Some(input) => crate::support::with_stdin(command, input),
            None => command.output().unwrap(),
        };
        assert_no_panic(&output);
        assert!(output.status.success(), "regcred {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        output
    };
    let file = home.docker_config();
    let file_arg = file.to_str().unwrap();
    for store in ["helper:stub", "file"] {
        for (style, text) in styles() {
            home.write(&file, text.as_bytes());
            std::fs::remove_file(regcred::auth_files::backup_path(&file)).ok();
            let login = ["login", "new.example.com", "-u", "me", "--password-stdin", "--no-verify", "--store", store];
            regcred(&[&login[..], &["--file", file_arg]].concat(), Some(CANARY.as_bytes()));
            let after_login = std::fs::read_to_string(&file).unwrap();
            if store == "helper:stub" {
                let routes = AuthFile::from_bytes(FileKind::DockerConfig, after_login.as_bytes()).unwrap();
                assert!(
                    routes.cred_helpers().contains(&("new.example.com", "stub")),
                    "{style}: the route: {after_login}"
                );
                let stored = std::fs::read_to_string(store_dir.join("new.example.com")).unwrap();
                assert!(
                    stored.contains(CANARY) && !after_login.contains(CANARY),
                    "{style}: the secret is the helper's"
                );
            }
            regcred(&["logout", "new.example.com", "--file", file_arg], None);
            let after_logout = std::fs::read_to_string(&file).unwrap();
            // Two commands, two sessions: what the first added, the second knows from regcred's
            // record of the members it added (outside the file), so the file comes back whole.
            let expected = text.clone();
            assert_eq!(after_logout, expected, "{style} ({store}): login then logout, as two commands");
            assert_eq!(std::fs::read_dir(&store_dir).unwrap().count(), 0, "{style}: the helper's item is erased");
        }
    }
}

#[test]
fn an_edit_changes_only_the_bytes_of_its_entry() {
    let text = "{\n    \"auths\": {\n        \"a.example.com\": { \"auth\": \"dTpw\", \"email\": \"a@x\" },\n        \"b.example.com\": { \"auth\": \"dTpw\" }\n    },\n    \"psFormat\": \"table {{.ID}}\"\n}";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, text).unwrap();
    let mut file = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
    file.set_credentials("b.example.com", "me", &Secret::new(CANARY)).unwrap();
    file.save(ConflictPolicy::Refuse).unwrap();
    let after = std::fs::read_to_string(&path).unwrap();
    let new_auth = regcred::auth_files::encode_auth("me", &Secret::new(CANARY));
    assert_eq!(
        after,
        text.replace(
            "\"b.example.com\": { \"auth\": \"dTpw\" }",
            &format!("\"b.example.com\": {{ \"auth\": \"{new_auth}\" }}")
        )
    );
}

#[test]
fn nothing_appears_or_disappears_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    let helpers_only = "{\n  \"credHelpers\": {\n    \"gcr.io\": \"gcloud\"\n  }\n}\n";
    std::fs::write(&path, helpers_only).unwrap();
    let mut file = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
    file.set_cred_helper("quay.io", Some("pass"));
    file.save(ConflictPolicy::Refuse).unwrap();
    let after = std::fs::read_to_string(&path).unwrap();
    assert!(!after.contains("auths"), "no auths without an auths entry: {after}");
    file.set_cred_helper("quay.io", None);
    file.save(ConflictPolicy::Refuse).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), helpers_only);

    let empty = "{\n  \"auths\": {},\n  \"credHelpers\": {}\n}\n";
    std::fs::write(&path, empty).unwrap();
    let mut file = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
    file.set_cred_helper("quay.io", Some("pass"));
    file.save(ConflictPolicy::Refuse).unwrap();
    file.set_cred_helper("quay.io", None);
    file.save(ConflictPolicy::Refuse).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), empty, "an empty credHelpers the file had is kept");
}

#[test]
fn the_backup_keeps_the_file_as_it_was_before_regcred_first_wrote_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    let original = "{\"auths\": {\"a.example.com\": {}}}";
    std::fs::write(&path, original).unwrap();
    for host in ["b.example.com", "c.example.com"] {
        let mut file = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
        file.add_entry(&parse_server(host).unwrap()).unwrap();
        file.save(ConflictPolicy::Refuse).unwrap();
    }
    let backup = std::fs::read_to_string(dir.path().join("config.json.regcred-backup")).unwrap();
    assert_eq!(backup, original, "a second session does not overwrite the first backup");
}

#[test]
fn a_keychain_login_into_the_legacy_file_is_refused_with_the_reason() {
    let home = TempHome::new();
    let legacy = "{\"old.example.com\": {\"auth\": \"dTpw\", \"email\": \"\"}}";
    home.write(&home.dockercfg(), legacy.as_bytes());
    let file = home.dockercfg();
    let output = crate::support::with_stdin(
        home.regcred(&[
            "login",
            "old.example.com",
            "-u",
            "u",
            "--password-stdin",
            "--no-verify",
            "--store",
            "keychain",
            "--file",
            file.to_str().unwrap(),
        ]),
        b"pw",
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no place for a route") && stderr.contains("--store file"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), legacy, "nothing changed");
    let list = home.run(&["list", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert!(rows.as_array().unwrap().iter().all(|row| row["key"] != "credHelpers"), "{rows}");
}

#[test]
fn a_configured_helper_that_is_not_installed_is_honest() {
    let home = TempHome::new();
    home.write(&home.docker_config(), b"{\"auths\": {}, \"credsStore\": \"teststore\"}");
    let login = crate::support::with_stdin(
        home.regcred(&["login", "p.example.com", "-u", "u", "--password-stdin", "--no-verify", "--store", "file"]),
        b"pw",
    );
    assert!(login.status.success(), "{login:?}");
    let stdout = String::from_utf8_lossy(&login.stdout);
    assert!(stdout.contains("(plaintext)") && !stdout.contains("helper teststore"), "{stdout}");
    assert!(String::from_utf8_lossy(&login.stderr).contains("(which is not installed)"), "{login:?}");
    let logout = home.run(&["logout", "p.example.com"]);
    assert!(logout.status.success(), "{logout:?}");
    assert!(String::from_utf8_lossy(&logout.stderr).contains("not installed"), "{logout:?}");
    assert!(!std::fs::read_to_string(home.docker_config()).unwrap().contains("p.example.com"));
}

#[test]
fn kubernetes_style_keys_go_into_a_secret_and_not_into_dockers_files() {
    let home = TempHome::new();
    let auth = regcred::auth_files::encode_auth("u", &Secret::new(CANARY));
    home.write(
        &home.docker_config(),
        format!("{{\"auths\": {{\"reg.example.com\": {{\"auth\": \"{auth}\"}}}}}}").as_bytes(),
    );
    for key in ["*.example.com", "*.*.example.com", "prefix.*.io", "registry.io:8080/path"] {
        let output = home.run(&["yaml", "--name", "s", "-o", "json", &format!("{key}=reg.example.com")]);
        assert!(output.status.success(), "{key}: {output:?}");
        let secret: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let encoded = secret["data"][".dockerconfigjson"].as_str().unwrap();
        let inner = base64::engine::general_purpose::STANDARD.decode(encoded).unwrap();
        let inner: serde_json::Value = serde_json::from_slice(&inner).unwrap();
        assert!(inner["auths"].get(key).is_some(), "{key}: {inner}");
    }
    let broken = home.run(&["yaml", "--name", "s", "[.example.com=reg.example.com"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("the kubelet cannot use the key"), "{broken:?}");
    let login = home.run(&["login", "*.example.com", "-u", "u", "--password-stdin", "--no-verify"]);
    assert_ne!(login.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&login.stderr).contains("glob key"), "{login:?}");
}

#[test]
fn an_identity_token_in_a_secret_is_warned_about() {
    let home = TempHome::new();
    home.write(&home.docker_config(), b"{\"auths\": {\"acr.example.io\": {\"identitytoken\": \"eyJ.refresh.token\"}}}");
    let output = home.run(&["yaml", "--name", "s", "acr.example.io"]);
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("identity (refresh) token") && stderr.contains("access token"), "{stderr}");
}

#[test]
fn one_rule_decides_a_files_kind_for_every_face() {
    use std::path::Path;
    assert_eq!(FileKind::for_path(Path::new("/x/config.json")), FileKind::DockerConfig);
    assert_eq!(FileKind::for_path(Path::new("/x/.dockercfg")), FileKind::LegacyDockercfg);
    assert_eq!(FileKind::for_path(Path::new("/x/old.dockercfg")), FileKind::LegacyDockercfg);
    assert_eq!(FileKind::for_path(Path::new("/x/auth.json")), FileKind::ContainersAuth);
    assert_eq!(FileKind::for_path(Path::new("/x/x.json")), FileKind::ContainersAuth);
    let env = regcred::auth_files::Env::default();
    assert_eq!(env.with_file(Path::new("/x/x.json")).1, FileKind::ContainersAuth);
    let home = TempHome::new();
    let file = home.path().join("x.json");
    let output = crate::support::with_stdin(
        home.regcred(&[
            "login",
            "docker.io",
            "-u",
            "u",
            "--password-stdin",
            "--no-verify",
            "--store",
            "file",
            "--file",
            file.to_str().unwrap(),
        ]),
        b"pw",
    );
    assert!(output.status.success(), "{output:?}");
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(written.contains("\"docker.io\"") && !written.contains("index.docker.io"), "Podman's key: {written}");
}

#[test]
fn no_secret_in_debug_text() {
    let auth = regcred::auth_files::encode_auth("u", &Secret::new(CANARY));
    let text =
        format!("{{\"auths\": {{\"a.example.com\": {{\"auth\": \"{auth}\", \"identitytoken\": \"{CANARY}\"}}}}}}");
    let file = AuthFile::from_bytes(FileKind::DockerConfig, text.as_bytes()).unwrap();
    for debug in
        [format!("{file:?}"), format!("{:?}", file.entries()), format!("{:?}", regcred::registry::Puller::default())]
    {
        assert!(!debug.contains(CANARY) && !debug.contains(&auth), "{debug}");
    }
    let home = TempHome::new();
    home.write(&home.docker_config(), text.as_bytes());
    let sources = regcred::auth_files::Sources::discover(&regcred::auth_files::Env {
        home: Some(home.path().to_path_buf()),
        ..Default::default()
    });
    let debug = format!("{sources:?}");
    assert!(!debug.contains(CANARY) && !debug.contains(&auth), "{debug}");
}

#[test]
fn a_logout_whose_save_fails_puts_the_secret_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, r#"{"auths": {"a.example.com": {}}, "credHelpers": {"a.example.com": "regcred"}}"#).unwrap();
    let memory = Arc::new(MemoryStore::default());
    memory.store("a.example.com", &credential()).unwrap();
    let mut file = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
    // Another program changes the same entry: the save must refuse, and the secret come back.
    std::fs::write(
        &path,
        r#"{"auths": {"a.example.com": {"email": "x@y"}}, "credHelpers": {"a.example.com": "regcred"}}"#,
    )
    .unwrap();
    let result = credentials::logout(&mut file, &parse_server("a.example.com").unwrap(), &store_opener(&memory));
    assert!(matches!(result, Err(CredentialsError::File(AuthFileError::Conflict { .. }))), "{result:?}");
    assert_eq!(memory.get("a.example.com").unwrap(), Some(credential()), "the secret was put back");
}

#[test]
fn small_truths_of_files_and_output() {
    let home = TempHome::new();
    home.write(&home.docker_config(), b"{\"auths\": [}");
    let output = home.run(&["list", "--json"]);
    assert_no_panic(&output);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(report["error"].as_str().unwrap().contains("cannot be used"), "{report}");
    assert!(report["files"][0]["error"].as_str().unwrap().contains("invalid JSON"), "{report}");

    let auth = regcred::auth_files::encode_auth("u", &Secret::new(CANARY));
    home.write(
        &home.docker_config(),
        format!("{{\"auths\": {{\"r.example.com\": {{\"auth\": \"{auth}\"}}}}}}").as_bytes(),
    );
    let output = home.run(&["yaml", "--name", "s", "-o", "json", "--pod", "r.example.com/app:1", "r.example.com"]);
    assert!(output.status.success(), "{output:?}");
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!((list["kind"].as_str(), list["apiVersion"].as_str()), (Some("List"), Some("v1")));
    let kinds: Vec<&str> = list["items"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["Secret", "Pod"]);
}
