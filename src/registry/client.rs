//! HTTP for the registry road: TLS roots (system plus certs.d CAs), manual redirects that never
//! carry credentials to another origin, body caps, timeouts, and a record of every request.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};

use rustls::pki_types::CertificateDer;

use super::report::{FailureClass, RequestRecord, Stage};
use super::trust;

/// Largest manifest body read.
pub const MANIFEST_CAP: usize = 4 * 1024 * 1024;
/// Largest token or error body read.
pub const SMALL_CAP: usize = 1024 * 1024;
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
pub struct HttpFailure {
    /// The class.
    pub class: FailureClass,
    /// What happened.
    pub cause: String,
}

/// A response whose body (if read) is capped.
#[derive(Debug)]
pub struct Response {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// The body (empty for HEAD).
    pub body: Vec<u8>,
    /// The final URL after redirects.
    pub url: Url,
}

/// The directories searched for per-registry CAs, as Docker and Podman lay them out.
pub fn default_ca_dirs(home: Option<&Path>) -> Vec<PathBuf> {
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
pub struct Clients {
    plain: reqwest::Client,
    tls: tokio::sync::OnceCell<reqwest::Client>,
    host: String,
    /// Whether the user named the registry host insecure (plain HTTP, credentials included).
    insecure: bool,
    ca_dirs: Vec<PathBuf>,
    timeouts: Timeouts,
    resolve: Vec<(String, std::net::SocketAddr)>,
    client_certificate: ClientCertificateNote,
}

/// Whether a server asked for a client certificate, and whether one was there to present.
#[derive(Debug, Default)]
struct ClientCertificateNote {
    asked: Arc<std::sync::atomic::AtomicBool>,
    presented: std::sync::atomic::AtomicBool,
}

impl Clients {
    /// The clients for the registry `host` (`insecure`: the user allows plain HTTP for it): per-registry
    /// CAs come from `DIR/HOST/*.crt` under each of `ca_dirs`; `resolve` pins host names to
    /// addresses (like curl's `--resolve`).
    pub fn new(
        host: &str,
        insecure: bool,
        ca_dirs: &[PathBuf],
        timeouts: Timeouts,
        resolve: &[(String, std::net::SocketAddr)],
    ) -> Result<Self, HttpFailure> {
        let plain = builder(timeouts, resolve)
            .build()
            .map_err(|e| HttpFailure { class: FailureClass::Protocol, cause: error_chain(&e) })?;
        Ok(Self {
            plain,
            tls: tokio::sync::OnceCell::new(),
            host: host.to_owned(),
            insecure,
            ca_dirs: ca_dirs.to_vec(),
            timeouts,
            resolve: resolve.to_vec(),
            client_certificate: ClientCertificateNote::default(),
        })
    }

    /// Whether a credential (an `Authorization` header, a login form) may travel to `url`. Decided
    /// per request, whoever asked for it: over HTTPS; over plain HTTP only to this machine
    /// (loopback) or to the registry host the user named insecure — never to another host in
    /// clear text, whatever the registry's challenge or redirect says.
    pub fn may_carry_credentials(&self, url: &Url) -> bool {
        match url.scheme() {
            "https" => true,
            "http" => {
                let authority = url_authority(url);
                super::pull::is_loopback(&authority) || (self.insecure && authority == self.host)
            }
            _ => false,
        }
    }

    /// Sorts a transport error into the catalogue, knowing what this pull's TLS handshakes saw: a
    /// connection that failed after the server asked for a client certificate is explained as
    /// that, whatever the server's way of hanging up.
    pub fn classify(&self, error: &reqwest::Error) -> HttpFailure {
        let mut failure = classify_transport(error);
        let asked = self.client_certificate.asked.load(std::sync::atomic::Ordering::Relaxed);
        if asked && matches!(failure.class, FailureClass::Protocol | FailureClass::TlsFailure) {
            let presented = self.client_certificate.presented.load(std::sync::atomic::Ordering::Relaxed);
            failure.class = FailureClass::TlsClientCertificate;
            failure.cause = if presented {
                format!("the registry asked for a client certificate and refused the one presented: {}", failure.cause)
            } else {
                format!(
                    "the registry asked for a client certificate and none is configured (certs.d/{}/client.cert and client.key): {}",
                    self.host, failure.cause
                )
            };
        }
        failure
    }

    /// The client for `url`: the TLS one (built on first use) for `https`, else the plain one.
    pub async fn for_url(&self, url: &Url) -> Result<&reqwest::Client, HttpFailure> {
        if url.scheme() != "https" {
            return Ok(&self.plain);
        }
        self.tls
            .get_or_try_init(|| async {
                let tls_failure = |cause: String| HttpFailure { class: FailureClass::TlsFailure, cause };
                let registry =
                    trust::registry_trust(&self.host, &self.ca_dirs).map_err(|e| tls_failure(e.to_string()))?;
                let mut roots = system_roots().await.as_ref().clone();
                roots.extend(registry.cas);
                let has_identity = registry.identity.is_some();
                let asked = self.client_certificate.asked.clone();
                let config =
                    trust::client_config(&roots, registry.identity, asked).map_err(|e| tls_failure(e.to_string()))?;
                self.client_certificate.presented.store(has_identity, std::sync::atomic::Ordering::Relaxed);
                builder(self.timeouts, &self.resolve)
                    .use_preconfigured_tls(config)
                    .build()
                    .map_err(|e| tls_failure(error_chain(&e)))
            })
            .await
    }
}

/// `host[:port]` of a URL, as image references spell a registry.
pub fn url_authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// Settings both clients share (the TLS client brings its own rustls configuration: see
/// [`trust`]).
fn builder(timeouts: Timeouts, resolve: &[(String, std::net::SocketAddr)]) -> reqwest::ClientBuilder {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeouts.connect)
        .user_agent(concat!("regcred/", env!("CARGO_PKG_VERSION")));
    for (name, addr) in resolve {
        builder = builder.resolve(name, *addr);
    }
    builder
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
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
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
pub fn classify_transport(error: &reqwest::Error) -> HttpFailure {
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

/// Whether two URLs share scheme, host and port (credentials may follow only then).
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
}

/// The URL for the record: no user info, no query (token requests carry account names there).
pub fn display_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    if shown.query().is_some_and(|q| q.contains("password")) {
        shown.set_query(Some("…"));
    }
    shown.to_string()
}

