//! The test-pull report: one typed value the CLI prints, the GUI shows and `--json` exports.
//! Failures carry the three lines of `PULL-FAILURES.md`: a verdict, what the kubelet would
//! report in `kubectl describe pod`, and what to do.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::untrusted::Redactor;

/// Where on the road a request or a failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Parsing the image reference.
    Reference,
    /// Finding the credential.
    Credentials,
    /// DNS, TCP, TLS.
    Connect,
    /// `GET /v2/` and the auth challenge.
    Ping,
    /// The token request.
    Token,
    /// Manifest (and index) requests.
    Manifest,
    /// Choosing the platform from an index.
    Platform,
    /// Config and layer blobs.
    Blob,
}

impl Stage {
    /// Lowercase words for text output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Reference => "reference",
            Self::Credentials => "credentials",
            Self::Connect => "connect",
            Self::Ping => "ping",
            Self::Token => "token",
            Self::Manifest => "manifest",
            Self::Platform => "platform",
            Self::Blob => "blob",
        }
    }
}

/// One HTTP request as made (never a header value that carries a secret).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestRecord {
    /// The stage.
    pub stage: Stage,
    /// `GET`, `HEAD`, `POST`.
    pub method: String,
    /// The URL, without credentials or query secrets.
    pub url: String,
    /// The HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// Milliseconds from send to end of body.
    pub(crate) millis: f64,
    /// Body bytes received.
    pub bytes: u64,
    /// Whether an `Authorization` header was sent (its value never is recorded).
    pub(crate) authorized: bool,
}

/// One entry of the registry's error envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistryError {
    /// `UNAUTHORIZED`, `DENIED`, `NAME_UNKNOWN`, `MANIFEST_UNKNOWN` …
    pub code: String,
    /// The registry's message.
    pub message: String,
    /// The detail, as JSON text.
    pub detail: Option<String>,
}

/// The failure classes of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureClass {
    /// The reference does not parse.
    InvalidReference,
    /// The credential could not be read (helper missing, keychain locked …).
    CredentialUnavailable,
    /// The host name does not resolve.
    DnsFailure,
    /// The host name's lookup did not end in time: the DNS server did not answer.
    DnsTimeout,
    /// Nothing listens, or a firewall rejects.
    ConnectionRefused,
    /// No answer in time.
    Timeout,
    /// The certificate does not chain to a trusted CA.
    TlsUnknownAuthority,
    /// Another TLS failure (name mismatch, expired …).
    TlsFailure,
    /// The registry requires a client certificate (mutual TLS) and got none, or refused it.
    TlsClientCertificate,
    /// A plain-HTTP registry spoken to over HTTPS.
    HttpToHttps,
    /// Basic auth: the registry refused the user name or password.
    WrongCredentialsBasic,
    /// Token auth: the token server refused the user name or password.
    WrongCredentialsToken,
    /// The registry wants credentials and none were configured.
    NoCredentials,
    /// Authenticated, but not allowed to pull this repository.
    Denied,
    /// The repository does not exist.
    RepositoryUnknown,
    /// The tag or digest does not exist.
    TagUnknown,
    /// The index has no manifest for the node's platform.
    PlatformMissing,
    /// A single-platform image built for another platform than the node's: it pulls, then fails to
    /// start.
    PlatformMismatch,
    /// 429.
    RateLimited,
    /// A blob is gone.
    BlobMissing,
    /// A blob's bytes do not match its digest or size.
    BlobCorrupted,
    /// 5xx.
    ServerError,
    /// regcred refused to go on for safety (credentials over plain HTTP, HTTPS→HTTP redirect …).
    Refused,
    /// The registry answered something that is not the protocol.
    Protocol,
    /// The pull was cancelled.
    Cancelled,
}

impl FailureClass {
    /// Whether it is a failure to reach the registry host at all (its name, a connection, TLS),
    /// the same for every image and credential there.
    pub(crate) fn is_reaching_the_host(self) -> bool {
        matches!(
            self,
            Self::DnsFailure
                | Self::DnsTimeout
                | Self::ConnectionRefused
                | Self::Timeout
                | Self::TlsUnknownAuthority
                | Self::TlsFailure
                | Self::TlsClientCertificate
                | Self::HttpToHttps
        )
    }
}

