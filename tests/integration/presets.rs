//! Registry presets and expiry, end to end through the CLI: `login --preset` accepting and
//! refusing per preset, `presets` with shell-quoted user names, `list` (text and `--json
//! expires_at`) and `yaml`'s warning for tokens that carry their own expiry — all offline, with
//! tokens built here (JWTs with a chosen `exp`, ECR-style passwords).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use regcred::auth_files::encode_auth;
use regcred::secret::Secret;
use serde_json::Value;

use crate::support::{TempHome, with_stdin};

const CANARY: &str = "PRESETCANARY";

fn unix(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A JWT whose `exp` is `exp` (Unix seconds), signature dummy.
pub fn jwt(exp: u64) -> String {
    let part = |json: &str| URL_SAFE_NO_PAD.encode(json);
    format!(
        "{}.{}.{CANARY}sig",
        part(r#"{"alg":"RS256","typ":"JWT"}"#),
        part(&format!(r#"{{"exp":{exp},"jti":"{CANARY}"}}"#))
    )
}

/// A password shaped like `aws ecr get-login-password`'s, expiring at `expiration`.
pub fn ecr_password(expiration: u64) -> String {
    STANDARD.encode(format!(
        r#"{{"payload":"{CANARY}r9D8","datakey":"AQEB{CANARY}","version":"2","type":"DATA_KEY","expiration":{expiration}}}"#
    ))
}

fn login(home: &TempHome, args: &[&str], secret: &str) -> std::process::Output {
    let mut all = vec!["login", "--no-verify", "--store", "file", "--password-stdin"];
    all.extend_from_slice(args);
    with_stdin(home.regcred(&all), secret.as_bytes())
}

fn stored(home: &TempHome) -> Value {
    serde_json::from_slice(&std::fs::read(home.docker_config()).unwrap_or_else(|_| b"{}".to_vec())).unwrap()
}

#[test]
fn each_preset_accepts_its_forms() {
    let service_key = r#"{
  "type": "service_account", "project_id": "p", "private_key_id": "k",
  "private_key": "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
  "client_email": "puller@p.iam.gserviceaccount.com", "client_id": "1"
}"#;
    let later = unix(SystemTime::now() + Duration::from_hours(10));
    let cases: &[(&[&str], &str, &str, &str)] = &[
        (
            &["--preset", "dockerhub", "-u", "alice"],
            "dckr_pat_0123456789abcdefghijklmnopq",
            "https://index.docker.io/v1/",
            "alice",
        ),
        (&["--preset", "ghcr", "-u", "octocat"], "ghp_0123456789abcdefghijklmnopqrstuvwxyz", "ghcr.io", "octocat"),
        (
            &["--preset", "gitlab", "-u", "gitlab+deploy-token-42"],
            "gldt-0123456789abcdefghij",
            "registry.gitlab.com",
            "gitlab+deploy-token-42",
        ),
        (
            &["--preset", "quay", "-u", "myorg+puller"],
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ01",
            "quay.io",
            "myorg+puller",
        ),
        (
            &["--preset", "harbor", "harbor.example.com", "-u", "robot$proj+ci"],
            "Abcdefgh1234XYZ",
            "harbor.example.com",
            "robot$proj+ci",
        ),
        (
            &["--preset", "ecr", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"],
            &ecr_password(later),
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            "AWS",
        ),
        (
            &["--preset", "gcr", "europe-docker.pkg.dev", "-u", "_json_key"],
            service_key,
            "europe-docker.pkg.dev",
            "_json_key",
        ),
        (&["--preset", "artifact-registry", "gcr.io", "-u", "_json_key"], service_key, "gcr.io", "_json_key"),
        (
            &["--preset", "acr", "myregistry.azurecr.io", "-u", "00000000-0000-0000-0000-000000000000"],
            &jwt(later),
            "myregistry.azurecr.io",
            "00000000-0000-0000-0000-000000000000",
        ),
    ];
    for (args, secret, key, user) in cases {
        let home = TempHome::new();
        let output = login(&home, args, secret);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{args:?}: {stderr}");
        assert!(!stderr.contains(CANARY) && !stderr.contains(secret), "{args:?} leaks the secret: {stderr}");
        let auth = &stored(&home)["auths"][key]["auth"];
        let decoded = String::from_utf8(
            STANDARD.decode(auth.as_str().unwrap_or_else(|| panic!("{args:?}: no entry {key}"))).unwrap(),
        )
        .unwrap();
        let (stored_user, stored_secret) = decoded.split_once(':').unwrap();
        assert_eq!(stored_user, *user, "{args:?}");
        if secret.starts_with('{') {
            assert!(!stored_secret.contains('\n'), "a _json_key is stored on one line");
            assert_eq!(
                serde_json::from_str::<Value>(stored_secret).unwrap(),
                serde_json::from_str::<Value>(secret).unwrap()
            );
        } else {
            assert_eq!(stored_secret, *secret, "{args:?}");
        }
    }
}

#[test]
fn each_preset_refuses_what_cannot_work_and_stores_nothing() {
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["--preset", "ghcr", "-u", "octocat"],
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab",
            "fine-grained",
        ),
        (&["--preset", "gcr", "gcr.io", "-u", "_json_key"], "{\"type\": \"service_account\",", "not valid JSON"),
        (
            &["--preset", "gcr", "gcr.io", "-u", "_json_key"],
            r#"{"type": "authorized_user", "client_id": "x"}"#,
            "not a service-account key",
        ),
        (
            &["--preset", "ecr", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "-u", "alice"],
            &ecr_password(2_000_000_000),
            "AWS",
        ),
        (
            &["--preset", "ghcr", "quay.io", "-u", "octocat"],
            "ghp_0123456789abcdefghijklmnopqrstuvwxyz",
            "quay.io is Quay",
        ),
        (&["--preset", "harbor", "-u", "robot$x"], "Abcdefgh1234", "needs the registry"),
        (&["--preset", "nosuch", "x.example.com", "-u", "u"], "pw", "unknown registry preset"),
        (&["--preset", "ghcr", "-u", "octocat"], "ghu_0123456789abcdefghijklmnopqrstuvwxyz", "GitHub App user tokens"),
        (
            &["--preset", "acr", "myregistry.azurecr.io", "-u", "00000000-0000-0000-0000-000000000000"],
            &jwt(1_700_000_000),
            "This token expired",
        ),
    ];
    for (args, secret, says) in cases {
        let home = TempHome::new();
        let output = login(&home, args, secret);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} was accepted");
        assert!(stderr.contains(says), "{args:?} should say {says:?}: {stderr}");
        assert!(!home.docker_config().exists(), "{args:?}: nothing stored");
    }
}

#[test]
fn presets_lists_every_registry_with_a_quoted_login_command() {
    let home = TempHome::new();
    let output = home.run(&["presets"]);
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    for name in ["dockerhub", "ghcr", "gitlab", "quay", "harbor", "ecr", "gcr, artifact-registry", "acr"] {
        assert!(text.contains(&format!("({name})")), "{name}: {text}");
    }
    let harbor = text.lines().find(|l| l.contains("login --preset harbor")).unwrap();
    assert!(harbor.contains("-u 'robot$myproject+puller'"), "{harbor}");
    // The command as printed survives a real shell: the user name arrives whole.
    let quoted = harbor.split("-u ").nth(1).unwrap().split(" --").next().unwrap();
    let echoed = std::process::Command::new("sh").arg("-c").arg(format!("printf %s {quoted}")).output().unwrap();
    assert_eq!(String::from_utf8(echoed.stdout).unwrap(), "robot$myproject+puller");
    let json: Value = serde_json::from_slice(&home.run(&["presets", "--json"]).stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 8);
}

/// A file with one token per expiry source: an ACR refresh token (JWT, 3 h left), an expired
/// identity token, an ECR password (11 h left), a Google access token (estimate), a plain one.
fn expiring_home() -> (TempHome, u64, u64) {
    let now = SystemTime::now();
    let (in_3h, in_11h) = (unix(now + Duration::from_hours(3)), unix(now + Duration::from_hours(11)));
    let expired = unix(now - Duration::from_hours(2));
    let home = TempHome::new();
    let config = serde_json::json!({
        "auths": {
            "myregistry.azurecr.io": { "auth": encode_auth("00000000-0000-0000-0000-000000000000", &Secret::new(jwt(in_3h))) },
            "old.example.com": { "auth": encode_auth("robot", &Secret::new(jwt(expired))) },
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com": { "auth": encode_auth("AWS", &Secret::new(ecr_password(in_11h))) },
            "europe-docker.pkg.dev": { "auth": encode_auth("oauth2accesstoken", &Secret::new(format!("ya29.{CANARY}abc"))) },
            "plain.example.com": { "auth": encode_auth("u", &Secret::new("not-a-token")) },
        }
    });
    home.write(&home.docker_config(), &serde_json::to_vec(&config).unwrap());
    (home, in_3h, in_11h)
}

#[test]
fn list_shows_when_each_secret_expires() {
    let (home, in_3h, in_11h) = expiring_home();
    let output = home.run(&["list", "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(!String::from_utf8_lossy(&output.stdout).contains(CANARY));
    let rows: Value = serde_json::from_slice(&output.stdout).unwrap();
    let expires = |key: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == key)
            .unwrap()
            .get("expires_at")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let rfc = |seconds: u64| regcred::expiry::rfc3339(UNIX_EPOCH + Duration::from_secs(seconds));
    assert_eq!(expires("myregistry.azurecr.io"), Some(rfc(in_3h)));
    assert_eq!(expires("123456789012.dkr.ecr.eu-west-1.amazonaws.com"), Some(rfc(in_11h)));
    assert!(expires("old.example.com").is_some());
    assert!(expires("europe-docker.pkg.dev").is_some(), "the preset's estimate");
    assert_eq!(expires("plain.example.com"), None);

    let text = String::from_utf8(home.run(&["list"]).stdout).unwrap();
    let line = |key: &str| text.lines().find(|l| l.contains(key)).unwrap().to_owned();
    assert!(
        line("myregistry.azurecr.io").contains("expires in 2 h")
            || line("myregistry.azurecr.io").contains("expires in 3 h"),
        "{text}"
    );
    assert!(line("old.example.com").contains("expired 2 h ago"), "{text}");
    assert!(
        line("europe-docker.pkg.dev").contains("expires in about 1 h")
            || line("europe-docker.pkg.dev").contains("expires in 59 min"),
        "{text}"
    );
    assert!(!line("plain.example.com").contains("expire"), "{text}");
}

#[test]
fn yaml_warns_that_the_secret_will_stop_working() {
    let (home, _, _) = expiring_home();
    let output = home.run(&["yaml", "--name", "pull", "myregistry.azurecr.io", "old.example.com", "plain.example.com"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("myregistry.azurecr.io expires in") && stderr.contains("this Secret stops working then"),
        "{stderr}"
    );
    assert!(stderr.contains("acr-credential-provider"), "the usual fix for ACR: {stderr}");
    assert!(
        stderr.contains("old.example.com expired 2 h ago") && stderr.contains("this Secret would not work"),
        "{stderr}"
    );
    assert!(!stderr.contains("plain.example.com"), "{stderr}");
    assert!(!stderr.contains(CANARY));
    assert!(
        String::from_utf8(output.stdout).unwrap().starts_with("apiVersion: v1"),
        "the YAML itself is unchanged on stdout"
    );
}
