//! The transport under a pull's session: HTTP and HTTPS clients with their trust (system roots,
//! certs.d CAs and client certificates, see [`super::trust`]), one request at a time described by
//! a [`RequestSpec`], manual redirects that never carry a credential to another origin or to a
//! host where the [`CredentialPolicy`] forbids it, body caps, timeouts, and a record of every
//! request. It knows nothing of challenges or tokens: that is the authorizer's, and retrying
//! through it is the session's.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use reqwest::header::{HeaderMap, HeaderValue};

use reqwest::{Method, StatusCode, Url};

use rustls::pki_types::CertificateDer;

use super::authorizer::{CredentialPolicy, display_url, same_origin};
use super::lookup::{LookupError, Resolver};
use super::report::{FailureClass, RequestRecord, Stage};
use super::trust;

/// Largest manifest body read.
pub(crate) const MANIFEST_CAP: usize = 4 * 1024 * 1024;
/// Largest token or error body read.
pub(crate) const SMALL_CAP: usize = 1024 * 1024;
/// Most redirects followed for one request.
const MAX_REDIRECTS: usize = 5;

/// Timeouts of the road.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// TCP + TLS connect.
    pub connect: Duration,
    /// A whole non-blob request (headers and capped body).
    pub request: Duration,
    /// Longest silence while a blob streams.
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self { connect: Duration::from_secs(10), request: Duration::from_secs(30), idle: Duration::from_secs(30) }
    }
}

/// A low-level failure: class plus the underlying error's words.
#[derive(Debug, Clone)]
pub(crate) struct HttpFailure {
    /// The class.
    pub(crate) class: FailureClass,
    /// What happened.
    pub(crate) cause: String,
}

/// A response whose body (if read) is capped.
#[derive(Debug)]
pub(crate) struct Response {
    /// Status.
    pub(crate) status: StatusCode,
    /// Headers.
    pub(crate) headers: HeaderMap,
    /// The body (empty for HEAD).
    pub(crate) body: Vec<u8>,
}

/// The directories searched for per-registry CAs, as Docker and Podman lay them out.
pub(crate) fn default_ca_dirs(home: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(home) = home {
        dirs.push(home.join(".docker/certs.d"));
    }
    dirs.push(PathBuf::from("/etc/docker/certs.d"));
    dirs.push(PathBuf::from("/etc/containers/certs.d"));
    dirs
}

/// The HTTP clients of one pull: plain HTTP at once, HTTPS once the system's trust roots are in
/// (loaded once per process on a thread of their own; see [`system_roots`]). Every request picks
/// its client by its URL's scheme, redirects included.
#[derive(Debug)]
pub(crate) struct Clients {
    plain: reqwest::Client,
    tls: tokio::sync::OnceCell<reqwest::Client>,
    policy: CredentialPolicy,
    ca_dirs: Vec<PathBuf>,
    timeouts: Timeouts,
    resolve: Vec<(String, std::net::SocketAddr)>,
    resolver: Arc<Resolver>,
    client_certificate: ClientCertificateNote,
    /// Whether a TLS handshake began (the TCP connection was accepted).
    handshake_started: Arc<std::sync::atomic::AtomicBool>,
    /// Whether a server on this machine is taken with any certificate (the runtime's loopback
    /// rule: see [`trust::OnLoopbackAnyCertificate`]).
    pub(crate) any_certificate_on_loopback: bool,
    /// Whether a loopback certificate the system would refuse was taken (see above).
    pub(crate) untrusted_taken: Arc<std::sync::atomic::AtomicBool>,
}

/// Whether a server asked for a client certificate, and whether one was there to present.
#[derive(Debug, Default)]
struct ClientCertificateNote {
    asked: Arc<std::sync::atomic::AtomicBool>,
    presented: std::sync::atomic::AtomicBool,
}

