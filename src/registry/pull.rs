//! The road a node's runtime walks: reference → credentials → connect → `/v2/` → challenge →
//! token → manifest (index → platform) → blobs. [`Puller::pull`] walks it and returns a
//! [`PullReport`]; it never panics and never sends a secret where it should not go.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures_util::StreamExt as _;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use sha2::{Digest as _, Sha256};

use super::challenge::{Challenge, parse_challenges};
use super::client::{self, MANIFEST_CAP, Response, SMALL_CAP, Timeouts};
use super::explain::{Context, explain};
use super::report::{Failure, FailureClass, Outcome, PullReport, RegistryError, RequestRecord, Stage, Success};
use crate::image_ref::ImageRef;
use crate::keychain::Credential;
use crate::untrusted::Redactor;

/// How long a loopback registry's plain-HTTP ping has to answer before HTTPS is asked as well.
const PLAIN_PING_HEAD_START: Duration = Duration::from_millis(250);

/// Blobs downloaded at once in a full pull, as Docker's default `max-concurrent-downloads`.
const PARALLEL_DOWNLOADS: usize = 3;

const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// An OS/architecture(/variant) pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// `linux`.
    pub os: String,
    /// `amd64`, `arm64` …
    pub architecture: String,
    /// `v7`, `v8` …
    pub variant: Option<String>,
}

impl Default for Platform {
    fn default() -> Self {
        Self { os: "linux".to_owned(), architecture: "amd64".to_owned(), variant: None }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Platform {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => {
                Ok(Self { os: (*os).to_owned(), architecture: (*arch).to_owned(), variant: None })
            }
            [os, arch, variant] if !os.is_empty() && !arch.is_empty() && !variant.is_empty() => Ok(Self {
                os: (*os).to_owned(),
                architecture: (*arch).to_owned(),
                variant: Some((*variant).to_owned()),
            }),
            _ => Err(format!("{text:?} is not OS/ARCH[/VARIANT], e.g. linux/arm64")),
        }
    }
}

/// How a test pull runs.
#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    /// Download and verify every blob (else only check they exist).
    pub full: bool,
    /// The node's platform.
    pub platform: Platform,
    /// Allow plain HTTP (and credentials over it) for this registry.
    pub insecure: bool,
    /// Directories laid out as `DIR/HOST[:PORT]/*.crt`.
    pub ca_dirs: Vec<std::path::PathBuf>,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// Host names to resolve to fixed addresses (like curl's `--resolve`).
    pub resolve: Vec<(String, std::net::SocketAddr)>,
}

impl PullOptions {
    /// The options every face starts from for this user: the CA directories of `$REGCRED_CA_DIR`,
    /// then `~/.docker/certs.d`, `/etc/docker/certs.d` and `/etc/containers/certs.d` (a
    /// `--ca-dir` given on the command line goes before them).
    pub fn for_user(home: Option<&std::path::Path>) -> Self {
        let mut ca_dirs: Vec<std::path::PathBuf> =
            std::env::var_os("REGCRED_CA_DIR").filter(|dir| !dir.is_empty()).map(Into::into).into_iter().collect();
        ca_dirs.extend(super::client::default_ca_dirs(home));
        Self { ca_dirs, ..Self::default() }
    }
}

/// Progress of one blob in a full pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobProgress {
    /// The blob's digest.
    pub digest: String,
    /// Bytes received.
    pub done: u64,
    /// Bytes expected.
    pub total: u64,
}

type TokenKey = (String, String, String, String);

/// Runs test pulls, caching bearer tokens per realm/service/scope/user until they expire.
#[derive(Debug, Default)]
pub struct Puller {
    tokens: Mutex<HashMap<TokenKey, (String, Instant)>>,
}

/// A whole pull, or only the login check.
enum Walk<'a> {
    Pull { cancel: Option<&'a AtomicBool>, progress: Option<&'a (dyn Fn(BlobProgress) + Send + Sync)> },
    Login,
}

fn login_success() -> Success {
    Success {
        digest: String::new(),
        media_type: String::new(),
        platforms: Vec::new(),
        platform: String::new(),
        manifest_digest: String::new(),
        layers: 0,
        total_size: 0,
        full: false,
    }
}

/// A prepared request's outcome: its records (redirects included) and its response or failure.
struct Answer<T = Response> {
    stage: Stage,
    records: Vec<RequestRecord>,
    result: Result<T, (client::HttpFailure, Option<RequestRecord>)>,
}

/// A downloaded blob: verified, or the registry's refusal to report.
enum Fetched {
    Verified,
    Refused(Box<Response>),
}

impl Answer {
    /// Whether a server answered in plain HTTP with anything but the 400 a TLS port gives clear
    /// text: then that port speaks plain HTTP and cannot speak TLS.
    fn is_plain_http(&self) -> bool {
        self.result.as_ref().is_ok_and(|response| response.status != StatusCode::BAD_REQUEST)
    }

    fn is_http_to_https(&self) -> bool {
        self.result.as_ref().is_err_and(|(failure, _)| failure.class == FailureClass::HttpToHttps)
    }
}

enum Auth {
    None,
    Basic(HeaderValue),
    Bearer(HeaderValue),
}