/// A request's final answer, its body not yet read.
pub struct Opened {
    /// The response (status and headers in; body to read).
    pub response: reqwest::Response,
    /// Its record, status set; the caller fills in bytes and time and pushes it.
    pub record: RequestRecord,
    /// When the final request went out.
    pub started: Instant,
}

/// One request, following redirects by hand: an `Authorization` header goes only to the
/// request's own origin and never to a redirect target elsewhere; a body (a login form) is never
/// taken to another origin; HTTPS→HTTP is refused; at most [`MAX_REDIRECTS`]. Each response's
/// headers must arrive within `timeout`. Redirects are recorded in `records`; the final response
/// is returned with its body unread (see [`send`] for a capped read).
#[expect(clippy::too_many_arguments, reason = "one call site per stage; a struct would only rename them")]
pub async fn open(
    clients: &Clients,
    records: &mut Vec<RequestRecord>,
    stage: Stage,
    method: Method,
    url: Url,
    headers: HeaderMap,
    authorization: Option<&HeaderValue>,
    body: Option<(Vec<u8>, &'static str)>,
    timeout: Duration,
) -> Result<Opened, (HttpFailure, Option<RequestRecord>)> {
    let origin = url.clone();
    let mut current = url;
    for _ in 0..=MAX_REDIRECTS {
        let started = Instant::now();
        let carries_credentials = (authorization.is_some() && same_origin(&origin, &current)) || body.is_some();
        if carries_credentials && !clients.may_carry_credentials(&current) {
            // Decided before any connection: nothing is sent, not even without the credential.
            let cause = format!(
                "{} is plain HTTP on another machine and not marked insecure: regcred does not send credentials there",
                display_url(&current)
            );
            return Err((HttpFailure { class: FailureClass::Refused, cause }, None));
        }
        let authorized = authorization.is_some() && same_origin(&origin, &current);
        let mut record = RequestRecord {
            stage,
            method: method.to_string(),
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
        let client = match clients.for_url(&current).await {
            Ok(client) => client,
            Err(failure) => return failed(&mut record, records, failure),
        };
        let mut request = client.request(method.clone(), current.clone()).headers(headers.clone());
        if let (true, Some(value)) = (authorized, authorization) {
            request = request.header(reqwest::header::AUTHORIZATION, value.clone());
        }
        if let Some((bytes, content_type)) = &body {
            request = request.header(reqwest::header::CONTENT_TYPE, *content_type).body(bytes.clone());
        }
        let response = match tokio::time::timeout(timeout, request.send()).await {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => return failed(&mut record, records, clients.classify(&error)),
            Err(_) => {
                let failure = HttpFailure { class: FailureClass::Timeout, cause: "no response in time".to_owned() };
                return failed(&mut record, records, failure);
            }
        };
        let status = response.status();
        record.status = Some(status.as_u16());
        if !status.is_redirection() {
            return Ok(Opened { response, record, started });
        }
        let location = response.headers().get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok());
        let Some(next) = location.and_then(|l| current.join(l).ok()) else {
            let cause = format!("a redirect without a usable location ({location:?})");
            return failed(&mut record, records, HttpFailure { class: FailureClass::Protocol, cause });
        };
        if current.scheme() == "https" && next.scheme() != "https" {
            let cause = format!("the registry redirected from HTTPS to {}, which regcred refuses", display_url(&next));
            return failed(&mut record, records, HttpFailure { class: FailureClass::Refused, cause });
        }
        if body.is_some() && !same_origin(&origin, &next) {
            // A request body here is a login form: it stays with the origin it was meant for.
            let cause = format!(
                "the token service redirected the login to {}; regcred does not send credentials there",
                display_url(&next)
            );
            return failed(&mut record, records, HttpFailure { class: FailureClass::Refused, cause });
        }
        record.millis = started.elapsed().as_secs_f64() * 1e3;
        records.push(record);
        current = next;
    }
    let cause = format!("more than {MAX_REDIRECTS} redirects");
    Err((HttpFailure { class: FailureClass::Protocol, cause }, records.last().cloned()))
}

/// [`open`], then the body read within the same `timeout` and at most `cap` bytes (none for HEAD).
#[expect(clippy::too_many_arguments, reason = "one call site per stage; a struct would only rename them")]
pub async fn send(
    clients: &Clients,
    records: &mut Vec<RequestRecord>,
    stage: Stage,
    method: Method,
    url: Url,
    headers: HeaderMap,
    authorization: Option<&HeaderValue>,
    body: Option<(Vec<u8>, &'static str)>,
    cap: usize,
    timeout: Duration,
) -> Result<Response, (HttpFailure, Option<RequestRecord>)> {
    let deadline = tokio::time::Instant::now() + timeout;
    let head = method == Method::HEAD;
    let Opened { response, mut record, started } =
        open(clients, records, stage, method, url, headers, authorization, body, timeout).await?;
    let (status, headers_in, url) = (response.status(), response.headers().clone(), response.url().clone());
    let read = if head { Ok(Vec::new()) } else { read_capped(response, cap, deadline).await };
    let body_bytes = match read {
        Ok(bytes) => bytes,
        Err((failure, bytes)) => {
            record.millis = started.elapsed().as_secs_f64() * 1e3;
            record.bytes = bytes as u64;
            records.push(record.clone());
            return Err((failure, Some(record)));
        }
    };
    record.bytes = body_bytes.len() as u64;
    record.millis = started.elapsed().as_secs_f64() * 1e3;
    records.push(record);
    Ok(Response { status, headers: headers_in, body: body_bytes, url })
}

/// Reads a body of at most `cap` bytes by `deadline`; on failure, also how many bytes came.
pub async fn read_capped(
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