impl Clients {
    /// The clients for the registry of `policy`: per-registry CAs and client certificates come
    /// from `DIR/HOST/` under each of `ca_dirs`; `resolve` pins host names to addresses (like
    /// curl's `--resolve`); every other name is looked up through `resolver`. `plain` is a run's
    /// plain-HTTP client when it has one (the same for every registry: one connection pool).
    pub(crate) fn new(
        policy: CredentialPolicy,
        ca_dirs: &[PathBuf],
        timeouts: Timeouts,
        resolve: &[(String, std::net::SocketAddr)],
        resolver: Arc<Resolver>,
        plain: Option<reqwest::Client>,
    ) -> Result<Self, HttpFailure> {
        let plain = match plain {
            Some(plain) => plain,
            None => Self::plain_client(timeouts, resolve, &resolver)?,
        };
        Ok(Self {
            plain,
            tls: tokio::sync::OnceCell::new(),
            policy,
            ca_dirs: ca_dirs.to_vec(),
            timeouts,
            resolve: resolve.to_vec(),
            resolver,
            client_certificate: ClientCertificateNote::default(),
            handshake_started: Arc::default(),
            any_certificate_on_loopback: false,
            untrusted_taken: Arc::default(),
        })
    }

    /// The plain-HTTP client: nothing in it depends on the registry.
    pub(crate) fn plain_client(
        timeouts: Timeouts,
        resolve: &[(String, std::net::SocketAddr)],
        resolver: &Arc<Resolver>,
    ) -> Result<reqwest::Client, HttpFailure> {
        builder(timeouts, resolve, resolver)
            .build()
            .map_err(|e| HttpFailure { class: FailureClass::Protocol, cause: error_chain(&e) })
    }

    /// Looks the registry's host name up (once per resolver: a run shares it), unless it is an
    /// IP address or pinned; a failure in Go's resolver words.
    pub(crate) async fn lookup(&self, host: &str) -> Result<(), LookupError> {
        let name = host_name(host);
        if self.needs_lookup(name) {
            self.resolver.lookup(name).await?;
        }
        Ok(())
    }

    fn needs_lookup(&self, name: &str) -> bool {
        name.parse::<std::net::IpAddr>().is_err() && !self.resolve.iter().any(|(pinned, _)| pinned == name)
    }

