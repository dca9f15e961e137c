//! The keyring: a port of `BasicDockerKeyring` and `UnionDockerKeyring` from
//! `pkg/credentialprovider/keyring.go`, and of the image-name handling around
//! `keyring.Lookup` in `pkg/kubelet/images/image_manager.go` (`applyDefaultImageTag`,
//! `parsers.ParseImageName`).
//!
//! How a key is filed (`BasicDockerKeyring.Add`): `https://` is put in front unless the key starts
//! with `http://` or `https://`; the result goes through `url.Parse` (a key it refuses is skipped,
//! as the kubelet logs and skips it); a path starting with `/v1/` or `/v2/` loses those three
//! characters; the key is then `host + path`, or just `host` when the path is empty or `/`.
//! The index of keys is deduplicated and sorted in reverse byte order (`sort.Reverse(
//! sort.StringSlice)`), which the Go comment calls "more specific paths first": for keys that
//! share a prefix the longer one sorts first (`quay.io/coreos` before `quay.io`); otherwise it is
//! plain reverse lexicographic order (`b.example.com` before `a.example.com` before
//! `*.example.com`, since `*` sorts below letters).
//!
//! How a key matches an image (`URLsMatchStr` → `URLsMatch`): both get `https://` in front and
//! go through `url.Parse`; the ports (`net.SplitHostPort`) must be equal (none equals none); the
//! hosts must have the same number of `.`-separated labels; each key label is a
//! `filepath.Match` glob of the image's label; and the image's path must start with the key's
//! path as a plain string prefix (so key `r.io/team` matches `r.io/teammate/app` too).
//!
//! `Lookup` gathers the credentials of every matching key in index order. Only when none
//! matches, and the repository looks like Docker Hub (`isDefaultRegistryMatch`: no `/`, or a
//! first component that is `docker.io`, `index.docker.io` or has no `.` or `:`), the credentials
//! filed under `index.docker.io` (from `https://index.docker.io/v1/`, `index.docker.io/v2/`…)
//! are returned. The kubelet looks up the repository `parsers.ParseImageName` gives
//! (`docker.io/library/nginx` for `nginx`), so a key `docker.io` matches Docker Hub images
//! directly while `index.docker.io` only serves as that fallback.

use std::collections::BTreeMap;
use std::fmt;

use super::KeyringError;
use super::config::{ConfigFormat, DockerConfigEntry, parse_docker_config};
use super::golang::{filepath_match, parse_url, split_host_port};
use crate::image_ref::ImageRef;
use crate::keychain::Credential;

/// `defaultRegistryHost` in keyring.go: where `Lookup` falls back to for Docker Hub images.
pub(crate) const DEFAULT_REGISTRY_HOST: &str = "index.docker.io";

/// Where a credential came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialOrigin {
    /// An image pull Secret named by the pod (or its `ServiceAccount`).
    PodSecret {
        /// The Secret's namespace (the pod's).
        namespace: String,
        /// The Secret's name.
        name: String,
        /// `.dockerconfigjson` or `.dockercfg`.
        data_key: String,
    },
    /// The node's own Docker config (`/var/lib/kubelet/config.json` and the other paths the
    /// kubelet searches).
    NodeConfig {
        /// The file the config was read from.
        path: String,
    },
}

/// One credential as the keyring holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyringCredential {
    /// The registry key as written in the config (`https://index.docker.io/v1/`).
    pub key: String,
    /// The index key it is filed under after `Add`'s normalization (`index.docker.io`).
    pub(crate) location: String,
    /// The user name and password.
    pub credential: Credential,
    /// The e-mail address, if any.
    pub email: String,
    /// Where the credential came from.
    pub(crate) origin: CredentialOrigin,
}

impl fmt::Debug for KeyringCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyringCredential")
            .field("key", &self.key)
            .field("location", &self.location)
            .field("credential", &self.credential)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// A key `Add` could not file, with Go's reason (the kubelet logs
/// `Entry %q in dockercfg invalid (%v), ignoring` and goes on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IgnoredKey {
    /// The key as written.
    pub(crate) key: String,
    /// Why `url.Parse` refused it.
    pub(crate) reason: String,
}

