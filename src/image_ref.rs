//! Image references: the distribution/reference grammar with Docker's normalization.
//!
//! `nginx` becomes `docker.io/library/nginx:latest`, a first component with a `.` or `:` (or
//! `localhost`, or an uppercase letter) is a registry domain, and errors use Docker's wording
//! (`invalid reference format: repository name must be lowercase`), because that is the text a
//! user will meet again in `kubectl describe pod`.

use std::fmt;

/// Docker Hub's domain in normalized references.
pub(crate) const DOCKER_HUB_DOMAIN: &str = "docker.io";
/// The key Docker uses for Docker Hub in `auths`, `credHelpers` and credential helpers.
pub(crate) const DOCKER_HUB_AUTH_KEY: &str = "https://index.docker.io/v1/";
/// The longest repository path the grammar accepts.
pub(crate) const PATH_MAX_LEN: usize = 255;
/// Where Docker Hub's registry API answers (`docker.io` is only its name).
pub(crate) const DOCKER_HUB_ENDPOINT: &str = "registry-1.docker.io";
/// The longest tag the grammar accepts.
pub(crate) const TAG_MAX_LEN: usize = 128;

/// Why a string is not a valid image reference. The texts are Docker's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageRefError {
    /// Nothing to parse.
    #[error("invalid reference format: repository name must have at least one component")]
    Empty,
    /// The repository path has uppercase letters.
    #[error("invalid reference format: repository name must be lowercase")]
    Uppercase,
    /// The repository path is longer than 255 characters.
    #[error("invalid reference format: repository name must not be more than 255 characters")]
    TooLong,
    /// A bare 64-hex string, which Docker refuses as a name.
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    HexName(String),
    /// The tag does not match `[\w][\w.-]{0,127}`.
    #[error("invalid reference format: invalid tag format")]
    Tag,
    /// The digest's hex is not lowercase (go-digest's `ErrDigestInvalidFormat`).
    #[error("invalid checksum digest format")]
    DigestFormat,
    /// The digest has the wrong number of hex digits for its algorithm (`ErrDigestInvalidLength`).
    #[error("invalid checksum digest length")]
    DigestLength,
    /// The digest's algorithm is not sha256, sha384 or sha512 (`ErrDigestUnsupported`).
    #[error("unsupported digest algorithm")]
    DigestUnsupported,
    /// Anything else the grammar refuses.
    #[error("invalid reference format")]
    Format,
}

/// A normalized image reference (`domain/path[:tag][@digest]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRef {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl ImageRef {
    /// Parses and normalizes a reference the way `docker pull` does, adding `:latest` when
    /// there is neither tag nor digest.
    ///
    /// ```
    /// use regcred::image_ref::ImageRef;
    /// let image = ImageRef::parse("nginx")?;
    /// assert_eq!(image.to_string(), "docker.io/library/nginx:latest");
    /// assert_eq!(image.docker_auth_key(), "https://index.docker.io/v1/");
    /// let error = ImageRef::parse("Example.com/Team/App").err().map(|e| e.to_string());
    /// assert_eq!(error.as_deref(), Some("invalid reference format: repository name must be lowercase"));
    /// # Ok::<(), regcred::image_ref::ImageRefError>(())
    /// ```
    pub fn parse(input: &str) -> Result<Self, ImageRefError> {
        if input.is_empty() {
            return Err(ImageRefError::Empty);
        }
        if input.len() == 64 && input.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
            return Err(ImageRefError::HexName(input.to_owned()));
        }
        let (domain, remainder) = split_docker_domain(input);
        let remainder = remainder.as_str();
        let remote = remainder.split(':').next().unwrap_or_default();
        if remote.to_lowercase() != remote {
            return Err(ImageRefError::Uppercase);
        }
        let (name_and_tag, digest) = match remainder.split_once('@') {
            Some((name, digest)) => (name, Some(digest)),
            None => (remainder, None),
        };
        let (path, tag) = split_tag(name_and_tag);
        validate_domain(&domain)?;
        validate_path(path)?;
        if let Some(tag) = tag {
            validate_tag(tag)?;
        }
        if let Some(digest) = digest {
            validate_digest(digest)?;
        }
        let tag = match (tag, digest) {
            (None, None) => Some("latest".to_owned()),
            (tag, _) => tag.map(str::to_owned),
        };
        Ok(Self { domain, path: path.to_owned(), tag, digest: digest.map(str::to_owned) })
    }

    /// The registry domain with its port: `docker.io`, `localhost:5000`, `[::1]:5000`.
    pub(crate) fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path: `library/nginx`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The tag, if any (`latest` when the input had neither tag nor digest).
    pub(crate) fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if any.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// The host requests go to: `registry-1.docker.io` for Docker Hub, else the domain.
    pub(crate) fn registry_host(&self) -> &str {
        if self.is_docker_hub() { DOCKER_HUB_ENDPOINT } else { &self.domain }
    }

    /// What to ask the registry's manifest endpoint for: the digest if there is one, else the tag.
    pub(crate) fn manifest_reference(&self) -> &str {
        self.digest.as_deref().or(self.tag.as_deref()).unwrap_or("latest")
    }

    /// Whether the image lives on Docker Hub.
    pub(crate) fn is_docker_hub(&self) -> bool {
        self.domain == DOCKER_HUB_DOMAIN
    }

    /// The key under which Docker stores this registry's credential
    /// (`https://index.docker.io/v1/` for Docker Hub, else the domain).
    pub fn docker_auth_key(&self) -> &str {
        if self.is_docker_hub() { DOCKER_HUB_AUTH_KEY } else { &self.domain }
    }

    /// The keys Podman (containers/image) tries for this image, most specific first:
    /// `host/ns/repo`, `host/ns`, `host`.
    pub(crate) fn podman_scopes(&self) -> Vec<String> {
        let mut scopes = Vec::new();
        let mut scope = format!("{}/{}", self.domain, self.path);
        loop {
            scopes.push(scope.clone());
            match scope.rfind('/') {
                Some(cut) => scope.truncate(cut),
                None => break,
            }
        }
        scopes
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.domain, self.path)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Whether `first`, an image name's first component followed by `/`, is a registry domain
/// (Docker's rule): it has a `.` or a `:`, is `localhost`, or has an uppercase letter.
fn is_domain(first: &str) -> bool {
    first.contains(['.', ':']) || first == "localhost" || first.to_lowercase() != first
}

