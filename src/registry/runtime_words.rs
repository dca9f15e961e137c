//! What each container runtime says when a pull fails, byte for byte as it reaches the Pod's
//! event: containerd 2.1–2.3 (the default), 2.0, 1.7 (and 1.6.25+), 1.6.0–1.6.24, CRI-O, and Docker Engine through
//! cri-dockerd. Every string is derived from that project's source at a named release tag; the
//! table with each string's file and function is `docs/runtime-messages.md`.
//!
//! The runtime's text becomes the kubelet's event `Failed to pull image "IMAGE": TEXT`; a gRPC
//! code other than `Unknown` keeps its `rpc error: code = … desc = ` prefix (the kubelet strips
//! only `Unknown`, since Kubernetes 1.28: `k8s.io/cri-client` `remote_image.go`).

use super::facts::Facts;
use super::node::Runtime;
use super::report::{FailureClass, Stage};

/// The gRPC status code a runtime's error reaches the kubelet with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    /// Stripped by the kubelet: the bare text is shown.
    Unknown,
    /// `rpc error: code = NotFound desc = …`.
    NotFound,
    /// `rpc error: code = DeadlineExceeded desc = …`.
    DeadlineExceeded,
    /// `rpc error: code = FailedPrecondition desc = …`.
    FailedPrecondition,
}

/// A runtime's words for one failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuntimeMessage {
    /// The runtime's error text.
    pub(crate) text: String,
    /// Its gRPC code.
    pub(crate) code: Code,
    /// The container's waiting reason (`ErrImagePull`, or CRI-O's `RegistryUnavailable`).
    pub(crate) reason: &'static str,
}

impl RuntimeMessage {
    fn new(text: String, code: Code) -> Self {
        Self { text, code, reason: "ErrImagePull" }
    }

    /// The event `kubectl describe pod` shows.
    pub(crate) fn event(&self, image: &str) -> String {
        let prefix = match self.code {
            Code::Unknown => "",
            Code::NotFound => "rpc error: code = NotFound desc = ",
            Code::DeadlineExceeded => "rpc error: code = DeadlineExceeded desc = ",
            Code::FailedPrecondition => "rpc error: code = FailedPrecondition desc = ",
        };
        format!("Failed to pull image \"{image}\": {prefix}{}", self.text)
    }
}

/// The runtime's words for a failure of `class` (not an invalid reference: that one is the
/// kubelet's own).
pub(crate) fn message(runtime: Runtime, class: FailureClass, facts: &Facts<'_>) -> RuntimeMessage {
    match runtime {
        Runtime::Containerd => containerd(class, facts, Containerd::V2),
        Runtime::Containerd20 => containerd(class, facts, Containerd::V20),
        Runtime::Containerd17 => containerd(class, facts, Containerd::V17),
        Runtime::Containerd16 => containerd(class, facts, Containerd::V16),
        Runtime::CriO => cri_o(class, facts),
        Runtime::Docker => docker(class, facts),
    }
}

/// Which containerd's words.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Containerd {
    /// 2.1–2.3: the transfer service's `failed to resolve image`, errors joined with a newline.
    V2,
    /// 2.0: as 2.1, but the resolve step is still `failed to resolve reference %q`.
    V20,
    /// 1.7.8+ and 1.6.25+: `unexpected status from METHOD request to URL: S`.
    V17,
    /// 1.6.0–1.6.24: `pulling from host H failed with status code [manifests T]: S`, a token
    /// failure without method and URL, no `no basic auth credentials`.
    V16,
}