struct Road<'a> {
    puller: &'a Puller,
    image_input: &'a str,
    image: ImageRef,
    credential: Option<&'a Credential>,
    options: &'a PullOptions,
    clients: std::sync::Arc<client::Clients>,
    base: Url,
    host: String,
    records: Vec<RequestRecord>,
    auth: Auth,
    challenge: Option<String>,
    realm: String,
    cancel: Option<&'a AtomicBool>,
    progress: Option<&'a (dyn Fn(BlobProgress) + Send + Sync)>,
    /// Every credential this pull sent (password, tokens), to cut out of what servers say back.
    redactor: Redactor,
}

/// Whether `host` (`name[:port]`) is on this machine.
pub fn is_loopback(host: &str) -> bool {
    let name = if host.starts_with('[') {
        host.trim_start_matches('[').split(']').next().unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or_default()
    };
    name == "localhost" || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Puller {
    /// Walks the road for `image_input` with `credential` (none: anonymous).
    pub async fn pull(
        &self,
        image_input: &str,
        credential: Option<&Credential>,
        credential_source: &str,
        options: &PullOptions,
        cancel: Option<&AtomicBool>,
        progress: Option<&(dyn Fn(BlobProgress) + Send + Sync)>,
    ) -> PullReport {
        self.pull_with(image_input, credential, credential_source, options, Walk::Pull { cancel, progress }).await
    }

    async fn pull_with(
        &self,
        image_input: &str,
        credential: Option<&Credential>,
        credential_source: &str,
        options: &PullOptions,
        walk: Walk<'_>,
    ) -> PullReport {
        let (cancel, progress, login_only) = match walk {
            Walk::Pull { cancel, progress } => (cancel, progress, false),
            Walk::Login => (None, None, true),
        };
        let stopped = |reference: &str, failure: Failure| {
            let mut report =
                PullReport::new(image_input, reference, credential_source, Vec::new(), Outcome::Failure(failure));
            report.make_inert(&redactor_for(credential));
            report
        };
        let image = match ImageRef::parse(image_input) {
            Ok(image) => image,
            Err(error) => {
                let failure = simple_failure(
                    image_input,
                    image_input,
                    "",
                    FailureClass::InvalidReference,
                    Stage::Reference,
                    &error.to_string(),
                );
                return stopped(image_input, failure);
            }
        };
        let reference = image.to_string();
        let host = if image.is_docker_hub() { "registry-1.docker.io".to_owned() } else { image.domain().to_owned() };
        let clients =
            match client::Clients::new(&host, options.insecure, &options.ca_dirs, options.timeouts, &options.resolve) {
                Ok(clients) => std::sync::Arc::new(clients),
                Err(failure) => {
                    let failure =
                        simple_failure(image_input, &reference, &host, failure.class, Stage::Connect, &failure.cause);
                    return stopped(&reference, failure);
                }
            };
        let Ok(base) = Url::parse(&format!("https://{host}/")) else {
            let failure = simple_failure(
                image_input,
                &reference,
                &host,
                FailureClass::InvalidReference,
                Stage::Reference,
                "the registry host is not a valid URL host",
            );
            return stopped(&reference, failure);
        };
        let mut road = Road {
            puller: self,
            image_input,
            image,
            credential,
            options,
            clients,
            base,
            host,
            records: Vec::new(),
            auth: Auth::None,
            challenge: None,
            realm: String::new(),
            cancel,
            progress,
            redactor: redactor_for(credential),
        };
        let walked = if login_only { road.check_login().await.map(|()| login_success()) } else { road.walk().await };
        let outcome = match walked {
            Ok(success) => Outcome::Success(success),
            Err(failure) => Outcome::Failure(*failure),
        };
        let mut report = PullReport::new(image_input, &reference, credential_source, road.records, outcome);
        report.make_inert(&road.redactor);
        report
    }
}

/// A redactor that knows `credential` in every form it is sent in.
fn redactor_for(credential: Option<&Credential>) -> Redactor {
    let mut redactor = Redactor::new();
    if let Some(credential) = credential {
        redactor.add_login(&credential.username, credential.secret.expose());
    }
    redactor
}

impl Puller {
    /// Checks a login the way `docker login` does: `GET /v2/` with the credential (through the
    /// token service when the registry uses one). `Ok` when the registry accepts it.
    pub async fn verify_login(
        &self,
        registry_host: &str,
        credential: &Credential,
        options: &PullOptions,
    ) -> Result<(), Box<Failure>> {
        let probe = format!("{registry_host}/regcred-login-check");
        let report = self.pull_with(&probe, Some(credential), "login check", options, Walk::Login).await;
        match report.outcome {
            Outcome::Failure(failure) => Err(Box::new(failure)),
            Outcome::Success(_) => Ok(()),
        }
    }
}

/// The report for a pull that could not start because the credential could not be read.
pub fn credential_failure(image_input: &str, cause: &str) -> PullReport {
    let reference = ImageRef::parse(image_input).map_or_else(|_| image_input.to_owned(), |i| i.to_string());
    let failure =
        simple_failure(image_input, &reference, "", FailureClass::CredentialUnavailable, Stage::Credentials, cause);
    PullReport::new(image_input, &reference, "unavailable", Vec::new(), Outcome::Failure(failure))
}

fn simple_failure(image: &str, reference: &str, host: &str, class: FailureClass, stage: Stage, cause: &str) -> Failure {
    let cx = Context {
        image,
        reference,
        host,
        url: "",
        method: "GET",
        stage,
        cause,
        registry_message: "",
        status_line: "",
        realm: "",
    };
    let explanation = explain(class, &cx);
    Failure {
        class,
        stage,
        request: None,
        status: None,
        errors: Vec::new(),
        challenge: None,
        detail: cause.to_owned(),
        verdict: explanation.verdict,
        kubelet_event: explanation.kubelet_event,
        kubelet_reason: explanation.kubelet_reason,
        what_to_do: explanation.what_to_do,
    }
}

fn registry_errors(body: &[u8]) -> Vec<RegistryError> {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else { return Vec::new() };
    let Some(errors) = value.get("errors").and_then(|e| e.as_array()) else { return Vec::new() };
    errors
        .iter()
        .map(|e| RegistryError {
            code: e.get("code").and_then(|c| c.as_str()).unwrap_or_default().to_owned(),
            message: e.get("message").and_then(|m| m.as_str()).unwrap_or_default().to_owned(),
            detail: e.get("detail").filter(|d| !d.is_null()).map(ToString::to_string),
        })
        .collect()
}

fn sha256_digest(bytes: &[u8]) -> String {
    digest_text(&Sha256::digest(bytes))
}

/// `sha256:` and the hash in lowercase hex.
fn digest_text(hash: &[u8]) -> String {
    hash.iter().fold(String::from("sha256:"), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}

/// The `Authorization: Basic …` value for a credential, marked sensitive.
/// The user name a credential helper answers for an identity (refresh) token, as Docker's
/// protocol has it; the secret is then the token.
pub const IDENTITY_TOKEN_USER: &str = "<token>";

/// The OAuth2 form for the token endpoint: `grant_type=refresh_token` for an identity token,
/// else `grant_type=password`. It carries the secret, so it is wiped when dropped.
fn oauth_form(credential: &Credential, service: &str, scope: &str) -> zeroize::Zeroizing<String> {
    let mut form = form_urlencoded::Serializer::new(String::new());
    if credential.username == IDENTITY_TOKEN_USER {
        form.append_pair("grant_type", "refresh_token").append_pair("refresh_token", credential.secret.expose());
    } else {
        form.append_pair("grant_type", "password")
            .append_pair("username", &credential.username)
            .append_pair("password", credential.secret.expose());
    }
    form.append_pair("service", service).append_pair("client_id", "regcred");
    if !scope.is_empty() {
        form.append_pair("scope", scope);
    }
    zeroize::Zeroizing::new(form.finish())
}

/// The realm URL with the query Distribution's GET token endpoint takes.
fn token_get_url(mut url: Url, service: &str, scope: &str, account: &str) -> Url {
    url.query_pairs_mut().append_pair("service", service);
    if !scope.is_empty() {
        url.query_pairs_mut().append_pair("scope", scope);
    }
    if !account.is_empty() {
        url.query_pairs_mut().append_pair("account", account);
    }
    url
}

fn basic_authorization(credential: &Credential) -> Option<HeaderValue> {
    let plain = zeroize::Zeroizing::new(format!("{}:{}", credential.username, credential.secret.expose()));
    let encoded = zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(plain.as_bytes()));
    let mut value = HeaderValue::from_str(&format!("Basic {}", encoded.as_str())).ok()?;
    value.set_sensitive(true);
    Some(value)
}

impl Road<'_> {
    fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }

    fn authorization(&self) -> Option<&HeaderValue> {
        match &self.auth {
            Auth::None => None,
            Auth::Basic(value) | Auth::Bearer(value) => Some(value),
        }
    }

    fn url(&self, path: &str) -> Url {
        self.base.join(path).unwrap_or_else(|_| self.base.clone())
    }

    fn fail(
        &self,
        class: FailureClass,
        stage: Stage,
        request: Option<RequestRecord>,
        response: Option<&Response>,
        cause: &str,
    ) -> Box<Failure> {
        let errors = response.map(|r| registry_errors(&r.body)).unwrap_or_default();
        let status = response
            .map(|r| r.status)
            .or_else(|| request.as_ref().and_then(|r| r.status).and_then(|s| StatusCode::from_u16(s).ok()));
        let status_line =
            status.map(|s| format!("{} {}", s.as_u16(), s.canonical_reason().unwrap_or(""))).unwrap_or_default();
        let registry_message = errors.first().map(|e| e.message.clone()).unwrap_or_default();
        let manifest_url =
            self.url(&format!("v2/{}/manifests/{}", self.image.path(), self.image.manifest_reference())).to_string();
        let url = match stage {
            // The runtime's first request is the manifest HEAD: connection failures name it.
            Stage::Ping | Stage::Connect => manifest_url,
            _ => request.as_ref().map_or(manifest_url, |r| r.url.clone()),
        };
        let method = request.as_ref().map_or("GET", |r| r.method.as_str()).to_owned();
        let reference = self.image.to_string();
        let cx = Context {
            image: self.image_input,
            reference: &reference,
            host: &self.host,
            url: &url,
            method: &method,
            stage,
            cause,
            registry_message: &registry_message,
            status_line: status_line.trim(),
            realm: &self.realm,
        };
        let explanation = explain(class, &cx);
        Box::new(Failure {
            class,
            stage,
            status: status.map(|s| s.as_u16()),
            request,
            errors,
            challenge: self.challenge.clone(),
            detail: cause.to_owned(),
            verdict: explanation.verdict,
            kubelet_event: explanation.kubelet_event,
            kubelet_reason: explanation.kubelet_reason,
            what_to_do: explanation.what_to_do,
        })
    }

    async fn request(
        &mut self,
        stage: Stage,
        method: Method,
        url: Url,
        accept: Option<&'static str>,
        cap: usize,
    ) -> Result<Response, Box<Failure>> {
        let mut results = self.requests_together(vec![(stage, method, url, accept, cap)]).await;
        results.pop().unwrap_or_else(|| Err(self.fail(FailureClass::Protocol, stage, None, None, "no response")))
    }

    /// Sends several independent requests at once (as runtimes do for blobs), records them in
    /// order, and returns their results in order.
    async fn requests_together(
        &mut self,
        batch: Vec<(Stage, Method, Url, Option<&'static str>, usize)>,
    ) -> Vec<Result<Response, Box<Failure>>> {
        if self.cancelled() {
            return batch
                .iter()
                .map(|planned| Err(self.fail(FailureClass::Cancelled, planned.0, None, None, "cancelled")))
                .collect();
        }
        let futures =
            batch.into_iter().map(|(stage, method, url, accept, cap)| self.prepare(stage, method, url, accept, cap));
        let finished = futures_util::future::join_all(futures).await;
        finished.into_iter().map(|answer| self.absorb(answer)).collect()
    }

    /// One request with the road's authorization, as a future that does not hold the road: its
    /// records and result go back through [`Road::absorb`] (or are dropped, unasked).
    fn prepare(
        &self,
        stage: Stage,
        method: Method,
        url: Url,
        accept: Option<&'static str>,
        cap: usize,
    ) -> impl std::future::Future<Output = Answer> + use<> {
        let (clients, authorization) = (self.clients.clone(), self.authorization().cloned());
        let timeout = self.options.timeouts.request;
        async move {
            let mut headers = HeaderMap::new();
            if let Some(accept) = accept {
                headers.insert(reqwest::header::ACCEPT, HeaderValue::from_static(accept));
            }
            let mut records = Vec::new();
            let result = client::send(
                &clients,
                &mut records,
                stage,
                method,
                url,
                headers,
                authorization.as_ref(),
                None,
                cap,
                timeout,
            )
            .await;
            Answer { stage, records, result }
        }
    }

    /// Records a prepared request's answer and turns a failure into the report's words.
    fn absorb<T>(&mut self, answer: Answer<T>) -> Result<T, Box<Failure>> {
        let Answer { stage, records, result } = answer;
        self.records.extend(records);
        result.map_err(|(failure, record)| self.fail(failure.class, stage, record, None, &failure.cause))
    }

    /// `docker login`'s check: the credential opens `/v2/` (via a token without scope).
    async fn check_login(&mut self) -> Result<(), Box<Failure>> {
        self.ping().await?;
        let Some(challenges) = self.challenge.as_deref().map(parse_challenges) else { return Ok(()) };
        self.authenticate(&challenges, "").await?;
        if matches!(self.auth, Auth::Basic(_)) {
            let url = self.url("v2/");
            let response = self.request(Stage::Ping, Method::GET, url, None, SMALL_CAP).await?;
            if !response.status.is_success() {
                return Err(self.status_failure(Stage::Ping, response.status, &response));
            }
        }
        Ok(())
    }

    /// The manifest's digest, checked against the one expected (a pinned reference, the
    /// registry's `Docker-Content-Digest`, or the index entry).
    fn verify_manifest(&self, body: &[u8], expected: Option<&str>) -> Result<String, Box<Failure>> {
        let actual = sha256_digest(body);
        match expected.filter(|e| e.starts_with("sha256:") && *e != actual) {
            Some(expected) => {
                let cause = format!("unexpected commit digest {actual}, expected {expected}");
                Err(self.fail(FailureClass::BlobCorrupted, Stage::Manifest, self.records.last().cloned(), None, &cause))
            }
            None => Ok(actual),
        }
    }

    fn parse_manifest(&self, body: &[u8]) -> Result<serde_json::Value, Box<Failure>> {
        serde_json::from_slice(body).map_err(|e| {
            let cause = format!("the manifest is not JSON: {e}");
            self.fail(FailureClass::Protocol, Stage::Manifest, self.records.last().cloned(), None, &cause)
        })
    }

    async fn walk(&mut self) -> Result<Success, Box<Failure>> {
        self.ping().await?;
        let scope = format!("repository:{}:pull", self.image.path());
        if let Some(challenge) = self.challenge.as_deref().map(parse_challenges) {
            self.authenticate(&challenge, &scope).await?;
        }
        let (digest, media_type, body) = self.manifest().await?;
        let manifest: serde_json::Value = self.parse_manifest(&body)?;
        let is_index =
            media_type.contains("index") || media_type.contains("manifest.list") || manifest.get("manifests").is_some();
        let (platforms, platform, manifest_digest, manifest) = if is_index {
            self.choose_platform(&manifest).await?
        } else {
            (Vec::new(), self.options.platform.to_string(), digest.clone(), manifest)
        };
        let mut blobs = Vec::new();
        if let Some(config) = manifest.get("config") {
            blobs.push(descriptor(config));
        }
        let layers: Vec<(String, u64)> = manifest
            .get("layers")
            .and_then(|l| l.as_array())
            .map(|l| l.iter().map(descriptor).collect())
            .unwrap_or_default();
        if manifest.get("config").is_none() {
            return Err(self.fail(
                FailureClass::Protocol,
                Stage::Manifest,
                self.records.last().cloned(),
                None,
                "the manifest has no config (schema 1 manifests are not supported by current runtimes)",
            ));
        }
        blobs.extend(layers.iter().cloned());
        let total_size = blobs.iter().map(|(_, size)| size).sum();
        if self.options.full {
            let fetches: Vec<_> = blobs
                .iter()
                .map(|(blob_digest, size)| {
                    let url = self.url(&format!("v2/{}/blobs/{blob_digest}", self.image.path()));
                    self.fetch_blob(url, blob_digest.clone(), *size)
                })
                .collect();
            let mut downloads = futures_util::stream::iter(fetches).buffered(PARALLEL_DOWNLOADS);
            while let Some(answer) = downloads.next().await {
                if let Fetched::Refused(response) = self.absorb(answer)? {
                    return Err(self.status_failure(Stage::Blob, response.status, &response));
                }
            }
        } else {
            let batch = blobs
                .iter()
                .map(|(blob_digest, _)| {
                    (
                        Stage::Blob,
                        Method::HEAD,
                        self.url(&format!("v2/{}/blobs/{blob_digest}", self.image.path())),
                        None,
                        0,
                    )
                })
                .collect();
            for result in self.requests_together(batch).await {
                let response = result?;
                if !response.status.is_success() {
                    return Err(self.status_failure(Stage::Blob, response.status, &response));
                }
            }
        }
        Ok(Success {
            digest,
            media_type,
            platforms,
            platform,
            manifest_digest,
            layers: layers.len(),
            total_size,
            full: self.options.full,
        })
    }

    /// `GET /v2/` over HTTPS; plain HTTP only for insecure registries after HTTPS met a plain-HTTP
    /// server, and for loopback registries (see [`Road::ping_loopback`]).
    async fn ping(&mut self) -> Result<(), Box<Failure>> {
        let url = self.url("v2/");
        let http_base = Url::parse(&format!("http://{}/", self.host)).ok();
        let loopback_base = http_base.clone().filter(|_| url.scheme() == "https" && is_loopback(&self.host));
        let response = if let Some(base) = loopback_base {
            self.ping_loopback(url, base).await?
        } else {
            match self.request(Stage::Ping, Method::GET, url, None, SMALL_CAP).await {
                Err(failure) if failure.class == FailureClass::HttpToHttps && self.options.insecure => {
                    self.base = http_base.unwrap_or_else(|| self.base.clone());
                    let url = self.url("v2/");
                    self.request(Stage::Ping, Method::GET, url, None, SMALL_CAP).await?
                }
                other => other?,
            }
        };
        match response.status {
            StatusCode::OK => Ok(()),
            StatusCode::UNAUTHORIZED => {
                let header = response
                    .headers
                    .get(reqwest::header::WWW_AUTHENTICATE)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or_default();
                self.challenge = Some(header.to_owned());
                Ok(())
            }
            status => Err(self.status_failure(Stage::Ping, status, &response)),
        }
    }

    /// A loopback registry's ping, which carries no credentials. Plain HTTP goes first: a port
    /// that answers it (with anything but the 400 a TLS port gives clear text) cannot speak TLS,
    /// so HTTPS, and the system's trust roots it needs, are skipped. Otherwise HTTPS decides, as
    /// for any registry; it also starts by itself if the plain answer is slow to come (a TLS port
    /// that keeps silent). Only the requests that decided are recorded.
    async fn ping_loopback(&mut self, tls_url: Url, http_base: Url) -> Result<Response, Box<Failure>> {
        if self.cancelled() {
            return Err(self.fail(FailureClass::Cancelled, Stage::Ping, None, None, "cancelled"));
        }
        let http_url = http_base.join("v2/").unwrap_or_else(|_| http_base.clone());
        let http = Box::pin(self.prepare(Stage::Ping, Method::GET, http_url, None, SMALL_CAP));
        let https = self.prepare(Stage::Ping, Method::GET, tls_url.clone(), None, SMALL_CAP);
        let late_https = Box::pin(async move {
            tokio::time::sleep(PLAIN_PING_HEAD_START).await;
            https.await
        });
        let (https, http) = match futures_util::future::select(late_https, http).await {
            futures_util::future::Either::Right((http, _)) if http.is_plain_http() => {
                self.base = http_base;
                return self.absorb(http);
            }
            futures_util::future::Either::Right((http, _)) => {
                (self.prepare(Stage::Ping, Method::GET, tls_url, None, SMALL_CAP).await, http)
            }
            futures_util::future::Either::Left((https, _)) if !https.is_http_to_https() => return self.absorb(https),
            futures_util::future::Either::Left((https, http)) => (https, http.await),
        };
        if !https.is_http_to_https() {
            return self.absorb(https);
        }
        self.base = http_base;
        self.absorb(http)
    }

    async fn authenticate(&mut self, challenges: &[Challenge], scope: &str) -> Result<(), Box<Failure>> {
        if let Some(bearer) = challenges.iter().find(|c| c.scheme == "bearer") {
            return self.fetch_token(bearer, scope).await;
        }
        if challenges.iter().any(|c| c.scheme == "basic")
            && let Some(credential) = self.credential
        {
            let base = self.base.clone();
            if !self.clients.may_carry_credentials(&base) {
                return Err(self.fail(
                    FailureClass::Refused,
                    Stage::Ping,
                    None,
                    None,
                    "the registry is plain HTTP and not marked insecure: credentials are not sent",
                ));
            }
            let Some(value) = basic_authorization(credential) else {
                return Err(self.fail(
                    FailureClass::Protocol,
                    Stage::Ping,
                    None,
                    None,
                    "the credential cannot be sent in a header",
                ));
            };
            self.auth = Auth::Basic(value);
        }
        Ok(())
    }

    async fn fetch_token(&mut self, bearer: &Challenge, scope: &str) -> Result<(), Box<Failure>> {
        let realm = bearer.param("realm").unwrap_or_default().to_owned();
        let service = bearer.param("service").unwrap_or_default().to_owned();
        let Ok(url) = Url::parse(&realm) else {
            return Err(self.fail(
                FailureClass::Protocol,
                Stage::Token,
                None,
                None,
                &format!("the token realm {realm:?} is not a URL"),
            ));
        };
        self.realm = client::display_url(&url);
        let user = self.credential.map(|c| c.username.clone()).unwrap_or_default();
        let key = (realm.clone(), service.clone(), scope.to_owned(), user.clone());
        let cached =
            self.puller.tokens.lock().ok().and_then(|tokens| {
                tokens.get(&key).filter(|(_, until)| *until > Instant::now()).map(|(t, _)| t.clone())
            });
        if let Some(token) = cached {
            return self.use_token(&token);
        }
        // Per request: plain HTTP only to this machine or the host named insecure; and an HTTPS
        // registry elsewhere never hands its credentials to a plain-HTTP token service.
        let downgrade = self.base.scheme() == "https" && url.scheme() != "https" && !is_loopback(&self.host);
        if self.credential.is_some()
            && (!self.clients.may_carry_credentials(&url) || (downgrade && !self.options.insecure))
        {
            let cause = format!(
                "the token service {} speaks plain HTTP: regcred sends a password in clear text only to this machine, or to the registry itself when it is marked insecure",
                client::display_url(&url)
            );
            return Err(self.fail(FailureClass::Refused, Stage::Token, None, None, &cause));
        }
        let realm_host = url.host_str().unwrap_or_default().to_owned();
        let response = match self.credential {
            // As containerd does: OAuth2 POST first (an identity token can only go that way), then
            // for a password the GET with Basic auth where the realm does not take the POST.
            Some(credential) => {
                let identity = credential.username == IDENTITY_TOKEN_USER;
                let form = oauth_form(credential, &service, scope);
                let post = self.token_request(Method::POST, url.clone(), None, Some(form)).await?;
                if identity || !matches!(post.status.as_u16(), 400 | 401 | 404 | 405) {
                    post
                } else {
                    let authorization = basic_authorization(credential);
                    let get = token_get_url(url, &service, scope, &user);
                    self.token_request(Method::GET, get, authorization.as_ref(), None).await?
                }
            }
            None => self.token_request(Method::GET, token_get_url(url, &service, scope, ""), None, None).await?,
        };
        match response.status {
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                let class = if self.credential.is_some() {
                    FailureClass::WrongCredentialsToken
                } else {
                    FailureClass::NoCredentials
                };
                let record = self.records.last().cloned();
                let note = if realm_host.is_empty() || self.host.starts_with(&realm_host) {
                    String::new()
                } else {
                    format!(" (token service at {realm_host})")
                };
                return Err(self.fail(
                    class,
                    Stage::Token,
                    record,
                    Some(&response),
                    &format!("the token service answered {}{note}", response.status),
                ));
            }
            status => return Err(self.status_failure(Stage::Token, status, &response)),
        }
        let answer: serde_json::Value = serde_json::from_slice(&response.body).unwrap_or_default();
        let Some(token) =
            answer.get("token").or_else(|| answer.get("access_token")).and_then(|t| t.as_str()).map(str::to_owned)
        else {
            return Err(self.fail(
                FailureClass::Protocol,
                Stage::Token,
                self.records.last().cloned(),
                Some(&response),
                "the token service's answer has no token",
            ));
        };
        let lifetime = answer.get("expires_in").and_then(serde_json::Value::as_u64).unwrap_or(60).max(10);
        if let Ok(mut tokens) = self.puller.tokens.lock() {
            tokens.insert(key, (token.clone(), Instant::now() + Duration::from_secs(lifetime - 5)));
        }
        self.use_token(&token)
    }

    async fn token_request(
        &mut self,
        method: Method,
        url: Url,
        authorization: Option<&HeaderValue>,
        form: Option<zeroize::Zeroizing<String>>,
    ) -> Result<Response, Box<Failure>> {
        let body = form.map(|form| (form.as_bytes().to_vec(), "application/x-www-form-urlencoded"));
        let timeout = self.options.timeouts.request;
        let result = client::send(
            &self.clients,
            &mut self.records,
            Stage::Token,
            method,
            url,
            HeaderMap::new(),
            authorization,
            body,
            SMALL_CAP,
            timeout,
        )
        .await;
        result.map_err(|(failure, record)| self.fail(failure.class, Stage::Token, record, None, &failure.cause))
    }

    fn use_token(&mut self, token: &str) -> Result<(), Box<Failure>> {
        self.redactor.add_secret(token);
        let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            self.fail(FailureClass::Protocol, Stage::Token, None, None, "the token cannot be sent in a header")
        })?;
        value.set_sensitive(true);
        self.auth = Auth::Bearer(value);
        Ok(())
    }

    async fn manifest(&mut self) -> Result<(String, String, Vec<u8>), Box<Failure>> {
        let path = format!("v2/{}/manifests/{}", self.image.path(), self.image.manifest_reference());
        let url = self.url(&path);
        // HEAD (what the runtime resolves with) and GET (the bytes) go out together.
        let mut both = self
            .requests_together(vec![
                (Stage::Manifest, Method::HEAD, url.clone(), Some(ACCEPT), 0),
                (Stage::Manifest, Method::GET, url, Some(ACCEPT), MANIFEST_CAP),
            ])
            .await
            .into_iter();
        let (Some(head), Some(get)) = (both.next(), both.next()) else {
            return Err(self.fail(FailureClass::Protocol, Stage::Manifest, None, None, "no manifest response"));
        };
        let head = head?;
        if !head.status.is_success() {
            // A HEAD carries no error envelope: the GET's answer has the registry's words.
            let answer = match &get {
                Ok(response) if !response.status.is_success() => response,
                _ => &head,
            };
            return Err(self.status_failure(Stage::Manifest, answer.status, answer).await_fix(self).await);
        }
        let response = get?;
        if !response.status.is_success() {
            return Err(self.status_failure(Stage::Manifest, response.status, &response));
        }
        let announced = response.headers.get("docker-content-digest").and_then(|d| d.to_str().ok()).map(str::to_owned);
        let expected = self.image.digest().map(str::to_owned).or(announced);
        let actual = self.verify_manifest(&response.body, expected.as_deref())?;
        let media_type = response
            .headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|t| t.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Ok((actual, media_type, response.body))
    }

    async fn choose_platform(
        &mut self,
        index: &serde_json::Value,
    ) -> Result<(Vec<String>, String, String, serde_json::Value), Box<Failure>> {
        let entries = index.get("manifests").and_then(|m| m.as_array()).cloned().unwrap_or_default();
        let platform_of = |entry: &serde_json::Value| {
            let p = entry.get("platform")?;
            let text = |k: &str| p.get(k).and_then(|v| v.as_str()).map(str::to_owned);
            Some(Platform { os: text("os")?, architecture: text("architecture")?, variant: text("variant") })
        };
        let platforms: Vec<String> =
            entries.iter().filter_map(platform_of).filter(|p| p.os != "unknown").map(|p| p.to_string()).collect();
        let wanted = &self.options.platform;
        let chosen = entries.iter().find(|entry| {
            platform_of(entry).is_some_and(|p| {
                p.os == wanted.os
                    && p.architecture == wanted.architecture
                    && (wanted.variant.is_none() || p.variant == wanted.variant)
            })
        });
        let Some(chosen) = chosen else {
            let cause = format!("no manifest for {wanted} among {}", platforms.join(", "));
            return Err(self.fail(FailureClass::PlatformMissing, Stage::Platform, None, None, &cause));
        };
        let digest = chosen.get("digest").and_then(|d| d.as_str()).unwrap_or_default().to_owned();
        let url = self.url(&format!("v2/{}/manifests/{digest}", self.image.path()));
        let response = self.request(Stage::Manifest, Method::GET, url, Some(ACCEPT), MANIFEST_CAP).await?;
        if !response.status.is_success() {
            return Err(self.status_failure(Stage::Manifest, response.status, &response));
        }
        self.verify_manifest(&response.body, Some(&digest))?;
        let manifest = self.parse_manifest(&response.body)?;
        let platform = platform_of(chosen).map(|p| p.to_string()).unwrap_or_default();
        Ok((platforms, platform, digest, manifest))
    }

    fn status_failure(&self, stage: Stage, status: StatusCode, response: &Response) -> Box<Failure> {
        let errors = registry_errors(&response.body);
        let code = errors.first().map(|e| e.code.as_str()).unwrap_or_default();
        let class = match status.as_u16() {
            401 => match (&self.auth, self.credential) {
                (_, None) => FailureClass::NoCredentials,
                (Auth::Bearer(_), Some(_)) => FailureClass::Denied,
                _ => FailureClass::WrongCredentialsBasic,
            },
            403 => FailureClass::Denied,
            404 if stage == Stage::Blob => FailureClass::BlobMissing,
            404 if code == "NAME_UNKNOWN" => FailureClass::RepositoryUnknown,
            404 => FailureClass::TagUnknown,
            429 => FailureClass::RateLimited,
            500..=599 => FailureClass::ServerError,
            _ => FailureClass::Protocol,
        };
        let challenge = response.headers.get(reqwest::header::WWW_AUTHENTICATE).and_then(|h| h.to_str().ok());
        let mut failure = self.fail(
            class,
            stage,
            self.records.last().cloned(),
            Some(response),
            &format!("the registry answered {status}"),
        );
        if let Some(challenge) = challenge {
            failure.challenge = Some(challenge.to_owned());
        }
        failure
    }
}

