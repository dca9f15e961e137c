//! The offline checks of a login against a preset's rules: server, user name, secret.

use base64::Engine;

use super::{
    ACR_TOKEN_USERNAME, Checked, DOCKER_HUB_SERVER, Field, Finding, GCR_USERNAMES, Preset, PresetError, PresetId,
    Severity, acr_registry_name, detect, registry_host,
};
use crate::expiry::{self, STANDARD_ANY_PADDING};
use crate::secret::Secret;

/// Checks the server against the preset: the right kind of host, and the canonical key.
pub(crate) fn check_server(preset: &Preset, server: &str) -> Vec<Finding> {
    let host = registry_host(server);
    if host.is_empty() {
        return match preset.default_server {
            Some(_) => Vec::new(),
            None => {
                vec![server_error(format!("{} needs the registry's host, like {}.", preset.name, preset.server_hint))]
            }
        };
    }
    match detect(server) {
        Some(other) if other.id != preset.id => vec![server_error(format!(
            "{host} is {}, not {}; choose the {} preset or change the server.",
            other.name, preset.name, other.cli_names[0]
        ))],
        Some(_) => check_known_server(preset, server),
        None => check_other_server(preset, &host),
    }
}

fn server_error(message: String) -> Finding {
    Finding::new(Severity::Error, Field::Server, message)
}

/// Checks a server that [`detect`] attributes to this very preset.
fn check_known_server(preset: &Preset, server: &str) -> Vec<Finding> {
    if preset.id == PresetId::DockerHub && server.trim() != DOCKER_HUB_SERVER {
        return vec![Finding::new(
            Severity::Warning,
            Field::Server,
            format!(
                "Docker Hub logins belong under the key {DOCKER_HUB_SERVER}, the one docker login writes and clients look up; use that server."
            ),
        )];
    }
    Vec::new()
}

/// Checks a server that no preset claims, i.e. a self-hosted or mistyped one.
fn check_other_server(preset: &Preset, host: &str) -> Vec<Finding> {
    let message = match preset.id {
        PresetId::Gitlab if host == "gitlab.com" || host == "www.gitlab.com" => {
            "GitLab.com's container registry is registry.gitlab.com, not gitlab.com; use registry.gitlab.com.".to_owned()
        }
        PresetId::Gitlab | PresetId::Quay | PresetId::Harbor => return Vec::new(),
        PresetId::Ghcr if host == "docker.pkg.github.com" => {
            return vec![Finding::new(
                Severity::Warning,
                Field::Server,
                "docker.pkg.github.com is GitHub's old Docker registry, replaced by the Container registry; use ghcr.io.",
            )];
        }
        PresetId::Ecr if host == "public.ecr.aws" => {
            "public.ecr.aws is ECR Public, which needs no login to pull; a private registry is ACCOUNT.dkr.ecr.REGION.amazonaws.com.".to_owned()
        }
        PresetId::Acr if host.contains(".azurecr.") => {
            format!("{host} is not an ACR login server: registry names are 5 to 50 letters and digits, as in NAME.azurecr.io.")
        }
        _ => {
            let article = if preset.name.starts_with(['A', 'E', 'I', 'O', 'U']) { "an" } else { "a" };
            format!("{host} is not {article} {} server; it should look like {}.", preset.name, preset.server_hint)
        }
    };
    vec![server_error(message)]
}

/// Checks the user name against the preset's rules (format only; nothing is looked up).
pub(crate) fn check_username(preset: &Preset, username: &str) -> Vec<Finding> {
    if let Some(finding) = check_username_syntax(preset, username) {
        return vec![finding];
    }
    if let Some(fixed) = preset.fixed_username.filter(|fixed| *fixed != username) {
        return vec![username_error(format!(
            "{} only accepts the user name {fixed}; change it to {fixed}.",
            preset.name
        ))];
    }
    match preset.id {
        PresetId::DockerHub | PresetId::Ghcr => check_not_email(preset, username),
        PresetId::Gitlab => check_gitlab_username(username),
        PresetId::Quay => check_quay_username(username),
        PresetId::Harbor => check_harbor_username(username),
        PresetId::Gcr => check_gcr_username(username),
        PresetId::Ecr | PresetId::Acr => Vec::new(),
    }
}

