//! The stages of the road above the session: the ping and its challenge, the login check, the
//! manifest (`HEAD` as runtimes resolve, `GET` for the bytes), the platform of an index, and the
//! blobs (quick: the config fetched, layers checked; full: every blob downloaded and verified,
//! three at a time). Each stage returns what it found or a [`Stop`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt as _;
use reqwest::{Method, StatusCode, Url};
use sha2::{Digest as _, Sha256};

use super::authorizer::{Scheme, is_loopback};
use super::document::{self, Manifest};
use super::node::{LoopbackRoad, Platform};
use super::report::{FailureClass, RateLimit, Stage};
use super::session::{Answer, RepoKey, Session, Stop, cell_of, registry_errors};
use super::transport::{self, HttpFailure, MANIFEST_CAP, RequestSpec, Response, SMALL_CAP};
use crate::image_ref::ImageRef;

/// How long a loopback registry's plain-HTTP ping has to answer before HTTPS is asked as well.
const PLAIN_PING_HEAD_START: Duration = Duration::from_millis(250);

/// Blobs downloaded at once in a full pull, as Docker's default `max-concurrent-downloads`.
const PARALLEL_DOWNLOADS: usize = 3;

/// What the manifest endpoint accepts.
pub(crate) const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

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

/// A blob of the image: digest, size, media type, and whether it is the config.
#[derive(Debug, Clone)]
pub(crate) struct Blob {
    /// The digest.
    pub(crate) digest: String,
    /// The size the manifest announces.
    pub(crate) size: u64,
    /// The media type.
    pub(crate) media_type: String,
    /// Whether it is the config.
    pub(crate) config: bool,
}

/// `GET /v2/` over HTTPS; plain HTTP for insecure registries after HTTPS met a plain-HTTP
/// server, and for loopback registries (see [`ping_loopback`]). The challenge goes to the
/// authorizer.
pub(crate) async fn ping(session: &mut Session<'_>, host: &str, insecure: bool) -> Result<(), Box<Stop>> {
    let cell = session.run.and_then(|run| super::session::cell_of(&run.pings, host.to_owned()));
    let Some(cell) = cell else { return ping_once(session, host, insecure).await.map(drop) };
    let mut pinged = false;
    let settled = cell
        .get_or_try_init(|| {
            pinged = true;
            ping_shared(session, host, insecure)
        })
        .await?
        .clone();
    match settled {
        Ok(memo) if !pinged => reuse_ping(session, &memo),
        Ok(_) => {}
        Err(failure) => return Err(failure.stop()),
    }
    Ok(())
}

/// The ping of a run: what it settled, or a failure to reach the host (kept for the other pulls);
/// any other failure is this pull's alone.
async fn ping_shared(
    session: &mut Session<'_>,
    host: &str,
    insecure: bool,
) -> Result<Result<super::session::PingMemo, super::session::HostFailure>, Box<Stop>> {
    match ping_once(session, host, insecure).await {
        Ok(memo) => Ok(Ok(memo)),
        Err(stop) => super::session::HostFailure::of(&stop).map(Err).ok_or(stop),
    }
}

/// Another pull's ping of the same registry, taken as this session's own.
fn reuse_ping(session: &mut Session<'_>, memo: &super::session::PingMemo) {
    session.base = memo.base.clone();
    let tls = session.base.scheme() == "https";
    session.authorizer.challenged(memo.challenge.as_deref(), tls);
    session.ping_unauthorized = memo.unauthorized;
}