/// containerd (`core/remotes/docker` resolver, authorizer and fetcher; the CRI's
/// `failed to pull and unpack image %q: %w`), in the words of `version`.
fn containerd(class: FailureClass, f: &Facts<'_>, version: Containerd) -> RuntimeMessage {
    let pull = format!("failed to pull and unpack image \"{}\"", f.reference);
    let resolve = match version {
        Containerd::V2 => "failed to resolve image".to_owned(),
        _ => format!("failed to resolve reference \"{}\"", f.reference),
    };
    let resolved = |inner: &str| format!("{pull}: {resolve}: {inner}");
    let v17 = matches!(version, Containerd::V17 | Containerd::V16);
    let v16 = version == Containerd::V16;
    let go_error = if v16 { before_go_120(&f.go_error) } else { f.go_error.as_str() };
    let head = if v16 {
        format!(
            "pulling from host {} failed with status code [manifests {}]: {}",
            f.host,
            f.manifest_ref,
            f.status_line()
        )
    } else {
        format!("unexpected status from HEAD request to {}: {}", f.manifest_url, f.status_line())
    };
    let denied = "pull access denied, repository does not exist or may require authorization";
    let unknown = |text: String| RuntimeMessage::new(text, Code::Unknown);
    match class {
        _ if token_unreachable(class, f) => containerd_token_unreachable(f, &resolved, go_error),
        FailureClass::DnsFailure
        | FailureClass::ConnectionRefused
        | FailureClass::TlsUnknownAuthority
        | FailureClass::TlsFailure
        | FailureClass::TlsClientCertificate
        | FailureClass::HttpToHttps => {
            unknown(resolved(&format!("failed to do request: Head \"{}\": {}", f.manifest_url, go_error)))
        }
        FailureClass::Timeout | FailureClass::DnsTimeout => RuntimeMessage::new(
            resolved(&format!("failed to do request: Head \"{}\": {}", f.manifest_url, go_error)),
            if go_error.ends_with("i/o timeout") { Code::DeadlineExceeded } else { Code::Unknown },
        ),
        FailureClass::WrongCredentialsBasic | FailureClass::ServerError => unknown(resolved(&head)),
        // Any other status the resolver meets (a TLS port that 1.6 spoke plain HTTP to says 400).
        FailureClass::Protocol if f.status.is_some() && (f.stage == Stage::Ping || f.stage_is_resolve()) => {
            unknown(resolved(&head))
        }
        FailureClass::WrongCredentialsToken => {
            unknown(resolved(&format!("failed to authorize: {}", token_text(f, true, v16))))
        }
        FailureClass::NoCredentials if f.token_failed() => {
            unknown(resolved(&format!("failed to authorize: {}", token_text(f, false, v16))))
        }
        FailureClass::NoCredentials if f.basic && v16 => unknown(resolved(&head)),
        FailureClass::NoCredentials if f.basic => {
            unknown(resolved(&format!("{denied}: authorization failed: no basic auth credentials")))
        }
        FailureClass::NoCredentials => unknown(resolved(&format!(
            "{denied}: server message: {}: authorization failed",
            f.challenge_error.unwrap_or("insufficient_scope")
        ))),
        FailureClass::Denied if f.status == Some(401) || f.challenge_error.is_some() => unknown(resolved(&format!(
            "{denied}: server message: {}: authorization failed",
            f.challenge_error.unwrap_or("insufficient_scope")
        ))),
        FailureClass::Denied if v17 || f.errors.is_empty() => unknown(resolved(&head)),
        FailureClass::Denied => unknown(resolved(&format!("{head}\n{}", containerd_errors(f)))),
        FailureClass::RepositoryUnknown | FailureClass::TagUnknown => {
            RuntimeMessage::new(resolved(&format!("{}: not found", f.reference)), Code::NotFound)
        }
        FailureClass::PlatformMissing if v17 => {
            RuntimeMessage::new(format!("{pull}: no match for platform in manifest: not found"), Code::NotFound)
        }
        FailureClass::PlatformMissing => RuntimeMessage::new(
            format!("get image config descriptor: no match for platform in manifest {}: not found", f.index_digest),
            Code::NotFound,
        ),
        FailureClass::RateLimited if f.stage_is_resolve() => unknown(resolved(&head)),
        FailureClass::RateLimited if v17 => unknown(format!(
            "{pull}: failed to copy: httpReadSeeker: failed open: unexpected status code {}: {} - Server message: {}",
            f.url,
            f.status_line(),
            containerd_errors(f)
        )),
        FailureClass::RateLimited => unknown(format!(
            "{pull}: failed to copy: httpReadSeeker: failed open: unexpected status from GET request to {}: {}\n{}",
            f.url,
            f.status_line(),
            containerd_errors(f)
        )),
        FailureClass::BlobMissing => RuntimeMessage::new(
            format!(
                "{pull}: failed to copy: httpReadSeeker: failed open: could not fetch content descriptor {} ({}) from remote: not found",
                f.blob_digest, f.blob_media_type
            ),
            Code::NotFound,
        ),
        FailureClass::BlobCorrupted => RuntimeMessage::new(
            format!(
                "{pull}: failed commit on ref \"layer-{1}\": unexpected commit digest {0}, expected {1}: failed precondition",
                f.actual_digest, f.blob_digest
            ),
            Code::FailedPrecondition,
        ),
        other => something_like(other, f),
    }
}