    /// The address a connection to `host` (`name[:port]`, port 443 by default) went to, as the
    /// runtime's dialer names it (`IP:PORT`): pinned, literal, or the lookup's first answer — no
    /// new lookup.
    pub(crate) fn peer(&self, host: &str) -> Option<String> {
        let name = host_name(host);
        let port = host.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok()).unwrap_or(443);
        if let Some((_, addr)) = self.resolve.iter().find(|(pinned, _)| pinned == name) {
            return Some(addr.to_string());
        }
        let ip = match name.parse::<std::net::IpAddr>() {
            Ok(ip) => ip,
            Err(_) => *self.resolver.settled(name)?.ok()?.first()?,
        };
        Some(std::net::SocketAddr::new(ip, port).to_string())
    }

    /// The rule for where credentials may go.
    pub(crate) fn policy(&self) -> &CredentialPolicy {
        &self.policy
    }

    /// Sorts a transport error into the catalogue, knowing what this pull's TLS handshakes saw: a
    /// connection that failed after the server asked for a client certificate is explained as
    /// that, whatever the server's way of hanging up.
    pub(crate) fn classify(&self, error: &reqwest::Error) -> HttpFailure {
        let mut failure = classify_transport(error);
        if matches!(failure.class, FailureClass::Timeout | FailureClass::DnsFailure)
            && let Some(named) = error.url().and_then(|url| self.lookup_failure(url, error.is_connect()))
        {
            return named;
        }
        if failure.class == FailureClass::Timeout
            && error.is_connect()
            && error.url().is_some_and(|url| url.scheme() == "https")
            && self.handshake_started.load(std::sync::atomic::Ordering::Relaxed)
        {
            failure.cause = format!("{TLS_HANDSHAKE_TIMEOUT} (the server accepted the connection, then said nothing)");
        }
        let asked = self.client_certificate.asked.load(std::sync::atomic::Ordering::Relaxed);
        if asked && matches!(failure.class, FailureClass::Protocol | FailureClass::TlsFailure) {
            let presented = self.client_certificate.presented.load(std::sync::atomic::Ordering::Relaxed);
            failure.class = FailureClass::TlsClientCertificate;
            failure.cause = if presented {
                format!("the registry asked for a client certificate and refused the one presented: {}", failure.cause)
            } else {
                format!(
                    "the registry asked for a client certificate and none is configured (certs.d/{}/client.cert and client.key): {}",
                    self.policy.registry_host, failure.cause
                )
            };
        }
        failure
    }

    /// A connection to `url` that failed while its host's lookup had not ended (a timeout) or
    /// had failed: the lookup's failure, in Go's words.
    fn lookup_failure(&self, url: &Url, connecting: bool) -> Option<HttpFailure> {
        let name = url.host_str()?;
        let lookup_error = match self.resolver.settled(name) {
            Some(Err(error)) => error,
            None if connecting && self.resolver.pending(name) => LookupError {
                host: name.to_owned(),
                nameserver: super::lookup::nameserver(),
                failure: super::lookup::LookupFailure::Timeout,
            },
            _ => return None,
        };
        Some(lookup_failure(&lookup_error))
    }

    /// The client for `url`: the TLS one (built on first use) for `https`, else the plain one.
    pub(crate) async fn for_url(&self, url: &Url) -> Result<&reqwest::Client, HttpFailure> {
        if url.scheme() != "https" {
            return Ok(&self.plain);
        }
        self.tls
            .get_or_try_init(|| async {
                let tls_failure = |cause: String| HttpFailure { class: FailureClass::TlsFailure, cause };
                let registry = trust::registry_trust(&self.policy.registry_host, &self.ca_dirs)
                    .map_err(|e| tls_failure(e.to_string()))?;
                let verifier = if registry.cas.is_empty() {
                    system_verifier().await
                } else {
                    let mut roots = system_roots().await.as_ref().clone();
                    roots.extend(registry.cas);
                    trust::verifier(&roots)
                }
                .map_err(|e| tls_failure(e.to_string()))?;
                let verifier = if self.any_certificate_on_loopback {
                    trust::OnLoopbackAnyCertificate::around(verifier, self.untrusted_taken.clone())
                } else {
                    verifier
                };
                let has_identity = registry.identity.is_some();
                let asked = self.client_certificate.asked.clone();
                let config = trust::client_config(verifier, registry.identity, asked, self.handshake_started.clone())
                    .map_err(|e| tls_failure(e.to_string()))?;
                self.client_certificate.presented.store(has_identity, std::sync::atomic::Ordering::Relaxed);
                builder(self.timeouts, &self.resolve, &self.resolver)
                    .use_preconfigured_tls(config)
                    .build()
                    .map_err(|e| tls_failure(error_chain(&e)))
            })
            .await
    }
}

/// Settings both clients share (the TLS client brings its own rustls configuration: see
/// [`trust`]).
fn builder(
    timeouts: Timeouts,
    resolve: &[(String, std::net::SocketAddr)],
    resolver: &Arc<Resolver>,
) -> reqwest::ClientBuilder {
    let mut builder = reqwest::Client::builder()
        .dns_resolver(resolver.for_clients())
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeouts.connect)
        .user_agent(concat!("regcred/", env!("CARGO_PKG_VERSION")));
    for (name, addr) in resolve {
        builder = builder.resolve(name, *addr);
    }
    builder
}

/// Go's `net/http` words for a TLS handshake that did not end in time.
pub(crate) const TLS_HANDSHAKE_TIMEOUT: &str = "net/http: TLS handshake timeout";

/// `name` of `name[:port]` (`[v6]:port` → `v6`).
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    host.rsplit_once(':').filter(|(_, port)| port.parse::<u16>().is_ok()).map_or(host, |(name, _)| name)
}