impl<'a> Road<'a> {
    /// One blob downloaded and verified as it streams (size and SHA-256; nothing kept), as a
    /// future that does not hold the road, so that several run at once as a runtime's do.
    fn fetch_blob(
        &self,
        url: Url,
        digest: String,
        size: u64,
    ) -> impl std::future::Future<Output = Answer<Fetched>> + use<'a> {
        let (clients, authorization) = (self.clients.clone(), self.authorization().cloned());
        let (timeouts, cancel, progress) = (self.options.timeouts, self.cancel, self.progress);
        async move {
            let mut records = Vec::new();
            let opened = client::open(
                &clients,
                &mut records,
                Stage::Blob,
                Method::GET,
                url,
                HeaderMap::new(),
                authorization.as_ref(),
                None,
                timeouts.request,
            )
            .await;
            let client::Opened { response, mut record, started } = match opened {
                Ok(opened) => opened,
                Err(failure) => return Answer { stage: Stage::Blob, records, result: Err(failure) },
            };
            let result = if response.status().is_success() {
                let (bytes, verified) = verify_blob(response, &digest, size, timeouts.idle, cancel, progress).await;
                record.bytes = bytes;
                record.millis = started.elapsed().as_secs_f64() * 1e3;
                records.push(record.clone());
                verified.map(|()| Fetched::Verified).map_err(|failure| (failure, Some(record)))
            } else {
                // The registry's error envelope, capped; a missing or oversized one still leaves
                // the status to report.
                let (status, headers, url) = (response.status(), response.headers().clone(), response.url().clone());
                let deadline = tokio::time::Instant::now() + timeouts.request;
                let body = client::read_capped(response, SMALL_CAP, deadline).await.unwrap_or_default();
                record.millis = started.elapsed().as_secs_f64() * 1e3;
                records.push(record);
                Ok(Fetched::Refused(Box::new(Response { status, headers, body, url })))
            };
            Answer { stage: Stage::Blob, records, result }
        }
    }
}