/// The token service out of reach, in containerd's words: the authorizer's `client.Do` error, a
/// `*url.Error` naming the token request (`core/remotes/docker/authorizer.go`, `auth/fetch.go`):
/// the OAuth2 `POST` with a credential (no fallback after a transport error), else the anonymous
/// `GET`.
fn containerd_token_unreachable(f: &Facts<'_>, resolved: &dyn Fn(&str) -> String, go_error: &str) -> RuntimeMessage {
    let (which, request) = if f.credentials_sent {
        ("oauth", format!("Post \"{}\"", f.realm))
    } else {
        ("anonymous", format!("Get \"{}\"", f.token_get_url))
    };
    RuntimeMessage::new(
        resolved(&format!("failed to authorize: failed to fetch {which} token: {request}: {go_error}")),
        if go_error.ends_with("i/o timeout") { Code::DeadlineExceeded } else { Code::Unknown },
    )
}

/// A Go error as Go 1.19 and older print it: containerd 1.6.0–1.6.23 are built with Go 1.17–1.19,
/// whose TLS client reports a certificate it cannot verify as the bare `x509: …` error (Go 1.20
/// put `tls: failed to verify certificate: ` before it).
fn before_go_120(go_error: &str) -> &str {
    go_error.strip_prefix("tls: failed to verify certificate: ").unwrap_or(go_error)
}

/// CRI-O (`server/image_pull.go`, `internal/storage/image.go`) over containers/image
/// (`docker/docker_client.go`, `copy/copy.go`): most failures are reported twice, once for the
/// image pull and once for the OCI-artifact attempt that follows it.
fn cri_o(class: FailureClass, f: &Facts<'_>) -> RuntimeMessage {
    let source = format!("initializing source docker://{}", f.reference);
    let network = |go_error: &str| {
        format!(
            "unable to pull image: {source}: pinging container registry {}: Get \"{}\": {go_error}",
            f.host, f.ping_url
        )
    };
    let twice = |inner: &str| {
        format!(
            "unable to pull image or OCI artifact: pull image err: {source}: {inner}; artifact err: image reference: get manifest from ref: create image source: {inner}"
        )
    };
    let reading = |error: &str| format!("reading manifest {} in {}: {error}", f.manifest_ref, f.name);
    let unknown = |text: String| RuntimeMessage::new(text, Code::Unknown);
    match class {
        // c/image's token fetch (`getBearerToken`): its `*url.Error` as it is.
        _ if token_unreachable(class, f) => unknown(twice(&format!("{}: {}", token_request(f), f.go_error))),
        FailureClass::DnsFailure
        | FailureClass::TlsUnknownAuthority
        | FailureClass::TlsFailure
        | FailureClass::TlsClientCertificate
        | FailureClass::HttpToHttps => unknown(network(&f.go_error)),
        FailureClass::ConnectionRefused => RuntimeMessage {
            text: format!("RegistryUnavailable: {}", network(&f.go_error)),
            code: Code::Unknown,
            reason: "RegistryUnavailable",
        },
        // grpc-go's FromContextError: a Go error that `Is` context.DeadlineExceeded (net's
        // "i/o timeout", a dial's or a lookup's) keeps its code; net/http's own timeouts do not.
        FailureClass::Timeout | FailureClass::DnsTimeout => RuntimeMessage::new(
            network(&f.go_error),
            if f.go_error.ends_with("i/o timeout") || f.go_error.contains("awaiting response headers") {
                Code::DeadlineExceeded
            } else {
                Code::Unknown
            },
        ),
        FailureClass::WrongCredentialsToken => {
            unknown(twice(&format!("unable to retrieve auth token: invalid username/password: {}", f.token_error())))
        }
        FailureClass::NoCredentials if f.token_failed() => {
            unknown(twice(&format!("unable to retrieve auth token: invalid username/password: {}", f.token_error())))
        }
        FailureClass::NoCredentials if f.basic => unknown(twice(&reading("authentication required"))),
        FailureClass::NoCredentials => unknown(twice(&reading("requested access to the resource is denied"))),
        FailureClass::Denied if f.status == Some(401) => {
            unknown(twice(&reading("requested access to the resource is denied")))
        }
        FailureClass::WrongCredentialsBasic
        | FailureClass::Denied
        | FailureClass::RepositoryUnknown
        | FailureClass::TagUnknown
        | FailureClass::RateLimited => unknown(twice(&reading(&crio_errors(f)))),
        FailureClass::ServerError => {
            unknown(twice(&reading(&format!("received unexpected HTTP status: {}", f.status_line()))))
        }
        FailureClass::PlatformMissing => {
            let (os, arch, variant) = f.wanted_platform();
            let kind = if f.oci_index { "image index" } else { "manifest list" };
            let found =
                format!("no image found in {kind} for architecture \"{arch}\", variant \"{variant}\", OS \"{os}\"");
            unknown(format!(
                "unable to pull image or OCI artifact: pull image err: choosing an image from manifest list docker://{}: {found}; artifact err: image reference: choose manifest instance: {found}",
                f.reference
            ))
        }
        FailureClass::BlobMissing => unknown(format!(
            "unable to pull image or OCI artifact: pull image err: {}reading blob {}: fetching blob: {}; artifact err: image reference: reference is a container image, not an OCI artifact",
            f.chosen_from_list_prefix(),
            f.blob_digest,
            crio_errors(f)
        )),
        // The digest is checked as the body ends: a blob that comes in its first read (within
        // the decompressor's 4 KiB peek) fails there; a larger one while it is stored.
        FailureClass::BlobCorrupted => unknown(format!(
            "unable to pull image or OCI artifact: pull image err: {}writing blob: {}: happened during read: Digest did not match, expected {}, got {}; artifact err: image reference: reference is a container image, not an OCI artifact",
            f.chosen_from_list_prefix(),
            if f.blob_size <= 4096 {
                "setting up to decompress blob"
            } else {
                "storing blob to file \"/var/tmp/container_images_storage…/1\""
            },
            f.blob_digest,
            f.actual_digest
        )),
        other => something_like(other, f),
    }
}