/// A failed test pull.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    /// The class.
    pub class: FailureClass,
    /// The stage.
    pub stage: Stage,
    /// The request that failed, if one did.
    pub request: Option<RequestRecord>,
    /// Its HTTP status.
    pub status: Option<u16>,
    /// The registry's error envelope.
    pub errors: Vec<RegistryError>,
    /// The `WWW-Authenticate` challenge, when there was one.
    pub(crate) challenge: Option<String>,
    /// The technical detail (the underlying error).
    pub detail: String,
    /// 1. The verdict in plain words.
    pub verdict: String,
    /// 2. The event `kubectl describe pod` would show.
    pub kubelet_event: String,
    /// The kubelet's reason (`ErrImagePull`, later `ImagePullBackOff`; or `InvalidImageName`).
    pub kubelet_reason: &'static str,
    /// 3. What to do.
    pub what_to_do: String,
    /// Whose words the kubelet line is in.
    pub runtime: super::node::Runtime,
}

impl Failure {
    /// [`PullReport::make_inert`] for a failure on its own (a login check's).
    pub(crate) fn make_inert(&mut self, redactor: &Redactor) {
        if let Some(request) = &mut self.request {
            request.url = redactor.clean(&request.url);
        }
        for error in &mut self.errors {
            error.code = redactor.clean(&error.code);
            error.message = redactor.clean(&error.message);
            error.detail = error.detail.as_deref().map(|detail| redactor.clean(detail));
        }
        self.challenge = self.challenge.as_deref().map(|challenge| redactor.clean(challenge));
        for text in [&mut self.detail, &mut self.verdict] {
            *text = redactor.clean(text);
        }
        // containerd 2.x joins the registry's errors to its status line with a line break: the
        // only one kept, in the only classes that have it, where every piece from the other side
        // was made inert when it was read (the registry's errors) or parsed (URLs).
        let runtimes_lines =
            matches!(self.runtime, super::node::Runtime::Containerd | super::node::Runtime::Containerd20)
                && matches!(self.class, FailureClass::Denied | FailureClass::RateLimited);
        self.kubelet_event = if runtimes_lines {
            redactor.clean_keeping_lines(&self.kubelet_event)
        } else {
            redactor.clean(&self.kubelet_event)
        };
        // regcred's own advice, naming only the image's host: made inert, never rewritten by the
        // redactor (a password "pass" would otherwise eat the word in "pass --ca-dir").
        self.what_to_do = crate::untrusted::inert(&self.what_to_do, crate::untrusted::TEXT_CAP);
    }
}

/// A successful test pull.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Success {
    /// The manifest digest the tag resolved to.
    pub digest: String,
    /// Its media type.
    pub(crate) media_type: String,
    /// Platforms of an index (empty for a single manifest).
    pub platforms: Vec<String>,
    /// The platform chosen.
    pub platform: String,
    /// The platform manifest's digest (equal to `digest` for a single manifest).
    pub manifest_digest: String,
    /// Layer count.
    pub layers: usize,
    /// Compressed size of config and layers.
    pub total_size: u64,
    /// Whether every blob was downloaded and verified (full) or only checked (quick).
    pub full: bool,
    /// The runtime whose road was walked (a failure names it too).
    pub runtime: super::node::Runtime,
}

impl Success {
    /// The success of a login check (`GET /v2/` opened): no image behind it.
    pub fn login() -> Self {
        Self {
            digest: String::new(),
            media_type: String::new(),
            platforms: Vec::new(),
            platform: String::new(),
            manifest_digest: String::new(),
            layers: 0,
            total_size: 0,
            full: false,
            runtime: super::node::Runtime::default(),
        }
    }
}

/// A registry's rate-limit headers (`ratelimit-limit: 100;w=21600`, `ratelimit-remaining`,
/// `docker-ratelimit-source`), as Docker Hub sends them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RateLimit {
    /// Pulls allowed per window.
    pub limit: u64,
    /// Pulls left in this window.
    pub(crate) remaining: Option<u64>,
    /// The window, in seconds.
    pub(crate) window_seconds: Option<u64>,
    /// Whom the limit counts (an address or an account id).
    pub source: Option<String>,
}

