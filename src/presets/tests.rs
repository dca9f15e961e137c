//! Tests of the presets: each registry's accepted and refused forms, and canaries.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;

use super::checks::{check_secret, check_server, check_username, minify_json};
use super::*;
use crate::secret::Secret;

/// A marker inside every test secret: no message or Debug output may contain it.
const CANARY: &str = "CANARYq7Zx9";

fn preset(id: PresetId) -> &'static Preset {
    id.preset()
}

fn severities(findings: &[Finding]) -> Vec<Severity> {
    findings.iter().map(|finding| finding.severity).collect()
}

/// Runs the secret check and asserts that nothing it returns shows the secret.
fn secret_check(id: PresetId, username: &str, secret: &str) -> (Option<Secret>, Vec<Finding>) {
    let result = check_secret(preset(id), username, &Secret::new(secret));
    assert_no_leak(secret, &result.1);
    assert!(!format!("{result:?}").contains(CANARY), "Debug output shows the secret");
    result
}

fn assert_no_leak(secret: &str, findings: &[Finding]) {
    for finding in findings {
        assert!(!finding.message.contains(CANARY), "message shows the canary: {}", finding.message);
        let trimmed = secret.trim();
        if trimmed.len() >= 8 {
            assert!(!finding.message.contains(trimmed), "message shows the secret: {}", finding.message);
        }
    }
}

/// A pretty-printed service-account key file, as Google's console downloads it.
fn service_account_json() -> String {
    format!(
        "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"demo-project\",\n  \"private_key_id\": \"{CANARY}0123\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMII{CANARY}Ev\\n-----END PRIVATE KEY-----\\n\",\n  \"client_email\": \"puller@demo-project.iam.gserviceaccount.com\",\n  \"token_uri\": \"https://oauth2.googleapis.com/token\"\n}}\n"
    )
}

fn ecr_password() -> String {
    let json = format!(
        r#"{{"payload":"{CANARY}r9D8+xVwz7MP","datakey":"AQEBAHij{CANARY}","version":"2","type":"DATA_KEY","expiration":1757147299}}"#
    );
    STANDARD.encode(json)
}