/// Docker Engine's words (`distribution/errors.go`, the distribution client's error decoding),
/// passed on by cri-dockerd (`core/image.go`). Errors before the pull streams start with
/// `Error response from daemon:`; later ones arrive in-stream without it.
fn docker(class: FailureClass, f: &Facts<'_>) -> RuntimeMessage {
    let daemon = |inner: &str| RuntimeMessage::new(format!("Error response from daemon: {inner}"), Code::Unknown);
    let head = format!("Head \"{}\"", f.manifest_url);
    match class {
        // The token is fetched inside the manifest HEAD's round trip: Go's `*url.Error` of the
        // token request, inside the HEAD's.
        _ if token_unreachable(class, f) => daemon(&format!("{head}: {}: {}", token_request(f), f.go_error)),
        FailureClass::DnsFailure
        | FailureClass::DnsTimeout
        | FailureClass::ConnectionRefused
        | FailureClass::TlsUnknownAuthority
        | FailureClass::TlsFailure
        | FailureClass::TlsClientCertificate
        | FailureClass::HttpToHttps => daemon(&format!("Get \"{}\": {}", f.ping_url, f.go_error)),
        // The daemon's TLS handshake timeout (10 s) ends before its ping client's (15 s).
        FailureClass::Timeout if f.go_error == super::transport::TLS_HANDSHAKE_TIMEOUT => {
            daemon(&format!("Get \"{}\": {}", f.ping_url, f.go_error))
        }
        FailureClass::Timeout => daemon(&format!(
            "Get \"{}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
            f.ping_url
        )),
        FailureClass::WrongCredentialsToken => daemon(&format!("{head}: {}", f.token_error())),
        FailureClass::NoCredentials if f.token_failed() => daemon(&format!("{head}: {}", f.token_error())),
        FailureClass::NoCredentials if f.basic => daemon(&format!("{head}: no basic auth credentials")),
        FailureClass::NoCredentials => daemon(&format!(
            "pull access denied for {}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
            f.familiar_name
        )),
        FailureClass::Denied if f.status == Some(401) || f.challenge_error.is_some() => daemon(&format!(
            "pull access denied for {}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
            f.familiar_name
        )),
        FailureClass::Denied if f.errors_have_detail() => daemon(&format!(
            "pull access denied for {}, repository does not exist or may require 'docker login': {}",
            f.familiar_name,
            docker_errors(f)
        )),
        FailureClass::Denied | FailureClass::WrongCredentialsBasic | FailureClass::RateLimited => {
            daemon(&docker_errors(f))
        }
        FailureClass::RepositoryUnknown if f.first_code() == "NAME_UNKNOWN" => {
            daemon(&format!("repository {} not found: {}", f.familiar_name, docker_errors(f)))
        }
        FailureClass::RepositoryUnknown | FailureClass::TagUnknown => {
            daemon(&format!("manifest for {} not found: {}", f.familiar_ref, docker_errors(f)))
        }
        FailureClass::ServerError => daemon(&format!("received unexpected HTTP status: {}", f.status_line())),
        FailureClass::PlatformMissing => {
            let (os, arch, variant) = f.wanted_platform();
            let platform = if variant.is_empty() { format!("{os}/{arch}") } else { format!("{os}/{arch}/{variant}") };
            RuntimeMessage::new(
                format!("no matching manifest for {platform} in the manifest list entries"),
                Code::Unknown,
            )
        }
        FailureClass::BlobMissing if f.blob_is_config => RuntimeMessage::new(
            "error pulling image configuration: download failed after attempts=1: unknown blob".to_owned(),
            Code::Unknown,
        ),
        FailureClass::BlobMissing => RuntimeMessage::new("unknown blob".to_owned(), Code::Unknown),
        FailureClass::BlobCorrupted if f.blob_is_config => RuntimeMessage::new(
            format!("error pulling image configuration: image config verification failed for digest {}", f.blob_digest),
            Code::Unknown,
        ),
        FailureClass::BlobCorrupted => RuntimeMessage::new(
            format!("filesystem layer verification failed for digest {}", f.blob_digest),
            Code::Unknown,
        ),
        other => something_like(other, f),
    }
}