/// Streams a blob's body through SHA-256 and the size its descriptor gives, nothing kept: the
/// bytes received, and whether they are the blob (or why the stream stopped).
async fn verify_blob(
    response: reqwest::Response,
    digest: &str,
    size: u64,
    idle: Duration,
    cancel: Option<&AtomicBool>,
    progress: Option<&(dyn Fn(BlobProgress) + Send + Sync)>,
) -> (u64, Result<(), client::HttpFailure>) {
    let failure = |class, cause: String| Err(client::HttpFailure { class, cause });
    let mut hasher = Sha256::new();
    let mut done = 0_u64;
    let mut stream = response.bytes_stream();
    loop {
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return (done, failure(FailureClass::Cancelled, "cancelled".to_owned()));
        }
        let chunk = match tokio::time::timeout(idle, stream.next()).await {
            Ok(Some(Ok(chunk))) => chunk,
            Ok(None) => break,
            Ok(Some(Err(error))) => return (done, Err(client::classify_transport(&error))),
            Err(_) => return (done, failure(FailureClass::Timeout, "the blob stopped arriving".to_owned())),
        };
        done += chunk.len() as u64;
        if done > size {
            let cause = format!("more bytes than the {size} the manifest announces for {digest}");
            return (done, failure(FailureClass::BlobCorrupted, cause));
        }
        hasher.update(&chunk);
        if let Some(progress) = progress {
            progress(BlobProgress { digest: digest.to_owned(), done, total: size });
        }
    }
    let actual = digest_text(&hasher.finalize());
    if done != size || actual != digest {
        let cause = format!("unexpected commit digest {actual}, expected {digest} ({done} of {size} bytes)");
        return (done, failure(FailureClass::BlobCorrupted, cause));
    }
    (done, Ok(()))
}