/// `BasicDockerKeyring`: credentials filed by registry key, looked up by image.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    index: Vec<String>,
    creds: BTreeMap<String, Vec<KeyringCredential>>,
    ignored: Vec<IgnoredKey>,
}

impl Keyring {
    /// An empty keyring.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a Docker config (`format` as the Secret's type says) and files its entries.
    /// On error nothing is added, as the kubelet refuses the whole config.
    pub fn add_docker_config(
        &mut self,
        config: &[u8],
        format: ConfigFormat,
        origin: &CredentialOrigin,
    ) -> Result<(), KeyringError> {
        let entries = parse_docker_config(config, format)?;
        self.add(entries, origin);
        Ok(())
    }

    /// `BasicDockerKeyring.Add`: files each entry under its normalized key, then re-sorts the
    /// index (reverse byte order, duplicates removed). Entries are taken in the order given;
    /// the kubelet iterates a Go map here, so the order of two entries of one config that land
    /// on the same key (`r.io` and `https://r.io`) is unspecified there.
    pub(crate) fn add(&mut self, entries: Vec<DockerConfigEntry>, origin: &CredentialOrigin) {
        for entry in entries {
            let location = match location_of_key(&entry.key) {
                Ok(location) => location,
                Err(reason) => {
                    self.ignored.push(IgnoredKey { key: entry.key, reason });
                    continue;
                }
            };
            let DockerConfigEntry { key, username, password, email } = entry;
            let credential = KeyringCredential {
                key,
                location: location.clone(),
                credential: Credential { username, secret: password },
                email,
                origin: origin.clone(),
            };
            self.creds.entry(location.clone()).or_default().push(credential);
            self.index.push(location);
        }
        self.index.sort_unstable_by(|a, b| b.cmp(a));
        self.index.dedup();
    }

    /// The credentials the kubelet would try for an image written as in a pod (`nginx`,
    /// `registry.example.com:5000/team/app:1.2`), in the order it would try them.
    pub fn lookup(&self, image: &str) -> Result<Vec<&KeyringCredential>, KeyringError> {
        Ok(self.lookup_repo(&repo_to_pull(image)?))
    }

    /// `BasicDockerKeyring.Lookup` on an already normalized repository
    /// (`docker.io/library/nginx`).
    pub(crate) fn lookup_repo(&self, repo: &str) -> Vec<&KeyringCredential> {
        let matched: Vec<&KeyringCredential> = self
            .index
            .iter()
            .filter(|key| urls_match_str(key, repo) == Ok(true))
            .flat_map(|key| self.creds.get(key.as_str()).into_iter().flatten())
            .collect();
        if !matched.is_empty() || !is_default_registry_match(repo) {
            return matched;
        }
        self.creds.get(DEFAULT_REGISTRY_HOST).map(|creds| creds.iter().collect()).unwrap_or_default()
    }

    /// The index keys, in lookup order.
    pub fn keys(&self) -> &[String] {
        &self.index
    }

    /// Whether the keyring holds no credential.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

/// `UnionDockerKeyring`: several keyrings asked in order, their answers concatenated. Each keyring
/// applies its own Docker Hub fallback.
#[derive(Debug, Clone, Default)]
pub struct UnionKeyring {
    pub(super) keyrings: Vec<Keyring>,
}

impl UnionKeyring {
    /// A union of keyrings, asked in the order given.
    pub fn new(keyrings: Vec<Keyring>) -> Self {
        Self { keyrings }
    }

    /// Every keyring's credentials for an image written as in a pod, in order.
    pub fn lookup(&self, image: &str) -> Result<Vec<&KeyringCredential>, KeyringError> {
        Ok(self.lookup_ref(&parse_image(image)?))
    }