/// Classes no runtime has words for (regcred's own refusals, a protocol breach, a cancelled
/// test): an honest approximation.
fn something_like(class: FailureClass, f: &Facts<'_>) -> RuntimeMessage {
    let text = match class {
        FailureClass::Cancelled => "(the test pull was cancelled before the end; a node would go on)".to_owned(),
        FailureClass::CredentialUnavailable => format!("(the node uses the pull secret; here: {})", f.cause),
        _ => format!("the node will report something like: {}", f.cause),
    };
    RuntimeMessage::new(text, Code::Unknown)
}

/// The token request Docker and containers/image make, as Go's `*url.Error` names it: a `GET` with
/// `account` for a user name and password (or anonymous), a `POST` for an identity token.
fn token_request(f: &Facts<'_>) -> String {
    let identity = f.credentials_sent && f.token.is_some_and(|token| token.account.is_empty());
    if identity { format!("Post \"{}\"", f.realm) } else { format!("Get \"{}\"", f.token_account_url) }
}

/// Whether the registry answered and its token service could not be reached (no answer at all).
pub(crate) fn token_unreachable(class: FailureClass, f: &Facts<'_>) -> bool {
    f.stage == Stage::Token && class.is_reaching_the_host()
}

/// containerd's token failure: `failed to fetch oauth token: …` (with a credential: the `GET`
/// fallback after a 400/401/404 `POST`, else the `POST`), or `failed to fetch anonymous token: …`.
fn token_text(f: &Facts<'_>, with_credential: bool, v16: bool) -> String {
    let status = f.token_status_line();
    if v16 {
        let which = if with_credential { "oauth" } else { "anonymous" };
        return format!("failed to fetch {which} token: unexpected status: {status}");
    }
    if !with_credential {
        return format!(
            "failed to fetch anonymous token: unexpected status from GET request to {}: {status}",
            f.token_get_url
        );
    }
    if f.token_post_only {
        return format!("failed to fetch oauth token: unexpected status from POST request to {}: {status}", f.realm);
    }
    format!("failed to fetch oauth token: unexpected status from GET request to {}: {status}", f.token_get_url)
}

/// A registry error as Docker's distribution client prints it (`errcode.Error`): with a detail,
/// `code: message`; without, the code alone when the message is the code's default.
fn docker_errors(f: &Facts<'_>) -> String {
    let Some(error) = f.errors.first() else { return format!("received unexpected HTTP status: {}", f.status_line()) };
    let code = code_text(&error.code);
    if error.message.is_empty() || (error.detail.is_none() && error.message == default_message(&error.code)) {
        code
    } else {
        format!("{code}: {}", error.message)
    }
}

