//! Which cluster, as the user's kubeconfig says (`KUBECONFIG` and its merge rules, or
//! `~/.kube/config`; `--kubeconfig`, `--context`, `--namespace`), or the ServiceAccount of the Pod
//! regcred runs in.

use std::path::PathBuf;

use kube::config::{KubeConfigOptions, Kubeconfig};

use super::refusal::ClusterError;

/// Where to connect, as the user chose it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// `--kubeconfig`: one file instead of `KUBECONFIG` / `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`: a context of the kubeconfig instead of its current one.
    pub context: Option<String>,
    /// `--namespace`: instead of the context's namespace (or `default`).
    pub namespace: Option<String>,
}

/// A connected cluster.
#[derive(Clone)]
pub struct Cluster {
    /// The client (authentication, TLS, proxy as the kubeconfig says).
    pub client: kube::Client,
    /// The context's name (`in-cluster` inside a Pod).
    pub context: String,
    /// The namespace to work in.
    pub namespace: String,
    /// The API server's URL.
    pub server: String,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("context", &self.context)
            .field("namespace", &self.namespace)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// `context CTX, namespace NS (URL)` for reports.
    pub fn describe(&self) -> String {
        format!("context {}, namespace {} ({})", self.context, self.namespace, self.server)
    }
}

/// Connects as kubectl would: `--kubeconfig`, else `KUBECONFIG` (its files merged, the first to set
/// a value wins), else `~/.kube/config`, else the in-cluster ServiceAccount. No request is made
/// yet; an exec credential plugin runs at the first request.
pub async fn connect(target: &Target) -> Result<Cluster, ClusterError> {
    let kubeconfig = match &target.kubeconfig {
        Some(path) => Some(read_kubeconfig(path, "")?),
        None => user_kubeconfig()?,
    };
    let (config, context) = match kubeconfig {
        Some(kubeconfig) => {
            let context = target
                .context
                .clone()
                .or_else(|| kubeconfig.current_context.clone())
                .ok_or_else(|| ClusterError::Config(no_context(&kubeconfig)))?;
            if !kubeconfig.contexts.iter().any(|named| named.name == context) {
                return Err(ClusterError::Config(unknown_context(&kubeconfig, &context)));
            }
            let options = KubeConfigOptions { context: Some(context.clone()), ..KubeConfigOptions::default() };
            let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options).await.map_err(|error| {
                ClusterError::Config(format!("the kubeconfig's context {context} cannot be used: {error}"))
            })?;
            (config, context)
        }
        None if target.context.is_some() => {
            return Err(ClusterError::Config(
                "--context needs a kubeconfig: KUBECONFIG is not set and ~/.kube/config does not exist".to_owned(),
            ));
        }
        None => {
            let config = kube::Config::incluster().map_err(|error| {
                ClusterError::Config(format!(
                    "no kubeconfig (KUBECONFIG is not set and ~/.kube/config does not exist) and not inside a \
                     cluster ({error}); pass --kubeconfig FILE or set KUBECONFIG"
                ))
            })?;
            (config, "in-cluster".to_owned())
        }
    };
    let namespace = target.namespace.clone().unwrap_or_else(|| config.default_namespace.clone());
    let server = config.cluster_url.to_string().trim_end_matches('/').to_owned();
    let client = kube::Client::try_from(config)
        .map_err(|error| ClusterError::Config(format!("cannot make a client for {server}: {error}")))?;
    Ok(Cluster { client, context, namespace, server })
}