/// The ping itself; what it settled, for the other pulls of a run.
async fn ping_once(
    session: &mut Session<'_>,
    host: &str,
    insecure: bool,
) -> Result<super::session::PingMemo, Box<Stop>> {
    // The host's name first, once per run: a lookup that fails is the resolver's failure.
    let lookup = session.clients.lookup(host).await;
    lookup.map_err(|error| super::session::failure_stop(Stage::Ping, transport::lookup_failure(&error)))?;
    let url = session.url("v2/");
    let http_base = Url::parse(&format!("http://{host}/")).ok();
    let road = session.runtime.loopback_road();
    let loopback_base =
        http_base.clone().filter(|_| url.scheme() == "https" && is_loopback(host) && road != LoopbackRoad::LikeAnyHost);
    let response = if let Some(base) = loopback_base.clone().filter(|_| road == LoopbackRoad::PlainHttp) {
        session.base = base;
        let spec = session.spec(Stage::Ping, Method::GET, session.url("v2/"), SMALL_CAP);
        session.request(spec).await?
    } else if let Some(base) = loopback_base {
        ping_loopback(session, url, base).await?
    } else {
        let spec = session.spec(Stage::Ping, Method::GET, url, SMALL_CAP);
        // containers/image (CRI-O) pings an insecure registry over plain HTTP after any HTTPS
        // failure and reports that second ping; the others only after a plain-HTTP answer.
        let any_failure = road == LoopbackRoad::LikeAnyHost;
        match session.request(spec).await {
            Err(stop) if insecure && (stop.class == FailureClass::HttpToHttps || any_failure) => {
                session.base = http_base.unwrap_or_else(|| session.base.clone());
                let spec = session.spec(Stage::Ping, Method::GET, session.url("v2/"), SMALL_CAP);
                session.request(spec).await?
            }
            other => other?,
        }
    };
    let tls = session.base.scheme() == "https";
    let memo = |session: &Session<'_>, challenge, unauthorized| super::session::PingMemo {
        base: session.base.clone(),
        challenge,
        unauthorized,
    };
    match response.status {
        StatusCode::OK => {
            session.authorizer.challenged(None, tls);
            Ok(memo(session, None, false))
        }
        StatusCode::UNAUTHORIZED => {
            let header = response.headers.get(reqwest::header::WWW_AUTHENTICATE).and_then(|h| h.to_str().ok());
            let header = header.map(|h| session.redactor.clean(h));
            session.authorizer.challenged(header.as_deref(), tls);
            session.ping_unauthorized = true;
            Ok(memo(session, header, true))
        }
        _ => Err(session.status_stop(Stage::Ping, response)),
    }
}

/// A loopback registry's ping, which carries no credentials, for the runtimes that try HTTPS and
/// then plain HTTP there (containerd 1.7 and 2.x, Docker: see [`LoopbackRoad`]; their HTTPS takes
/// any certificate from this machine). Plain HTTP goes first: a port that answers it (with
/// anything but the 400 a TLS port gives clear text) cannot speak TLS, so HTTPS, and the system's
/// trust roots it needs, are skipped. Otherwise HTTPS decides, as for any registry — except that
/// Docker reports its HTTP endpoint's answer after any HTTPS failure; HTTPS also starts by itself
/// if the plain answer is slow to come (a TLS port that keeps silent). Only the requests that
/// decided are recorded.
async fn ping_loopback(session: &mut Session<'_>, tls_url: Url, http_base: Url) -> Result<Response, Box<Stop>> {
    if session.cancelled() {
        return Err(Stop::new(FailureClass::Cancelled, Stage::Ping, "cancelled"));
    }
    let http_url = http_base.join("v2/").unwrap_or_else(|_| http_base.clone());
    let http = Box::pin(session.prepare(session.spec(Stage::Ping, Method::GET, http_url, SMALL_CAP)));
    let https = session.prepare(session.spec(Stage::Ping, Method::GET, tls_url.clone(), SMALL_CAP));
    let late_https = Box::pin(async move {
        tokio::time::sleep(PLAIN_PING_HEAD_START).await;
        https.await
    });
    // Docker tries its insecure registry's HTTP endpoint after any HTTPS failure.
    let docker = session.runtime.loopback_road() == LoopbackRoad::InsecureRegistry;
    let falls_back = |https: &Answer| docker && https.result.is_err();
    let (https, http): (Answer, Answer) = match futures_util::future::select(late_https, http).await {
        futures_util::future::Either::Right((http, _)) if http.is_plain_http() => {
            session.base = http_base;
            return session.absorb(http);
        }
        futures_util::future::Either::Right((http, _)) => {
            (session.prepare(session.spec(Stage::Ping, Method::GET, tls_url, SMALL_CAP)).await, http)
        }
        futures_util::future::Either::Left((https, _)) if !https.is_http_to_https() && !falls_back(&https) => {
            return session.absorb(https);
        }
        futures_util::future::Either::Left((https, http)) => (https, http.await),
    };
    let both_silent = [&https, &http].iter().all(|answer| answer.timed_out());
    if !https.is_http_to_https() && !both_silent && !falls_back(&https) {
        return session.absorb(https);
    }
    // A plain-HTTP registry, or one silent to both: the runtimes' default for a local registry is
    // plain HTTP, so that answer (or silence) is the one reported.
    session.base = http_base;
    session.absorb(http)
}