fn jwt() -> String {
    let part = |json: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    format!("{}.{}.{CANARY}sig", part(r#"{"alg":"RS256","typ":"JWT"}"#), part(r#"{"exp":1900000000}"#))
}

#[test]
fn table_is_indexed_by_id_and_names_are_unique() {
    let mut names: Vec<&str> = Vec::new();
    for (index, preset) in all().iter().enumerate() {
        assert_eq!(preset.id as usize, index);
        assert_eq!(preset.id.preset(), preset);
        names.extend(preset.cli_names);
    }
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count);
}

#[test]
fn by_cli_name_and_from_str() {
    assert_eq!(by_cli_name("ghcr").map(|p| p.id), Some(PresetId::Ghcr));
    assert_eq!(by_cli_name(" Artifact-Registry ").map(|p| p.id), Some(PresetId::Gcr));
    assert_eq!(by_cli_name("gcr").map(|p| p.id), Some(PresetId::Gcr));
    assert!(by_cli_name("nexus").is_none());
    assert_eq!("dockerhub".parse::<PresetId>(), Ok(PresetId::DockerHub));
    let error = "nexus".parse::<PresetId>().unwrap_err();
    assert!(error.to_string().contains("known presets: dockerhub, ghcr"), "{error}");
    assert_eq!(PresetId::Gcr.to_string(), "gcr");
}

#[test]
fn detect_public_hosts() {
    let cases = [
        ("https://index.docker.io/v1/", Some(PresetId::DockerHub)),
        ("docker.io", Some(PresetId::DockerHub)),
        ("ghcr.io", Some(PresetId::Ghcr)),
        ("https://GHCR.io/v2/", Some(PresetId::Ghcr)),
        ("registry.gitlab.com", Some(PresetId::Gitlab)),
        ("quay.io", Some(PresetId::Quay)),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", Some(PresetId::Ecr)),
        ("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", Some(PresetId::Ecr)),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", Some(PresetId::Ecr)),
        ("123456789012.dkr-ecr.us-east-2.on.aws", Some(PresetId::Ecr)),
        ("gcr.io", Some(PresetId::Gcr)),
        ("eu.gcr.io", Some(PresetId::Gcr)),
        ("europe-west3-docker.pkg.dev", Some(PresetId::Gcr)),
        ("myregistry.azurecr.io", Some(PresetId::Acr)),
        ("harbor.example.com", None),
        ("12345.dkr.ecr.eu-west-1.amazonaws.com", None),
        ("docker.pkg.dev", None),
        ("abc.azurecr.io", None),
        ("", None),
    ];
    for (server, expected) in cases {
        assert_eq!(detect(server).map(|p| p.id), expected, "{server}");
    }
}

#[test]
fn registry_host_is_the_host() {
    assert_eq!(registry_host("https://Index.Docker.io/v1/"), "index.docker.io");
    assert_eq!(registry_host("registry.local:5000/team"), "registry.local:5000");
}

#[test]
fn servers_each_preset_accepts() {
    let cases = [
        (PresetId::DockerHub, DOCKER_HUB_SERVER),
        (PresetId::Ghcr, "ghcr.io"),
        (PresetId::Gitlab, "registry.gitlab.com"),
        (PresetId::Gitlab, "gitlab-registry.example.com"),
        (PresetId::Quay, "quay.io"),
        (PresetId::Harbor, "harbor.example.com:8443"),
        (PresetId::Ecr, "123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
        (PresetId::Gcr, "us-docker.pkg.dev"),
        (PresetId::Acr, "contoso.azurecr.io"),
        (PresetId::Ghcr, ""),
    ];
    for (id, server) in cases {
        assert_eq!(check_server(preset(id), server), Vec::new(), "{id} {server}");
    }
}

#[test]
fn servers_each_preset_refuses() {
    let cases = [
        (PresetId::Harbor, ""),
        (PresetId::Ecr, ""),
        (PresetId::Ghcr, "quay.io"),
        (PresetId::DockerHub, "registry.example.com"),
        (PresetId::Gitlab, "gitlab.com"),
        (PresetId::Ecr, "public.ecr.aws"),
        (PresetId::Ecr, "ecr.eu-west-1.amazonaws.com"),
        (PresetId::Gcr, "docker.pkg.dev"),
        (PresetId::Acr, "ab.azurecr.io"),
        (PresetId::Harbor, "ghcr.io"),
    ];
    for (id, server) in cases {
        let findings = check_server(preset(id), server);
        assert_eq!(severities(&findings), [Severity::Error], "{id} {server}: {findings:?}");
    }
}

#[test]
fn server_warnings() {
    let findings = check_server(preset(PresetId::DockerHub), "docker.io");
    assert_eq!(severities(&findings), [Severity::Warning]);
    assert!(findings[0].message.contains(DOCKER_HUB_SERVER));
    let findings = check_server(preset(PresetId::Ghcr), "docker.pkg.github.com");
    assert_eq!(severities(&findings), [Severity::Warning]);
    let findings = check_server(preset(PresetId::Ghcr), "quay.io");
    assert!(findings[0].message.contains("quay preset"), "{}", findings[0].message);
}

#[test]
fn usernames_each_preset_accepts() {
    let cases = [
        (PresetId::DockerHub, "octocat"),
        (PresetId::Ghcr, "octo-cat"),
        (PresetId::Gitlab, "gitlab+deploy-token-42"),
        (PresetId::Gitlab, "jane"),
        (PresetId::Quay, "acme+puller"),
        (PresetId::Quay, "jane"),
        (PresetId::Harbor, "admin"),
        (PresetId::Ecr, "AWS"),
        (PresetId::Gcr, "_json_key"),
        (PresetId::Gcr, "_json_key_base64"),
        (PresetId::Gcr, "oauth2accesstoken"),
        (PresetId::Acr, ACR_TOKEN_USERNAME),
        (PresetId::Acr, "contoso"),
    ];
    for (id, username) in cases {
        assert_eq!(check_username(preset(id), username), Vec::new(), "{id} {username}");
    }
}

#[test]
fn usernames_each_preset_refuses() {
    let cases = [
        (PresetId::Ghcr, ""),
        (PresetId::Ghcr, "octo cat"),
        (PresetId::Quay, "user:name"),
        (PresetId::Quay, "acme+"),
        (PresetId::Quay, "a+b+c"),
        (PresetId::Harbor, "robot$"),
        (PresetId::Harbor, "robot$+ci"),
        (PresetId::Ecr, "aws"),
        (PresetId::Ecr, "AKIAEXAMPLE"),
        (PresetId::Gcr, "jane@example.com"),
    ];
    for (id, username) in cases {
        let findings = check_username(preset(id), username);
        assert_eq!(severities(&findings), [Severity::Error], "{id} {username:?}: {findings:?}");
    }
}

#[test]
fn username_warnings_and_hints() {
    let warn = |id, username| severities(&check_username(preset(id), username));
    assert_eq!(warn(PresetId::DockerHub, "jane@example.com"), [Severity::Warning]);
    assert_eq!(warn(PresetId::Ghcr, "jane@example.com"), [Severity::Warning]);
    assert_eq!(warn(PresetId::Gitlab, "gitlab+deploy-token-x"), [Severity::Warning]);
    assert_eq!(warn(PresetId::Gitlab, "gitlab-ci-token"), [Severity::Warning]);
    assert_eq!(warn(PresetId::Harbor, "robot"), [Severity::Warning]);
    assert_eq!(warn(PresetId::Harbor, "robot+ci"), [Severity::Warning]);
    let findings = check_username(preset(PresetId::Harbor), "robot$library+ci");
    assert_eq!(severities(&findings), [Severity::Info]);
    assert!(findings[0].message.contains("'robot$library+ci'"), "{}", findings[0].message);
}

#[test]
fn docker_hub_tokens() {
    let pat = format!("dckr_pat_{CANARY}abcdef");
    assert_eq!(secret_check(PresetId::DockerHub, "jane", &pat), (None, Vec::new()));
    let (_, findings) = secret_check(PresetId::DockerHub, "acme", &format!("dckr_oat_{CANARY}abcdef"));
    assert_eq!(severities(&findings), [Severity::Info]);
    assert!(findings[0].message.contains("organization's name"));
    let (_, findings) = secret_check(PresetId::DockerHub, "jane", &format!("hunter2{CANARY}"));
    assert_eq!(severities(&findings), [Severity::Info]);
}

#[test]
fn github_tokens() {
    let token = |prefix: &str| format!("{prefix}{CANARY}aaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_eq!(secret_check(PresetId::Ghcr, "octocat", &token("ghp_")).1, Vec::new());
    assert_eq!(secret_check(PresetId::Ghcr, "octocat", "0123456789abcdef0123456789abcdef01234567").1, Vec::new());
    let (_, findings) = secret_check(PresetId::Ghcr, "octocat", &token("github_pat_"));
    assert_eq!(severities(&findings), [Severity::Error]);
    assert_eq!(
        findings[0].message,
        "ghcr.io does not accept fine-grained personal access tokens (github_pat_…); create a classic token with read:packages."
    );
    let expected = [
        ("ghs_", Severity::Warning),
        ("ghu_", Severity::Error),
        ("ghr_", Severity::Error),
        ("gho_", Severity::Info),
        ("password", Severity::Warning),
    ];
    for (prefix, severity) in expected {
        assert_eq!(severities(&secret_check(PresetId::Ghcr, "octocat", &token(prefix)).1), [severity], "{prefix}");
    }
}

#[test]
fn gitlab_tokens() {
    let deploy = format!("gldt-{CANARY}xxxxxxxx");
    let personal = format!("glpat-{CANARY}xxxxxxxx");
    assert_eq!(secret_check(PresetId::Gitlab, "gitlab+deploy-token-7", &deploy).1, Vec::new());
    assert_eq!(secret_check(PresetId::Gitlab, "jane", &personal).1, Vec::new());
    assert_eq!(severities(&secret_check(PresetId::Gitlab, "gitlab+deploy-token-7", &personal).1), [Severity::Warning]);
    assert_eq!(severities(&secret_check(PresetId::Gitlab, "jane", &deploy).1), [Severity::Warning]);
    assert_eq!(severities(&secret_check(PresetId::Gitlab, "jane", &format!("glrt-{CANARY}")).1), [Severity::Error]);
}

#[test]
fn harbor_robot_secrets() {
    assert_eq!(secret_check(PresetId::Harbor, "robot$ci", &format!("Ab1{CANARY}")).1, Vec::new());
    assert_eq!(
        severities(&secret_check(PresetId::Harbor, "robot$ci", &format!("lower{CANARY}").to_lowercase()).1),
        [Severity::Warning]
    );
    assert_eq!(secret_check(PresetId::Harbor, "admin", "short").1, Vec::new());
}

#[test]
fn ecr_passwords() {
    let password = ecr_password();
    assert_eq!(secret_check(PresetId::Ecr, "AWS", &password), (None, Vec::new()));
    let authorization_token = STANDARD.encode(format!("AWS:{password}"));
    let (normalized, findings) = secret_check(PresetId::Ecr, "AWS", &authorization_token);
    assert_eq!(normalized.as_ref().map(Secret::expose), Some(password.as_str()));
    assert_eq!(severities(&findings), [Severity::Info]);
    let (normalized, findings) = secret_check(PresetId::Ecr, "AWS", &format!("AKIA{CANARY}/secretkey"));
    assert_eq!((normalized, severities(&findings)), (None, vec![Severity::Warning]));
}

#[test]
fn json_key_is_minified_with_order_and_escapes_kept() {
    let json = service_account_json();
    let (normalized, findings) = secret_check(PresetId::Gcr, "_json_key", &json);
    assert_eq!(findings, Vec::new());
    let stored = normalized.expect("a minified key");
    assert!(!stored.expose().contains('\n'), "one line");
    assert!(stored.expose().starts_with(r#"{"type":"service_account","project_id":"demo-project","#));
    assert!(stored.expose().contains(r"-----BEGIN PRIVATE KEY-----\nMII"), "escapes kept");
    let original: serde_json::Value = serde_json::from_str(&json).unwrap();
    let minified: serde_json::Value = serde_json::from_str(stored.expose()).unwrap();
    assert_eq!(original, minified);
    assert_eq!(secret_check(PresetId::Gcr, "_json_key", stored.expose()), (None, Vec::new()));
}

#[test]
fn json_key_refusals() {
    let wrong_type = service_account_json().replace("service_account", "authorized_user");
    let no_email = service_account_json().replace("client_email", "email");
    let cases = [
        (format!("{{\"type\": \"service_account\", {CANARY}"), "not valid JSON"),
        (format!("[\"{CANARY}\"]"), "not a JSON object"),
        (wrong_type, "authorized_user credential"),
        (no_email, "\"client_email\""),
        (STANDARD.encode(service_account_json()), "_json_key_base64"),
    ];
    for (secret, expected) in cases {
        let (normalized, findings) = secret_check(PresetId::Gcr, "_json_key", &secret);
        assert!(normalized.is_none());
        assert_eq!(severities(&findings), [Severity::Error]);
        assert!(findings[0].message.contains(expected), "{} lacks {expected}", findings[0].message);
    }
}

#[test]
fn json_key_base64() {
    let encoded = STANDARD.encode(service_account_json());
    assert_eq!(secret_check(PresetId::Gcr, "_json_key_base64", &encoded), (None, Vec::new()));
    let wrapped: String =
        encoded.as_bytes().chunks(76).map(|line| String::from_utf8_lossy(line).into_owned() + "\n").collect();
    let (normalized, findings) = secret_check(PresetId::Gcr, "_json_key_base64", &wrapped);
    assert_eq!(findings, Vec::new());
    assert_eq!(normalized.as_ref().map(Secret::expose), Some(encoded.as_str()));
    let (_, findings) = secret_check(PresetId::Gcr, "_json_key_base64", &service_account_json());
    assert!(findings[0].message.contains("user name _json_key,"), "{}", findings[0].message);
    let (_, findings) = secret_check(PresetId::Gcr, "_json_key_base64", &format!("!!{CANARY}!!"));
    assert_eq!(severities(&findings), [Severity::Error]);
}

#[test]
fn google_access_tokens() {
    let (_, findings) = secret_check(PresetId::Gcr, "oauth2accesstoken", &format!("ya29.{CANARY}a0Af"));
    assert_eq!(severities(&findings), [Severity::Warning]);
    assert!(findings[0].message.contains("about an hour"));
    let (_, findings) = secret_check(PresetId::Gcr, "oauth2accesstoken", &format!("{CANARY}xyz"));
    assert_eq!(severities(&findings), [Severity::Warning, Severity::Warning]);
}

#[test]
fn acr_secrets() {
    let token = jwt();
    assert_eq!(severities(&secret_check(PresetId::Acr, ACR_TOKEN_USERNAME, &token).1), [Severity::Info]);
    assert_eq!(
        severities(&secret_check(PresetId::Acr, ACR_TOKEN_USERNAME, &format!("{CANARY}pw")).1),
        [Severity::Error]
    );
    assert_eq!(severities(&secret_check(PresetId::Acr, "contoso", &token).1), [Severity::Warning]);
    assert_eq!(secret_check(PresetId::Acr, "contoso", &format!("{CANARY}pw")).1, Vec::new());
}

#[test]
fn empty_and_line_broken_secrets() {
    let (normalized, findings) = secret_check(PresetId::Quay, "acme+ci", " \n");
    assert_eq!((normalized, severities(&findings)), (None, vec![Severity::Error]));
    let (normalized, findings) = secret_check(PresetId::Quay, "acme+ci", &format!("{CANARY}TOKEN\r\n"));
    assert_eq!(normalized.as_ref().map(Secret::expose), Some(format!("{CANARY}TOKEN").as_str()));
    assert_eq!(severities(&findings), [Severity::Info]);
}

#[test]
fn check_login_joins_the_fields() {
    let secret = Secret::new(format!("{CANARY}Password1"));
    let checked = check_login(preset(PresetId::Acr), "contoso.azurecr.io", "contoso", &secret);
    assert_eq!(severities(&checked.findings), [Severity::Info]);
    assert!(checked.findings[0].message.contains("admin user"));
    assert!(!checked.has_errors());
    let checked = check_login(preset(PresetId::Ecr), "public.ecr.aws", "aws", &Secret::new(ecr_password()));
    // The server, the user name, and the password's own expiry (long past) are all refused.
    assert_eq!(severities(&checked.findings), [Severity::Error, Severity::Error, Severity::Error]);
    assert!(checked.findings[2].message.starts_with("This token expired"), "{:?}", checked.findings[2]);
    assert!(checked.has_errors());
    assert_no_leak(secret.expose(), &checked.findings);
}

#[test]
fn findings_serialize_for_json_output() {
    let finding = Finding::new(Severity::Warning, Field::Secret, "m");
    let json = serde_json::to_string(&finding).unwrap();
    assert_eq!(json, r#"{"severity":"warning","field":"secret","message":"m"}"#);
    let preset = serde_json::to_value(preset(PresetId::DockerHub)).unwrap();
    assert_eq!(preset["id"], "docker-hub");
}

#[test]
fn shell_quote_cases() {
    assert_eq!(shell_quote("robot$ci"), "'robot$ci'");
    assert_eq!(shell_quote("org+name"), "org+name");
    assert_eq!(shell_quote("gitlab+deploy-token-42"), "gitlab+deploy-token-42");
    assert_eq!(shell_quote("it's"), r"'it'\''s'");
    assert_eq!(shell_quote(""), "''");
    assert_eq!(shell_quote("a b"), "'a b'");
    assert_eq!(shell_quote("~user"), "'~user'");
}

#[cfg(unix)]
#[test]
fn shell_quote_survives_a_real_shell() {
    for word in ["robot$ci", "org+name", "it's", "", "a b\n$(x)`y`\\z", "'", "*?[]{}"] {
        let output =
            std::process::Command::new("sh").arg("-c").arg(format!("printf %s {}", shell_quote(word))).output();
        let output = output.expect("sh runs");
        assert_eq!(String::from_utf8_lossy(&output.stdout), word);
    }
}

proptest! {
    #[test]
    fn checks_never_panic_or_leak(secret in ".*", username in ".*", server in ".*") {
        let secret_text = format!("{CANARY}{secret}");
        for preset in all() {
            let checked = check_login(preset, &server, &username, &Secret::new(secret_text.clone()));
            for finding in &checked.findings {
                prop_assert!(!finding.message.contains(CANARY));
            }
        }
    }

    #[test]
    fn shell_quote_is_bare_only_when_safe(word in ".*") {
        let quoted = shell_quote(&word);
        if quoted == word {
            prop_assert!(!word.is_empty());
            prop_assert!(word.chars().all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c)));
        } else {
            prop_assert!(quoted.starts_with('\'') && quoted.ends_with('\''));
        }
    }

    #[test]
    fn minify_keeps_json_values(value in json_value()) {
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        let minified = minify_json(&pretty);
        prop_assert_eq!(serde_json::from_str::<serde_json::Value>(&minified).unwrap(), value);
        prop_assert!(!minified.contains('\n'));
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        ".*".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(".*", inner, 0..4)
                .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    })
}