impl RateLimit {
    /// The limit in `headers`, when there is one.
    pub(crate) fn from_headers(headers: &reqwest::header::HeaderMap) -> Option<Self> {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
        let parse = |value: &str| -> (Option<u64>, Option<u64>) {
            let mut parts = value.split(';');
            let count = parts.next().and_then(|n| n.trim().parse().ok());
            let window = parts.find_map(|p| p.trim().strip_prefix("w=").and_then(|w| w.parse().ok()));
            (count, window)
        };
        let (limit, window) = parse(text("ratelimit-limit")?);
        let (remaining, remaining_window) = text("ratelimit-remaining").map(parse).unwrap_or_default();
        Some(Self {
            limit: limit?,
            remaining,
            window_seconds: window.or(remaining_window),
            source: text("docker-ratelimit-source").map(|s| crate::untrusted::inert(s, 100)),
        })
    }

    /// `41 of 100 pulls left in this window (6 h)`.
    pub fn describe(&self) -> String {
        let window = self.window_seconds.map(|w| format!(" ({})", human_duration(w))).unwrap_or_default();
        match self.remaining {
            Some(remaining) => format!("{remaining} of {} pulls left in this window{window}", self.limit),
            None => format!("at most {} pulls per window{window}", self.limit),
        }
    }
}

fn human_duration(seconds: u64) -> String {
    match seconds {
        0..120 => format!("{seconds} s"),
        120..7200 => format!("{} min", seconds / 60),
        _ => format!("{} h", seconds / 3600),
    }
}

/// The outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Outcome {
    /// It would pull.
    Success(Success),
    /// It would not.
    Failure(Failure),
}

/// Everything a test pull found out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PullReport {
    /// The image as given.
    pub image: String,
    /// The reference as resolved (`docker.io/library/nginx:latest`).
    pub reference: String,
    /// Where the credential came from (`keychain`, `helper ecr-login`, `plaintext`, `none`).
    pub credential_source: String,
    /// Every request, in order.
    pub requests: Vec<RequestRecord>,
    /// Requests per stage.
    pub requests_per_stage: BTreeMap<String, usize>,
    /// Milliseconds per stage.
    pub(crate) millis_per_stage: BTreeMap<String, f64>,
    /// The registry's rate limit, when it said.
    pub rate_limit: Option<RateLimit>,
    /// For a registry on this machine, which runtimes would reach it and pull as here and which
    /// would not (they treat a registry on the node itself differently).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtimes_differ: Option<String>,
    /// Success or failure.
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl PullReport {
    /// Builds the report, computing the per-stage figures from the requests.
    pub fn new(
        image: &str,
        reference: &str,
        credential_source: &str,
        requests: Vec<RequestRecord>,
        outcome: Outcome,
    ) -> Self {
        let mut requests_per_stage = BTreeMap::new();
        let mut millis_per_stage = BTreeMap::new();
        for request in &requests {
            *requests_per_stage.entry(request.stage.name().to_owned()).or_insert(0) += 1;
            *millis_per_stage.entry(request.stage.name().to_owned()).or_insert(0.0) += request.millis;
        }
        Self {
            image: image.to_owned(),
            reference: reference.to_owned(),
            credential_source: credential_source.to_owned(),
            requests,
            requests_per_stage,
            millis_per_stage,
            rate_limit: None,
            runtimes_differ: None,
            outcome,
        }
    }

    /// Makes every piece of text that came from the other side inert: no control characters or
    /// escape sequences, capped lengths, and none of the credentials `redactor` knows (a server
    /// that echoes the `Authorization` header or a login form back must not put it on screen).
    pub(crate) fn make_inert(&mut self, redactor: &Redactor) {
        for text in [&mut self.image, &mut self.reference, &mut self.credential_source] {
            *text = redactor.clean(text);
        }
        for record in &mut self.requests {
            record.url = redactor.clean(&record.url);
        }
        match &mut self.outcome {
            Outcome::Success(success) => {
                for text in
                    [&mut success.digest, &mut success.media_type, &mut success.platform, &mut success.manifest_digest]
                {
                    *text = redactor.clean(text);
                }
                for platform in &mut success.platforms {
                    *platform = redactor.clean(platform);
                }
            }
            Outcome::Failure(failure) => failure.make_inert(redactor),
        }
    }

    /// Whether the image would pull.
    pub fn succeeded(&self) -> bool {
        matches!(self.outcome, Outcome::Success(_))
    }

    /// The report as text for a terminal.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}  ({})", self.reference, self.credential_source);
        match &self.outcome {
            Outcome::Success(success) => {
                let _ = writeln!(out, "✔ would pull: {}", success.digest);
                let _ = writeln!(out, "  media type  {}", success.media_type);
                if !success.platforms.is_empty() {
                    let _ = writeln!(out, "  platforms   {}", success.platforms.join(", "));
                }
                let _ = writeln!(out, "  platform    {} ({})", success.platform, success.manifest_digest);
                let _ = writeln!(out, "  runtime     {}", success.runtime.label());
                let _ = writeln!(
                    out,
                    "  layers      {} + config, {} compressed",
                    success.layers,
                    human_size(success.total_size)
                );
                let depth = if success.full {
                    "full: every blob downloaded and verified"
                } else {
                    "quick: blobs checked, not downloaded"
                };
                let _ = writeln!(out, "  depth       {depth}");
            }
            Outcome::Failure(failure) => {
                let _ = writeln!(out, "✘ {}", failure.verdict);
                let _ = writeln!(out, "  stage       {}", failure.stage.name());
                if let Some(request) = &failure.request {
                    let status = request.status.map_or_else(|| "no response".to_owned(), |s| s.to_string());
                    let _ = writeln!(out, "  request     {} {} → {status}", request.method, request.url);
                }
                for error in &failure.errors {
                    let _ = writeln!(out, "  registry    {}: {}", error.code, error.message);
                }
                if let Some(challenge) = &failure.challenge {
                    let _ = writeln!(out, "  challenge   {challenge}");
                }
                let _ = writeln!(out, "  detail      {}", failure.detail);
                let event = failure.kubelet_event.replace('\n', "\n              ");
                let _ = writeln!(out, "  kubelet     {event} ({})", pod_status(failure.kubelet_reason));
                let _ = writeln!(out, "  runtime     {}", failure.runtime.label());
                let _ = writeln!(out, "  what to do  {}", failure.what_to_do);
            }
        }
        let stages: Vec<String> = self
            .requests_per_stage
            .iter()
            .map(|(stage, count)| {
                format!("{stage} {count} ({:.0} ms)", self.millis_per_stage.get(stage).copied().unwrap_or(0.0))
            })
            .collect();
        if let Some(limit) = &self.rate_limit {
            let source = limit.source.as_deref().map(|s| format!(", counted for {s}")).unwrap_or_default();
            let _ = writeln!(out, "  rate limit  {}{source}", limit.describe());
        }
        if let Some(note) = &self.runtimes_differ {
            let _ = writeln!(out, "  runtimes    {note}");
        }
        if !stages.is_empty() {
            let _ = writeln!(out, "  requests    {}", stages.join(", "));
        }
        out
    }
}