/// A failed lookup as a transport failure: the class (a timeout is its own) and Go's words.
pub(crate) fn lookup_failure(error: &LookupError) -> HttpFailure {
    let class = if error.timed_out() { FailureClass::DnsTimeout } else { FailureClass::DnsFailure };
    HttpFailure { class, cause: error.go_words() }
}

/// The verifier of the system's roots alone, built once per process: what every registry without
/// CAs of its own checks servers with.
async fn system_verifier() -> Result<Arc<dyn rustls::client::danger::ServerCertVerifier>, trust::TrustError> {
    static VERIFIER: tokio::sync::OnceCell<Arc<dyn rustls::client::danger::ServerCertVerifier>> =
        tokio::sync::OnceCell::const_new();
    let roots = system_roots().await;
    VERIFIER.get_or_try_init(|| async { trust::verifier(&roots) }).await.cloned()
}

/// The system's trust roots (the OS store, or `SSL_CERT_FILE`/`SSL_CERT_DIR`), loaded once per
/// process, when HTTPS first needs them. Reading and parsing them is milliseconds of blocking
/// I/O, so it runs on a thread of its own rather than on the async runtime (other requests go on
/// meanwhile, and a process that ends first does not wait for it). A root rustls cannot use is
/// left out, as reqwest does.
async fn system_roots() -> Arc<Vec<CertificateDer<'static>>> {
    static ROOTS: tokio::sync::OnceCell<Arc<Vec<CertificateDer<'static>>>> = tokio::sync::OnceCell::const_new();
    fn load() -> Arc<Vec<CertificateDer<'static>>> {
        let loaded = rustls_native_certs::load_native_certs();
        Arc::new(
            loaded.certs.into_iter().filter(|der| rustls::RootCertStore::empty().add(der.clone()).is_ok()).collect(),
        )
    }
    ROOTS
        .get_or_init(|| async {
            let (sender, receiver) = tokio::sync::oneshot::channel();
            let thread = std::thread::Builder::new().name("regcred-trust-roots".into());
            match thread.spawn(move || sender.send(load())) {
                Ok(_) => receiver.await.unwrap_or_else(|_| load()),
                Err(_) => load(),
            }
        })
        .await
        .clone()
}

/// The whole cause chain of an error, as one line.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = inner.source();
    }
    parts.join(": ")
}

/// Sorts a transport error into the catalogue.
pub(crate) fn classify_transport(error: &reqwest::Error) -> HttpFailure {
    let cause = error_chain(error);
    let lower = cause.to_ascii_lowercase();
    let class = if error.is_timeout() || lower.contains("timed out") {
        FailureClass::Timeout
    } else if lower.contains("dns error")
        || lower.contains("failed to lookup")
        || lower.contains("name or service not known")
    {
        FailureClass::DnsFailure
    } else if lower.contains("connection refused") {
        FailureClass::ConnectionRefused
    } else if lower.contains("unknownissuer") || lower.contains("unknown issuer") || lower.contains("causedasendentity")
    {
        // A self-signed (CA) certificate that is not in the trust pool: Go says "unknown authority".
        FailureClass::TlsUnknownAuthority
    } else if lower.contains("certificaterequired")
        || lower.contains("certificate required")
        || lower.contains("received fatal alert: badcertificate")
        || (lower.contains("received fatal alert: handshakefailure") && lower.contains("client"))
    {
        FailureClass::TlsClientCertificate
    } else if lower.contains("invalidcontenttype")
        || lower.contains("corrupt message")
        || lower.contains("http response to https")
    {
        FailureClass::HttpToHttps
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        FailureClass::TlsFailure
    } else {
        FailureClass::Protocol
    };
    HttpFailure { class, cause }
}