fn username_error(message: String) -> Finding {
    Finding::new(Severity::Error, Field::Username, message)
}

/// Rules for every registry: present, one line, and no `:` (the `auth` field is `user:password`).
fn check_username_syntax(preset: &Preset, username: &str) -> Option<Finding> {
    if username.is_empty() {
        return Some(username_error(format!("{} needs a user name: {}.", preset.name, preset.username_hint)));
    }
    if username.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(username_error("User names cannot contain spaces or line breaks; remove them.".to_owned()));
    }
    username.contains(':').then(|| {
        username_error(
            "User names cannot contain ':', because the login is stored as user:password; remove it.".to_owned(),
        )
    })
}

fn check_not_email(preset: &Preset, username: &str) -> Vec<Finding> {
    if !username.contains('@') {
        return Vec::new();
    }
    let account = if preset.id == PresetId::DockerHub { "Docker ID" } else { "GitHub user name" };
    vec![Finding::new(
        Severity::Warning,
        Field::Username,
        format!("{} logs in with your {account}, not an email address; enter the {account}.", preset.name),
    )]
}

/// GitLab: deploy-token user names and the CI job user.
fn check_gitlab_username(username: &str) -> Vec<Finding> {
    if let Some(number) = username.strip_prefix("gitlab+deploy-token-")
        && (number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()))
    {
        return vec![Finding::new(
            Severity::Warning,
            Field::Username,
            "Default deploy-token user names are gitlab+deploy-token- and a number; copy the name GitLab showed with the token.",
        )];
    }
    if username == "gitlab-ci-token" {
        return vec![Finding::new(
            Severity::Warning,
            Field::Username,
            "gitlab-ci-token logs in with a CI job token, which stops working when the job ends; use a deploy token for a cluster.",
        )];
    }
    Vec::new()
}

/// Quay: robot accounts are `NAMESPACE+NAME`.
fn check_quay_username(username: &str) -> Vec<Finding> {
    let Some((namespace, name)) = username.split_once('+') else {
        return Vec::new();
    };
    if namespace.is_empty() || name.is_empty() || name.contains('+') {
        return vec![username_error(
            "Quay robot accounts are named ORGANIZATION+NAME with a single '+'; copy the robot's full name from Quay."
                .to_owned(),
        )];
    }
    Vec::new()
}

/// Harbor: robot names start with `robot$` (the default `ROBOT_NAME_PREFIX`), which shells expand.
fn check_harbor_username(username: &str) -> Vec<Finding> {
    if let Some(rest) = username.strip_prefix("robot$") {
        if rest.is_empty() || rest.starts_with('+') || rest.ends_with('+') {
            return vec![username_error(
                "Harbor robot names are robot$NAME or robot$PROJECT+NAME; copy the robot's full name from Harbor."
                    .to_owned(),
            )];
        }
        return vec![Finding::new(
            Severity::Info,
            Field::Username,
            format!(
                "The '$' in Harbor robot names is expanded by shells and .env files; quote it as {}.",
                shell_quote(username)
            ),
        )];
    }
    if username == "robot" || username.starts_with("robot+") {
        return vec![Finding::new(
            Severity::Warning,
            Field::Username,
            "This looks like a Harbor robot name whose '$…' part a shell expanded to nothing; enter it in single quotes, like 'robot$ci'.",
        )];
    }
    Vec::new()
}

fn check_gcr_username(username: &str) -> Vec<Finding> {
    if GCR_USERNAMES.contains(&username) {
        return Vec::new();
    }
    vec![username_error(
        "Google's registries only accept the user names _json_key, _json_key_base64 and oauth2accesstoken; pick the one that matches the password."
            .to_owned(),
    )]
}

