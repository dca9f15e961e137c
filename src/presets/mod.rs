//! The big registries' login rules: which server, user name and token each one takes.
//!
//! This module owns the table of [`Preset`]s (Docker Hub, GitHub, GitLab, Quay, Harbor, Amazon
//! ECR, Google Artifact Registry / GCR and Azure ACR), recognising a preset from a server
//! ([`detect`]), the offline checks of a login against its preset (`check_server`,
//! `check_username`, `check_secret` and [`check_login`], which also returns what should be
//! stored, e.g. a service-account key minified to one line), and [`shell_quote`] for the commands
//! shown to the user. Nothing here touches the network, and no [`Finding`] ever contains a secret.
//!
//! Each rule cites where it was confirmed; the token-format decoding shared with the expiry checks
//! (JWTs, ECR passwords) lives in [`crate::expiry`].

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

pub use crate::known_registries::PresetId;
use crate::known_registries::acr_registry_name;
pub(crate) use crate::known_registries::registry_host;
use crate::secret::Secret;
use checks::has_error;

impl PresetId {
    /// The preset with this id.
    pub fn preset(self) -> &'static Preset {
        // The table lists every id exactly once, in declaration order.
        &PRESETS[self as usize]
    }
}

impl fmt::Display for PresetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.preset().cli_names[0])
    }
}

impl FromStr for PresetId {
    type Err = PresetError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        by_cli_name(name).map(|preset| preset.id).ok_or_else(|| PresetError::UnknownPreset {
            name: name.to_owned(),
            known: all().iter().flat_map(|preset| preset.cli_names).copied().collect::<Vec<_>>().join(", "),
        })
    }
}

/// A registry's login rules, as shown in the app and used by the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Preset {
    /// Which registry this is.
    pub id: PresetId,
    /// The product name, e.g. "GitHub Container Registry".
    pub name: &'static str,
    /// The names the CLI accepts (`--preset ghcr`); the first is the canonical one.
    pub cli_names: &'static [&'static str],
    /// The server to use when the user gives none, if the registry has a single public host.
    pub default_server: Option<&'static str>,
    /// The shape of the server, e.g. `ACCOUNT.dkr.ecr.REGION.amazonaws.com`.
    pub server_hint: &'static str,
    /// What goes in the user-name field.
    pub username_hint: &'static str,
    /// One line: where the token or password comes from.
    pub token_source: &'static str,
    /// The only user name the registry accepts, if there is one (`AWS` for ECR).
    pub fixed_username: Option<&'static str>,
    /// The page documenting the login, for a "Learn more" link.
    pub docs_url: &'static str,
}

/// Docker Hub's server key: what `docker login` writes and what docker and the kubelet look up.
pub(crate) const DOCKER_HUB_SERVER: &str = "https://index.docker.io/v1/";

/// The user name ACR expects with a refresh token from `az acr login --expose-token`.
pub const ACR_TOKEN_USERNAME: &str = "00000000-0000-0000-0000-000000000000";

/// The three user names Google's registries accept.
const GCR_USERNAMES: [&str; 3] = ["_json_key", "_json_key_base64", "oauth2accesstoken"];