/// `docker login`'s check: the credential opens `/v2/` (via a token without scope). A `401`
/// without a challenge regcred can answer (no `WWW-Authenticate`, or only schemes that neither
/// regcred nor the runtimes speak) is a failed login: the credential was never sent, so it is
/// not known to work (`docker login` fails there too).
pub(crate) async fn check_login(session: &mut Session<'_>, host: &str, insecure: bool) -> Result<(), Box<Stop>> {
    ping(session, host, insecure).await?;
    if session.ping_unauthorized && *session.authorizer.scheme() == Scheme::Open {
        let cause = match &session.authorizer.challenge {
            Some(challenge) => format!(
                "{} with a challenge in no scheme the runtimes answer (Basic, Bearer): WWW-Authenticate: {challenge}; the credential was not sent",
                super::facts::UNANSWERABLE_401
            ),
            None => {
                format!(
                    "{} without a WWW-Authenticate challenge; the credential was not sent",
                    super::facts::UNANSWERABLE_401
                )
            }
        };
        return Err(Stop::new(FailureClass::Protocol, Stage::Ping, cause));
    }
    session.authenticate("").await?;
    if *session.authorizer.scheme() == Scheme::Basic {
        let spec = session.spec(Stage::Ping, Method::GET, session.url("v2/"), SMALL_CAP);
        let response = session.request(spec).await?;
        if !response.status.is_success() {
            return Err(session.status_stop(Stage::Ping, response));
        }
    }
    Ok(())
}

/// The manifest as the runtime fetches it. containerd and dockerd resolve the tag with `HEAD` and
/// fetch the bytes by the digest it announced, in a run or not: see [`manifest_in_run`]. CRI-O
/// (containers/image) `GET`s it by tag; the `HEAD` is sent with it, for the status a `GET`
/// limited by the registry would hide.
pub(crate) async fn manifest(session: &mut Session<'_>, image: &ImageRef) -> Result<Manifest, Box<Stop>> {
    if session.run.is_some() || session.runtime.resolves_with_head() {
        return manifest_in_run(session, image).await;
    }
    let url = session.url(&format!("v2/{}/manifests/{}", image.path(), image.manifest_reference()));
    let mut head = session.spec(Stage::Manifest, Method::HEAD, url.clone(), 0);
    head.accept = Some(ACCEPT);
    let mut get = session.spec(Stage::Manifest, Method::GET, url, MANIFEST_CAP);
    get.accept = Some(ACCEPT);
    let mut both = session.requests_together(vec![head, get]).await.into_iter();
    let (Some(head), Some(get)) = (both.next(), both.next()) else {
        return Err(Stop::new(FailureClass::Protocol, Stage::Manifest, "no manifest response"));
    };
    let head = head?;
    session.rate_limit = RateLimit::from_headers(&head.headers).or_else(|| session.rate_limit.take());
    if let Ok(get) = &get {
        session.rate_limit = RateLimit::from_headers(&get.headers).or_else(|| session.rate_limit.take());
    }
    if !head.status.is_success() {
        return Err(head_failed(session, image, head, get).await);
    }
    manifest_from(session, get?, image.digest())
}

