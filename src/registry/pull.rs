//! The pull, on top of the other layers: reference → credentials → session (transport and
//! authorizer) → ping → token → manifest (index → platform) → blobs. [`Puller::pull`] walks it and
//! returns a [`PullReport`]; it never panics and never sends a secret where it should not go.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use reqwest::Url;

use super::authorizer::{Authorizer, CredentialPolicy, Scheme, TokenCache};
use super::document::{self, Manifest};
use super::failure::{Road, early_failure, failure};
use super::lookup::Resolver;
use super::node::{LoopbackRoad, Platform, Runtime};
use super::report::{FailureClass, Outcome, PullReport, Stage, Success};
use super::session::{Session, Stop};
use super::stages::{self, Blob, BlobProgress};
use super::transport::{Clients, Timeouts};
use crate::image_ref::ImageRef;
use crate::keychain::Credential;
use crate::untrusted::Redactor;

/// How a test pull runs.
#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    /// Download and verify every blob (else only check they exist).
    pub full: bool,
    /// The node's platform.
    pub platform: Platform,
    /// Allow plain HTTP (and credentials over it) for this registry.
    pub insecure: bool,
    /// When not empty, `insecure` holds only for these registry hosts (`host[:port]`): a run of
    /// many registries (`check`) names the ones that serve plain HTTP.
    pub insecure_hosts: Vec<String>,
    /// Directories laid out as `DIR/HOST[:PORT]/` with `*.crt` CAs and `*.cert`/`*.key` pairs.
    pub ca_dirs: Vec<std::path::PathBuf>,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// Host names to resolve to fixed addresses (like curl's `--resolve`).
    pub resolve: Vec<(String, std::net::SocketAddr)>,
    /// Whose words the failure report uses.
    pub runtime: Runtime,
}

impl PullOptions {
    /// The options every face starts from for this user: the CA directories of `$REGCRED_CA_DIR`,
    /// then `~/.docker/certs.d`, `/etc/docker/certs.d` and `/etc/containers/certs.d` (a
    /// `--ca-dir` given on the command line goes before them).
    pub fn for_user(home: Option<&std::path::Path>) -> Self {
        let mut ca_dirs: Vec<std::path::PathBuf> =
            std::env::var_os("REGCRED_CA_DIR").filter(|dir| !dir.is_empty()).map(Into::into).into_iter().collect();
        ca_dirs.extend(super::transport::default_ca_dirs(home));
        Self { ca_dirs, ..Self::default() }
    }
}

/// Runs test pulls, caching bearer tokens per realm/service/scope/user until they expire.
#[derive(Debug, Default)]
pub struct Puller {
    tokens: TokenCache,
    run: Option<RunCache>,
    /// How many of its pulls run at once, per host and in all.
    limits: super::limits::Limits,
}

/// What the pulls of one run share (`regcred check`): each registry's HTTP clients (so their
/// connections are reused), its ping (or the failure to reach it), each host name's lookup, and
/// the manifests and blobs found per repository and credential.
#[derive(Debug)]
struct RunCache {
    clients: std::sync::Mutex<std::collections::HashMap<String, Arc<Clients>>>,
    /// The plain-HTTP client every registry of the run shares (made by the first that needs it).
    plain: std::sync::Mutex<Option<reqwest::Client>>,
    memos: super::session::RunMemos,
    resolver: Arc<Resolver>,
}

impl Puller {
    /// A puller for one run of many pulls: one lookup and one ping per registry (a registry that
    /// cannot be reached fails every pull to it at once, with the first one's facts), connections
    /// reused, tokens cached per scope; lookups give up after `timeouts.connect`. (The window's
    /// puller looks up and pings afresh, as registries change over a day.)
    pub(crate) fn for_a_run(timeouts: Timeouts) -> Self {
        let run = RunCache {
            clients: std::sync::Mutex::default(),
            plain: std::sync::Mutex::default(),
            memos: super::session::RunMemos::default(),
            resolver: Arc::new(Resolver::new(timeouts.connect)),
        };
        Self { tokens: TokenCache::default(), run: Some(run), limits: super::limits::Limits::default() }
    }
}