/// Checks the secret offline and returns what should be stored, if it differs from what was given.
///
/// Line breaks around the secret are removed, an ECR `authorizationToken` is reduced to its
/// password, and a `_json_key` is minified to one line (key order and escapes kept). Nothing is
/// returned to store when a finding is an error. The findings never contain the secret.
pub(crate) fn check_secret(preset: &Preset, username: &str, secret: &Secret) -> (Option<Secret>, Vec<Finding>) {
    let raw = secret.expose();
    if raw.trim().is_empty() {
        let message = format!("{} needs a password or token: {}.", preset.name, preset.token_source);
        return (None, vec![Finding::new(Severity::Error, Field::Secret, message)]);
    }
    let trimmed = raw.trim_matches(['\r', '\n']);
    let mut findings = Vec::new();
    // A key file's line breaks are part of its format; the key checks below handle them.
    let multi_line_format = preset.id == PresetId::Gcr && username.starts_with("_json_key");
    if trimmed.len() != raw.len() && !multi_line_format {
        findings.push(secret_finding(
            Severity::Info,
            "The password ended in a line break (copied from a terminal?); it is stored without it.",
        ));
    }
    let (replacement, mut more) = check_secret_for(preset.id, username, trimmed);
    findings.append(&mut more);
    if has_error(&findings) {
        return (None, findings);
    }
    let normalized = match replacement {
        Some(value) => Some(Secret::new(value)),
        None => (trimmed.len() != raw.len()).then(|| Secret::new(trimmed)),
    };
    (normalized, findings)
}

pub(super) fn has_error(findings: &[Finding]) -> bool {
    findings.iter().any(|finding| finding.severity == Severity::Error)
}

fn secret_finding(severity: Severity, message: impl Into<String>) -> Finding {
    Finding::new(severity, Field::Secret, message)
}

/// What a per-registry secret check returns: a replacement to store, and findings.
type SecretOutcome = (Option<String>, Vec<Finding>);

fn check_secret_for(id: PresetId, username: &str, secret: &str) -> SecretOutcome {
    match id {
        PresetId::DockerHub => (None, check_docker_hub_token(secret)),
        PresetId::Ghcr => (None, check_github_token(secret)),
        PresetId::Gitlab => (None, check_gitlab_token(username, secret)),
        PresetId::Harbor => (None, check_harbor_secret(username, secret)),
        PresetId::Ecr => check_ecr_password(secret),
        PresetId::Gcr => check_gcr_secret(username, secret),
        PresetId::Acr => (None, check_acr_secret(username, secret)),
        PresetId::Quay => (None, Vec::new()),
    }
}

/// Docker Hub: `dckr_pat_…` personal and `dckr_oat_…` organization access tokens; the latter log in
/// with the organization's name as user name (docs.docker.com, "Organization access tokens").
fn check_docker_hub_token(secret: &str) -> Vec<Finding> {
    if secret.starts_with("dckr_pat_") {
        return Vec::new();
    }
    let message = if secret.starts_with("dckr_oat_") {
        "This is an organization access token: the user name must be the organization's name, not a member's Docker ID."
    } else {
        "This looks like an account password; Docker recommends a personal access token (dckr_pat_…), which is required when the organization enforces SSO."
    };
    vec![secret_finding(Severity::Info, message)]
}