/// A manifest in a run of many pulls, as a node resolves and fetches it: `HEAD` for each image
/// (it is what decides whether the image resolves, and Docker Hub does not count it as a pull),
/// then the bytes by digest once per repository, credential and digest — they are content-addressed,
/// and a node's content store fetches them once too. Pulls that need the same manifest at the
/// same time wait for the first one's `GET`. A `HEAD` without a digest is followed by a `GET` of
/// the tag, as containerd does.
async fn manifest_in_run(session: &mut Session<'_>, image: &ImageRef) -> Result<Manifest, Box<Stop>> {
    let url = session.url(&format!("v2/{}/manifests/{}", image.path(), image.manifest_reference()));
    let mut head = session.spec(Stage::Manifest, Method::HEAD, url.clone(), 0);
    head.accept = Some(ACCEPT);
    let head = session.request(head).await?;
    session.rate_limit = RateLimit::from_headers(&head.headers).or_else(|| session.rate_limit.take());
    let get = |session: &Session<'_>, url: Url| {
        let mut get = session.spec(Stage::Manifest, Method::GET, url, MANIFEST_CAP);
        get.accept = Some(ACCEPT);
        get
    };
    if !head.status.is_success() {
        let spec = get(session, url);
        let answer = session.request(spec).await;
        return Err(head_failed(session, image, head, answer).await);
    }
    let announced = head
        .headers
        .get("docker-content-digest")
        .and_then(|d| d.to_str().ok())
        .filter(|d| d.starts_with("sha256:") && d.len() == 71)
        .map(str::to_owned);
    let Some(digest) = image.digest().map(str::to_owned).or(announced) else {
        let spec = get(session, url);
        let response = session.request(spec).await?;
        return manifest_from(session, response, None);
    };
    manifest_by_digest(session, image, &digest, |session, url| get(session, url)).await
}

/// The manifest `digest` of `image`'s repository: fetched, verified and kept once per run (or
/// fetched, outside a run).
async fn manifest_by_digest(
    session: &mut Session<'_>,
    image: &ImageRef,
    digest: &str,
    get: impl FnOnce(&Session<'_>, Url) -> RequestSpec,
) -> Result<Manifest, Box<Stop>> {
    let url = session.url(&format!("v2/{}/manifests/{digest}", image.path()));
    let fetch = async |session: &mut Session<'_>| {
        let spec = get(session, url);
        let response = session.request(spec).await?;
        manifest_from(session, response, Some(digest))
    };
    let key = repo_key(session, image, digest);
    let Some(cell) = session.run.and_then(|run| cell_of(&run.manifests, key)) else { return fetch(session).await };
    cell.get_or_try_init(|| fetch(session)).await.cloned()
}

/// (registry host, repository, credential, `digest`): what a run keeps things by.
fn repo_key(session: &Session<'_>, image: &ImageRef, digest: &str) -> RepoKey {
    let host = session.base.host_str().unwrap_or_default().to_owned()
        + &session.base.port().map(|p| format!(":{p}")).unwrap_or_default();
    (host, image.path().to_owned(), session.authorizer.credential_id(), digest.to_owned())
}

/// The stop for a manifest `HEAD` that failed. A `HEAD` carries no error envelope: the `GET`'s
/// answer has the registry's words.
async fn head_failed(
    session: &mut Session<'_>,
    image: &ImageRef,
    head: Response,
    get: Result<Response, Box<Stop>>,
) -> Box<Stop> {
    let answer = match get {
        Ok(response) if !response.status.is_success() => response,
        _ => head,
    };
    let stop = session.status_stop(Stage::Manifest, answer);
    tell_repository_from_tag(session, image, stop).await
}

/// A manifest `GET`'s answer, checked: status, digest (the one `expected`, else the registry's
/// `Docker-Content-Digest`), JSON.
fn manifest_from(session: &Session<'_>, response: Response, expected: Option<&str>) -> Result<Manifest, Box<Stop>> {
    if !response.status.is_success() {
        return Err(session.status_stop(Stage::Manifest, response));
    }
    let announced = response.headers.get("docker-content-digest").and_then(|d| d.to_str().ok()).map(str::to_owned);
    let expected = expected.map(str::to_owned).or(announced);
    let digest = verify_manifest(session, &response.body, expected.as_deref())?;
    let media_type = response
        .headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|t| t.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let json = parse_manifest(session, &response.body)?;
    Ok(Manifest { digest, media_type, json })
}

/// A HEAD has no body to tell a missing repository from a missing tag: ask for the tag list.
async fn tell_repository_from_tag(session: &mut Session<'_>, image: &ImageRef, mut stop: Box<Stop>) -> Box<Stop> {
    if stop.class != FailureClass::TagUnknown {
        return stop;
    }
    let url = session.url(&format!("v2/{}/tags/list", image.path()));
    let spec = session.spec(Stage::Manifest, Method::GET, url, SMALL_CAP);
    let Ok(tags) = session.request(spec).await else { return stop };
    let errors = registry_errors(&tags.body, &session.redactor);
    if tags.status == StatusCode::NOT_FOUND && errors.iter().any(|e| e.code == "NAME_UNKNOWN") {
        // The manifest's own answer stays: it is what the runtime reports.
        stop.class = FailureClass::RepositoryUnknown;
    } else if tags.status.is_success()
        && let Some(response) = &mut stop.response
        && registry_errors(&response.body, &session.redactor).is_empty()
    {
        let envelope = serde_json::json!({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]});
        response.body = envelope.to_string().into_bytes();
    }
    stop
}

