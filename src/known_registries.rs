//! Recognising a big registry from a server's host: the ids of the presets
//! ([`crate::presets`]) and the host patterns (ECR, Google, ACR) — what both the presets' checks
//! and the expiry rules ([`crate::expiry`]) need, kept below both.

use serde::Serialize;

/// Which registry a [`crate::presets::Preset`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PresetId {
    /// Docker Hub.
    DockerHub,
    /// GitHub Container Registry (ghcr.io).
    Ghcr,
    /// GitLab's container registry (GitLab.com or self-managed).
    Gitlab,
    /// Quay (quay.io or a self-hosted Red Hat Quay).
    Quay,
    /// A self-hosted Harbor.
    Harbor,
    /// Amazon Elastic Container Registry (private registries).
    Ecr,
    /// Google Artifact Registry and Container Registry.
    Gcr,
    /// Azure Container Registry.
    Acr,
}

/// The host (and port) of a server as written in a docker config: no scheme, path or case.
///
/// `https://Index.Docker.io/v1/` → `index.docker.io`; `registry.local:5000/x` → `registry.local:5000`.
pub(crate) fn registry_host(server: &str) -> String {
    let server = server.trim();
    let without_scheme = server.split_once("://").map_or(server, |(_, rest)| rest);
    without_scheme.split('/').next().unwrap_or_default().to_ascii_lowercase()
}

/// The id of the preset whose public hosts include this server's host; `None` for other (self-hosted) hosts.
///
/// Harbor is never detected: it has no public host.
pub(crate) fn detect_id(server: &str) -> Option<PresetId> {
    let host = registry_host(server);
    let host = host.split(':').next().unwrap_or_default();
    let id = match host {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => PresetId::DockerHub,
        "ghcr.io" => PresetId::Ghcr,
        "registry.gitlab.com" => PresetId::Gitlab,
        "quay.io" => PresetId::Quay,
        _ if ecr_host_parts(host).is_some() => PresetId::Ecr,
        _ if is_google_host(host) => PresetId::Gcr,
        _ if acr_registry_name(host).is_some() => PresetId::Acr,
        _ => return None,
    };
    Some(id)
}

/// Splits an ECR registry host into account and region.
///
/// The Docker endpoints are `ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]` and the dual-stack
/// `ACCOUNT.dkr-ecr[-fips].REGION.on.aws` (docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-requests.html
/// and the "Amazon ECR endpoints and quotas" table of the AWS General Reference).
pub(crate) fn ecr_host_parts(host: &str) -> Option<(&str, &str)> {
    let labels: Vec<&str> = host.split('.').collect();
    let (account, region) = match labels.as_slice() {
        [account, "dkr", "ecr" | "ecr-fips", region, "amazonaws", "com"]
        | [account, "dkr", "ecr" | "ecr-fips", region, "amazonaws", "com", "cn"]
        | [account, "dkr-ecr" | "dkr-ecr-fips", region, "on", "aws"] => (*account, *region),
        _ => return None,
    };
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    let region_ok =
        !region.is_empty() && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    (account_ok && region_ok).then_some((account, region))
}

/// Whether a host is Google's: `gcr.io`, `REGION.gcr.io` or `LOCATION-docker.pkg.dev`.
pub(crate) fn is_google_host(host: &str) -> bool {
    let is_label = |label: &str| !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if host == "gcr.io" {
        return true;
    }
    if let Some(region) = host.strip_suffix(".gcr.io") {
        return is_label(region);
    }
    host.strip_suffix("-docker.pkg.dev").is_some_and(is_label)
}

/// The registry name of an ACR login server `NAME.azurecr.io` (also `.cn`, `.de`, `.us`).
///
/// Registry names are 5–50 letters and digits; the domains are those the kubelet's
/// `acr-credential-provider` matches (kubernetes-sigs/cloud-provider-azure, credential-provider.md).
pub(crate) fn acr_registry_name(host: &str) -> Option<&str> {
    let labels: Vec<&str> = host.split('.').collect();
    match labels.as_slice() {
        [name, "azurecr", "io" | "cn" | "de" | "us"]
            if (5..=50).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            Some(*name)
        }
        _ => None,
    }
}