/// GitHub: the token prefixes of github.blog/changelog/2021-03-31 (`ghp_`, `gho_`, `ghu_`, `ghs_`,
/// `ghr_`) and `github_pat_` for fine-grained tokens, which GitHub Packages does not accept.
fn check_github_token(secret: &str) -> Vec<Finding> {
    let (severity, message) = if secret.starts_with("github_pat_") {
        (
            Severity::Error,
            "ghcr.io does not accept fine-grained personal access tokens (github_pat_…); create a classic token with read:packages.",
        )
    } else if secret.starts_with("ghs_") {
        (
            Severity::Warning,
            "ghs_ tokens are GitHub Actions' GITHUB_TOKEN or GitHub App tokens, which ghcr.io accepts at most while the workflow job runs; use a classic token with read:packages for a cluster.",
        )
    } else if secret.starts_with("ghu_") {
        (
            Severity::Error,
            "GitHub App user tokens (ghu_…) are not accepted by GitHub Packages; use a classic token with read:packages.",
        )
    } else if secret.starts_with("ghr_") {
        (
            Severity::Error,
            "ghr_ tokens are refresh tokens, which cannot log in; use a classic token with read:packages.",
        )
    } else if secret.starts_with("gho_") {
        (
            Severity::Info,
            "OAuth tokens (gho_…, e.g. from gh auth token) work only with the read:packages scope; add it with gh auth refresh -s read:packages.",
        )
    } else if secret.starts_with("ghp_") || is_legacy_github_token(secret) {
        return Vec::new();
    } else {
        (
            Severity::Warning,
            "ghcr.io does not accept a GitHub password; use a classic personal access token (ghp_…) with read:packages.",
        )
    };
    vec![secret_finding(severity, message)]
}

/// Tokens from before the 2021 prefixes: 40 hexadecimal digits.
fn is_legacy_github_token(secret: &str) -> bool {
    secret.len() == 40 && secret.bytes().all(|b| b.is_ascii_hexdigit())
}

/// GitLab: deploy tokens (`gldt-`) pair with their own user name; runner tokens (`glrt-`,
/// gitlab-org/gitlab issue 383198) cannot log in. Custom instance prefixes are not recognised.
fn check_gitlab_token(username: &str, secret: &str) -> Vec<Finding> {
    let deploy_user = username.starts_with("gitlab+deploy-token-");
    let (severity, message) = if secret.starts_with("glrt-") {
        (
            Severity::Error,
            "glrt- tokens are runner authentication tokens, which cannot log in to the registry; create a deploy token with read_registry.",
        )
    } else if deploy_user && secret.starts_with("glpat-") {
        (
            Severity::Warning,
            "A gitlab+deploy-token-N user name goes with its deploy token (gldt-…), not an access token (glpat-…); enter the matching pair.",
        )
    } else if !deploy_user && secret.starts_with("gldt-") {
        (
            Severity::Warning,
            "This is a deploy token, which logs in with the user name GitLab showed when creating it (gitlab+deploy-token-N unless you chose one); enter that name.",
        )
    } else {
        return Vec::new();
    };
    vec![secret_finding(severity, message)]
}

/// Harbor robot secrets are 8–128 characters with a lower-case letter, an upper-case letter and a
/// digit (`IsValidSec` in goharbor/harbor src/controller/robot/controller.go).
fn check_harbor_secret(username: &str, secret: &str) -> Vec<Finding> {
    let valid = (8..=128).contains(&secret.len())
        && secret.bytes().any(|b| b.is_ascii_lowercase())
        && secret.bytes().any(|b| b.is_ascii_uppercase())
        && secret.bytes().any(|b| b.is_ascii_digit());
    if !username.starts_with("robot$") || valid {
        return Vec::new();
    }
    vec![secret_finding(
        Severity::Warning,
        "Harbor robot secrets have 8 to 128 characters including upper- and lower-case letters and digits, and this one does not; paste the secret Harbor showed for the robot.",
    )]
}

/// ECR: the password `aws ecr get-login-password` prints. A pasted `authorizationToken` (base64 of
/// `AWS:password`, per the `AuthorizationData` API reference) is reduced to the password.
fn check_ecr_password(secret: &str) -> SecretOutcome {
    if let Some(password) = expiry::ecr_password_from_authorization_token(secret) {
        let finding = secret_finding(
            Severity::Info,
            "This is an ECR authorizationToken (base64 of AWS:password); only the password after AWS: is stored.",
        );
        return (Some(password), vec![finding]);
    }
    if expiry::looks_like_ecr_password(secret) {
        return (None, Vec::new());
    }
    let finding = secret_finding(
        Severity::Warning,
        "This does not look like the output of aws ecr get-login-password; paste that command's output (it expires after 12 hours).",
    );
    (None, vec![finding])
}

