//! Pod pull Secrets to keyring: a port of `MakeDockerKeyring` and `secretsToTrackedDockerConfigs`
//! from `pkg/credentialprovider/secrets/secrets.go`.
//!
//! For each Secret, in the order the pod lists them: a `kubernetes.io/dockerconfigjson` Secret
//! with a non-empty `.dockerconfigjson` is read as a `config.json`; failing that, a
//! `kubernetes.io/dockercfg` Secret with a non-empty `.dockercfg` is read as a legacy
//! `.dockercfg`; any other Secret (an `Opaque` one holding `.dockerconfigjson` included) is
//! ignored. All of them go into one keyring, so their keys are sorted together. A config that
//! does not parse fails the whole call, and with it every pull of the pod (the kubelet returns
//! the error from `EnsureImageExists`). The result is `UnionDockerKeyring{pod secrets, node}`.

use super::KeyringError;
use super::config::ConfigFormat;
use super::keyring::{CredentialOrigin, Keyring, UnionKeyring};
use crate::secret::Secret;

/// `v1.SecretTypeDockerConfigJson`.
pub(crate) const DOCKER_CONFIG_JSON_TYPE: &str = "kubernetes.io/dockerconfigjson";
/// `v1.DockerConfigJsonKey`.
pub(crate) const DOCKER_CONFIG_JSON_KEY: &str = ".dockerconfigjson";
/// `v1.SecretTypeDockercfg`.
pub(crate) const DOCKERCFG_TYPE: &str = "kubernetes.io/dockercfg";
/// `v1.DockerConfigKey`.
pub(crate) const DOCKERCFG_KEY: &str = ".dockercfg";

/// What the kubelet reads of a pull Secret.
#[derive(Debug, Clone, Copy)]
pub struct PullSecretData<'a> {
    /// The Secret's namespace.
    pub namespace: &'a str,
    /// The Secret's name.
    pub name: &'a str,
    /// The Secret's `type`.
    pub secret_type: &'a str,
    /// The decoded `.dockerconfigjson` value, if present.
    pub docker_config_json: Option<&'a Secret>,
    /// The decoded `.dockercfg` value, if present.
    pub dockercfg: Option<&'a Secret>,
}

impl<'a> PullSecretData<'a> {
    /// The config the kubelet reads from this Secret, with its layout and data key, or `None`
    /// when the kubelet ignores the Secret.
    pub(crate) fn kubelet_config(&self) -> Option<(ConfigFormat, &'a Secret, &'static str)> {
        let non_empty = |value: Option<&'a Secret>| value.filter(|secret| !secret.is_empty());
        if self.secret_type == DOCKER_CONFIG_JSON_TYPE
            && let Some(config) = non_empty(self.docker_config_json)
        {
            return Some((ConfigFormat::DockerConfigJson, config, DOCKER_CONFIG_JSON_KEY));
        }
        if self.secret_type == DOCKERCFG_TYPE
            && let Some(config) = non_empty(self.dockercfg)
        {
            return Some((ConfigFormat::DockerCfg, config, DOCKERCFG_KEY));
        }
        None
    }
}