/// A whole pull, or only the login check.
enum Walk<'a> {
    Pull { cancel: Option<&'a AtomicBool>, progress: Option<&'a (dyn Fn(BlobProgress) + Send + Sync)> },
    Login,
}

/// What a walk found besides success or a stop: the facts the report needs.
#[derive(Default)]
struct Found {
    index: Option<String>,
    oci_index: bool,
    blob: Option<Blob>,
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
        let image = ImageRef::parse(image_input).map_err(|error| error.to_string());
        let walk = Walk::Pull { cancel, progress };
        self.pull_with(image_input, image.as_ref(), credential, credential_source, options, walk).await
    }

    /// [`Puller::pull`] of an image already parsed (`image_input` as written, for the texts).
    pub(crate) async fn pull_parsed(
        &self,
        image_input: &str,
        image: &ImageRef,
        credential: Option<&Credential>,
        credential_source: &str,
        options: &PullOptions,
    ) -> PullReport {
        let walk = Walk::Pull { cancel: None, progress: None };
        self.pull_with(image_input, Ok(image), credential, credential_source, options, walk).await
    }

    /// Checks a login the way `docker login` does: `GET /v2/` with the credential (through the
    /// token service when the registry uses one). `Ok` when the registry accepts it.
    pub async fn verify_login(
        &self,
        registry_host: &str,
        credential: &Credential,
        options: &PullOptions,
    ) -> Result<(), Box<super::report::Failure>> {
        match self.check_login(registry_host, credential, "login check", options).await.outcome {
            Outcome::Failure(failure) => Err(Box::new(failure)),
            Outcome::Success(_) => Ok(()),
        }
    }

    /// [`Puller::verify_login`] with its whole report (requests, challenge, what to do), for a
    /// face that shows a login check like a pull; `credential_source` says where it came from.
    pub async fn check_login(
        &self,
        registry_host: &str,
        credential: &Credential,
        credential_source: &str,
        options: &PullOptions,
    ) -> PullReport {
        let probe = format!("{registry_host}/{}", super::facts::LOGIN_PROBE);
        let image = ImageRef::parse(&probe).map_err(|error| error.to_string());
        self.pull_with(&probe, image.as_ref(), Some(credential), credential_source, options, Walk::Login).await
    }

    /// Clients for a registry, on the run's resolver (or one of their own).
    fn new_clients(
        &self,
        policy: &CredentialPolicy,
        options: &PullOptions,
    ) -> Result<Clients, super::transport::HttpFailure> {
        let Some(run) = self.run.as_ref() else {
            let resolver = Arc::new(Resolver::new(options.timeouts.connect));
            return Clients::new(policy.clone(), &options.ca_dirs, options.timeouts, &options.resolve, resolver, None);
        };
        // A run's options are the same for every pull (`check` builds one set), so one plain
        // client serves every registry.
        let cached = run.plain.lock().ok().and_then(|cached| cached.clone());
        let plain = if let Some(plain) = cached {
            plain
        } else {
            let plain = Clients::plain_client(options.timeouts, &options.resolve, &run.resolver)?;
            if let Ok(mut cached) = run.plain.lock() {
                cached.get_or_insert_with(|| plain.clone());
            }
            plain
        };
        let resolver = run.resolver.clone();
        Clients::new(policy.clone(), &options.ca_dirs, options.timeouts, &options.resolve, resolver, Some(plain))
    }

    async fn pull_with(
        &self,
        image_input: &str,
        image: Result<&ImageRef, &String>,
        credential: Option<&Credential>,
        credential_source: &str,
        options: &PullOptions,
        walk: Walk<'_>,
    ) -> PullReport {
        // A pull that stops before any request: its report from the class, stage and cause.
        let stopped = |reference: &str, class, stage, cause: &str| {
            let failure = early_failure(class, stage, image_input, cause, options.runtime);
            let outcome = Outcome::Failure(failure);
            finish(image_input, reference, credential_source, Vec::new(), outcome, &redactor_for(credential))
        };
        let image = match image {
            Ok(image) => image,
            Err(error) => return stopped(image_input, FailureClass::InvalidReference, Stage::Reference, error),
        };
        let reference = image.to_string();
        let host = image.registry_host().to_owned();
        let named = options.insecure_hosts.is_empty()
            || options.insecure_hosts.iter().any(|named| named.eq_ignore_ascii_case(&host));
        let narrowed;
        let options = if options.insecure && !named {
            narrowed = PullOptions { insecure: false, ..options.clone() };
            &narrowed
        } else {
            options
        };
        let _slot = self.limits.acquire(&host).await;
        let policy = CredentialPolicy { registry_host: host.clone(), insecure: options.insecure };
        // A run shares each registry's clients (their connections); a lone pull makes its own.
        let key = format!("{host} {} {}", options.insecure, options.runtime);
        let shared = self.run.as_ref().and_then(|run| run.clients.lock().ok()?.get(&key).cloned());
        let clients = match shared {
            Some(clients) => clients,
            None => match self.new_clients(&policy, options) {
                Ok(mut clients) => {
                    clients.any_certificate_on_loopback = matches!(
                        options.runtime.loopback_road(),
                        LoopbackRoad::AnyCertificateThenHttp | LoopbackRoad::InsecureRegistry
                    );
                    let clients = Arc::new(clients);
                    if let Some(mut cache) = self.run.as_ref().and_then(|run| run.clients.lock().ok()) {
                        cache.entry(key).or_insert_with(|| clients.clone());
                    }
                    clients
                }
                Err(error) => return stopped(&reference, error.class, Stage::Connect, &error.cause),
            },
        };
        let Ok(base) = Url::parse(&format!("https://{host}/")) else {
            let cause = "the registry host is not a valid URL host";
            return stopped(&reference, FailureClass::InvalidReference, Stage::Reference, cause);
        };
        let (cancel, progress, login_only) = match walk {
            Walk::Pull { cancel, progress } => (cancel, progress, false),
            Walk::Login => (None, None, true),
        };
        let authorizer = Authorizer::new(credential, policy);
        let mut session = Session::new(clients, authorizer, &self.tokens, base, options.timeouts, cancel);
        session.run = self.run.as_ref().map(|run| &run.memos);
        session.runtime = options.runtime;
        let mut found = Found::default();
        let walked = if login_only {
            stages::check_login(&mut session, &host, options.insecure).await.map(|()| Success::login())
        } else {
            walk_road(&mut session, image, options, progress, &mut found).await
        };
        let outcome = match walked {
            Ok(success) => Outcome::Success(success),
            Err(stop) => {
                let failing = super::failure::failing_host(&stop, &host, session.token.as_ref());
                let peer = peer_of(&stop, &failing, &session.clients);
                Outcome::Failure(report_stop(
                    &stop,
                    &session,
                    image,
                    image_input,
                    &host,
                    options,
                    &found,
                    peer.as_deref(),
                ))
            }
        };
        let differ = (!login_only && super::authorizer::is_loopback(&host))
            .then(|| loopback_reach(&session, &outcome))
            .flatten()
            .map(|reach| reach.note().to_owned());
        let records = std::mem::take(&mut session.records);
        let mut report = finish(image_input, &reference, credential_source, records, outcome, &session.redactor);
        report.rate_limit = session.rate_limit.take();
        report.runtimes_differ = differ;
        report
    }
}