/// `12.3 MB`-style sizes.
pub(crate) fn human_size(bytes: u64) -> String {
    #[expect(clippy::cast_precision_loss, reason = "display only")]
    let value = bytes as f64;
    match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{:.1} kB", value / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", value / 1e6),
        _ => format!("{:.2} GB", value / 1e9),
    }
}

/// The pod's waiting reasons for a kubelet reason, in order: an image that cannot be pulled goes
/// on to `ImagePullBackOff`; an invalid name (and a crash) stays as it is.
pub fn pod_status(reason: &str) -> String {
    match reason {
        "InvalidImageName" | "CrashLoopBackOff" => reason.to_owned(),
        reason => format!("{reason}, then ImagePullBackOff"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The redactor removes the secrets a registry's words echo, but never rewrites regcred's own
    /// advice: a password `pass` must not turn "pass --ca-dir" into "<redacted> --ca-dir".
    #[test]
    fn redaction_spares_the_advice_and_takes_the_echo() {
        let mut failure = crate::registry::failure::early_failure(
            FailureClass::TlsUnknownAuthority,
            Stage::Ping,
            "registry.example.com/app:1",
            "echoed pass",
            crate::registry::Runtime::default(),
        );
        failure.detail = "the server echoed user:pass back".to_owned();
        let mut redactor = Redactor::new();
        redactor.add_login("user", "pass");
        failure.make_inert(&redactor);
        assert!(failure.what_to_do.contains("pass --ca-dir"), "{}", failure.what_to_do);
        assert!(!failure.detail.contains("pass"), "{}", failure.detail);
    }
}
