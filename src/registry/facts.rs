//! Everything about a failed pull that the words of the report need, gathered once from what
//! the pull recorded (see [`super::failure`]).

use super::report::{RegistryError, Stage};

/// The token request that failed, as recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenAttempt {
    /// The realm as the challenge gave it.
    pub realm: String,
    /// The `service` parameter.
    pub service: String,
    /// The scope asked for.
    pub scope: String,
    /// `POST` or `GET`: the last request made.
    pub method: String,
    /// Its status.
    pub status: Option<u16>,
    /// The error envelope of its answer.
    pub errors: Vec<RegistryError>,
    /// Whether the last request was the `POST` and no `GET` followed (an identity token, or a
    /// `POST` answered with a status that gets no fallback).
    pub post_only: bool,
}

/// Everything about a failed pull that the words need.
#[derive(Debug, Clone)]
#[expect(clippy::struct_excessive_bools, reason = "observed facts, each one yes or no; not a state machine")]
pub struct Facts<'a> {
    /// The image as written in the Pod.
    pub image: &'a str,
    /// The normalized reference (`docker.io/library/nginx:latest`).
    pub reference: String,
    /// The repository's full name (`docker.io/library/nginx`).
    pub name: String,
    /// Docker's short name (`nginx`, `user/app`, `quay.io/team/app`).
    pub familiar_name: String,
    /// Docker's short reference (`nginx:1.0`).
    pub familiar_ref: String,
    /// The host requests go to, `host[:port]` (`registry-1.docker.io` for Docker Hub).
    pub host: String,
    /// The tag or digest asked for.
    pub manifest_ref: String,
    /// `https://HOST/v2/REPO/manifests/REF`: the runtime's first request.
    pub manifest_url: String,
    /// `https://HOST/v2/`.
    pub ping_url: String,
    /// Where the pull stopped.
    pub stage: Stage,
    /// The failing request's URL.
    pub url: String,
    /// The failing response's status.
    pub status: Option<u16>,
    /// The registry's error envelope.
    pub errors: &'a [RegistryError],
    /// The `error` parameter of the failing response's Bearer challenge (`insufficient_scope`).
    pub challenge_error: Option<&'a str>,
    /// Whether the registry asked for Basic auth.
    pub basic: bool,
    /// Whether a credential was sent.
    pub credentials_sent: bool,
    /// The token request, when that is what failed.
    pub token: Option<&'a TokenAttempt>,
    /// The realm.
    pub realm: String,
    /// `REALM?scope=…&service=…` as containerd's `GET` builds it (keys sorted, values escaped).
    pub token_get_url: String,
    /// See [`TokenAttempt::post_only`].
    pub token_post_only: bool,
    /// The transport failure in Go's words (`dial tcp …: connect: connection refused`).
    pub go_error: String,
    /// regcred's own technical detail.
    pub cause: &'a str,
    /// The index digest, when the platform was missing from it.
    pub index_digest: String,
    /// The node's platform (`os`, `architecture`, `variant`).
    pub platform: (String, String, String),
    /// Whether the tag points to an index (manifest list).
    pub from_index: bool,
    /// The blob that failed.
    pub blob_digest: String,
    /// Its media type.
    pub blob_media_type: String,
    /// Whether it is the image's config.
    pub blob_is_config: bool,
    /// The digest the bytes really had.
    pub actual_digest: String,
}

impl Facts<'_> {
    /// `401 Unauthorized`.
    pub fn status_line(&self) -> String {
        status_line(self.status)
    }

    /// Whether the token request is what failed.
    pub fn token_failed(&self) -> bool {
        self.token.is_some() && self.stage == Stage::Token
    }

    /// The token service's status line.
    pub fn token_status_line(&self) -> String {
        status_line(self.token.and_then(|t| t.status))
    }

    /// The token service's refusal as the distribution client and containers/image print it.
    pub fn token_error(&self) -> String {
        match self.token.and_then(|t| t.errors.first()) {
            Some(error) if !error.message.is_empty() => {
                format!("{}: {}", error.code.to_ascii_lowercase().replace('_', " "), error.message)
            }
            _ => "unauthorized: authentication required".to_owned(),
        }
    }

    /// Whether the stop happened while resolving the tag (the runtime's `HEAD`).
    pub fn stage_is_resolve(&self) -> bool {
        self.stage == Stage::Manifest && self.url.ends_with(&format!("/manifests/{}", self.manifest_ref))
    }

    /// `(os, architecture, variant)` of the node.
    pub fn wanted_platform(&self) -> (&str, &str, &str) {
        (&self.platform.0, &self.platform.1, &self.platform.2)
    }

    /// containers/image's prefix for blobs of an image chosen from a list.
    pub fn from_list_prefix(&self) -> &'static str {
        if self.from_index { "copying system image from manifest list: " } else { "" }
    }

    /// Whether the registry's errors carry details.
    pub fn errors_have_detail(&self) -> bool {
        self.errors.iter().any(|e| e.detail.is_some())
    }

    /// The first registry error code.
    pub fn first_code(&self) -> &str {
        self.errors.first().map_or("", |e| e.code.as_str())
    }
}

fn status_line(status: Option<u16>) -> String {
    status
        .and_then(|s| reqwest::StatusCode::from_u16(s).ok())
        .map(|s| format!("{} {}", s.as_u16(), s.canonical_reason().unwrap_or_default()).trim().to_owned())
        .unwrap_or_default()
}