/// How a registry on this machine was reached, as far as the runtimes differ on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoopbackReach {
    /// It speaks plain HTTP (and the runtime spoke it).
    Plain,
    /// It speaks plain HTTP and the runtime (CRI-O) would not.
    PlainRefused,
    /// It speaks TLS and the runtime spoke plain HTTP to it (containerd 1.6/1.7): 400.
    TlsSpokenPlain,
    /// Over HTTPS, its certificate trusted here.
    TlsTrusted,
    /// Over HTTPS, its certificate not trusted here but taken (containerd 2.x, Docker).
    TlsUntrustedTaken,
    /// Over HTTPS, its certificate not trusted here and refused (CRI-O).
    TlsUntrustedRefused,
}

impl LoopbackReach {
    /// What the other runtimes would do.
    fn note(self) -> &'static str {
        match self {
            Self::Plain => {
                "this registry on the node itself speaks plain HTTP: containerd and Docker pull from it with no setting; CRI-O only once it is marked `insecure = true` in registries.conf"
            }
            Self::PlainRefused => {
                "containerd and Docker would pull from this plain-HTTP registry on the node itself with no setting; CRI-O needs it marked `insecure = true`"
            }
            Self::TlsSpokenPlain => {
                "this registry speaks TLS: containerd 1.6 and 1.7 (the CRI's default registry settings) speak plain HTTP to a registry on the node itself and fail so; containerd 2.x and Docker reach it over HTTPS taking any certificate, CRI-O too if its certificate is trusted on the node"
            }
            Self::TlsTrusted => {
                "containerd 2.x, Docker and CRI-O reach this registry over HTTPS; containerd 1.6 and 1.7 (the CRI's default registry settings) speak plain HTTP to a registry on the node itself and would fail against it (400 Bad Request)"
            }
            Self::TlsUntrustedTaken => {
                "its certificate is not trusted here: containerd 2.x and Docker take any certificate from a registry on the node itself; CRI-O would refuse it (x509: certificate signed by unknown authority), and containerd 1.6 and 1.7 (default settings) speak plain HTTP to it and would fail (400 Bad Request)"
            }
            Self::TlsUntrustedRefused => {
                "containerd 2.x and Docker take any certificate from a registry on the node itself and would get past this one; CRI-O does not"
            }
        }
    }
}