/// Whether an image name as written names its registry (`quay.io/team/app`, `localhost/app`);
/// one that does not (`nginx`, `team/app`) is Docker Hub's, on a node too.
pub(crate) fn names_its_registry(input: &str) -> bool {
    input.trim().split_once('/').is_some_and(|(first, _)| is_domain(first))
}

/// Docker's `splitDockerDomain`: decides whether the first component is a registry, and
/// implies `library/` for official Docker Hub images.
fn split_docker_domain(input: &str) -> (String, String) {
    let (domain, remainder) = match input.split_once('/') {
        Some((first, rest)) if is_domain(first) => (first, rest),
        _ => (DOCKER_HUB_DOMAIN, input),
    };
    let domain = if domain == "index.docker.io" { DOCKER_HUB_DOMAIN } else { domain };
    if domain == DOCKER_HUB_DOMAIN && !remainder.contains('/') {
        return (domain.to_owned(), format!("library/{remainder}"));
    }
    (domain.to_owned(), remainder.to_owned())
}

fn split_tag(name_and_tag: &str) -> (&str, Option<&str>) {
    let after_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
    match name_and_tag[after_slash..].rfind(':') {
        Some(colon) => {
            let colon = after_slash + colon;
            (&name_and_tag[..colon], Some(&name_and_tag[colon + 1..]))
        }
        None => (name_and_tag, None),
    }
}

/// Checks `host[:port]` against the reference grammar (domain name, IPv4, or `[IPv6]`).
pub(crate) fn validate_domain(domain: &str) -> Result<(), ImageRefError> {
    let (host_ok, port) = if let Some(rest) = domain.strip_prefix('[') {
        let Some((ipv6, after)) = rest.split_once(']') else {
            return Err(ImageRefError::Format);
        };
        let ipv6_ok = !ipv6.is_empty() && ipv6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
        (ipv6_ok, (!after.is_empty()).then_some(after.strip_prefix(':').unwrap_or("x")))
    } else {
        let (host, port) = match domain.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (domain, None),
        };
        (host.split('.').all(is_domain_component), port)
    };
    let port_ok = port.is_none_or(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
    if host_ok && port_ok { Ok(()) } else { Err(ImageRefError::Format) }
}

/// `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`
fn is_domain_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        }
        _ => false,
    }
}

/// Whether a repository path (`team/app`) follows the grammar (length not checked).
pub(crate) fn is_valid_path(path: &str) -> bool {
    !path.is_empty() && path.split('/').all(is_path_component)
}

