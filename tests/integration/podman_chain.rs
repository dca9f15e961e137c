//! Every file Podman reads, in Podman's order: real `podman` and `skopeo` (`login --get-login`,
//! and a real `podman pull`) are the oracles for which file answers; `regcred resolve`, `list`
//! and `logout` must agree with them.

use std::path::PathBuf;
use std::process::{Command, Output};

use base64::Engine as _;
use serde_json::Value;

use crate::support::registry::{self, Registry};
use crate::support::{TempHome, component_available, require_real};

const REG: &str = "reg.example.com";

fn podman_available() -> bool {
    component_available("podman and skopeo", registry::which("podman").is_some() && registry::which("skopeo").is_some())
}

/// Podman 4.3 and older read on past `$REGISTRY_AUTH_FILE` (containers/image before 5.24).
fn podman_reads_past_the_override() -> bool {
    let output = Command::new("podman").arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&output.stdout);
    let numbers: Vec<u32> =
        version.split_whitespace().last().unwrap_or("").split('.').filter_map(|n| n.parse().ok()).collect();
    numbers.as_slice() < [4, 4].as_slice()
}

fn auth_json(key: &str, user: &str) -> Vec<u8> {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:secret-of-{user}"));
    format!(r#"{{"auths":{{"{key}":{{"auth":"{auth}"}}}}}}"#).into_bytes()
}

/// One arrangement of files, and the variables that differ from the home's defaults.
struct Case {
    name: &'static str,
    files: Vec<(PathBuf, Vec<u8>)>,
    vars: Vec<(&'static str, PathBuf)>,
}

impl Case {
    fn new(name: &'static str) -> Self {
        Self { name, files: Vec::new(), vars: Vec::new() }
    }

    fn file(mut self, path: PathBuf, bytes: Vec<u8>) -> Self {
        self.files.push((path, bytes));
        self
    }

    fn var(mut self, name: &'static str, value: PathBuf) -> Self {
        self.vars.push((name, value));
        self
    }
}

/// `program` with the home's environment (as `TempHome::regcred` sets it) and the case's.
fn with_env(home: &TempHome, program: impl AsRef<std::ffi::OsStr>, args: &[&str], case: &Case) -> Command {
    let template = home.regcred(&[]);
    let mut command = Command::new(program);
    command.args(args).env_clear();
    for (name, value) in template.get_envs() {
        if let Some(value) = value {
            command.env(name, value);
        }
    }
    for (name, value) in &case.vars {
        command.env(name, value);
    }
    command
}

/// The user name of the credential the tool at `program` finds for `registry` (`None`: none).
fn get_login(home: &TempHome, tool: &str, registry: &str, case: &Case) -> Option<String> {
    let output =
        with_env(home, registry::which(tool).unwrap(), &["login", "--get-login", registry], case).output().unwrap();
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The user name in the file regcred says Podman takes `registry`'s credential from.
fn regcred_says(home: &TempHome, registry: &str, case: &Case, older: bool) -> Option<String> {
    // `--get-login REG/app` looks up that namespace, as an image under it does; `--get-login REG`
    // the registry alone, as an image under no scoped key does.
    let image = if registry.contains('/') { registry.to_owned() } else { format!("{registry}/unscoped/app") };
    let output = with_env(home, crate::support::regcred_bin(), &["resolve", &image, "--json"], case).output().unwrap();
    assert!(output.status.success(), "{}: {}", case.name, String::from_utf8_lossy(&output.stderr));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let modern = json["podman"]["uses"].as_str();
    let path = if older { json["podman"]["older_uses"].as_str().or(modern) } else { modern }?;
    let chain = json["podman"]["chain"].as_array().unwrap();
    let answer = chain.iter().find(|a| a["path"] == path).unwrap();
    let bytes = std::fs::read(path).unwrap();
    let file: Value = serde_json::from_slice(&bytes).unwrap();
    let entries = if answer["kind"] == "legacy-dockercfg" { &file } else { &file["auths"] };
    let auth = entries[answer["key"].as_str().unwrap()]["auth"].as_str().unwrap();
    let decoded = base64::engine::general_purpose::STANDARD.decode(auth).unwrap();
    Some(String::from_utf8(decoded).unwrap().split(':').next().unwrap().to_owned())
}

fn cases(home: &TempHome) -> Vec<Case> {
    let runtime = home.podman_auth();
    let config = home.path().join(".config/containers/auth.json");
    let docker = home.docker_config();
    let legacy = home.dockercfg();
    let legacy_bytes = |user: &str| {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:pw"));
        format!(r#"{{"https://{REG}/v1/":{{"auth":"{auth}","email":""}}}}"#).into_bytes()
    };
    vec![
        Case::new("the runtime file first")
            .file(runtime.clone(), auth_json(REG, "runtime"))
            .file(config.clone(), auth_json(REG, "config"))
            .file(docker.clone(), auth_json(REG, "docker")),
        Case::new("podman logout leaves {\"auths\": {}}: the config file answers")
            .file(runtime.clone(), br#"{"auths": {}}"#.to_vec())
            .file(config.clone(), auth_json(REG, "config"))
            .file(docker.clone(), auth_json(REG, "docker")),
        Case::new("an empty stub is passed over")
            .file(runtime.clone(), format!(r#"{{"auths":{{"{REG}":{{}}}}}}"#).into_bytes())
            .file(config.clone(), auth_json(REG, "config")),
        Case::new("Docker's credsStore is not Podman's: the file's own entry answers").file(
            docker.clone(),
            format!(
                r#"{{"auths":{{"{REG}":{{"auth":"{}"}}}},"credsStore":"desktop"}}"#,
                base64::engine::general_purpose::STANDARD.encode("docker:pw")
            )
            .into_bytes(),
        ),
        Case::new("a Docker stub behind credsStore gives Podman nothing: the legacy file answers")
            .file(docker.clone(), format!(r#"{{"auths":{{"{REG}":{{}}}},"credsStore":"desktop"}}"#).into_bytes())
            .file(legacy.clone(), legacy_bytes("legacy")),
        Case::new("a namespace-scoped key in the config file")
            .file(config.clone(), auth_json(&format!("{REG}/app"), "scoped"))
            .file(docker.clone(), auth_json(REG, "docker")),
        Case::new("a key in capitals, or with a trailing slash, is not Podman's")
            .file(
                config.clone(),
                br#"{"auths":{"REG.Example.com":{"auth":"dXBwZXI6cA=="},"reg.example.com/":{"auth":"c2xhc2g6cA=="}}}"#
                    .to_vec(),
            )
            .file(docker.clone(), auth_json(REG, "docker")),
        Case::new("username and password fields alone are not read: the next file answers")
            .file(
                docker.clone(),
                format!(r#"{{"auths":{{"{REG}":{{"username":"eu","password":"pp"}}}}}}"#).into_bytes(),
            )
            .file(legacy.clone(), legacy_bytes("legacy")),
        Case::new("$DOCKER_CONFIG moves Docker's file")
            .file(home.path().join("dc/config.json"), auth_json(REG, "docker-config-dir"))
            .file(docker.clone(), auth_json(REG, "docker"))
            .var("DOCKER_CONFIG", home.path().join("dc")),
        Case::new("$XDG_CONFIG_HOME moves the second auth.json")
            .file(home.path().join("xdg/containers/auth.json"), auth_json(REG, "xdg"))
            .file(config.clone(), auth_json(REG, "config"))
            .var("XDG_CONFIG_HOME", home.path().join("xdg")),
        Case::new("$REGISTRY_AUTH_FILE replaces the runtime file")
            .file(home.path().join("custom.json"), auth_json("other.example.com", "custom"))
            .file(runtime, auth_json(REG, "runtime"))
            .file(config, auth_json(REG, "config"))
            .var("REGISTRY_AUTH_FILE", home.path().join("custom.json")),
    ]
}

#[test]
fn podman_and_skopeo_take_the_credential_from_the_file_regcred_names() {
    if !podman_available() {
        return;
    }
    let older = podman_reads_past_the_override();
    let mut checked = 0;
    for index in 0..cases(&TempHome::new()).len() {
        let home = TempHome::new();
        let case = cases(&home).swap_remove(index);
        for (path, bytes) in &case.files {
            home.write(path, bytes);
        }
        for registry in [REG.to_owned(), format!("{REG}/app")] {
            let podman = get_login(&home, "podman", &registry, &case);
            let skopeo = get_login(&home, "skopeo", &registry, &case);
            assert_eq!(podman, skopeo, "{}: podman and skopeo disagree for {registry}", case.name);
            let ours = regcred_says(&home, &registry, &case, older);
            assert_eq!(ours, podman, "{}: {registry}", case.name);
            checked += 1;
        }
    }
    assert_eq!(checked, 22);
}

#[test]
fn root_without_xdg_runtime_dir_reads_run_containers_0() {
    let root = rustix_uid_is_root();
    if !podman_available() || !component_available("root (for a private /run/containers)", root) {
        return;
    }
    let home = TempHome::new();
    let file = home.path().join("root-auth.json");
    home.write(&file, &auth_json(REG, "root-runtime"));
    home.write(&home.path().join(".config/containers/auth.json"), &auth_json(REG, "config"));
    std::fs::create_dir_all("/run/containers").unwrap();
    // A private mount namespace: the machine's own /run/containers is never touched.
    let script = format!(
        "mount -t tmpfs tmpfs /run/containers && mkdir -p /run/containers/0 && cp {file} /run/containers/0/auth.json \
         && podman login --get-login {REG} && skopeo login --get-login {REG} && {regcred} resolve {REG}/app --json",
        file = file.display(),
        regcred = crate::support::regcred_bin()
    );
    let output = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", crate::support::path_with_helper())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("root-runtime"), "podman");
    assert_eq!(lines.next(), Some("root-runtime"), "skopeo");
    let json: Value = serde_json::from_str(&lines.collect::<Vec<_>>().join("\n")).unwrap();
    assert_eq!(json["podman"]["uses"], "/run/containers/0/auth.json", "{json}");
}

fn rustix_uid_is_root() -> bool {
    let output = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&output.stdout).trim() == "0"
}

fn podman(home: &TempHome, args: &[&str]) -> Output {
    let storage = home.path().join("storage");
    let mut command = Command::new("podman");
    command
        .arg("--root")
        .arg(storage.join("root"))
        .arg("--runroot")
        .arg(storage.join("runroot"))
        .args(["--storage-driver", "vfs", "--events-backend", "file", "--cgroup-manager", "cgroupfs"])
        .args(args)
        .env_clear()
        .env("HOME", home.path())
        .env("XDG_RUNTIME_DIR", home.path().join("run"))
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env("PATH", crate::support::path_with_helper());
    command.output().unwrap()
}

#[test]
fn a_login_only_in_the_second_file_is_listed_resolved_pulled_and_logged_out() {
    if !podman_available() || !component_available("docker-registry", registry::available()) {
        return;
    }
    if !rustix_uid_is_root() {
        assert!(!require_real(), "podman pull with private storage runs as root here");
        return;
    }
    let registry = Registry::start(Some(("alice", "s3cret-pw")));
    registry.push_image("team/app", "v1");
    let home = TempHome::new();
    // `podman login` then `podman logout` leave the runtime file so; the login is in the next one.
    home.write(&home.podman_auth(), b"{\n\t\"auths\": {}\n}");
    let second = home.path().join(".config/containers/auth.json");
    let login = String::from_utf8(auth_json(&registry.host, "alice")).unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret-pw");
    let old = base64::engine::general_purpose::STANDARD.encode("alice:secret-of-alice");
    home.write(&second, login.replace(&old, &auth).as_bytes());

    let image = format!("{}/team/app:v1", registry.host);
    let pull = podman(&home, &["pull", "--tls-verify=false", "-q", &image]);
    assert!(pull.status.success(), "podman pull: {}", String::from_utf8_lossy(&pull.stderr));

    let list: Value = serde_json::from_slice(&home.run(&["list", "--json"]).stdout).unwrap();
    let rows = list.as_array().unwrap();
    assert!(rows.iter().any(|r| r["key"] == registry.host.as_str() && r["file"] == second.to_str().unwrap()), "{list}");
    let resolve: Value = serde_json::from_slice(&home.run(&["resolve", &image, "--json"]).stdout).unwrap();
    assert_eq!(resolve["podman_uses"], second.to_str().unwrap());

    let logout = home.run(&["logout", &registry.host]);
    let stdout = String::from_utf8_lossy(&logout.stdout);
    assert!(logout.status.success(), "{stdout}{}", String::from_utf8_lossy(&logout.stderr));
    assert!(stdout.contains(&format!("Removed the login for {} from {}", registry.host, second.display())), "{stdout}");
    assert!(get_login(&home, "podman", &registry.host, &Case::new("after logout")).is_none());
    let again = podman(&home, &["pull", "--tls-verify=false", "-q", &image]);
    assert!(!again.status.success(), "podman pulled without the login: {}", String::from_utf8_lossy(&again.stdout));
    assert!(!home.path().join(".docker").exists(), "no directory made for Docker's file");
}

#[test]
fn logout_without_a_file_names_the_files_when_several_hold_the_login() {
    let home = TempHome::new();
    let second = home.path().join(".config/containers/auth.json");
    home.write(&second, &auth_json(REG, "config"));
    home.write(&home.docker_config(), &auth_json(REG, "docker"));
    let before = (std::fs::read(&second).unwrap(), std::fs::read(home.docker_config()).unwrap());
    let output = home.run(&["logout", REG]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&second.display().to_string()) && stderr.contains("--file"), "{stderr}");
    assert_eq!((std::fs::read(&second).unwrap(), std::fs::read(home.docker_config()).unwrap()), before);
    let output = home.run(&["logout", REG, "--file", second.to_str().unwrap()]);
    assert!(output.status.success());
    assert!(!std::fs::read_to_string(&second).unwrap().contains(REG));
}

#[test]
fn logout_of_a_registry_nowhere_changes_nothing_and_makes_no_directory() {
    let home = TempHome::new();
    let output = home.run(&["logout", "quay.io"]);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("Not logged in to quay.io (no credential file has it"));
    let made: Vec<_> = std::fs::read_dir(home.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(made.is_empty(), "{made:?}");
}

#[test]
fn a_login_and_its_logout_in_two_runs_give_the_bytes_back() {
    let home = TempHome::new();
    // A Docker config without `auths` (hand-written, or by a tool that writes only settings).
    let original = b"{\n\t\"experimental\": \"enabled\"\n}\n";
    home.write(&home.docker_config(), original);
    let login = crate::support::with_stdin(
        home.regcred(&["login", REG, "-u", "u", "--password-stdin", "--store", "file", "--no-verify"]),
        b"pw",
    );
    assert!(login.status.success(), "{}", String::from_utf8_lossy(&login.stderr));
    assert!(std::fs::read_to_string(home.docker_config()).unwrap().contains("auths"));
    let logout = home.run(&["logout", REG]);
    assert!(logout.status.success(), "{}", String::from_utf8_lossy(&logout.stderr));
    assert_eq!(std::fs::read(home.docker_config()).unwrap(), original, "the member the login added went with it");

    // A file the login created ends as an empty document, not `{"auths": {}}`.
    let fresh = TempHome::new();
    let login = crate::support::with_stdin(
        fresh.regcred(&["login", REG, "-u", "u", "--password-stdin", "--store", "file", "--no-verify"]),
        b"pw",
    );
    assert!(login.status.success());
    assert!(fresh.run(&["logout", REG]).status.success());
    let document: Value = serde_json::from_slice(&std::fs::read(fresh.docker_config()).unwrap()).unwrap();
    assert_eq!(document, serde_json::json!({}));
    // A member the file had before the login stays, even empty.
    let had = TempHome::new();
    had.write(&had.docker_config(), b"{\"auths\": {}}");
    let login = crate::support::with_stdin(
        had.regcred(&["login", REG, "-u", "u", "--password-stdin", "--store", "file", "--no-verify"]),
        b"pw",
    );
    assert!(login.status.success());
    assert!(had.run(&["logout", REG]).status.success());
    let document: Value = serde_json::from_slice(&std::fs::read(had.docker_config()).unwrap()).unwrap();
    assert_eq!(document, serde_json::json!({"auths": {}}));
    // A file written again by someone else after the login: its `auths` is theirs, and stays.
    let rewritten = TempHome::new();
    let login = crate::support::with_stdin(
        rewritten.regcred(&["login", REG, "-u", "u", "--password-stdin", "--store", "file", "--no-verify"]),
        b"pw",
    );
    assert!(login.status.success());
    std::fs::remove_file(rewritten.docker_config()).unwrap();
    rewritten.write(&rewritten.docker_config(), &auth_json(REG, "by-hand"));
    assert!(rewritten.run(&["logout", REG]).status.success());
    let document: Value = serde_json::from_slice(&std::fs::read(rewritten.docker_config()).unwrap()).unwrap();
    assert_eq!(document, serde_json::json!({"auths": {}}), "a member regcred did not leave as it is stays");
}

#[test]
fn list_text_and_json_say_the_same_about_where_each_secret_lives() {
    let home = TempHome::new();
    home.write(
        &home.docker_config(),
        br#"{"auths":{"a.example.com":{},"b.example.com":{"auth":"dTpw"},"c.example.com":{}},
            "credHelpers":{"a.example.com":"regcred"},"credsStore":"nosuchhelper"}"#,
    );
    let text = String::from_utf8(home.run(&["list"]).stdout).unwrap();
    let json: Value = serde_json::from_slice(&home.run(&["list", "--json"]).stdout).unwrap();
    for row in json.as_array().unwrap() {
        let key = row["key"].as_str().unwrap();
        let stored_in = row["stored_in"].as_str().unwrap();
        let line = text.lines().find(|line| line.trim_start().starts_with(key)).unwrap();
        assert!(line.contains(stored_in), "{key}: text {line:?}, json {stored_in:?}");
    }
    let stored: Vec<&str> = json.as_array().unwrap().iter().map(|r| r["stored_in"].as_str().unwrap()).collect();
    assert_eq!(stored, ["keychain", "helper nosuchhelper + plaintext in the file", "helper nosuchhelper"]);
    let exposed = text.lines().find(|line| line.trim_start().starts_with("b.example.com")).unwrap();
    assert!(exposed.ends_with('\u{26a0}'), "a readable copy in the file is marked: {exposed:?}");
}

#[test]
fn a_file_podman_cannot_read_stops_it_and_regcred_says_so() {
    if !podman_available() {
        return;
    }
    let home = TempHome::new();
    home.write(&home.podman_auth(), br#"{"auths": {"#);
    home.write(&home.path().join(".config/containers/auth.json"), &auth_json(REG, "config"));
    let case = Case::new("a broken runtime file");
    assert_eq!(get_login(&home, "podman", REG, &case), None, "podman stops at the broken file");
    let json: Value = serde_json::from_slice(&home.run(&["resolve", &format!("{REG}/app"), "--json"]).stdout).unwrap();
    assert_eq!(json["podman"]["uses"], Value::Null, "{json}");
    assert!(json["podman"]["chain"][0]["error"].is_string(), "{json}");
    let text = String::from_utf8(home.run(&["resolve", &format!("{REG}/app")]).stdout).unwrap();
    assert!(text.contains("Podman and skopeo stop here with an error"), "{text}");
    assert!(text.contains("[not reached: an earlier file cannot be read]"), "{text}");
}