/// A registry error as containers/image prints it: with a detail, the message alone; without, the
/// code when the message is the default, else `code: message`.
fn crio_errors(f: &Facts<'_>) -> String {
    let Some(error) = f.errors.first() else {
        return match f.status {
            Some(401) => "authentication required".to_owned(),
            _ => format!("received unexpected HTTP status: {}", f.status_line()),
        };
    };
    // distribution's errcode, which c/image decodes with: a code it does not register is
    // UNKNOWN; an entry without detail whose message is empty or the code's default is the bare
    // code; c/image (5.24+, `registryHTTPResponseToError`) then prints only the first error, and
    // a default message without its code.
    let registered = distribution_default(&error.code).is_some();
    let code = if registered { error.code.as_str() } else { "UNKNOWN" };
    let default = distribution_default(code).unwrap_or_default();
    if error.detail.is_none() && (error.message.is_empty() || error.message == default) {
        code_text(code)
    } else if error.message == default {
        error.message.clone()
    } else {
        format!("{}: {}", code_text(code), error.message)
    }
}

/// The codes distribution's errcode registers in a containers/image binary (the base set and
/// `registry/api/v2`'s), with their default messages.
fn distribution_default(code: &str) -> Option<&'static str> {
    Some(match code {
        "UNKNOWN" => "unknown error",
        "UNSUPPORTED" => "The operation is unsupported.",
        "UNAUTHORIZED" => "authentication required",
        "DENIED" => "requested access to the resource is denied",
        "UNAVAILABLE" => "service unavailable",
        "TOOMANYREQUESTS" => "too many requests",
        "DIGEST_INVALID" => "provided digest did not match uploaded content",
        "SIZE_INVALID" => "provided length did not match content length",
        "NAME_INVALID" => "invalid repository name",
        "TAG_INVALID" => "manifest tag did not match URI",
        "NAME_UNKNOWN" => "repository name not known to registry",
        "MANIFEST_UNKNOWN" => "manifest unknown",
        "MANIFEST_INVALID" => "manifest invalid",
        "MANIFEST_UNVERIFIED" => "manifest failed signature verification",
        "MANIFEST_BLOB_UNKNOWN" | "BLOB_UNKNOWN" => "blob unknown to registry",
        "BLOB_UPLOAD_UNKNOWN" => "blob upload unknown to registry",
        "BLOB_UPLOAD_INVALID" => "blob upload invalid",
        "PAGINATION_NUMBER_INVALID" => "invalid number of results requested",
        _ => return None,
    })
}

/// The registry's errors as containerd 2.x decodes and joins them (codes it does not register
/// read `unknown`; several are listed under `errors:`).
fn containerd_errors(f: &Facts<'_>) -> String {
    let texts: Vec<String> = f
        .errors
        .iter()
        .map(|error| {
            let registered = ["UNKNOWN", "UNSUPPORTED", "UNAUTHORIZED", "DENIED", "UNAVAILABLE", "TOOMANYREQUESTS"];
            let code =
                if registered.contains(&error.code.as_str()) { code_text(&error.code) } else { "unknown".to_owned() };
            if error.message.is_empty() || error.message == default_message(&error.code) {
                code
            } else {
                format!("{code}: {}", error.message)
            }
        })
        .collect();
    match texts.as_slice() {
        [one] => one.clone(),
        many => format!("errors:\n{}\n", many.join("\n")),
    }
}

/// An error code as Go's `errcode.ErrorCode.Error()` prints it: lowercase, `_` as spaces.
fn code_text(code: &str) -> String {
    code.to_ascii_lowercase().replace('_', " ")
}

/// Distribution's default message for an error code (`registry/api/errcode`, `registry/api/v2`).
fn default_message(code: &str) -> &'static str {
    match code {
        "UNAUTHORIZED" => "authentication required",
        "DENIED" => "requested access to the resource is denied",
        "NAME_UNKNOWN" => "repository name not known to registry",
        "MANIFEST_UNKNOWN" => "manifest unknown",
        "BLOB_UNKNOWN" => "blob unknown to registry",
        "TOOMANYREQUESTS" => "too many requests",
        "UNAVAILABLE" => "service unavailable",
        "UNSUPPORTED" => "The operation is unsupported.",
        "UNKNOWN" => "unknown error",
        _ => "",
    }
}
