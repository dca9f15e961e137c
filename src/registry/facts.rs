//! Everything about a failed pull that the words of the report need, gathered once from what
//! the pull recorded (see [`super::failure`]).

use super::report::{RegistryError, Stage};

/// The repository a login check names for its report (it is never requested: the check is `GET
/// /v2/`).
pub(crate) const LOGIN_PROBE: &str = "regcred-login-check";

/// How a login check's cause starts when the registry's `401` cannot be answered (no challenge,
/// or none in a scheme the runtimes speak).
pub(crate) const UNANSWERABLE_401: &str = "GET /v2/ answered 401";

/// The token request that failed, as recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TokenAttempt {
    /// The realm as the challenge gave it.
    pub(crate) realm: String,
    /// The `service` parameter.
    pub(crate) service: String,
    /// The scope asked for.
    pub(crate) scope: String,
    /// The user name, sent as `account` by Docker and containers/image (none for an identity
    /// token, or without a credential).
    pub(crate) account: String,
    /// `POST` or `GET`: the last request made.
    pub(crate) method: String,
    /// Its status.
    pub(crate) status: Option<u16>,
    /// The error envelope of its answer.
    pub(crate) errors: Vec<RegistryError>,
    /// Whether the last request was the `POST` and no `GET` followed (an identity token, or a
    /// `POST` answered with a status that gets no fallback).
    pub(crate) post_only: bool,
}

/// Everything about a failed pull that the words need.
#[derive(Debug, Clone)]
#[expect(clippy::struct_excessive_bools, reason = "observed facts, each one yes or no; not a state machine")]
pub(crate) struct Facts<'a> {
    /// The image as written in the Pod.
    pub(crate) image: &'a str,
    /// The normalized reference (`docker.io/library/nginx:latest`).
    pub(crate) reference: String,
    /// The repository's full name (`docker.io/library/nginx`).
    pub(crate) name: String,
    /// Docker's short name (`nginx`, `user/app`, `quay.io/team/app`).
    pub(crate) familiar_name: String,
    /// Docker's short reference (`nginx:1.0`).
    pub(crate) familiar_ref: String,
    /// The host requests go to, `host[:port]` (`registry-1.docker.io` for Docker Hub).
    pub(crate) host: String,
    /// The tag or digest asked for.
    pub(crate) manifest_ref: String,
    /// `https://HOST/v2/REPO/manifests/REF`: the runtime's first request.
    pub(crate) manifest_url: String,
    /// `https://HOST/v2/`.
    pub(crate) ping_url: String,
    /// Where the pull stopped.
    pub(crate) stage: Stage,
    /// The failing request's URL.
    pub(crate) url: String,
    /// The failing response's status.
    pub(crate) status: Option<u16>,
    /// The registry's error envelope.
    pub(crate) errors: &'a [RegistryError],
    /// The `error` parameter of the failing response's Bearer challenge (`insufficient_scope`).
    pub(crate) challenge_error: Option<&'a str>,
    /// Whether the registry asked for Basic auth.
    pub(crate) basic: bool,
    /// Whether a credential was sent.
    pub(crate) credentials_sent: bool,
    /// The token request, when that is what failed.
    pub(crate) token: Option<&'a TokenAttempt>,
    /// The realm.
    pub(crate) realm: String,
    /// `REALM?scope=…&service=…` as containerd's `GET` builds it (keys sorted, values escaped).
    pub(crate) token_get_url: String,
    /// `REALM?account=…&scope=…&service=…` as Docker's and containers/image's token `GET` builds
    /// it (`account` with a user name and password).
    pub(crate) token_account_url: String,
    /// See [`TokenAttempt::post_only`].
    pub(crate) token_post_only: bool,
    /// The transport failure in Go's words (`dial tcp …: connect: connection refused`).
    pub(crate) go_error: String,
    /// regcred's own technical detail.
    pub(crate) cause: &'a str,
    /// The index digest, when the platform was missing from it.
    pub(crate) index_digest: String,
    /// The node's platform (`os`, `architecture`, `variant`).
    pub(crate) platform: (String, String, String),
    /// Whether the tag points to an index (manifest list).
    pub(crate) from_index: bool,
    /// Whether that index is an OCI image index (containers/image calls it so; a Docker list is a
    /// manifest list).
    pub(crate) oci_index: bool,
    /// The blob that failed.
    pub(crate) blob_digest: String,
    /// Its size, as the manifest announces it.
    pub(crate) blob_size: u64,
    /// Its media type.
    pub(crate) blob_media_type: String,
    /// Whether it is the image's config.
    pub(crate) blob_is_config: bool,
    /// The digest the bytes really had.
    pub(crate) actual_digest: String,
}

impl Facts<'_> {
    /// `401 Unauthorized`.
    pub(crate) fn status_line(&self) -> String {
        status_line(self.status)
    }

    /// Whether the token request is what failed.
    /// Whether this is a login check (`GET /v2/` with the credential), not a pull.
    pub(crate) fn is_login_check(&self) -> bool {
        self.name.ends_with(&format!("/{LOGIN_PROBE}"))
    }

    pub(crate) fn token_failed(&self) -> bool {
        self.token.is_some() && self.stage == Stage::Token
    }

    /// The token service's status line.
    pub(crate) fn token_status_line(&self) -> String {
        status_line(self.token.and_then(|t| t.status))
    }

    /// The token service's refusal as the distribution client and containers/image print it.
    pub(crate) fn token_error(&self) -> String {
        match self.token.and_then(|t| t.errors.first()) {
            Some(error) if !error.message.is_empty() => {
                format!("{}: {}", error.code.to_ascii_lowercase().replace('_', " "), error.message)
            }
            _ => "unauthorized: authentication required".to_owned(),
        }
    }

    /// Whether the stop happened while resolving the tag (the runtime's `HEAD`).
    pub(crate) fn stage_is_resolve(&self) -> bool {
        self.stage == Stage::Manifest && self.url.ends_with(&format!("/manifests/{}", self.manifest_ref))
    }

    /// `(os, architecture, variant)` of the node.
    pub(crate) fn wanted_platform(&self) -> (&str, &str, &str) {
        (&self.platform.0, &self.platform.1, &self.platform.2)
    }

    /// containers/image's prefix for blobs of an image chosen from a list.
    pub(crate) fn chosen_from_list_prefix(&self) -> &'static str {
        if self.from_index { "copying system image from manifest list: " } else { "" }
    }

    /// Whether the registry's errors carry details.
    pub(crate) fn errors_have_detail(&self) -> bool {
        self.errors.iter().any(|e| e.detail.is_some())
    }

    /// The first registry error code.
    pub(crate) fn first_code(&self) -> &str {
        self.errors.first().map_or("", |e| e.code.as_str())
    }
}

fn status_line(status: Option<u16>) -> String {
    status
        .and_then(|s| reqwest::StatusCode::from_u16(s).ok())
        .map(|s| format!("{} {}", s.as_u16(), s.canonical_reason().unwrap_or_default()).trim().to_owned())
        .unwrap_or_default()
}