/// How the pull reached a registry on this machine (`None` when it never answered: nothing
/// differs then).
fn loopback_reach(session: &Session<'_>, outcome: &Outcome) -> Option<LoopbackReach> {
    let crio = session.runtime.loopback_road() == LoopbackRoad::LikeAnyHost;
    let failure = match outcome {
        Outcome::Failure(failure) => Some(failure),
        Outcome::Success(_) => None,
    };
    match failure.map(|f| (f.class, f.stage, f.request.as_ref().and_then(|r| r.status))) {
        Some((FailureClass::HttpToHttps, _, _)) if crio => return Some(LoopbackReach::PlainRefused),
        Some((FailureClass::TlsUnknownAuthority | FailureClass::TlsFailure, _, _)) if crio => {
            return Some(LoopbackReach::TlsUntrustedRefused);
        }
        Some((FailureClass::Protocol, Stage::Ping, Some(400))) if session.base.scheme() == "http" => {
            return Some(LoopbackReach::TlsSpokenPlain);
        }
        _ => {}
    }
    if !session.records.iter().any(|record| record.status.is_some()) {
        return None;
    }
    Some(match session.base.scheme() {
        "http" => LoopbackReach::Plain,
        _ if session.clients.untrusted_taken.load(std::sync::atomic::Ordering::Relaxed) => {
            LoopbackReach::TlsUntrustedTaken
        }
        _ => LoopbackReach::TlsTrusted,
    })
}

/// The whole road for an image, after the session is set up.
async fn walk_road(
    session: &mut Session<'_>,
    image: &ImageRef,
    options: &PullOptions,
    progress: Option<&(dyn Fn(BlobProgress) + Send + Sync)>,
    found: &mut Found,
) -> Result<Success, Box<Stop>> {
    stages::ping(session, image.registry_host(), options.insecure).await?;
    session.authenticate(&format!("repository:{}:pull", image.path())).await?;
    let manifest: Manifest = stages::manifest(session, image).await?;
    let (platforms, platform, manifest_digest, platform_manifest) = if manifest.is_index() {
        found.index = Some(manifest.digest.clone());
        found.oci_index = manifest.media_type == "application/vnd.oci.image.index.v1+json";
        stages::choose_platform(session, image, &manifest.json, &options.platform).await?
    } else {
        (Vec::new(), String::new(), manifest.digest.clone(), manifest.json.clone())
    };
    let blobs = stages::blobs_of(session, &platform_manifest)?;
    let blob_outcome = if options.full {
        stages::download_blobs(session, image, &blobs, progress).await
    } else {
        stages::check_manifest_blobs(session, image, &manifest_digest, &blobs).await
    };
    let config = blob_outcome.map_err(|(stop, blob)| {
        found.blob = Some(blob);
        stop
    })?;
    let platform = if platform.is_empty() { single_platform(&config, options)? } else { platform };
    Ok(Success {
        digest: manifest.digest,
        media_type: manifest.media_type,
        platforms,
        platform,
        manifest_digest,
        layers: blobs.len() - 1,
        total_size: blobs.iter().map(|b| b.size).sum(),
        full: options.full,
        runtime: options.runtime,
    })
}

