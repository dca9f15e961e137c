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
//! - `config`: `pkg/credentialprovider/config.go` (reading `auths`, the `auth` field);
//! - `keyring`: `pkg/credentialprovider/keyring.go` (`BasicDockerKeyring.Add`/`Lookup`,
//!   `URLsMatch`, `isDefaultRegistryMatch`, `UnionDockerKeyring`) and the lookup in
//!   `pkg/kubelet/images/image_manager.go` (`EnsureImageExists`);
//! - `secrets`: `pkg/credentialprovider/secrets/secrets.go` (`MakeDockerKeyring`);
//! - `pull_image`: the credential loop of `PullImage` in
//!   `pkg/kubelet/kuberuntime/kuberuntime_image.go` — the loop `regcred check` runs, each attempt
//!   a real test pull — with [`aggregate_error`] for `utilerrors.NewAggregate`
//!   (`k8s.io/apimachinery/pkg/util/errors`);
//! - [`failed_to_retrieve_image_pull_secret`]: the event of `getPullSecretsForPod` in
//!   `pkg/kubelet/kubelet_pods.go`.

pub(crate) mod config;
pub(crate) mod golang;
pub(crate) mod keyring;
pub(crate) mod secrets;

pub use config::{ConfigFormat, DockerConfigEntry};
pub use keyring::{CredentialOrigin, Keyring, KeyringCredential, UnionKeyring, check_key};
pub(crate) use secrets::secrets_keyring;
pub use secrets::{PullSecretData, make_docker_keyring};

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
pub(crate) const FAILED_TO_RETRIEVE_IMAGE_PULL_SECRET: &str = "FailedToRetrieveImagePullSecret";

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

/// Every attempt of the credential loop: the one that pulled (if one did) and those that failed
/// before it, each with the credential it used (`None`: anonymous), in order.
#[derive(Debug)]
pub(crate) struct Attempts<'c, C, R> {
    /// The attempt that pulled.
    pub(crate) pulled: Option<(Option<&'c C>, R)>,
    /// The attempts that failed, in order.
    pub(crate) failed: Vec<(Option<&'c C>, R)>,
}

/// The credential loop of `kubeGenericRuntimeManager.PullImage`: with no credential, one
/// anonymous attempt; otherwise each credential in order until one succeeds, never falling back
/// to anonymous. `pull` makes an attempt (`None` for anonymous) and says how it went (`Ok`: it
/// pulled). This is the loop `regcred check` runs, attempt by attempt a real pull.
pub(crate) async fn pull_image<'c, C, R, F, Fut>(credentials: &'c [C], mut pull: F) -> Attempts<'c, C, R>
where
    F: FnMut(Option<&'c C>) -> Fut,
    Fut: std::future::Future<Output = Result<R, R>>,
{
    let attempts: Vec<Option<&'c C>> =
        if credentials.is_empty() { vec![None] } else { credentials.iter().map(Some).collect() };
    let mut failed = Vec::with_capacity(attempts.len());
    for credential in attempts {
        match pull(credential).await {
            Ok(pulled) => return Attempts { pulled: Some((credential, pulled)), failed },
            Err(error) => failed.push((credential, error)),
        }
    }
    Attempts { pulled: None, failed }
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

    /// Runs a loop whose attempts are ready at once.
    fn run<'c, R>(
        credentials: &'c [&'c crate::kubelet::KeyringCredential],
        mut pull: impl FnMut(Option<&'c crate::kubelet::KeyringCredential>) -> Result<R, R>,
    ) -> super::Attempts<'c, &'c crate::kubelet::KeyringCredential, R> {
        use futures_util::FutureExt as _;
        pull_image(credentials, |c| std::future::ready(pull(c.copied()))).now_or_never().unwrap()
    }

    #[test]
    fn every_credential_is_tried_in_order_then_aggregated() {
        let keyring = keyring();
        let credentials = keyring.lookup("r.io/team/app").unwrap();
        let mut tried = Vec::new();
        let attempts = run(&credentials, |credential| {
            tried.push(credential.map(|c| c.credential.username.clone()));
            Err::<String, String>(format!("denied for {}", credential.map_or("anonymous", |c| &c.credential.username)))
        });
        assert_eq!(tried, [Some("narrow".to_owned()), Some("broad".to_owned())]);
        assert!(attempts.pulled.is_none());
        let errors: Vec<String> = attempts.failed.into_iter().map(|(_, error)| error).collect();
        assert_eq!(aggregate_error(&errors), "[denied for narrow, denied for broad]");
    }

    #[test]
    fn first_success_wins_and_anonymous_only_without_match() {
        let keyring = keyring();
        let credentials = keyring.lookup("r.io/team/app").unwrap();
        let pulled =
            run(&credentials, |c| if c.is_some_and(|c| c.credential.username == "broad") { Ok(7) } else { Err(0) });
        let (used, value) = pulled.pulled.unwrap();
        assert_eq!((value, used.map(|c| c.credential.username.as_str())), (7, Some("broad")));
        assert_eq!(pulled.failed.len(), 1, "the narrow one failed first");

        let none = keyring.lookup("ghcr.io/team/app").unwrap();
        let mut calls = 0;
        let anonymous = run(&none, |c| {
            calls += 1;
            if c.is_none() { Err("pull access denied") } else { Ok("pulled") }
        });
        assert_eq!(calls, 1);
        assert_eq!(anonymous.failed.len(), 1);
        assert_eq!(anonymous.failed[0].1, "pull access denied");
    }
}