/// The manifest's digest, checked against the one expected (a pinned reference, the registry's
/// `Docker-Content-Digest`, or the index entry).
fn verify_manifest(session: &Session<'_>, body: &[u8], expected: Option<&str>) -> Result<String, Box<Stop>> {
    let actual = digest_text(&Sha256::digest(body));
    match expected.filter(|e| e.starts_with("sha256:") && *e != actual) {
        Some(expected) => {
            let cause = format!("unexpected commit digest {actual}, expected {expected}");
            Err(Box::new(Stop {
                class: FailureClass::BlobCorrupted,
                stage: Stage::Manifest,
                cause,
                request: session.records.last().cloned(),
                response: None,
            }))
        }
        None => Ok(actual),
    }
}

fn parse_manifest(session: &Session<'_>, body: &[u8]) -> Result<serde_json::Value, Box<Stop>> {
    serde_json::from_slice(body).map_err(|e| document_stop(session, format!("the manifest is not JSON: {e}")))
}

/// The platform manifest an index offers for `wanted`: the platforms listed, the one chosen, its
/// digest and JSON.
pub(crate) async fn choose_platform(
    session: &mut Session<'_>,
    image: &ImageRef,
    index: &serde_json::Value,
    wanted: &Platform,
) -> Result<(Vec<String>, String, String, serde_json::Value), Box<Stop>> {
    let entries = document::index_entries(index).map_err(|error| document_stop(session, error.to_string()))?;
    let platforms: Vec<String> = entries
        .iter()
        .filter_map(|entry| entry.platform.as_ref())
        .filter(|p| p.os != "unknown")
        .map(ToString::to_string)
        .collect();
    let chosen = entries.iter().find(|entry| entry.platform.as_ref().is_some_and(|p| wanted.accepts(p)));
    let Some(chosen) = chosen else {
        let cause = format!("no manifest for {wanted} among {}", platforms.join(", "));
        return Err(Stop::new(FailureClass::PlatformMissing, Stage::Platform, cause));
    };
    let get = |session: &Session<'_>, url| {
        let mut spec = session.spec(Stage::Manifest, Method::GET, url, MANIFEST_CAP);
        spec.accept = Some(ACCEPT);
        spec
    };
    let manifest = manifest_by_digest(session, image, &chosen.digest, get).await?;
    let platform = chosen.platform.as_ref().map(ToString::to_string).unwrap_or_default();
    Ok((platforms, platform, chosen.digest.clone(), manifest.json))
}

/// A registry document that cannot be used: a protocol failure at the manifest stage, in the
/// document's own terms, with the request that fetched it.
fn document_stop(session: &Session<'_>, cause: String) -> Box<Stop> {
    Box::new(Stop {
        class: FailureClass::Protocol,
        stage: Stage::Manifest,
        cause,
        request: session.records.last().cloned(),
        response: None,
    })
}

/// The config and layer blobs of a platform manifest.
pub(crate) fn blobs_of(session: &Session<'_>, manifest: &serde_json::Value) -> Result<Vec<Blob>, Box<Stop>> {
    let (config, layers) =
        document::manifest_blobs(manifest).map_err(|error| document_stop(session, error.to_string()))?;
    let blob = |descriptor: document::Descriptor, config: bool| Blob {
        digest: descriptor.digest,
        size: descriptor.size,
        media_type: descriptor.media_type,
        config,
    };
    Ok(std::iter::once(blob(config, true)).chain(layers.into_iter().map(|l| blob(l, false))).collect())
}

/// Quick mode for the platform manifest `manifest_digest`: see [`check_blobs`]. In a run, once
/// per repository, credential and manifest: pulls of the same manifest at the same time wait for the
/// first one's answer.
pub(crate) async fn check_manifest_blobs(
    session: &mut Session<'_>,
    image: &ImageRef,
    manifest_digest: &str,
    blobs: &[Blob],
) -> Result<serde_json::Value, (Box<Stop>, Blob)> {
    let key = repo_key(session, image, manifest_digest);
    let Some(cell) = session.run.and_then(|run| cell_of(&run.checked, key)) else {
        return check_blobs(session, image, blobs).await;
    };
    cell.get_or_try_init(|| check_blobs(session, image, blobs)).await.cloned()
}