/// `KUBECONFIG`'s files merged (files that do not exist are skipped, as kubectl skips them), or
/// `~/.kube/config`; none when neither exists.
fn user_kubeconfig() -> Result<Option<Kubeconfig>, ClusterError> {
    if let Some(value) = std::env::var_os("KUBECONFIG").filter(|value| !value.is_empty()) {
        // As kubectl: when KUBECONFIG is set, only its files count (~/.kube/config is not read).
        let named: Vec<PathBuf> = std::env::split_paths(&value).filter(|path| !path.as_os_str().is_empty()).collect();
        let paths: Vec<&PathBuf> = named.iter().filter(|path| path.exists()).collect();
        if paths.is_empty() {
            let listed: Vec<String> = named.iter().map(|path| path.display().to_string()).collect();
            return Err(ClusterError::Config(format!(
                "KUBECONFIG names no file that exists ({}): fix it, or unset it to use ~/.kube/config",
                listed.join(", ")
            )));
        }
        let mut merged = Kubeconfig::default();
        for path in paths {
            let next = read_kubeconfig(path, " (from KUBECONFIG)")?;
            merged = merged.merge(next).map_err(|error| {
                ClusterError::Config(format!("cannot merge the kubeconfig {}: {error}", path.display()))
            })?;
        }
        return Ok(Some(merged));
    }
    let Some(home) = std::env::var_os("HOME").filter(|home| !home.is_empty()).map(PathBuf::from) else {
        return Ok(None);
    };
    let path = home.join(".kube").join("config");
    if !path.exists() {
        return Ok(None);
    }
    read_kubeconfig(&path, "").map(Some)
}

/// One kubeconfig file, with errors that name it once (`from` says where its name came from).
fn read_kubeconfig(path: &std::path::Path, from: &str) -> Result<Kubeconfig, ClusterError> {
    if !path.exists() {
        return Err(ClusterError::Config(format!("the kubeconfig {}{from} does not exist", path.display())));
    }
    Kubeconfig::read_from(path).map_err(|error| {
        // kube's own words repeat the path in Debug quotes; its cause says what is wrong.
        let cause = std::error::Error::source(&error).map_or_else(|| error.to_string(), ToString::to_string);
        ClusterError::Config(format!("cannot read the kubeconfig {}{from}: {cause}", path.display()))
    })
}

fn context_names(kubeconfig: &Kubeconfig) -> String {
    let names: Vec<&str> = kubeconfig.contexts.iter().map(|named| named.name.as_str()).collect();
    if names.is_empty() { "it has none".to_owned() } else { format!("it has {}", names.join(", ")) }
}

fn no_context(kubeconfig: &Kubeconfig) -> String {
    format!("the kubeconfig has no current context: pass --context NAME ({})", context_names(kubeconfig))
}

fn unknown_context(kubeconfig: &Kubeconfig, context: &str) -> String {
    format!("the kubeconfig has no context {context:?} ({})", context_names(kubeconfig))
}

/// The kubeconfig's contexts, for a picker: their names and namespaces, and the current one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contexts {
    /// Each context's name and namespace (`default` when it names none), in the file's order.
    pub contexts: Vec<(String, String)>,
    /// The current context, when the kubeconfig names one.
    pub current: Option<String>,
}

impl Contexts {
    /// The namespace of `context` (`default` when unknown).
    pub fn namespace_of(&self, context: &str) -> &str {
        self.contexts.iter().find(|(name, _)| name == context).map_or("default", |(_, namespace)| namespace.as_str())
    }
}

/// Reads the kubeconfig `connect` would use (`kubeconfig`, else `KUBECONFIG`, else
/// `~/.kube/config`) for its contexts; empty when there is none. No request is made.
pub fn contexts(kubeconfig: Option<&std::path::Path>) -> Result<Contexts, ClusterError> {
    let kubeconfig = match kubeconfig {
        Some(path) => Some(read_kubeconfig(path, "")?),
        None => user_kubeconfig()?,
    };
    let Some(kubeconfig) = kubeconfig else { return Ok(Contexts::default()) };
    let contexts = kubeconfig
        .contexts
        .iter()
        .map(|named| {
            let namespace = named.context.as_ref().and_then(|context| context.namespace.clone());
            (named.name.clone(), namespace.unwrap_or_else(|| "default".to_owned()))
        })
        .collect();
    Ok(Contexts { contexts, current: kubeconfig.current_context.clone() })
}