/// A single-platform image's platform (from its config, when it was read): one built for another
/// platform than the node's pulls, and then cannot start — reported as a failure.
fn single_platform(config: &serde_json::Value, options: &PullOptions) -> Result<String, Box<Stop>> {
    let Some(offered) = document::config_platform(config) else { return Ok(options.platform.to_string()) };
    if options.platform.accepts(&offered) {
        return Ok(offered.to_string());
    }
    let cause = format!("the image's config says {offered}; the node is {}", options.platform);
    Err(Stop::new(FailureClass::PlatformMismatch, Stage::Platform, cause))
}

/// The failure report for a stop, from what the session recorded.
#[expect(clippy::too_many_arguments, reason = "the facts of one report, gathered once")]
fn report_stop(
    stop: &Stop,
    session: &Session<'_>,
    image: &ImageRef,
    image_input: &str,
    host: &str,
    options: &PullOptions,
    found: &Found,
    peer: Option<&str>,
) -> super::report::Failure {
    let road = Road {
        image_input,
        image: Some(image),
        host,
        scheme: session.base.scheme(),
        credentials_sent: session.records.iter().any(|r| r.authorized)
            || (session.token.is_some() && session.authorizer.credential().is_some()),
        basic: *session.authorizer.scheme() == Scheme::Basic,
        challenge: session.authorizer.challenge.as_deref(),
        token: session.token.as_ref(),
        platform: &options.platform,
        index: found.index.as_deref(),
        oci_index: found.oci_index,
        blob: found.blob.as_ref(),
        peer,
        runtime: options.runtime,
    };
    failure(stop, &road, &session.redactor)
}

/// The address a connection failed at, as the runtime's dialer names it (`IP:PORT`), from the
/// lookup already made (none is made for it).
fn peer_of(stop: &Stop, host: &str, clients: &Clients) -> Option<String> {
    if !matches!(stop.class, FailureClass::ConnectionRefused | FailureClass::Timeout) {
        return None;
    }
    clients.peer(host)
}

/// A redactor that knows `credential` in every form it is sent in.
fn redactor_for(credential: Option<&Credential>) -> Redactor {
    let mut redactor = Redactor::new();
    if let Some(credential) = credential {
        redactor.add_login(&credential.username, credential.secret.expose());
    }
    redactor
}

/// The report, made inert.
fn finish(
    image_input: &str,
    reference: &str,
    credential_source: &str,
    records: Vec<super::report::RequestRecord>,
    outcome: Outcome,
    redactor: &Redactor,
) -> PullReport {
    let mut report = PullReport::new(image_input, reference, credential_source, records, outcome);
    report.make_inert(redactor);
    report
}

/// The report for a pull that could not start because the credential could not be read.
pub fn credential_failure(image_input: &str, cause: &str, runtime: Runtime) -> PullReport {
    let reference = ImageRef::parse(image_input).map_or_else(|_| image_input.to_owned(), |i| i.to_string());
    let failure = early_failure(FailureClass::CredentialUnavailable, Stage::Credentials, image_input, cause, runtime);
    finish(image_input, &reference, "unavailable", Vec::new(), Outcome::Failure(failure), &Redactor::new())
}