/// Quick mode: the config is fetched (small; it names the image's platform) and verified, the
/// layers are checked with `HEAD`, all at once. Returns the config's JSON.
async fn check_blobs(
    session: &mut Session<'_>,
    image: &ImageRef,
    blobs: &[Blob],
) -> Result<serde_json::Value, (Box<Stop>, Blob)> {
    let (host, path, user, _) = repo_key(session, image, "");
    let key = |blob: &Blob| (host.clone(), path.clone(), user.clone(), blob.digest.clone());
    let known: std::collections::HashMap<String, Vec<u8>> = session
        .run
        .and_then(|run| run.blobs.lock().ok())
        .map(|cache| {
            blobs.iter().filter_map(|b| cache.get(&key(b)).map(|bytes| (b.digest.clone(), bytes.clone()))).collect()
        })
        .unwrap_or_default();
    let mut config = serde_json::Value::Null;
    if let Some(bytes) = blobs.iter().find(|b| b.config).and_then(|b| known.get(&b.digest)) {
        config = serde_json::from_slice(bytes).unwrap_or_default();
    }
    let blobs: Vec<Blob> = blobs.iter().filter(|b| !known.contains_key(&b.digest)).cloned().collect();
    let blobs = blobs.as_slice();
    let specs = blobs
        .iter()
        .map(|blob| {
            let url = session.url(&format!("v2/{}/blobs/{}", image.path(), blob.digest));
            let method = if blob.config { Method::GET } else { Method::HEAD };
            session.spec(Stage::Blob, method, url, MANIFEST_CAP)
        })
        .collect();
    let mut found = Vec::new();
    for (result, blob) in session.requests_together(specs).await.into_iter().zip(blobs) {
        let response = result.map_err(|stop| (stop, blob.clone()))?;
        if !response.status.is_success() {
            return Err((session.status_stop(Stage::Blob, response), blob.clone()));
        }
        if blob.config {
            let actual = digest_text(&Sha256::digest(&response.body));
            if actual != blob.digest {
                let cause = format!("unexpected commit digest {actual}, expected {}", blob.digest);
                let stop = Stop {
                    class: FailureClass::BlobCorrupted,
                    stage: Stage::Blob,
                    cause,
                    request: session.records.last().cloned(),
                    response: None,
                };
                return Err((Box::new(stop), blob.clone()));
            }
            config = serde_json::from_slice(&response.body).unwrap_or_default();
            found.push((key(blob), response.body.clone()));
        } else {
            found.push((key(blob), Vec::new()));
        }
    }
    if let Some(mut cache) = session.run.and_then(|run| run.blobs.lock().ok()) {
        cache.extend(found);
    }
    Ok(config)
}

/// Full mode: every blob downloaded, three at a time, each streamed through its size and SHA-256
/// (nothing kept but the small config, whose JSON is returned).
pub(crate) async fn download_blobs(
    session: &mut Session<'_>,
    image: &ImageRef,
    blobs: &[Blob],
    progress: Option<&(dyn Fn(BlobProgress) + Send + Sync)>,
) -> Result<serde_json::Value, (Box<Stop>, Blob)> {
    let cancel = session.cancel_flag();
    let fetches: Vec<_> = blobs
        .iter()
        .map(|blob| {
            let url = session.url(&format!("v2/{}/blobs/{}", image.path(), blob.digest));
            fetch_blob(session, url, blob.clone(), cancel, progress)
        })
        .collect();
    let mut downloads = futures_util::stream::iter(fetches).buffered(PARALLEL_DOWNLOADS);
    let mut config = serde_json::Value::Null;
    while let Some((answer, blob)) = downloads.next().await {
        match session.absorb(answer) {
            Ok(Fetched::Verified(Some(bytes))) => config = serde_json::from_slice(&bytes).unwrap_or_default(),
            Ok(Fetched::Verified(None)) => {}
            Ok(Fetched::Refused(response)) => return Err((session.status_stop(Stage::Blob, *response), blob)),
            Err(stop) => return Err((stop, blob)),
        }
    }
    Ok(config)
}

