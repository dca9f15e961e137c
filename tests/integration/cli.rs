//! The `regcred` binary: sources, list, resolve — output, JSON, exit codes.

use serde_json::Value;

use crate::support::{TempHome, assert_no_panic, fixture};

fn home_with_all_files() -> TempHome {
    let home = TempHome::new();
    home.write(&home.docker_config(), &fixture("docker-desktop.json"));
    home.write(&home.dockercfg(), &fixture("dockercfg-lines"));
    home.write(&home.podman_auth(), &fixture("podman-auth.json"));
    home
}

#[test]
fn sources_lists_every_file_with_counts() {
    let home = home_with_all_files();
    let output = home.run(&["sources"]);
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains(&home.docker_config().display().to_string()), "{stdout}");
    assert!(stdout.contains("3 entries"), "{stdout}");
    assert!(stdout.contains("credsStore: desktop"), "{stdout}");
    assert!(stdout.contains(&home.podman_auth().display().to_string()), "{stdout}");
    assert!(stdout.contains("5 entries"), "{stdout}");

    let json: Value = serde_json::from_slice(&home.run(&["sources", "--json"]).stdout).unwrap();
    let kinds: Vec<&str> = json.as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["docker-config", "legacy-dockercfg", "containers-auth"]);
}

#[test]
fn a_mistyped_command_is_an_error_not_a_window() {
    let home = TempHome::new();
    let output = home.run(&["lsit"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("'lsit' is neither a command nor a file"), "{stderr}");
}

#[test]
fn docker_config_env_and_registry_auth_file_are_honoured() {
    let home = TempHome::new();
    let docker_dir = home.path().join("elsewhere");
    home.write(&docker_dir.join("config.json"), &fixture("ecr-gcr.json"));
    let podman = home.path().join("custom-auth.json");
    home.write(&podman, &fixture("podman-auth.json"));
    let output = home
        .regcred(&["sources", "--json"])
        .env("DOCKER_CONFIG", &docker_dir)
        .env("REGISTRY_AUTH_FILE", &podman)
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json[0]["path"], docker_dir.join("config.json").to_str().unwrap());
    assert_eq!(json[0]["cred_helpers"], 3);
    assert_eq!(json[2]["path"], podman.to_str().unwrap());
    assert_eq!(json[1]["status"], "missing");
}

#[test]
fn list_shows_users_secret_homes_and_problems_but_no_secrets() {
    let home = home_with_all_files();
    home.write(&home.docker_config(), &fixture("broken-entries.json"));
    let output = home.run(&["list"]);
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("good.example.com") && stdout.contains("plaintext"), "{stdout}");
    assert!(stdout.contains("URL-safe"), "{stdout}");
    assert!(stdout.contains("olduser"), "legacy line form listed: {stdout}");
    assert!(!stdout.contains("oldpass") && !stdout.contains("Z29vZDpwdw"), "no secrets: {stdout}");

    home.write(&home.docker_config(), &fixture("ecr-gcr.json"));
    let rows: Value = serde_json::from_slice(&home.run(&["list", "--json"]).stdout).unwrap();
    let quay = rows.as_array().unwrap().iter().find(|r| r["key"] == "quay.io").unwrap();
    assert_eq!(quay["username"], "robot+ci");
    assert_eq!(quay["secret"]["home"], "plaintext");
    assert!(quay.get("password").is_none());
}

#[test]
fn resolve_names_the_source_docker_and_podman_use() {
    let home = home_with_all_files();
    home.write(&home.docker_config(), &fixture("ecr-gcr.json"));
    let output = home.run(&["resolve", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1"]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("credHelpers[\"123456789012.dkr.ecr.eu-west-1.amazonaws.com\"] → docker-credential-ecr-login"),
        "{stdout}"
    );

    let json: Value = serde_json::from_slice(&home.run(&["resolve", "quay.io/team/other", "--json"]).stdout).unwrap();
    assert_eq!(json["image"], "quay.io/team/other:latest");
    let podman = json["files"].as_array().unwrap().iter().find(|f| f["kind"] == "containers-auth").unwrap();
    assert_eq!(podman["key"], "quay.io/team");
    assert_eq!(podman["matched"], "scope");
    assert_eq!(json["podman_uses"], home.podman_auth().to_str().unwrap());
    assert_eq!(json["docker_uses"], home.docker_config().to_str().unwrap());
}

#[test]
fn usage_and_reference_errors_exit_non_zero_with_dockers_words() {
    let home = TempHome::new();
    let output = home.run(&["resolve", "Registry.example.com/Team/App"]);
    assert_eq!(output.status.code(), Some(1));
    assert_no_panic(&output);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.trim(), "error: invalid reference format: repository name must be lowercase");
    let output = home.run(&["no-such-command"]);
    assert_eq!(output.status.code(), Some(2));
    let output = home.run(&["list"]);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("No registry credentials found"));
    // A file that cannot be used is an error, not "nothing found".
    home.write(&home.docker_config(), b"{\"auths\": {");
    let output = home.run(&["list"]);
    assert_eq!(output.status.code(), Some(1));
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(stderr.starts_with("error: the Docker config.json cannot be used"), "{stderr}");
    assert!(stdout.contains("No usable registry credentials") && !stdout.contains("No registry credentials found"));
}