/// Google: the password must match the user name (Artifact Registry "Configure authentication to
/// Artifact Registry for Docker", service-account key and access-token sections).
fn check_gcr_secret(username: &str, secret: &str) -> SecretOutcome {
    match username {
        "_json_key" => check_json_key(secret),
        "_json_key_base64" => check_json_key_base64(secret),
        "oauth2accesstoken" => (None, check_google_access_token(secret)),
        _ => (None, Vec::new()),
    }
}

/// `_json_key`: the key file's JSON, stored minified on one line.
fn check_json_key(secret: &str) -> SecretOutcome {
    match service_account_key(secret) {
        Ok(minified) => (Some(minified).filter(|minified| minified != secret), Vec::new()),
        Err(_) if decode_base64_text(secret).is_ok_and(|json| service_account_key(&json).is_ok()) => {
            let message = "This is a base64-encoded key: use the user name _json_key_base64, or paste the key's JSON.";
            (None, vec![secret_finding(Severity::Error, message)])
        }
        Err(error) => (None, vec![secret_finding(Severity::Error, format!("{}.", capitalize(&error.to_string())))]),
    }
}

/// `_json_key_base64`: base64 of the key file, stored without line breaks.
fn check_json_key_base64(secret: &str) -> SecretOutcome {
    if service_account_key(secret).is_ok() {
        let message =
            "This is the key's JSON itself: use the user name _json_key, or base64-encode the key with base64 -w 0.";
        return (None, vec![secret_finding(Severity::Error, message)]);
    }
    let compact: String = secret.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let checked = decode_base64_text(&compact).and_then(|json| service_account_key(&json));
    match checked {
        Ok(_) => (Some(compact).filter(|compact| compact != secret), Vec::new()),
        Err(error) => {
            let message =
                format!("The _json_key_base64 password must be base64 of a service-account key, but {error}.");
            (None, vec![secret_finding(Severity::Error, message)])
        }
    }
}

/// `oauth2accesstoken`: a Google OAuth access token (`ya29.…`), valid for about an hour.
fn check_google_access_token(secret: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    if !secret.starts_with("ya29.") {
        findings.push(secret_finding(
            Severity::Warning,
            "Google access tokens start with ya29.; paste the output of gcloud auth print-access-token.",
        ));
    }
    findings.push(secret_finding(
        Severity::Warning,
        "Access tokens expire after about an hour, so a cluster's pulls fail soon; use a service-account key (_json_key) or the kubelet's credential provider.",
    ));
    findings
}

/// ACR: the all-zero user name takes a refresh token (a JWT), and a JWT needs that user name.
fn check_acr_secret(username: &str, secret: &str) -> Vec<Finding> {
    let is_jwt = expiry::is_jwt(secret);
    let (severity, message) = if username == ACR_TOKEN_USERNAME && !is_jwt {
        (
            Severity::Error,
            "The user name 00000000-0000-0000-0000-000000000000 takes an ACR refresh token (a JWT from az acr login --expose-token); paste that token or use the password's own user name.",
        )
    } else if username != ACR_TOKEN_USERNAME && is_jwt {
        (
            Severity::Warning,
            "This looks like an ACR refresh token, which only works with the user name 00000000-0000-0000-0000-000000000000; change the user name.",
        )
    } else if is_jwt {
        (
            Severity::Info,
            "ACR refresh tokens expire after about 3 hours; for a cluster prefer a repository-scoped token or the kubelet's acr-credential-provider.",
        )
    } else {
        return Vec::new();
    };
    vec![secret_finding(severity, message)]
}