fn validate_path(path: &str) -> Result<(), ImageRefError> {
    if !is_valid_path(path) {
        return Err(ImageRefError::Format);
    }
    if path.len() > PATH_MAX_LEN {
        return Err(ImageRefError::TooLong);
    }
    Ok(())
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn is_path_component(component: &str) -> bool {
    let is_alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = component.as_bytes();
    let mut i = 0;
    let mut expect_alnum = true;
    while i < bytes.len() {
        if is_alnum(bytes[i]) {
            while i < bytes.len() && is_alnum(bytes[i]) {
                i += 1;
            }
            expect_alnum = false;
            continue;
        }
        if expect_alnum {
            return false;
        }
        let separator_len = match bytes[i] {
            b'_' if bytes.get(i + 1) == Some(&b'_') => 2,
            b'.' | b'_' => 1,
            b'-' => bytes[i..].iter().take_while(|b| **b == b'-').count(),
            _ => return false,
        };
        i += separator_len;
        expect_alnum = true;
    }
    !expect_alnum
}

fn validate_tag(tag: &str) -> Result<(), ImageRefError> {
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = tag.as_bytes();
    let valid = bytes.first().is_some_and(|b| is_word(*b))
        && bytes.len() <= TAG_MAX_LEN
        && bytes.iter().all(|b| is_word(*b) || *b == b'.' || *b == b'-');
    if valid { Ok(()) } else { Err(ImageRefError::Tag) }
}

/// A digest as Docker checks it: first the reference grammar (`algorithm:` and 32 or more hex
/// digits, else "invalid reference format"), then go-digest's `Digest.Validate` (an available
/// algorithm, the length its hash gives, lowercase hex), with go-digest's own words.
fn validate_digest(digest: &str) -> Result<(), ImageRefError> {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err(ImageRefError::Format);
    };
    let algorithm_ok = !algorithm.is_empty()
        && algorithm.split(['+', '.', '-', '_']).all(|part| {
            part.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
                && part.bytes().all(|b| b.is_ascii_alphanumeric())
        });
    if !algorithm_ok || hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ImageRefError::Format);
    }
    let expected_len = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err(ImageRefError::DigestUnsupported),
    };
    if hex.len() != expected_len {
        return Err(ImageRefError::DigestLength);
    }
    if hex.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(ImageRefError::DigestFormat);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{ImageRef, ImageRefError};

    #[test]
    fn normalizes_like_docker() {
        let cases = [
            ("nginx", "docker.io/library/nginx:latest"),
            ("nginx:1.25", "docker.io/library/nginx:1.25"),
            ("user/app", "docker.io/user/app:latest"),
            ("index.docker.io/user/app:v1", "docker.io/user/app:v1"),
            ("docker.io/nginx", "docker.io/library/nginx:latest"),
            ("localhost/app", "localhost/app:latest"),
            ("localhost:5000/app:dev", "localhost:5000/app:dev"),
            ("[::1]:5000/team/app", "[::1]:5000/team/app:latest"),
            ("127.0.0.1:5000/a/b/c:x", "127.0.0.1:5000/a/b/c:x"),
            ("Registry.Example.com/app", "Registry.Example.com/app:latest"),
            (
                "ghcr.io/o/r@sha256:0123456789012345678901234567890123456789012345678901234567890123",
                "ghcr.io/o/r@sha256:0123456789012345678901234567890123456789012345678901234567890123",
            ),
            ("a__b-c--d/e_f.g:T_a.g-1", "docker.io/a__b-c--d/e_f.g:T_a.g-1"),
        ];
        for (input, expected) in cases {
            let parsed = ImageRef::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(parsed.to_string(), expected, "{input}");
        }
    }

    #[test]
    fn refuses_with_dockers_words() {
        let long_path = format!("example.com/{}", "a".repeat(256));
        let upper_digest = format!("nginx@sha256:{}", "AB".repeat(32));
        let cases = [
            ("", ImageRefError::Empty),
            ("Nginx", ImageRefError::Uppercase),
            ("docker.io/Library/nginx", ImageRefError::Uppercase),
            ("nginx:", ImageRefError::Tag),
            ("nginx:-bad", ImageRefError::Tag),
            ("nginx@sha256:abc", ImageRefError::Format),
            (
                "nginx@sha256:01234567890123456789012345678901234567890123456789012345678901234",
                ImageRefError::DigestLength,
            ),
            (upper_digest.as_str(), ImageRefError::DigestFormat),
            ("nginx@md5:0123456789abcdef0123456789abcdef", ImageRefError::DigestUnsupported),
            ("nginx@sha512:0123456789abcdef0123456789abcdef", ImageRefError::DigestLength),
            ("a_-b", ImageRefError::Format),
            ("-a", ImageRefError::Format),
            ("a//b", ImageRefError::Format),
            ("example.com:/a", ImageRefError::Format),
            ("exa_mple.com/a", ImageRefError::Format),
            ("[::1/a", ImageRefError::Format),
            ("a b", ImageRefError::Format),
            (long_path.as_str(), ImageRefError::TooLong),
        ];
        for (input, expected) in cases {
            assert_eq!(ImageRef::parse(input), Err(expected), "{input}");
        }
        let hex = "a".repeat(64);
        assert!(matches!(ImageRef::parse(&hex), Err(ImageRefError::HexName(_))));
        assert_eq!(
            ImageRef::parse("Nginx").map_err(|e| e.to_string()),
            Err("invalid reference format: repository name must be lowercase".to_owned())
        );
    }

    #[test]
    fn keys_and_scopes() {
        let hub = ImageRef::parse("nginx").unwrap();
        assert_eq!(hub.docker_auth_key(), "https://index.docker.io/v1/");
        assert_eq!(hub.podman_scopes(), ["docker.io/library/nginx", "docker.io/library", "docker.io"]);
        let private = ImageRef::parse(
            "reg.example.com:5000/team/app@sha256:0123456789012345678901234567890123456789012345678901234567890123",
        )
        .unwrap();
        assert_eq!(private.docker_auth_key(), "reg.example.com:5000");
        assert_eq!(private.tag(), None);
        assert!(private.manifest_reference().starts_with("sha256:"));
    }
}