/// A HEAD has no body to tell a missing repository from a missing tag; ask for the tag list.
trait AwaitFix {
    async fn await_fix(self, road: &mut Road<'_>) -> Box<Failure>;
}

impl AwaitFix for Box<Failure> {
    async fn await_fix(mut self, road: &mut Road<'_>) -> Box<Failure> {
        if self.class != FailureClass::TagUnknown {
            return self;
        }
        let url = road.url(&format!("v2/{}/tags/list", road.image.path()));
        if let Ok(response) = road.request(Stage::Manifest, Method::GET, url, None, SMALL_CAP).await {
            let errors = registry_errors(&response.body);
            if response.status == StatusCode::NOT_FOUND && errors.iter().any(|e| e.code == "NAME_UNKNOWN") {
                let original_request = self.request.clone();
                let mut repo = road.fail(
                    FailureClass::RepositoryUnknown,
                    Stage::Manifest,
                    original_request,
                    Some(&response),
                    &self.detail,
                );
                repo.status = self.status;
                return repo;
            }
            if response.status.is_success() {
                self.errors = vec![RegistryError {
                    code: "MANIFEST_UNKNOWN".into(),
                    message: "manifest unknown".into(),
                    detail: None,
                }];
            }
        }
        self
    }
}

fn descriptor(value: &serde_json::Value) -> (String, u64) {
    (
        value.get("digest").and_then(|d| d.as_str()).unwrap_or_default().to_owned(),
        value.get("size").and_then(serde_json::Value::as_u64).unwrap_or(0),
    )
}