/// One request to make: what, where, with which credential, how much of the body to read and
/// how long to wait.
#[derive(Clone)]
pub(crate) struct RequestSpec {
    /// The stage it belongs to (for the record).
    pub(crate) stage: Stage,
    /// The method.
    pub(crate) method: Method,
    /// The URL.
    pub(crate) url: Url,
    /// The `Accept` header, if any.
    pub(crate) accept: Option<&'static str>,
    /// The `Authorization` value, sent only to the request's own origin.
    pub(crate) authorization: Option<HeaderValue>,
    /// A body and its content type (a login form: it never follows a redirect elsewhere).
    pub(crate) body: Option<(zeroize::Zeroizing<Vec<u8>>, &'static str)>,
    /// The most body bytes [`send`] reads (none for `HEAD`).
    pub(crate) cap: usize,
    /// How long the answer (headers and a capped body) may take.
    pub(crate) timeout: Duration,
}

impl RequestSpec {
    /// A request of `stage` with no credential, no body, and the cap and timeout to fill in.
    pub(crate) fn new(stage: Stage, method: Method, url: Url, cap: usize, timeout: Duration) -> Self {
        Self { stage, method, url, accept: None, authorization: None, body: None, cap, timeout }
    }
}

/// A request's final answer, its body not yet read.
pub(crate) struct Opened {
    /// The response (status and headers in; body to read).
    pub(crate) response: reqwest::Response,
    /// Its record, status set; the caller fills in bytes and time and pushes it.
    pub(crate) record: RequestRecord,
    /// When the final request went out.
    pub(crate) started: Instant,
}

/// A failed request: what went wrong, and its record when it got that far.
pub(crate) type Failed = (HttpFailure, Option<RequestRecord>);

/// One request, following redirects by hand: an `Authorization` header goes only to the
/// request's own origin and never to a redirect target elsewhere; a body (a login form) is never
/// taken to another origin; a credential never goes where the policy forbids (refused before
/// connecting); HTTPS→HTTP is refused; at most [`MAX_REDIRECTS`]. Each response's headers must
/// arrive within the spec's timeout. Redirects are recorded in `records`; the final response is
/// returned with its body unread (see [`send`] for a capped read).
pub(crate) async fn open(
    clients: &Clients,
    records: &mut Vec<RequestRecord>,
    spec: &RequestSpec,
) -> Result<Opened, Failed> {
    let origin = spec.url.clone();
    let mut current = spec.url.clone();
    for _ in 0..=MAX_REDIRECTS {
        let started = Instant::now();
        let authorized = spec.authorization.is_some() && same_origin(&origin, &current);
        if (authorized || spec.body.is_some()) && !clients.policy().may_carry(&current) {
            // Decided before any connection: nothing is sent, not even without the credential.
            let cause = format!(
                "{} is plain HTTP on another machine and not marked insecure: regcred does not send credentials there",
                display_url(&current)
            );
            return Err((HttpFailure { class: FailureClass::Refused, cause }, None));
        }
        let mut record = RequestRecord {
            stage: spec.stage,
            method: spec.method.to_string(),
            url: display_url(&current),
            status: None,
            millis: 0.0,
            bytes: 0,
            authorized,
        };
        let failed = |record: &mut RequestRecord, records: &mut Vec<RequestRecord>, failure: HttpFailure| {
            record.millis = started.elapsed().as_secs_f64() * 1e3;
            records.push(record.clone());
            Err((failure, Some(record.clone())))
        };
        let response = match one_request(clients, spec, &current, authorized).await {
            Ok(response) => response,
            Err(failure) => return failed(&mut record, records, failure),
        };
        let status = response.status();
        record.status = Some(status.as_u16());
        if !status.is_redirection() {
            return Ok(Opened { response, record, started });
        }
        match redirect_target(spec, &origin, &current, &response) {
            Ok(next) => {
                record.millis = started.elapsed().as_secs_f64() * 1e3;
                records.push(record);
                current = next;
            }
            Err(failure) => return failed(&mut record, records, failure),
        }
    }
    let cause = format!("more than {MAX_REDIRECTS} redirects");
    Err((HttpFailure { class: FailureClass::Protocol, cause }, records.last().cloned()))
}

/// Sends `spec` to `url` once (no redirects), within its timeout.
async fn one_request(
    clients: &Clients,
    spec: &RequestSpec,
    url: &Url,
    authorized: bool,
) -> Result<reqwest::Response, HttpFailure> {
    let client = clients.for_url(url).await?;
    let mut request = client.request(spec.method.clone(), url.clone());
    if let Some(accept) = spec.accept {
        request = request.header(reqwest::header::ACCEPT, HeaderValue::from_static(accept));
    }
    if let (true, Some(value)) = (authorized, &spec.authorization) {
        request = request.header(reqwest::header::AUTHORIZATION, value.clone());
    }
    if let Some((bytes, content_type)) = &spec.body {
        request = request.header(reqwest::header::CONTENT_TYPE, *content_type).body(bytes.to_vec());
    }
    match tokio::time::timeout(spec.timeout, request.send()).await {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(error)) => Err(clients.classify(&error)),
        Err(_) => Err(HttpFailure {
            class: FailureClass::Timeout,
            cause: "net/http: timeout awaiting response headers (no answer in time)".to_owned(),
        }),
    }
}