/// Checks that `json` is a Google service-account key and returns it minified on one line.
///
/// The key must be a JSON object with `"type": "service_account"`, a `private_key` and a
/// `client_email`. Minifying only drops whitespace between tokens, so key order and escapes (the
/// `\n`s of the private key) stay exactly as in the file.
///
/// # Errors
///
/// The first rule the key breaks, as a [`PresetError`] whose message never shows the key.
pub(crate) fn service_account_key(json: &str) -> Result<String, PresetError> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|error| PresetError::KeyNotJson { line: error.line(), column: error.column() })?;
    let object = value.as_object().ok_or(PresetError::KeyNotObject)?;
    let field =
        |name: &'static str| object.get(name).and_then(serde_json::Value::as_str).filter(|text| !text.is_empty());
    match field("type") {
        Some("service_account") => {}
        other => return Err(PresetError::KeyWrongType { found: known_credential_type(other) }),
    }
    for name in ["private_key", "client_email"] {
        field(name).ok_or(PresetError::KeyMissingField(name))?;
    }
    Ok(minify_json(json))
}

/// The other Google credential types people paste by mistake (`gcloud auth application-default
/// login` writes `authorized_user`; workload identity federation writes `external_account`).
fn known_credential_type(found: Option<&str>) -> Option<&'static str> {
    ["authorized_user", "external_account", "impersonated_service_account"]
        .into_iter()
        .find(|kind| found == Some(*kind))
}

/// Drops JSON whitespace outside string literals; the input must be valid JSON.
pub(super) fn minify_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            (escaped, in_string) = (!escaped && c == '\\', escaped || c != '"');
        } else if matches!(c, ' ' | '\t' | '\n' | '\r') {
            continue;
        } else {
            in_string = c == '"';
        }
        out.push(c);
    }
    out
}

/// Decodes standard base64 (padding optional, no whitespace) into UTF-8 text.
fn decode_base64_text(encoded: &str) -> Result<String, PresetError> {
    let bytes = STANDARD_ANY_PADDING.decode(encoded).map_err(|_| PresetError::NotBase64)?;
    String::from_utf8(bytes).map_err(|_| PresetError::NotUtf8)
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Checks a whole login: each field, then the rules that join them (ACR's admin user).
pub fn check_login(preset: &Preset, server: &str, username: &str, secret: &Secret) -> Checked {
    let mut findings = check_server(preset, server);
    findings.extend(check_username(preset, username));
    findings.extend(check_acr_username(preset, server, username));
    let (normalized, secret_findings) = check_secret(preset, username, secret);
    findings.extend(secret_findings);
    // A token that says it has expired cannot log in, whatever the registry.
    let now = std::time::SystemTime::now();
    let stored = normalized.as_ref().unwrap_or(secret);
    if let Some(expiry) = expiry::expiry_of(username, stored, server, now).filter(|e| !e.approximate && e.at <= now) {
        findings.push(secret_finding(
            Severity::Error,
            format!("This token {} ({}); get a new one.", expiry::describe(&expiry, now), expiry::rfc3339(expiry.at)),
        ));
    }
    Checked { normalized, findings }
}

/// ACR: the admin user is named like the registry and is off by default; other names are tokens
/// or service principals (learn.microsoft.com, "Authenticate with an Azure container registry").
fn check_acr_username(preset: &Preset, server: &str, username: &str) -> Option<Finding> {
    if preset.id != PresetId::Acr {
        return None;
    }
    let host = registry_host(server);
    let registry = acr_registry_name(&host)?;
    username.eq_ignore_ascii_case(registry).then(|| {
        Finding::new(
            Severity::Info,
            Field::Username,
            "This is the registry's admin user, which is disabled by default (az acr update --admin-enabled true); a repository-scoped token is safer for a cluster.",
        )
    })
}

/// Quotes a word for a POSIX shell: bare when it only has safe characters, else in single quotes.
///
/// The safe set is that of Python's `shlex.quote` (letters, digits and `@%+=:,./-_`); a single
/// quote inside becomes `'\''`. `org+name` stays bare, `robot$ci` becomes `'robot$ci'`.
pub fn shell_quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        return word.to_owned();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}
