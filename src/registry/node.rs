//! The node a test pull stands in for: its platform (`linux/amd64` by default) and its container
//! runtime, whose words the failure report uses.

/// An OS/architecture(/variant) triple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// `linux`.
    pub os: String,
    /// `amd64`, `arm64` …
    pub architecture: String,
    /// `v7`, `v8` …
    pub variant: Option<String>,
}

impl Default for Platform {
    fn default() -> Self {
        Self { os: "linux".to_owned(), architecture: "amd64".to_owned(), variant: None }
    }
}

impl Platform {
    /// Whether an image for `offered` runs on this platform (a variant matters only when asked).
    pub(crate) fn accepts(&self, offered: &Self) -> bool {
        offered.os == self.os
            && offered.architecture == self.architecture
            && (self.variant.is_none() || offered.variant == self.variant)
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Platform {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = text.split('/').collect();
        let valid = |part: &&str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        match parts.as_slice() {
            [os, arch] if valid(os) && valid(arch) => {
                Ok(Self { os: (*os).to_owned(), architecture: (*arch).to_owned(), variant: None })
            }
            [os, arch, variant] if valid(os) && valid(arch) && valid(variant) => Ok(Self {
                os: (*os).to_owned(),
                architecture: (*arch).to_owned(),
                variant: Some((*variant).to_owned()),
            }),
            _ => Err(format!("{text:?} is not OS/ARCH[/VARIANT], e.g. linux/arm64")),
        }
    }
}

/// How a runtime reaches a registry on its own node (`localhost`, 127.0.0.0/8, `::1`) when nothing
/// is configured for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoopbackRoad {
    /// Plain HTTP only: containerd 1.6 and 1.7 with the CRI's default registry settings (no
    /// `config_path`: `defaultScheme` in the CRI's `image_pull.go`, `docker.MatchLocalhost`).
    PlainHttp,
    /// HTTPS with any certificate, then plain HTTP when the port speaks it (a TLS record that
    /// starts `HTTP/`): containerd 2.x (`core/remotes/docker/config/hosts.go` for localhost,
    /// `docker.NewHTTPFallback`; 1.7 too when `config_path` is set). A refused connection to a
    /// named port is not retried (`isPortError`): its error names HTTPS.
    AnyCertificateThenHttp,
    /// Docker's default insecure registry (127.0.0.0/8): HTTPS with any certificate, then plain
    /// HTTP after any failure; the error shown is the last endpoint's (plain HTTP).
    InsecureRegistry,
    /// No exemption: HTTPS with the certificate checked, as for any host (containers/image, so
    /// CRI-O, unless `insecure = true` is set for the registry).
    LikeAnyHost,
}

/// The container runtime whose words the report uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Runtime {
    /// containerd 2.1–2.3 (words of v2.3.4), pulling through the transfer service (the CRI default
    /// since 2.1).
    #[default]
    Containerd,
    /// containerd 2.0: 2.x's words, but the resolve step still says `failed to resolve reference`.
    #[serde(rename = "containerd-2.0")]
    Containerd20,
    /// containerd 1.7.8+ and 1.6.25+ (words of v1.7.34).
    #[serde(rename = "containerd-1.7")]
    Containerd17,
    /// containerd 1.6.0–1.6.24 (Debian 12's 1.6.20, proven against the real one in the tests):
    /// `pulling from host … failed with status code …`, and plain HTTP to a loopback registry.
    #[serde(rename = "containerd-1.6")]
    Containerd16,
    /// CRI-O (v1.36.3, with containers/image v5.38.0).
    #[serde(rename = "cri-o")]
    CriO,
    /// Docker Engine (28.5.2) through cri-dockerd (0.3.25): minikube's default.
    Docker,
}

impl Runtime {
    /// Every runtime, default first.
    pub const ALL: [Self; 6] =
        [Self::Containerd, Self::Containerd20, Self::Containerd17, Self::Containerd16, Self::CriO, Self::Docker];

    /// Whether the runtime resolves a tag with `HEAD` and then fetches the manifest by the digest
    /// the `HEAD` announced (containerd's resolver and fetcher; dockerd since 20.10). CRI-O
    /// (containers/image) `GET`s the manifest by tag.
    pub(crate) fn resolves_with_head(self) -> bool {
        self != Self::CriO
    }

    /// How the runtime reaches a registry on this machine without any setting for it.
    pub(crate) fn loopback_road(self) -> LoopbackRoad {
        match self {
            Self::Containerd17 | Self::Containerd16 => LoopbackRoad::PlainHttp,
            Self::Containerd | Self::Containerd20 => LoopbackRoad::AnyCertificateThenHttp,
            Self::Docker => LoopbackRoad::InsecureRegistry,
            Self::CriO => LoopbackRoad::LikeAnyHost,
        }
    }

    /// The name on the command line (`--runtime`).
    pub(crate) fn cli_name(self) -> &'static str {
        match self {
            Self::Containerd => "containerd",
            Self::Containerd20 => "containerd-2.0",
            Self::Containerd17 => "containerd-1.7",
            Self::Containerd16 => "containerd-1.6",
            Self::CriO => "cri-o",
            Self::Docker => "docker",
        }
    }

    /// The name with the release its words come from.
    pub fn label(self) -> &'static str {
        match self {
            Self::Containerd => "containerd 2.1–2.3",
            Self::Containerd20 => "containerd 2.0",
            Self::Containerd17 => "containerd 1.7.8+, 1.6.25+",
            Self::Containerd16 => "containerd 1.6.0–1.6.24",
            Self::CriO => "CRI-O",
            Self::Docker => "Docker (cri-dockerd)",
        }
    }
}

impl std::fmt::Display for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.cli_name())
    }
}

impl std::str::FromStr for Runtime {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.cli_name() == text)
            .ok_or_else(|| format!(
                "unknown runtime {text:?}: use containerd, containerd-2.0, containerd-1.7, containerd-1.6, cri-o or docker"
            ))
    }
}