/// A downloaded blob: verified (with its bytes when it is the config), or the registry's refusal.
enum Fetched {
    Verified(Option<Vec<u8>>),
    Refused(Box<Response>),
}

/// One blob downloaded and verified as it streams, as a future that does not hold the session.
fn fetch_blob<'p>(
    session: &Session<'_>,
    url: Url,
    blob: Blob,
    cancel: Option<&'p AtomicBool>,
    progress: Option<&'p (dyn Fn(BlobProgress) + Send + Sync)>,
) -> impl std::future::Future<Output = (Answer<Fetched>, Blob)> + use<'p> {
    let clients = session.clients.clone();
    let spec = session.spec(Stage::Blob, Method::GET, url, 0);
    let idle = session.timeouts.idle;
    async move {
        let mut records = Vec::new();
        let opened = match transport::open(&clients, &mut records, &spec).await {
            Ok(opened) => opened,
            Err(failed) => return (Answer { stage: Stage::Blob, records, result: Err(failed) }, blob),
        };
        let transport::Opened { response, mut record, started } = opened;
        let result = if response.status().is_success() {
            let (bytes, verified) = verify_blob(response, &blob, idle, cancel, progress).await;
            record.bytes = bytes;
            record.millis = started.elapsed().as_secs_f64() * 1e3;
            records.push(record.clone());
            verified.map(Fetched::Verified).map_err(|failure| (failure, Some(record)))
        } else {
            // The registry's error envelope, capped; a missing or oversized one still leaves
            // the status to report.
            let (status, headers) = (response.status(), response.headers().clone());
            let deadline = tokio::time::Instant::now() + spec.timeout;
            let body = transport::read_capped(response, SMALL_CAP, deadline).await.unwrap_or_default();
            record.millis = started.elapsed().as_secs_f64() * 1e3;
            records.push(record);
            Ok(Fetched::Refused(Box::new(Response { status, headers, body })))
        };
        (Answer { stage: Stage::Blob, records, result }, blob)
    }
}

/// Streams a blob's body through SHA-256 and the size its descriptor gives, nothing kept: the
/// bytes received, and whether they are the blob (or why the stream stopped).
async fn verify_blob(
    response: reqwest::Response,
    blob: &Blob,
    idle: Duration,
    cancel: Option<&AtomicBool>,
    progress: Option<&(dyn Fn(BlobProgress) + Send + Sync)>,
) -> (u64, Result<Option<Vec<u8>>, HttpFailure>) {
    let failure = |class, cause: String| Err(HttpFailure { class, cause });
    let (digest, size) = (&blob.digest, blob.size);
    let mut hasher = Sha256::new();
    let mut done = 0_u64;
    let mut kept = (blob.config && size <= MANIFEST_CAP as u64).then(Vec::new);
    let mut stream = response.bytes_stream();
    loop {
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return (done, failure(FailureClass::Cancelled, "cancelled".to_owned()));
        }
        let chunk = match tokio::time::timeout(idle, stream.next()).await {
            Ok(Some(Ok(chunk))) => chunk,
            Ok(None) => break,
            Ok(Some(Err(error))) => return (done, Err(transport::classify_transport(&error))),
            Err(_) => return (done, failure(FailureClass::Timeout, "the blob stopped arriving".to_owned())),
        };
        done += chunk.len() as u64;
        if done > size {
            let cause = format!("more bytes than the {size} the manifest announces for {digest}");
            return (done, failure(FailureClass::BlobCorrupted, cause));
        }
        hasher.update(&chunk);
        if let Some(kept) = &mut kept {
            kept.extend_from_slice(&chunk);
        }
        if let Some(progress) = progress {
            progress(BlobProgress { digest: digest.clone(), done, total: size });
        }
    }
    let actual = digest_text(&hasher.finalize());
    if done != size || actual != *digest {
        let cause = format!("unexpected commit digest {actual}, expected {digest} ({done} of {size} bytes)");
        return (done, failure(FailureClass::BlobCorrupted, cause));
    }
    (done, Ok(kept))
}

/// `sha256:` and the hash in lowercase hex.
pub(crate) fn digest_text(hash: &[u8]) -> String {
    use std::fmt::Write as _;
    hash.iter().fold(String::from("sha256:"), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}