    /// [`UnionKeyring::lookup`] for an image already parsed (by [`parse_image`]).
    pub(crate) fn lookup_ref(&self, image: &ImageRef) -> Vec<&KeyringCredential> {
        let repo = repo_of(image);
        self.keyrings.iter().flat_map(|keyring| keyring.lookup_repo(&repo)).collect()
    }
}

/// The repository the kubelet looks credentials up for: `applyDefaultImageTag` then
/// `parsers.ParseImageName`'s `named.Name()` (`nginx` → `docker.io/library/nginx`). An image
/// the reference grammar refuses fails with the kubelet's `couldn't parse image name` text.
pub(crate) fn repo_to_pull(image: &str) -> Result<String, KeyringError> {
    parse_image(image).map(|parsed| repo_of(&parsed))
}

/// An image written as in a pod, parsed as the kubelet parses it (the one parse a container's
/// image gets in `regcred check`); the kubelet's `couldn't parse image name` when it does not.
pub(crate) fn parse_image(image: &str) -> Result<ImageRef, KeyringError> {
    ImageRef::parse(image).map_err(|source| KeyringError::InvalidImage { image: image.to_owned(), source })
}

/// The repository of a parsed image (`docker.io/library/nginx`).
fn repo_of(image: &ImageRef) -> String {
    format!("{}/{}", image.domain(), image.path())
}

/// Checks a key as the kubelet will read it in a pull secret or a node's `config.json`
/// (`*.example.com`, `*.*.example.com`, `prefix.*.io`, `registry.io:8080/path`): `Err` with the
/// reason when the kubelet would skip it (a URL its parser refuses, a broken glob pattern).
pub fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("the key is empty".to_owned());
    }
    let location = location_of_key(key)?;
    let (labels, _) = split_url(location.split('/').next().unwrap_or_default());
    for label in labels {
        if filepath_match(label, "x").is_none() {
            return Err(format!("{label:?} is not a valid glob pattern"));
        }
    }
    Ok(())
}

/// `Add`'s normalization of one key.
fn location_of_key(key: &str) -> Result<String, String> {
    let value = if key.starts_with("https://") || key.starts_with("http://") {
        key.to_owned()
    } else {
        format!("https://{key}")
    };
    let parsed = parse_url(&value)?;
    let path = parsed.path.as_str();
    let effective = if path.starts_with("/v2/") || path.starts_with("/v1/") { &path[3..] } else { path };
    Ok(if effective.is_empty() || effective == "/" { parsed.host } else { format!("{}{effective}", parsed.host) })
}

/// `URLsMatchStr`: both sides are schemeless URLs; `Err` where Go's parse or glob fails (which
/// `Lookup` treats as no match).
fn urls_match_str(glob: &str, target: &str) -> Result<bool, String> {
    let glob = parse_url(&format!("https://{glob}"))?;
    let target = parse_url(&format!("https://{target}"))?;
    let (glob_labels, glob_port) = split_url(&glob.host);
    let (target_labels, target_port) = split_url(&target.host);
    if glob_port != target_port || glob_labels.len() != target_labels.len() || !target.path.starts_with(&glob.path) {
        return Ok(false);
    }
    for (pattern, label) in glob_labels.iter().zip(&target_labels) {
        match filepath_match(pattern, label) {
            Some(true) => {}
            Some(false) => return Ok(false),
            None => return Err(format!("syntax error in pattern {pattern:?}")),
        }
    }
    Ok(true)
}

/// `SplitURL`: host labels and port (empty when `net.SplitHostPort` refuses the host).
fn split_url(host: &str) -> (Vec<&str>, &str) {
    let (name, port) = split_host_port(host).unwrap_or((host, ""));
    (name.split('.').collect(), port)
}

/// `isDefaultRegistryMatch`.
fn is_default_registry_match(image: &str) -> bool {
    let Some((first, _)) = image.split_once('/') else {
        return !image.is_empty();
    };
    if first.is_empty() {
        return false;
    }
    first == "docker.io" || first == DEFAULT_REGISTRY_HOST || !first.contains(['.', ':'])
}

#[cfg(test)]
mod tests {
    use super::{CredentialOrigin, Keyring, is_default_registry_match, location_of_key, urls_match_str};
    use crate::kubelet::ConfigFormat;

    fn node() -> CredentialOrigin {
        CredentialOrigin::NodeConfig { path: "/var/lib/kubelet/config.json".to_owned() }
    }

