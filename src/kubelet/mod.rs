//! The kubelet's image-pull credentials, reproduced: which credentials a node tries for a pod's
//! image, in which order, and what the pod's events and status say when that fails.
//!
//! This module owns the pure half of `regcred check`: reading pull Secrets and the node's Docker
//! config into a keyring, looking an image up in it, the order of the pull attempts, and the
//! kubelet's texts. It does no network and no file I/O. It ports the Kubernetes v1.33-era
//! sources (the release that added `TrackedAuthConfig` and `KubeletEnsureSecretPulledImages`;
//! read through a code index, as the repository could not be checked out at a tag), file and
//! function named on each item:
//!
//! - [`config`]: `pkg/credentialprovider/config.go` (reading `auths`, the `auth` field);
//! - [`keyring`]: `pkg/credentialprovider/keyring.go` (`BasicDockerKeyring.Add`/`Lookup`,
//!   `URLsMatch`, `isDefaultRegistryMatch`, `UnionDockerKeyring`) and the lookup in
//!   `pkg/kubelet/images/image_manager.go` (`EnsureImageExists`);
//! - [`secrets`]: `pkg/credentialprovider/secrets/secrets.go` (`MakeDockerKeyring`);
//! - [`pull_image`]: the credential loop of `PullImage` in
//!   `pkg/kubelet/kuberuntime/kuberuntime_image.go`, with [`aggregate_error`] for
//!   `utilerrors.NewAggregate` (`k8s.io/apimachinery/pkg/util/errors`);
//! - [`failed_to_retrieve_image_pull_secret`]: the event of `getPullSecretsForPod` in
//!   `pkg/kubelet/kubelet_pods.go`.

use std::fmt;

pub mod config;
pub(crate) mod golang;
pub mod keyring;
pub mod secrets;

pub use config::{ConfigFormat, DockerConfigEntry, parse_docker_config};
pub use keyring::{
    CredentialOrigin, IgnoredKey, Keyring, KeyringCredential, UnionKeyring, check_key, is_glob_key, repo_to_pull,
};
pub use secrets::{PullSecretData, make_docker_keyring, secrets_keyring};

use crate::image_ref::ImageRefError;

/// Why a keyring could not be built or asked. The texts are the kubelet's (Go's, for JSON type
/// errors; `serde_json`'s for JSON syntax errors). No variant holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    /// The image is not a valid reference (`parsers.ParseImageName`).
    #[error("couldn't parse image name {image:?}: {source}")]
    InvalidImage {
        /// The image as written.
        image: String,
        /// The reference grammar's complaint.
        source: ImageRefError,
    },
    /// The config is not JSON, or a field has the wrong type.
    #[error("{message}")]
    Json {
        /// Go's text for type errors, `serde_json`'s for syntax errors.
        message: String,
    },
    /// An `auth` field is not base64 (`base64.CorruptInputError`).
    #[error("illegal base64 data at input byte {offset}")]
    Base64 {
        /// The offset Go reports.
        offset: usize,
    },
    /// An `auth` field decodes to something without a `:`.
    #[error("unable to parse auth field, must be formatted as base64(username:password)")]
    AuthFormat,
    /// One of the pod's pull Secrets failed; the text is the inner error's, as the kubelet's.
    #[error("{source}")]
    InSecret {
        /// The Secret's namespace.
        namespace: String,
        /// The Secret's name.
        name: String,
        /// The data key that was read.
        data_key: String,
        /// What went wrong.
        source: Box<KeyringError>,
    },
}

impl KeyringError {
    /// The Secret (namespace, name, data key) an error came from, when it came from one.
    pub fn secret(&self) -> Option<(&str, &str, &str)> {
        match self {
            Self::InSecret { namespace, name, data_key, .. } => Some((namespace, name, data_key)),
            _ => None,
        }
    }
}

/// `Error()` of `utilerrors.NewAggregate(errs)` (apimachinery `pkg/util/errors/errors.go`):
/// one error is its own text; several are deduplicated (first occurrence kept) and joined as
/// `[a, b]`, unless they were all the same text, which is then shown once without brackets.
/// No error gives the empty string (Go returns a nil error then).
pub fn aggregate_error(messages: &[String]) -> String {
    if let [only] = messages {
        return only.clone();
    }
    let mut seen: Vec<&str> = Vec::new();
    for message in messages {
        if !seen.contains(&message.as_str()) {
            seen.push(message);
        }
    }
    match seen.as_slice() {
        [] => String::new(),
        [only] => (*only).to_owned(),
        several => format!("[{}]", several.join(", ")),
    }
}

/// The reason of the event [`failed_to_retrieve_image_pull_secret`] describes.
pub const FAILED_TO_RETRIEVE_IMAGE_PULL_SECRET: &str = "FailedToRetrieveImagePullSecret";