static PRESETS: [Preset; 8] = [
    // docs.docker.com/security/access-tokens/ (personal access tokens; the Hub API example uses
    // `dckr_pat_…`) and docs.docker.com/enterprise/security/access-tokens/ ("Run docker login
    // with your organization name as the username", then paste the organization access token).
    Preset {
        id: PresetId::DockerHub,
        name: "Docker Hub",
        cli_names: &["dockerhub"],
        default_server: Some(DOCKER_HUB_SERVER),
        server_hint: DOCKER_HUB_SERVER,
        username_hint: "your Docker ID, or the organization's name for an organization access token",
        token_source: "Docker Hub › Account settings › Personal access tokens (dckr_pat_…), or an organization access token (dckr_oat_…)",
        fixed_username: None,
        docs_url: "https://docs.docker.com/security/access-tokens/",
    },
    // docs.github.com/en/packages/working-with-a-github-packages-registry/working-with-the-container-registry:
    // "GitHub Packages only supports authentication using a personal access token (classic)".
    Preset {
        id: PresetId::Ghcr,
        name: "GitHub Container Registry",
        cli_names: &["ghcr"],
        default_server: Some("ghcr.io"),
        server_hint: "ghcr.io",
        username_hint: "your GitHub user name",
        token_source: "GitHub › Settings › Developer settings › Personal access tokens (classic) with read:packages (ghp_…)",
        fixed_username: None,
        docs_url: "https://docs.github.com/en/packages/working-with-a-github-packages-registry/working-with-the-container-registry",
    },
    // docs.gitlab.com/user/project/deploy_tokens/ ("The default username format is
    // gitlab+deploy-token-{n}"), gitlab-org/gitlab MR 138438 (`gldt-` prefix), issue 342327 (`glpat-`).
    Preset {
        id: PresetId::Gitlab,
        name: "GitLab Container Registry",
        cli_names: &["gitlab"],
        default_server: Some("registry.gitlab.com"),
        server_hint: "registry.gitlab.com, or your GitLab's registry host",
        username_hint: "gitlab+deploy-token-N for a deploy token, otherwise your GitLab user name",
        token_source: "Settings › Repository › Deploy tokens with read_registry (gldt-…), or an access token with read_registry (glpat-…)",
        fixed_username: None,
        docs_url: "https://docs.gitlab.com/user/packages/container_registry/authenticate_with_container_registry/",
    },
    // Red Hat Quay API guide, "Creating a robot account": the robot's name is "orgname+robot-name".
    Preset {
        id: PresetId::Quay,
        name: "Quay",
        cli_names: &["quay"],
        default_server: Some("quay.io"),
        server_hint: "quay.io, or your Quay's host",
        username_hint: "a robot account, ORGANIZATION+NAME",
        token_source: "Quay › Organization › Robot Accounts › the robot's token",
        fixed_username: None,
        docs_url: "https://docs.quay.io/glossary/robot-accounts.html",
    },
    // goharbor/harbor src/controller/robot/controller.go (project robots are named
    // PROJECT+NAME behind the prefix) and src/lib/config/metadata/metadatalist.go
    // (ROBOT_NAME_PREFIX defaults to "robot$").
    Preset {
        id: PresetId::Harbor,
        name: "Harbor",
        cli_names: &["harbor"],
        default_server: None,
        server_hint: "harbor.example.com",
        username_hint: "a robot account, robot$PROJECT+NAME or robot$NAME",
        token_source: "Harbor › Project › Robot Accounts › New Robot Account (the secret is shown once)",
        fixed_username: None,
        docs_url: "https://goharbor.io/docs/main/working-with-projects/project-configuration/create-robot-accounts/",
    },
    // docs.aws.amazon.com/AmazonECR/latest/APIReference/API_AuthorizationData.html ("Authorization
    // tokens are valid for 12 hours", user:password) and …/userguide/ecr-requests.html (endpoints).
    Preset {
        id: PresetId::Ecr,
        name: "Amazon ECR",
        cli_names: &["ecr"],
        default_server: None,
        server_hint: "ACCOUNT.dkr.ecr.REGION.amazonaws.com",
        username_hint: "AWS",
        token_source: "aws ecr get-login-password --region REGION (valid 12 hours)",
        fixed_username: Some("AWS"),
        docs_url: "https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry_auth.html",
    },
    // cloud.google.com/artifact-registry/docs/docker/authentication and
    // cloud.google.com/container-registry/docs/advanced-authentication (_json_key,
    // _json_key_base64, oauth2accesstoken).
    Preset {
        id: PresetId::Gcr,
        name: "Google Artifact Registry / Container Registry",
        cli_names: &["gcr", "artifact-registry"],
        default_server: None,
        server_hint: "LOCATION-docker.pkg.dev, or gcr.io",
        username_hint: "_json_key (a service-account key), _json_key_base64 or oauth2accesstoken",
        token_source: "gcloud iam service-accounts keys create key.json --iam-account=SERVICE_ACCOUNT_EMAIL",
        fixed_username: None,
        docs_url: "https://cloud.google.com/artifact-registry/docs/docker/authentication",
    },
    // learn.microsoft.com/azure/container-registry/container-registry-authentication (admin user,
    // service principals, the 3-hour Entra token) and Connect-AzContainerRegistry's example
    // (`docker login … -u 00000000-0000-0000-0000-000000000000`).
    Preset {
        id: PresetId::Acr,
        name: "Azure Container Registry",
        cli_names: &["acr"],
        default_server: None,
        server_hint: "NAME.azurecr.io",
        username_hint: "the registry name (admin user), a token name or service principal ID, or 00000000-0000-0000-0000-000000000000 with a refresh token",
        token_source: "az acr token create (repository-scoped), or az acr login --name NAME --expose-token (about 3 hours)",
        fixed_username: None,
        docs_url: "https://learn.microsoft.com/azure/container-registry/container-registry-authentication",
    },
];