/// `secretsToTrackedDockerConfigs`: one keyring from all the pod's usable pull Secrets, or
/// `None` when none is usable.
pub(crate) fn secrets_keyring(secrets: &[PullSecretData<'_>]) -> Result<Option<Keyring>, KeyringError> {
    let mut keyring = Keyring::new();
    let mut valid = 0;
    for secret in secrets {
        let Some((format, config, data_key)) = secret.kubelet_config() else {
            continue;
        };
        let origin = CredentialOrigin::PodSecret {
            namespace: secret.namespace.to_owned(),
            name: secret.name.to_owned(),
            data_key: data_key.to_owned(),
        };
        keyring.add_docker_config(config.expose().as_bytes(), format, &origin).map_err(|error| {
            KeyringError::InSecret {
                namespace: secret.namespace.to_owned(),
                name: secret.name.to_owned(),
                data_key: data_key.to_owned(),
                source: Box::new(error),
            }
        })?;
        valid += 1;
    }
    Ok((valid > 0).then_some(keyring))
}

/// `MakeDockerKeyring`: the pod's Secrets first, then the node's keyring.
pub fn make_docker_keyring(secrets: &[PullSecretData<'_>], node: Keyring) -> Result<UnionKeyring, KeyringError> {
    Ok(match secrets_keyring(secrets)? {
        Some(pod) => UnionKeyring::new(vec![pod, node]),
        None => UnionKeyring::new(vec![node]),
    })
}

#[cfg(test)]
mod tests {
    use super::{PullSecretData, make_docker_keyring};
    use crate::kubelet::{ConfigFormat, CredentialOrigin, Keyring};
    use crate::secret::Secret;

    fn secret<'a>(
        name: &'a str,
        secret_type: &'a str,
        json: Option<&'a Secret>,
        cfg: Option<&'a Secret>,
    ) -> PullSecretData<'a> {
        PullSecretData { namespace: "shop", name, secret_type, docker_config_json: json, dockercfg: cfg }
    }

    fn node_keyring() -> Keyring {
        let mut node = Keyring::new();
        let origin = CredentialOrigin::NodeConfig { path: "/var/lib/kubelet/config.json".to_owned() };
        let json =
            br#"{"auths":{"registry.io":{"username":"node"},"https://index.docker.io/v1/":{"username":"node-hub"}}}"#;
        node.add_docker_config(json, ConfigFormat::DockerConfigJson, &origin).unwrap();
        node
    }

    fn users(keyring: &crate::kubelet::UnionKeyring, image: &str) -> Vec<String> {
        keyring.lookup(image).unwrap().iter().map(|c| c.credential.username.clone()).collect()
    }

    #[test]
    fn pod_secrets_come_before_the_node() {
        let json = Secret::new(r#"{"auths":{"registry.io":{"username":"pod-json"}}}"#);
        let cfg = Secret::new(r#"{"registry.io/team":{"username":"pod-cfg"}}"#);
        let secrets = [
            secret("a", "kubernetes.io/dockerconfigjson", Some(&json), None),
            secret("b", "kubernetes.io/dockercfg", None, Some(&cfg)),
        ];
        let keyring = make_docker_keyring(&secrets, node_keyring()).unwrap();
        assert_eq!(users(&keyring, "registry.io/team/app"), ["pod-cfg", "pod-json", "node"]);
        assert_eq!(users(&keyring, "registry.io/other"), ["pod-json", "node"]);
        assert_eq!(users(&keyring, "nginx"), ["node-hub"]);
        let found = keyring.lookup("registry.io/team/app").unwrap();
        assert_eq!(
            found[0].origin,
            CredentialOrigin::PodSecret { namespace: "shop".into(), name: "b".into(), data_key: ".dockercfg".into() }
        );
    }

    #[test]
    fn type_and_key_must_agree() {
        let json = Secret::new(r#"{"auths":{"registry.io":{"username":"pod"}}}"#);
        let empty = Secret::new("");
        let ignored = [
            secret("opaque", "Opaque", Some(&json), None),
            secret("cfg-type-json-key", "kubernetes.io/dockercfg", Some(&json), None),
            secret("empty", "kubernetes.io/dockerconfigjson", Some(&empty), None),
            secret("absent", "kubernetes.io/dockerconfigjson", None, None),
        ];
        let keyring = make_docker_keyring(&ignored, node_keyring()).unwrap();
        assert_eq!(keyring.keyrings.len(), 1);
        assert_eq!(users(&keyring, "registry.io/app"), ["node"]);
    }

    #[test]
    fn one_bad_secret_fails_every_pull() {
        let good = Secret::new(r#"{"auths":{"registry.io":{"username":"pod"}}}"#);
        let bad = Secret::new(r#"{"auths":{"other.io":{"auth":"%%%"}}}"#);
        let secrets = [
            secret("good", "kubernetes.io/dockerconfigjson", Some(&good), None),
            secret("bad", "kubernetes.io/dockerconfigjson", Some(&bad), None),
        ];
        let error = make_docker_keyring(&secrets, node_keyring()).unwrap_err();
        assert_eq!(error.to_string(), "illegal base64 data at input byte 0");
        assert_eq!(error.secret(), Some(("shop", "bad", ".dockerconfigjson")));
    }
}
