//! [`Manifests`] indexed by namespace and name, so that resolving every workload's pull Secrets
//! costs time linear in the manifests (100,000 documents), not in their square.

use std::collections::{HashMap, HashSet};

use super::{Manifests, PodSecrets, PullSecret, SecretsFrom, ServiceAccount, Workload};

/// [`Manifests`] indexed by namespace and name (the last object of each name wins, as a later
/// `kubectl apply` replaces an earlier one).
#[derive(Debug)]
pub struct Lookup<'m> {
    service_accounts: HashMap<(&'m str, &'m str), &'m ServiceAccount>,
    secrets: HashMap<(&'m str, &'m str), &'m PullSecret>,
    /// Each Secret name's first namespace in reading order.
    secret_namespaces: HashMap<&'m str, &'m str>,
    broken_secrets: HashSet<(&'m str, &'m str)>,
}

impl<'m> Lookup<'m> {
    pub(super) fn new(manifests: &'m Manifests) -> Self {
        let by_name = |namespace: &'m String, name: &'m String| (namespace.as_str(), name.as_str());
        let mut secret_namespaces = HashMap::new();
        for secret in &manifests.secrets {
            secret_namespaces.entry(secret.name.as_str()).or_insert(secret.namespace.as_str());
        }
        Self {
            service_accounts: manifests
                .service_accounts
                .iter()
                .map(|sa| (by_name(&sa.namespace, &sa.name), sa))
                .collect(),
            secrets: manifests
                .secrets
                .iter()
                .map(|secret| (by_name(&secret.namespace, &secret.name), secret))
                .collect(),
            secret_namespaces,
            broken_secrets: manifests.broken_secrets.iter().map(|(name, ns)| (name.as_str(), ns.as_str())).collect(),
        }
    }

    /// The `ServiceAccount` of that namespace and name.
    pub fn service_account(&self, namespace: &str, name: &str) -> Option<&'m ServiceAccount> {
        self.service_accounts.get(&(namespace, name)).copied()
    }

    /// The Secret of that namespace and name.
    pub fn secret(&self, namespace: &str, name: &str) -> Option<&'m PullSecret> {
        self.secrets.get(&(namespace, name)).copied()
    }

    /// Another namespace that has a Secret of that name (the first one read), if any.
    pub(crate) fn secret_elsewhere(&self, name: &str, namespace: &str) -> Option<&'m str> {
        self.secret_namespaces.get(name).copied().filter(|first| *first != namespace)
    }

    /// Whether a Secret of that name and namespace is in the manifests but could not be read.
    pub(crate) fn is_broken_secret(&self, name: &str, namespace: &str) -> bool {
        self.broken_secrets.contains(&(name, namespace))
    }

    /// The workload's pull Secrets as the cluster resolves them: the pod's own
    /// `imagePullSecrets`, or, only when it names none (not even an empty name), those of its
    /// `ServiceAccount` in the same namespace; then each name looked up in the same namespace.
    pub fn pod_pull_secrets(&self, workload: &Workload) -> PodSecrets<'m> {
        let sa_name = workload.service_account_name.clone();
        let (from, names) = if workload.image_pull_secrets.is_empty() {
            match self.service_account(&workload.namespace, &sa_name) {
                Some(sa) => (SecretsFrom::ServiceAccount { name: sa_name }, sa.image_pull_secrets.clone()),
                None => (SecretsFrom::UnknownServiceAccount { name: sa_name }, Vec::new()),
            }
        } else {
            (SecretsFrom::Pod, workload.image_pull_secrets.clone())
        };
        let names: Vec<String> = names.into_iter().filter(|name| !name.is_empty()).collect();
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for name in &names {
            match self.secret(&workload.namespace, name) {
                Some(secret) => found.push(secret),
                None => missing.push(name.clone()),
            }
        }
        PodSecrets { from, names, found, missing }
    }
}