/// Errors of this module: an unknown preset name, or a service-account key that is not one.
///
/// The messages never contain the key or any other secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PresetError {
    /// No preset has this CLI name.
    #[error("unknown registry preset {name:?}; known presets: {known}")]
    UnknownPreset {
        /// The name as given.
        name: String,
        /// The accepted names, comma-separated.
        known: String,
    },
    /// The key is not JSON at all.
    #[error("the service-account key is not valid JSON (line {line}, column {column})")]
    KeyNotJson {
        /// 1-based line of the first syntax error.
        line: usize,
        /// 1-based column of the first syntax error.
        column: usize,
    },
    /// The key is JSON, but not an object.
    #[error("the service-account key is not a JSON object")]
    KeyNotObject,
    /// The JSON is another kind of Google credential.
    #[error("{}", wrong_key_type_message(*found))]
    KeyWrongType {
        /// A recognised credential type, if the `type` field names one.
        found: Option<&'static str>,
    },
    /// A field every service-account key has is missing or empty.
    #[error("the service-account key has no {0:?} field; download a new key from the service account's Keys tab")]
    KeyMissingField(&'static str),
    /// The value is not base64.
    #[error("the value is not valid base64")]
    NotBase64,
    /// The decoded base64 is not UTF-8 text.
    #[error("the decoded value is not UTF-8 text")]
    NotUtf8,
}

fn wrong_key_type_message(found: Option<&'static str>) -> String {
    match found {
        Some(kind) => format!(
            "this is an {kind} credential, not a service-account key (\"type\": \"service_account\"); create a key for a service account instead"
        ),
        None => "the JSON has no \"type\": \"service_account\"; paste the key file of a service account".to_owned(),
    }
}

/// How serious a [`Finding`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The login cannot work as entered.
    Error,
    /// The login may work but probably not as intended, or not for long.
    Warning,
    /// Worth knowing; nothing to fix.
    Info,
}

/// The form field a [`Finding`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    /// The registry server.
    Server,
    /// The user name.
    Username,
    /// The password or token.
    Secret,
}

/// One result of a check: a sentence naming the rule and what to do. Never contains the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How serious it is.
    pub severity: Severity,
    /// Which field it is about.
    pub field: Field,
    /// One sentence for the user.
    pub message: String,
}

impl Finding {
    fn new(severity: Severity, field: Field, message: impl Into<String>) -> Self {
        Self { severity, field, message: message.into() }
    }
}

/// The result of [`check_login`]: the findings, and the secret to store if it should differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The secret to store instead of the one entered (e.g. a `_json_key` minified to one line).
    pub normalized: Option<Secret>,
    /// Everything found, in field order (server, user name, secret).
    pub findings: Vec<Finding>,
}

impl Checked {
    /// Whether any finding is an [`Severity::Error`].
    pub fn has_errors(&self) -> bool {
        has_error(&self.findings)
    }
}

/// Every preset, in the order the app lists them.
pub fn all() -> &'static [Preset] {
    &PRESETS
}

/// The preset with this CLI name (`ghcr`, `artifact-registry`, …), ignoring case and spaces.
pub(crate) fn by_cli_name(name: &str) -> Option<&'static Preset> {
    let name = name.trim();
    PRESETS.iter().find(|preset| preset.cli_names.iter().any(|known| known.eq_ignore_ascii_case(name)))
}

/// The preset whose public hosts include this server's host; `None` for other (self-hosted) hosts.
///
/// Harbor is never detected: it has no public host.
pub fn detect(server: &str) -> Option<&'static Preset> {
    crate::known_registries::detect_id(server).map(PresetId::preset)
}

mod checks;
#[cfg(test)]
mod tests;

pub use checks::{check_login, shell_quote};