/// The message of the Warning event `FailedToRetrieveImagePullSecret` that
/// `Kubelet.getPullSecretsForPod` (`pkg/kubelet/kubelet_pods.go`) records when some of the
/// pod's `imagePullSecrets` cannot be fetched: `Unable to retrieve some image pull secrets (%s);
/// attempting to pull the image may not succeed.`, with the names joined by `", "` in the pod's
/// order (empty names are skipped before, so never listed).
pub fn failed_to_retrieve_image_pull_secret(missing: &[String]) -> String {
    format!(
        "Unable to retrieve some image pull secrets ({}); attempting to pull the image may not succeed.",
        missing.join(", ")
    )
}

/// Every attempt of a pull failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullFailure {
    /// Each attempt's error text, in order (one for an anonymous pull).
    pub errors: Vec<String>,
}

impl fmt::Display for PullFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&aggregate_error(&self.errors))
    }
}

impl std::error::Error for PullFailure {}

/// The credential loop of `kubeGenericRuntimeManager.PullImage`: with no credential, one
/// anonymous attempt; otherwise each credential in order until one succeeds, never falling back
/// to anonymous; when all fail, their errors aggregated. `pull` does the actual attempt (`None`
/// for anonymous) and returns the runtime's error text on failure.
pub fn pull_image<'k, T, E: fmt::Display>(
    credentials: &[&'k KeyringCredential],
    mut pull: impl FnMut(Option<&'k KeyringCredential>) -> Result<T, E>,
) -> Result<(T, Option<&'k KeyringCredential>), PullFailure> {
    if credentials.is_empty() {
        return pull(None).map(|pulled| (pulled, None)).map_err(|e| PullFailure { errors: vec![e.to_string()] });
    }
    let mut errors = Vec::with_capacity(credentials.len());
    for credential in credentials {
        match pull(Some(credential)) {
            Ok(pulled) => return Ok((pulled, Some(credential))),
            Err(error) => errors.push(error.to_string()),
        }
    }
    Err(PullFailure { errors })
}

#[cfg(test)]
mod tests {
    use super::{
        ConfigFormat, CredentialOrigin, Keyring, aggregate_error, failed_to_retrieve_image_pull_secret, pull_image,
    };

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn aggregate_format() {
        assert_eq!(aggregate_error(&[]), "");
        assert_eq!(aggregate_error(&strings(&["unauthorized"])), "unauthorized");
        assert_eq!(aggregate_error(&strings(&["a", "b"])), "[a, b]");
        assert_eq!(aggregate_error(&strings(&["a", "b", "a", "c"])), "[a, b, c]");
        assert_eq!(aggregate_error(&strings(&["same", "same"])), "same");
    }

    #[test]
    fn missing_secret_event() {
        assert_eq!(
            failed_to_retrieve_image_pull_secret(&strings(&["regcred", "other"])),
            "Unable to retrieve some image pull secrets (regcred, other); attempting to pull the image may not succeed."
        );
    }

    fn keyring() -> Keyring {
        let mut keyring = Keyring::new();
        let origin = CredentialOrigin::NodeConfig { path: "config.json".to_owned() };
        let json = br#"{"auths":{"r.io":{"username":"broad"},"r.io/team":{"username":"narrow"}}}"#;
        keyring.add_docker_config(json, ConfigFormat::DockerConfigJson, &origin).unwrap();
        keyring
    }

    #[test]
    fn every_credential_is_tried_in_order_then_aggregated() {
        let keyring = keyring();
        let credentials = keyring.lookup("r.io/team/app").unwrap();
        let mut tried = Vec::new();
        let result: Result<((), _), _> = pull_image(&credentials, |credential| {
            tried.push(credential.map(|c| c.username.clone()));
            Err(format!("denied for {}", credential.map_or("anonymous", |c| &c.username)))
        });
        assert_eq!(tried, [Some("narrow".to_owned()), Some("broad".to_owned())]);
        assert_eq!(result.unwrap_err().to_string(), "[denied for narrow, denied for broad]");
    }

    #[test]
    fn first_success_wins_and_anonymous_only_without_match() {
        let keyring = keyring();
        let credentials = keyring.lookup("r.io/team/app").unwrap();
        let pulled =
            pull_image(&credentials, |c| if c.is_some_and(|c| c.username == "broad") { Ok(7) } else { Err("no") });
        let (value, used) = pulled.unwrap();
        assert_eq!((value, used.map(|c| c.username.as_str())), (7, Some("broad")));

        let none = keyring.lookup("ghcr.io/team/app").unwrap();
        let mut calls = 0;
        let anonymous = pull_image(&none, |c| {
            calls += 1;
            if c.is_none() { Err("pull access denied") } else { Ok(()) }
        });
        assert_eq!(calls, 1);
        assert_eq!(anonymous.unwrap_err().to_string(), "pull access denied");
    }
}