/// A path-scoped key cannot keep its secret in the keychain (helpers answer per registry host):
/// the login says so and changes nothing; in the file it works.
#[test]
fn a_path_scoped_login_keeps_its_secret_in_the_file() {
    let home = TempHome::new();
    let auth = home.path().join("auth.json");
    let args =
        ["login", "host:5000/team", "-u", "u", "--password-stdin", "--no-verify", "--file", auth.to_str().unwrap()];
    let mut keychain = args.to_vec();
    keychain.extend(["--store", "keychain"]);
    let output = crate::support::with_stdin(home.regcred(&keychain), b"pw");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("scoped to a path") && stderr.contains("--store file"), "{stderr}");
    assert!(!auth.exists(), "nothing written");
    let mut file = args.to_vec();
    file.extend(["--store", "file"]);
    let output = crate::support::with_stdin(home.regcred(&file), b"pw");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(std::fs::read_to_string(&auth).unwrap().contains("host:5000/team"));
}

/// `--file` with a name that does not say its kind: the content does, as in the window (a Docker
/// config spells Docker Hub's key its own way; an `auths`-only file is taken as an auth.json).
#[test]
fn a_file_of_another_name_is_known_by_its_content_as_in_the_window() {
    let home = TempHome::new();
    let docker = home.path().join("ci-docker.json");
    home.write(&docker, br#"{"auths": {}, "psFormat": "table {{.ID}}"}"#);
    let podman = home.path().join("ci-podman.json");
    home.write(&podman, br#"{"auths": {}}"#);
    for (file, key) in [(&docker, "https://index.docker.io/v1/"), (&podman, "docker.io")] {
        let args = ["login", "docker.io", "-u", "u", "--password-stdin", "--no-verify", "--store", "file", "--file"];
        let mut args = args.to_vec();
        args.push(file.to_str().unwrap());
        let output = crate::support::with_stdin(home.regcred(&args), b"pw");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let written: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        let keys: Vec<&String> = written["auths"].as_object().unwrap().keys().collect();
        assert_eq!(keys, [key], "{}", file.display());
    }
    assert!(std::fs::read_to_string(&docker).unwrap().contains("psFormat"), "the rest stays");
}

#[test]
fn a_reader_that_stops_early_ends_the_listing_quietly() {
    use std::io::Read as _;
    use std::process::Stdio;
    // More than a pipe holds (64 KiB), so regcred is still writing when the reader goes away, as
    // with `regcred list | head`.
    let home = TempHome::new();
    let auths: serde_json::Map<String, Value> = (0..4000)
        .map(|n| (format!("registry-{n}.example.com"), serde_json::json!({"auth": "dXNlcjpwYXNzd29yZA=="})))
        .collect();
    home.write(&home.docker_config(), serde_json::json!({ "auths": auths }).to_string().as_bytes());
    for args in [&["list"][..], &["list", "--json"][..]] {
        let mut child =
            home.regcred(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn regcred");
        let mut first = [0_u8; 16];
        child.stdout.take().expect("stdout").read_exact(&mut first).expect("the listing starts");
        let output = child.wait_with_output().expect("wait");
        assert_no_panic(&output);
        assert_eq!(output.status.code(), Some(141), "what a shell reports for a closed pipe: {args:?}");
        assert!(!String::from_utf8_lossy(&output.stderr).contains("error"), "{:?}", output.stderr);
    }
}