/// Where a redirect may be followed to, or why not.
fn redirect_target(
    spec: &RequestSpec,
    origin: &Url,
    current: &Url,
    response: &reqwest::Response,
) -> Result<Url, HttpFailure> {
    let location = response.headers().get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok());
    let Some(next) = location.and_then(|l| current.join(l).ok()) else {
        let cause = format!("a redirect without a usable location ({location:?})");
        return Err(HttpFailure { class: FailureClass::Protocol, cause });
    };
    if current.scheme() == "https" && next.scheme() != "https" {
        let cause = format!("the registry redirected from HTTPS to {}, which regcred refuses", display_url(&next));
        return Err(HttpFailure { class: FailureClass::Refused, cause });
    }
    if spec.body.is_some() && !same_origin(origin, &next) {
        // A request body here is a login form: it stays with the origin it was meant for.
        let cause = format!(
            "the token service redirected the login to {}; regcred does not send credentials there",
            display_url(&next)
        );
        return Err(HttpFailure { class: FailureClass::Refused, cause });
    }
    Ok(next)
}

/// [`open`], then the body read within the same timeout and at most the spec's cap (none for
/// `HEAD`).
pub(crate) async fn send(
    clients: &Clients,
    records: &mut Vec<RequestRecord>,
    spec: &RequestSpec,
) -> Result<Response, Failed> {
    let deadline = tokio::time::Instant::now() + spec.timeout;
    let Opened { response, mut record, started } = open(clients, records, spec).await?;
    let (status, headers) = (response.status(), response.headers().clone());
    let read =
        if spec.method == Method::HEAD { Ok(Vec::new()) } else { read_capped(response, spec.cap, deadline).await };
    record.millis = started.elapsed().as_secs_f64() * 1e3;
    match read {
        Ok(body) => {
            record.bytes = body.len() as u64;
            records.push(record);
            Ok(Response { status, headers, body })
        }
        Err((failure, bytes)) => {
            record.bytes = bytes as u64;
            records.push(record.clone());
            Err((failure, Some(record)))
        }
    }
}

/// Reads a body of at most `cap` bytes by `deadline`; on failure, also how many bytes came.
pub(crate) async fn read_capped(
    response: reqwest::Response,
    cap: usize,
    deadline: tokio::time::Instant,
) -> Result<Vec<u8>, (HttpFailure, usize)> {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    loop {
        let chunk = match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(None) => return Ok(body),
            Ok(Some(Ok(chunk))) => chunk,
            Ok(Some(Err(error))) => return Err((classify_transport(&error), body.len())),
            Err(_) => {
                let cause = "the response body did not arrive in time".to_owned();
                return Err((HttpFailure { class: FailureClass::Timeout, cause }, body.len()));
            }
        };
        if body.len() + chunk.len() > cap {
            let cause = format!("the response body is larger than regcred's limit of {cap} bytes");
            return Err((HttpFailure { class: FailureClass::Protocol, cause }, body.len() + chunk.len()));
        }
        body.extend_from_slice(&chunk);
    }
}