    fn keyring(keys: &[&str]) -> Keyring {
        let auths: Vec<String> = keys.iter().map(|k| format!(r#""{k}":{{"username":"user-for-{k}"}}"#)).collect();
        let json = format!(r#"{{"auths":{{{}}}}}"#, auths.join(","));
        let mut keyring = Keyring::new();
        keyring.add_docker_config(json.as_bytes(), ConfigFormat::DockerConfigJson, &node()).unwrap();
        keyring
    }

    fn users(keyring: &Keyring, image: &str) -> Vec<String> {
        keyring.lookup(image).unwrap().into_iter().map(|c| c.credential.username.clone()).collect()
    }

    fn matches(key: &str, image: &str) -> bool {
        !keyring(&[key]).lookup(image).unwrap().is_empty()
    }

    #[test]
    fn keys_lose_their_scheme_and_v1_v2() {
        let cases = [
            ("https://index.docker.io/v1/", "index.docker.io"),
            ("http://registry.io:5000", "registry.io:5000"),
            ("registry.io/v2/team", "registry.io/team"),
            ("registry.io/v1", "registry.io/v1"),
            ("registry.io/", "registry.io"),
            ("https://registry.io/team/?query#frag", "registry.io/team/"),
            ("user:pw@registry.io", "registry.io"),
        ];
        for (key, expected) in cases {
            assert_eq!(location_of_key(key).as_deref(), Ok(expected), "{key}");
        }
        assert!(location_of_key("registry.io:port").is_err());
        assert_eq!(location_of_key("HTTPS://registry.io").as_deref(), Ok("HTTPS://registry.io"));
    }

    #[test]
    fn globs_match_one_label_each() {
        assert!(matches("*.example.com", "a.example.com/app"));
        assert!(!matches("*.example.com", "example.com/app"));
        assert!(!matches("*.example.com", "a.b.example.com/app"));
        assert!(matches("*.*.example.com", "a.b.example.com/app"));
        assert!(!matches("*.*.example.com", "a.example.com/app"));
        assert!(matches("prefix.*.io", "prefix.anything.io/app"));
        assert!(!matches("prefix.*.io", "other.anything.io/app"));
        assert!(matches("*-good.example.com", "very-good.example.com/app"));
        assert!(!matches("*-good.example.com", "very-bad.example.com/app"));
        // `?` starts a URL query, so this key is filed as `reg` and the glob never applies.
        assert!(!matches("reg?.example.com", "reg1.example.com/app"));
        assert_eq!(keyring(&["reg?.example.com"]).keys(), ["reg"]);
        assert!(matches("reg[0-9].example.com", "reg7.example.com/app"));
        assert!(urls_match_str("reg[.example.com", "reg1.example.com/app").is_err(), "a bad glob never matches");
    }

    #[test]
    fn ports_must_be_equal() {
        assert!(matches("registry.io:8080", "registry.io:8080/path/app"));
        assert!(matches("registry.io:8080/path", "registry.io:8080/path/app"));
        assert!(!matches("registry.io:8080", "registry.io/app"));
        assert!(!matches("registry.io", "registry.io:8080/app"));
        assert!(!matches("registry.io:8080", "registry.io:9090/app"));
        assert!(matches("*.registry.io:8080", "eu.registry.io:8080/app"));
        assert!(matches("localhost:5000", "localhost:5000/app"));
        assert!(matches("[::1]:5000", "[::1]:5000/app"));
    }

    #[test]
    fn paths_are_string_prefixes() {
        assert!(matches("registry.io/team", "registry.io/team/app"));
        assert!(matches("registry.io/team", "registry.io/teammate/app"));
        assert!(!matches("registry.io/team", "registry.io/other/app"));
        assert!(matches("registry.io/team/app", "registry.io/team/app"));
        assert!(!matches("registry.io/team/app/", "registry.io/team/app"));
        assert!(matches("https://registry.io/v2/team", "registry.io/team/app"));
    }

    #[test]
    fn hosts_are_case_sensitive() {
        assert!(!matches("registry.io", "Registry.io/app"));
        assert!(urls_match_str("Registry.io", "Registry.io/app") == Ok(true));
    }

    #[test]
    fn index_is_reverse_sorted_and_more_specific_first() {
        let keyring = keyring(&["quay.io", "quay.io/coreos", "*.example.com", "a.example.com", "b.example.com"]);
        assert_eq!(keyring.keys(), ["quay.io/coreos", "quay.io", "b.example.com", "a.example.com", "*.example.com"]);
        assert_eq!(users(&keyring, "quay.io/coreos/etcd:v3"), ["user-for-quay.io/coreos", "user-for-quay.io"]);
        assert_eq!(users(&keyring, "a.example.com/x"), ["user-for-a.example.com", "user-for-*.example.com"]);
    }

    #[test]
    fn same_key_from_two_configs_keeps_both_in_order() {
        let mut keyring = Keyring::new();
        for user in ["first", "second"] {
            let json = format!(r#"{{"https://r.io":{{"username":"{user}"}}}}"#);
            keyring.add_docker_config(json.as_bytes(), ConfigFormat::DockerCfg, &node()).unwrap();
        }
        assert_eq!(keyring.keys(), ["r.io"]);
        assert_eq!(users(&keyring, "r.io/app"), ["first", "second"]);
    }

    #[test]
    fn docker_hub_forms() {
        let hub = keyring(&["https://index.docker.io/v1/"]);
        assert_eq!(users(&hub, "nginx"), ["user-for-https://index.docker.io/v1/"]);
        assert_eq!(users(&hub, "library/nginx:1.25"), ["user-for-https://index.docker.io/v1/"]);
        assert_eq!(users(&hub, "docker.io/team/app"), ["user-for-https://index.docker.io/v1/"]);
        assert_eq!(users(&hub, "index.docker.io/team/app"), ["user-for-https://index.docker.io/v1/"]);
        assert!(users(&hub, "ghcr.io/team/app").is_empty());
        // The fallback's quirk: `localhost/...` has no `.` or `:` in its first component.
        assert_eq!(users(&hub, "localhost/app").len(), 1);

        let docker_io = keyring(&["docker.io"]);
        assert_eq!(users(&docker_io, "nginx"), ["user-for-docker.io"]);
        let both = keyring(&["docker.io", "index.docker.io"]);
        assert_eq!(users(&both, "nginx"), ["user-for-docker.io"], "the fallback only applies when nothing matched");
        let library = keyring(&["docker.io/library", "https://index.docker.io/v1/"]);
        assert_eq!(users(&library, "nginx"), ["user-for-docker.io/library"]);
        assert_eq!(users(&library, "team/app"), ["user-for-https://index.docker.io/v1/"]);
        assert!(users(&keyring(&["registry-1.docker.io"]), "nginx").is_empty());
        assert!(users(&keyring(&["*.docker.io"]), "nginx").is_empty());
    }

    #[test]
    fn default_registry_match() {
        for image in ["ubuntu", "library/ubuntu", "docker.io/x/y", "index.docker.io/x/y", "localhost/x"] {
            assert!(is_default_registry_match(image), "{image}");
        }
        for image in ["", "/x", "gcr.io/x", "localhost:5000/x"] {
            assert!(!is_default_registry_match(image), "{image}");
        }
    }

    #[test]
    fn bad_keys_are_skipped_not_fatal() {
        let keyring = keyring(&["registry.io:port", "ok.io"]);
        assert_eq!(keyring.keys(), ["ok.io"]);
        assert_eq!(keyring.ignored.len(), 1);
        assert_eq!(keyring.ignored[0].key, "registry.io:port");
    }

    #[test]
    fn invalid_image_is_an_error() {
        let error = keyring(&["ok.io"]).lookup("Not/Valid").unwrap_err();
        assert_eq!(
            error.to_string(),
            "couldn't parse image name \"Not/Valid\": invalid reference format: repository name must be lowercase"
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let mut keyring = Keyring::new();
        let json = br#"{"auths":{"r.io":{"auth":"dXNlcjpodW50ZXIyLWNhbmFyeQ=="}}}"#;
        keyring.add_docker_config(json, ConfigFormat::DockerConfigJson, &node()).unwrap();
        let found = keyring.lookup("r.io/app").unwrap();
        assert_eq!(found[0].credential.secret.expose(), "hunter2-canary");
        let debug = format!("{keyring:?} {found:?} {:#?}", found[0]);
        assert!(!debug.contains("hunter2-canary"), "{debug}");
        assert!(!debug.contains("dXNlcjpodW50ZXIyLWNhbmFyeQ"), "{debug}");
    }
}
