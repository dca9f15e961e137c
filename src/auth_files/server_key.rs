//! Registry keys as they appear in credential files, validated and normalized.
//!
//! Docker writes `https://index.docker.io/v1/` for Docker Hub and `host[:port]` elsewhere; old
//! files carry `https://host/v1/`-style URLs; Podman writes `host[:port][/namespace/repo]`.
//! [`ServerKey`] parses all of these to one identity so the same registry under different
//! spellings can be recognised.

use std::fmt;

use crate::image_ref::{DOCKER_HUB_AUTH_KEY, DOCKER_HUB_DOMAIN};

/// Host names that all mean Docker Hub.
const DOCKER_HUB_ALIASES: [&str; 4] =
    [DOCKER_HUB_DOMAIN, "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"];

/// Why a string is not a usable registry key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServerKeyError {
    /// The key is the empty string.
    #[error("the registry key is empty")]
    Empty,
    /// The key has spaces or control characters.
    #[error("the registry key contains whitespace or control characters")]
    Whitespace,
    /// A scheme other than http or https.
    #[error("unsupported scheme {0:?}: only http:// and https:// are allowed")]
    Scheme(String),
    /// The host or port does not follow the registry grammar.
    #[error("{0:?} is not a valid registry host[:port]")]
    Host(String),
    /// A Kubernetes glob key (`*.example.com`): only the kubelet matches these.
    #[error(
        "{0:?} is a glob key: Docker, Podman and skopeo ignore such keys; only the kubelet matches them (in a pull secret or a node's config.json) — write the Secret with regcred yaml '{0}=SERVER'"
    )]
    Glob(String),
    /// A path component is not lowercase alphanumerics with separators.
    #[error("{0:?} is not a valid repository namespace")]
    Scope(String),
}

/// A registry key, parsed: which registry, and for Podman-style keys which namespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerKey {
    has_scheme: bool,
    registry: String,
    scope: String,
}

impl ServerKey {
    /// Parses a key as written in `auths`, `credHelpers` or on the command line.
    ///
    /// Keys with a scheme (`https://host/v1/`) ignore their path, as Docker does; keys without
    /// one may carry a Podman namespace scope (`host/ns/repo`).
    pub fn parse(input: &str) -> Result<Self, ServerKeyError> {
        if input.is_empty() {
            return Err(ServerKeyError::Empty);
        }
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ServerKeyError::Whitespace);
        }
        let (has_scheme, rest) = match input.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http") => {
                (true, rest)
            }
            Some((scheme, _)) => return Err(ServerKeyError::Scheme(scheme.to_owned())),
            None => (false, input),
        };
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        // `[` opens an IPv6 literal at the start of a host, and a glob class anywhere else.
        if host.contains(['*', '?']) || host.get(1..).is_some_and(|rest| rest.contains('[')) {
            return Err(ServerKeyError::Glob(input.to_owned()));
        }
        if host.is_empty() || crate::image_ref::validate_domain(host).is_err() {
            return Err(ServerKeyError::Host(host.to_owned()));
        }
        let host = host.to_ascii_lowercase();
        let registry = if DOCKER_HUB_ALIASES.contains(&host.as_str()) { DOCKER_HUB_DOMAIN.to_owned() } else { host };
        let scope = if has_scheme { String::new() } else { path.trim_end_matches('/').to_owned() };
        if !scope.is_empty() && !crate::image_ref::is_valid_path(&scope) {
            return Err(ServerKeyError::Scope(scope));
        }
        Ok(Self { has_scheme, registry, scope })
    }

    /// The registry with its port, Docker Hub as `docker.io`: what two spellings share.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The Podman namespace scope (`team/app`), empty for a whole-registry key.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// Whether this key means Docker Hub.
    pub(crate) fn is_docker_hub(&self) -> bool {
        self.registry == DOCKER_HUB_DOMAIN
    }

    /// The key Docker itself would write for this registry.
    pub(crate) fn docker_key(&self) -> String {
        if self.is_docker_hub() { DOCKER_HUB_AUTH_KEY.to_owned() } else { self.registry.clone() }
    }

    /// The key Podman would write (`host[/scope]`, Docker Hub as `docker.io`).
    pub fn podman_key(&self) -> String {
        if self.scope.is_empty() { self.registry.clone() } else { format!("{}/{}", self.registry, self.scope) }
    }

    /// The host the registry's API answers at: `registry-1.docker.io` for Docker Hub, else the
    /// registry itself.
    pub fn endpoint_host(&self) -> &str {
        if self.is_docker_hub() { crate::image_ref::DOCKER_HUB_ENDPOINT } else { self.registry() }
    }

    /// Whether two keys name the same registry and scope (so one file should not hold both).
    pub(crate) fn same_target(&self, other: &Self) -> bool {
        self.registry == other.registry && self.scope == other.scope
    }
}

impl fmt::Display for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.podman_key())
    }
}

#[cfg(test)]
mod tests {
    use super::{ServerKey, ServerKeyError};

    #[test]
    fn docker_hub_spellings_are_one_registry() {
        let spellings = [
            "docker.io",
            "index.docker.io",
            "registry-1.docker.io",
            "https://index.docker.io/v1/",
            "https://registry-1.docker.io/v2/",
            "http://Index.Docker.IO",
        ];
        let first = ServerKey::parse(spellings[0]).unwrap();
        for spelling in spellings {
            let key = ServerKey::parse(spelling).unwrap();
            assert!(key.same_target(&first), "{spelling}");
            assert_eq!(key.docker_key(), "https://index.docker.io/v1/");
            assert_eq!(key.podman_key(), "docker.io");
        }
    }

    #[test]
    fn ports_scopes_and_errors() {
        let key = ServerKey::parse("https://Reg.Example.com:5000/v1/").unwrap();
        assert_eq!(key.docker_key(), "reg.example.com:5000");
        let scoped = ServerKey::parse("quay.io/team/app").unwrap();
        assert_eq!(scoped.scope(), "team/app");
        assert!(!scoped.same_target(&ServerKey::parse("quay.io").unwrap()));
        assert_eq!(ServerKey::parse("[::1]:5000").unwrap().registry(), "[::1]:5000");
        assert_eq!(ServerKey::parse(""), Err(ServerKeyError::Empty));
        assert_eq!(ServerKey::parse("a b"), Err(ServerKeyError::Whitespace));
        assert_eq!(ServerKey::parse("ftp://x"), Err(ServerKeyError::Scheme("ftp".into())));
        assert_eq!(ServerKey::parse("bad_host"), Err(ServerKeyError::Host("bad_host".into())));
        assert_eq!(ServerKey::parse("host:port"), Err(ServerKeyError::Host("host:port".into())));
        assert_eq!(ServerKey::parse("quay.io/Team"), Err(ServerKeyError::Scope("Team".into())));
    }
}
