//! The arguments every command that reaches a registry shares, and the one step from them to the
//! library's [`PullOptions`]: `test-pull`, `check` and `login`'s check take the same flags with
//! the same meaning.

use std::path::PathBuf;

use regcred::auth_files::Env;
use regcred::registry::{Platform, PullOptions, Runtime};

/// How to reach a registry: `login`'s check, and every pull.
#[derive(Debug, Clone, clap::Args)]
#[allow(clippy::doc_markdown, reason = "the field docs are --help text, where backticks would show")]
pub struct ConnectArgs {
    /// The registry serves plain HTTP (credentials may be sent over it). Alone: the registry this
    /// command talks to (login's, the image's; for check: every registry in the manifests);
    /// --insecure=HOST[,HOST…]: only those.
    #[arg(long, value_name = "HOST,…", num_args = 0..=1, require_equals = true, default_missing_value = "", value_delimiter = ',')]
    pub insecure: Option<Vec<String>>,
    /// A certs.d-style directory (DIR/HOST[:PORT]/ca.crt, client.cert/client.key), searched
    /// before $REGCRED_CA_DIR, ~/.docker/certs.d, /etc/docker/certs.d and /etc/containers/certs.d.
    /// Repeatable.
    #[arg(long, value_name = "DIR")]
    pub ca_dir: Vec<PathBuf>,
}

/// The node a pull stands in for, and how to reach its registries.
#[derive(Debug, Clone, clap::Args)]
pub struct PullArgs {
    /// The node's platform.
    #[arg(long, default_value = "linux/amd64", value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Platform,
    /// Whose words the kubelet's event uses: containerd (2.1–2.3, the default), containerd-2.0,
    /// containerd-1.7 (1.7.8+ and 1.6.25+), containerd-1.6 (1.6.0–1.6.24, Debian 12's), cri-o, or
    /// docker (Docker Engine through cri-dockerd). Default: containerd (for check --cluster: the
    /// nodes' own, from their status).
    #[arg(long, value_name = "RUNTIME")]
    pub runtime: Option<Runtime>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl ConnectArgs {
    /// The user's options with these flags.
    pub fn options(&self, env: &Env) -> PullOptions {
        let mut options = PullOptions::for_user(env.home.as_deref());
        options.ca_dirs.splice(0..0, self.ca_dir.iter().cloned());
        options.insecure = self.insecure.is_some();
        options.insecure_hosts = self
            .insecure
            .iter()
            .flatten()
            .filter(|host| !host.is_empty())
            .map(|host| host.to_ascii_lowercase())
            .collect();
        options
    }
}

impl PullArgs {
    /// The user's options with these flags.
    pub fn options(&self, env: &Env) -> PullOptions {
        PullOptions {
            platform: self.platform.clone(),
            runtime: self.runtime.unwrap_or_default(),
            ..self.connect.options(env)
        }
    }
}
