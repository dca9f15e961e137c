//! The session of one pull, above the transport and the authorizer: it sends the stages'
//! requests with the authorizer's credential, drives the authorizer's token requests, retries
//! once through the authorizer when a registry answers 401 with a new challenge for a token, keeps
//! every request's record, and stops with a [`Stop`] — what was recorded about a failure, before
//! it is put into words.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::{Method, StatusCode, Url};

use super::authorizer::{Authorizer, Scheme, TokenCache, TokenRefusal};
use super::challenge::parse_challenges;
use super::facts::TokenAttempt;
use super::report::{FailureClass, RateLimit, RegistryError, RequestRecord, Stage};
use super::transport::{self, Clients, Failed, HttpFailure, RequestSpec, Response, SMALL_CAP, Timeouts};
use crate::untrusted::Redactor;

/// Where a pull stopped, as recorded: the class, the stage, regcred's own words for the cause,
/// and the request and response involved.
#[derive(Debug)]
pub(crate) struct Stop {
    /// The failure class.
    pub(crate) class: FailureClass,
    /// The stage.
    pub(crate) stage: Stage,
    /// What happened, in regcred's words.
    pub(crate) cause: String,
    /// The request that failed, when one was made.
    pub(crate) request: Option<RequestRecord>,
    /// The response, when one came.
    pub(crate) response: Option<Response>,
}

impl Stop {
    /// A stop with no request behind it.
    pub(crate) fn new(class: FailureClass, stage: Stage, cause: impl Into<String>) -> Box<Self> {
        Box::new(Self { class, stage, cause: cause.into(), request: None, response: None })
    }

    fn from_failed(stage: Stage, (failure, request): Failed) -> Box<Self> {
        Box::new(Self { class: failure.class, stage, cause: failure.cause, request, response: None })
    }
}

/// A prepared request's outcome: its records (redirects included) and its response or failure.
pub(crate) struct Answer<T = Response> {
    /// The stage.
    pub(crate) stage: Stage,
    /// Its records.
    pub(crate) records: Vec<RequestRecord>,
    /// Its response or failure.
    pub(crate) result: Result<T, Failed>,
}

impl Answer {
    /// Whether a server answered in plain HTTP with anything but the 400 a TLS port gives clear
    /// text: then that port speaks plain HTTP and cannot speak TLS.
    pub(crate) fn is_plain_http(&self) -> bool {
        self.result.as_ref().is_ok_and(|response| response.status != StatusCode::BAD_REQUEST)
    }

    /// Whether no answer came in time.
    pub(crate) fn timed_out(&self) -> bool {
        self.result.as_ref().is_err_and(|(failure, _)| failure.class == FailureClass::Timeout)
    }

    /// Whether the failure was a plain-HTTP server spoken to over HTTPS.
    pub(crate) fn is_http_to_https(&self) -> bool {
        self.result.as_ref().is_err_and(|(failure, _)| failure.class == FailureClass::HttpToHttps)
    }
}

/// One pull's session.
pub(crate) struct Session<'a> {
    /// The HTTP clients.
    pub(crate) clients: Arc<Clients>,
    /// Credential, challenge and authorization.
    pub(crate) authorizer: Authorizer<'a>,
    tokens: &'a TokenCache,
    /// Every request, in order.
    pub(crate) records: Vec<RequestRecord>,
    /// Every credential sent, to cut out of what servers say back.
    pub(crate) redactor: Redactor,
    /// Where registry requests go (`https://HOST/`, or `http://HOST/` once the ping settled it).
    pub(crate) base: Url,
    /// The timeouts.
    pub(crate) timeouts: Timeouts,
    cancel: Option<&'a AtomicBool>,
    /// The last token request, for the report.
    pub(crate) token: Option<TokenAttempt>,
    /// The registry's rate-limit headers, when it sent them.
    pub(crate) rate_limit: Option<RateLimit>,
    /// Whether the ping answered `401`.
    pub(crate) ping_unauthorized: bool,
    /// What the pulls of a run (`regcred check`) do once: pings, manifests, blobs.
    pub(crate) run: Option<&'a RunMemos>,
    /// The runtime whose road is walked (its requests, and how it reaches a loopback registry).
    pub(crate) runtime: super::node::Runtime,
}

/// Work the pulls of a run do once per key: the first pull that needs it does it, the others wait
/// for it and take its result. A failure is not kept (each pull then meets it itself).
pub(crate) type RunOnce<K, V> = std::sync::Mutex<std::collections::HashMap<K, Arc<tokio::sync::OnceCell<V>>>>;

/// The cell of `key` in `cache` (none only if another thread panicked holding the lock).
pub(crate) fn cell_of<K: Eq + std::hash::Hash, V>(
    cache: &RunOnce<K, V>,
    key: K,
) -> Option<Arc<tokio::sync::OnceCell<V>>> {
    cache.lock().ok().map(|mut cells| cells.entry(key).or_default().clone())
}

/// What a run keeps per repository and credential: (registry host, repository, credential —
/// see [`Authorizer::credential_id`] —, digest).
pub(crate) type RepoKey = (String, String, String, String);

/// The blobs a run has found in a repository, by (registry host, repository, credential, digest): the
/// config's verified bytes, or nothing for a layer that exists. Images that share blobs (the tags
/// of one repository) check each blob once per credential — what a node's content store does too.
pub(crate) type BlobCache = std::sync::Mutex<std::collections::HashMap<RepoKey, Vec<u8>>>;

/// What a run fetched and verified once per (registry host, repository, credential, digest): manifests
/// by digest (content-addressed, so a node fetches them once too), and the config of a platform
/// manifest whose blobs were all found.
#[derive(Default)]
pub(crate) struct RunMemos {
    /// Pings, one per registry.
    pub(crate) pings: PingCache,
    /// Manifests by digest.
    pub(crate) manifests: RunOnce<RepoKey, super::document::Manifest>,
    /// Platform manifests whose blobs were all found: their config's JSON.
    pub(crate) checked: RunOnce<RepoKey, serde_json::Value>,
    /// Blobs found.
    pub(crate) blobs: BlobCache,
}

/// Counts only: the keys name credentials.
impl std::fmt::Debug for RunMemos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = |len: Option<usize>| len.unwrap_or_default();
        f.debug_struct("RunMemos")
            .field("pings", &count(self.pings.lock().ok().map(|c| c.len())))
            .field("manifests", &count(self.manifests.lock().ok().map(|c| c.len())))
            .field("checked", &count(self.checked.lock().ok().map(|c| c.len())))
            .field("blobs", &count(self.blobs.lock().ok().map(|c| c.len())))
            .finish()
    }
}

/// What a registry's ping settled: where requests go and how it challenges.
#[derive(Debug, Clone)]
pub(crate) struct PingMemo {
    /// `https://HOST/` or `http://HOST/`.
    pub(crate) base: Url,
    /// The `WWW-Authenticate` header of its `401` (none for an open registry).
    pub(crate) challenge: Option<String>,
    /// Whether it answered `401` (with a challenge or without one).
    pub(crate) unauthorized: bool,
}

/// One ping per registry for a run: the first pull to a host pings, the others wait for it and
/// use its answer. A failure to reach the host (its lookup, the connection, TLS) is kept and
/// shared: every pull to that host ends at once with the same facts. Any other failed ping is not
/// kept (each pull then meets the failure itself).
pub(crate) type PingCache = RunOnce<String, Result<PingMemo, HostFailure>>;

/// A failure to reach a registry host — its lookup, the connection or TLS — before it said a
/// word: the same for every pull to that host, whatever the image or credential.
#[derive(Debug, Clone)]
pub(crate) struct HostFailure {
    /// The class.
    pub(crate) class: FailureClass,
    /// The stage.
    pub(crate) stage: Stage,
    /// The cause, in regcred's words.
    pub(crate) cause: String,
    /// The request that failed, when one was sent.
    pub(crate) request: Option<RequestRecord>,
}

impl HostFailure {
    /// The failure `stop` is, when it is one of reaching the host.
    pub(crate) fn of(stop: &Stop) -> Option<Self> {
        let reaching = stop.class.is_reaching_the_host();
        let unanswered = stop.response.is_none() && stop.request.as_ref().is_none_or(|r| r.status.is_none());
        (reaching && unanswered).then(|| Self {
            class: stop.class,
            stage: stop.stage,
            cause: stop.cause.clone(),
            request: stop.request.clone(),
        })
    }

    /// The stop it is for a pull.
    pub(crate) fn stop(&self) -> Box<Stop> {
        Box::new(Stop {
            class: self.class,
            stage: self.stage,
            cause: self.cause.clone(),
            request: self.request.clone(),
            response: None,
        })
    }
}

impl<'a> Session<'a> {
    /// A session on `clients` for the registry at `base`.
    pub(crate) fn new(
        clients: Arc<Clients>,
        authorizer: Authorizer<'a>,
        tokens: &'a TokenCache,
        base: Url,
        timeouts: Timeouts,
        cancel: Option<&'a AtomicBool>,
    ) -> Self {
        let mut redactor = Redactor::new();
        if let Some(credential) = authorizer.credential() {
            redactor.add_login(&credential.username, credential.secret.expose());
        }
        Self {
            clients,
            authorizer,
            tokens,
            records: Vec::new(),
            redactor,
            base,
            timeouts,
            cancel,
            token: None,
            rate_limit: None,
            ping_unauthorized: false,
            run: None,
            runtime: super::node::Runtime::default(),
        }
    }

    /// `path` under the registry's base URL.
    pub(crate) fn url(&self, path: &str) -> Url {
        self.base.join(path).unwrap_or_else(|_| self.base.clone())
    }

    /// The cancel flag, for futures that run without the session.
    pub(crate) fn cancel_flag(&self) -> Option<&'a AtomicBool> {
        self.cancel
    }

    /// Whether the pull was cancelled.
    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// A request of `stage` with the authorizer's credential and the request timeout.
    pub(crate) fn spec(&self, stage: Stage, method: Method, url: Url, cap: usize) -> RequestSpec {
        let mut spec = RequestSpec::new(stage, method, url, cap, self.timeouts.request);
        spec.authorization = self.authorizer.authorization().cloned();
        spec
    }

    /// One request as a future that does not hold the session: its records and result come back
    /// through [`Session::absorb`] (or are dropped, unasked).
    pub(crate) fn prepare(&self, spec: RequestSpec) -> impl std::future::Future<Output = Answer> + use<> {
        let clients = self.clients.clone();
        async move {
            let mut records = Vec::new();
            let result = transport::send(&clients, &mut records, &spec).await;
            Answer { stage: spec.stage, records, result }
        }
    }

    /// Records a prepared request's answer.
    pub(crate) fn absorb<T>(&mut self, answer: Answer<T>) -> Result<T, Box<Stop>> {
        let Answer { stage, records, result } = answer;
        self.records.extend(records);
        result.map_err(|failed| Stop::from_failed(stage, failed))
    }

    /// One request (see [`Session::requests_together`]).
    pub(crate) async fn request(&mut self, spec: RequestSpec) -> Result<Response, Box<Stop>> {
        let stage = spec.stage;
        let mut results = self.requests_together(vec![spec]).await;
        results.pop().unwrap_or_else(|| Err(Stop::new(FailureClass::Protocol, stage, "no response")))
    }

    /// Sends independent requests at once (as runtimes do for blobs), records them in order, and
    /// returns their results in order. A 401 that asks for a token for another scope (or says the
    /// token lacks one) is retried once with a fresh token, as containerd's authorizer does.
    pub(crate) async fn requests_together(&mut self, specs: Vec<RequestSpec>) -> Vec<Result<Response, Box<Stop>>> {
        if self.cancelled() {
            return specs.iter().map(|spec| Err(Stop::new(FailureClass::Cancelled, spec.stage, "cancelled"))).collect();
        }
        let all = futures_util::future::join_all(specs.iter().cloned().map(|spec| self.prepare(spec)));
        // Cancel stops the requests in flight too: a hung registry must not hold the user's Cancel.
        let answers = tokio::select! {
            answers = all => answers,
            () = until_set(self.cancel) => {
                return specs.iter().map(|spec| Err(Stop::new(FailureClass::Cancelled, spec.stage, "cancelled"))).collect();
            }
        };
        let mut results: Vec<_> = answers.into_iter().map(|answer| self.absorb(answer)).collect();
        let Some(scope) = results.iter().find_map(|result| self.retry_scope(result)) else { return results };
        if self.fetch_token(&scope, true).await.is_err() {
            return results;
        }
        for (index, spec) in specs.into_iter().enumerate() {
            if results[index].as_ref().is_ok_and(|r| r.status == StatusCode::UNAUTHORIZED) {
                let retried = RequestSpec { authorization: self.authorizer.authorization().cloned(), ..spec };
                let answer = self.prepare(retried).await;
                results[index] = self.absorb(answer);
            }
        }
        results
    }

    /// The scope to ask a fresh token for, when `result` is a 401 a token could cure.
    fn retry_scope(&self, result: &Result<Response, Box<Stop>>) -> Option<String> {
        let response = result.as_ref().ok().filter(|r| r.status == StatusCode::UNAUTHORIZED)?;
        if !matches!(self.authorizer.scheme(), Scheme::Bearer { .. }) {
            return None;
        }
        let header = response.headers.get(reqwest::header::WWW_AUTHENTICATE)?.to_str().ok()?;
        let challenges = parse_challenges(header);
        let bearer = challenges.iter().find(|c| c.scheme == "bearer")?;
        // One more token, fresh, for the scope the registry names; a second 401 stands.
        bearer.param("scope").map(str::to_owned)
    }

    /// `GET /v2/`'s challenge decides what comes next: Basic credentials, or a token for `scope`.
    pub(crate) async fn authenticate(&mut self, scope: &str) -> Result<(), Box<Stop>> {
        match self.authorizer.scheme().clone() {
            Scheme::Open => Ok(()),
            Scheme::Basic => {
                let base = self.base.clone();
                self.authorizer.basic_for(&base).map_err(|cause| Stop::new(FailureClass::Refused, Stage::Ping, cause))
            }
            Scheme::Bearer { .. } => self.fetch_token(scope, false).await,
        }
    }

    /// A token for `scope`: from the cache (unless `fresh`), else from the token service, as the
    /// authorizer asks for it.
    pub(crate) async fn fetch_token(&mut self, scope: &str, fresh: bool) -> Result<(), Box<Stop>> {
        if fresh {
            return self.request_token(scope).await;
        }
        if self.use_cached_token(scope) {
            return Ok(());
        }
        // Pulls that start together wait for the first one's token instead of each asking.
        let gate = self.authorizer.token_gate(self.tokens, scope);
        let _turn = match &gate {
            Some(gate) => tokio::select! {
                turn = gate.lock() => Some(turn),
                () = until_set(self.cancel) => return Err(Stop::new(FailureClass::Cancelled, Stage::Token, "cancelled")),
            },
            None => None,
        };
        if self.use_cached_token(scope) {
            return Ok(());
        }
        self.request_token(scope).await
    }

    /// Uses the cached token for `scope`, when there is one.
    fn use_cached_token(&mut self, scope: &str) -> bool {
        let Some(token) = self.authorizer.cached_token(self.tokens, scope) else { return false };
        self.redactor.add_secret(token.expose());
        true
    }

    /// A token for `scope` from the token service, as the authorizer asks for it.
    async fn request_token(&mut self, scope: &str) -> Result<(), Box<Stop>> {
        let requests = self.authorizer.token_requests(scope).map_err(|refusal| match refusal {
            TokenRefusal::BadRealm(realm) => {
                Stop::new(FailureClass::Protocol, Stage::Token, format!("the token realm {realm:?} is not a URL"))
            }
            TokenRefusal::PlainHttp(realm) => Stop::new(
                FailureClass::Refused,
                Stage::Token,
                format!(
                    "the token service {realm} speaks plain HTTP: regcred sends a password in clear text only to this machine, or to the registry itself when it is marked insecure"
                ),
            ),
        })?;
        let attempt = self.attempt(scope);
        let mut answer = None;
        let count = requests.len();
        for (index, request) in requests.into_iter().enumerate() {
            let method = request.method.to_string();
            // Which request it was, should it get no answer at all (the words name it).
            self.token = Some(TokenAttempt { post_only: method == "POST", method: method.clone(), ..attempt.clone() });
            let response = self.token_request(request).await?;
            let status = response.status.as_u16();
            let last = index + 1 == count || !Authorizer::falls_back_after(status);
            self.token = Some(TokenAttempt {
                post_only: method == "POST",
                method,
                status: Some(status),
                errors: token_errors(status, &response.body, &self.redactor),
                ..attempt.clone()
            });
            answer = Some(response);
            if last {
                break;
            }
        }
        let Some(response) = answer else {
            return Err(Stop::new(FailureClass::Protocol, Stage::Token, "no token request"));
        };
        self.token_answer(scope, response)
    }

    fn attempt(&self, scope: &str) -> TokenAttempt {
        let (realm, service) = match self.authorizer.scheme() {
            Scheme::Bearer { realm, service } => (realm.clone(), service.clone()),
            _ => (String::new(), String::new()),
        };
        // The user name a token GET names as `account` (Docker's and containers/image's), not an
        // identity token's placeholder.
        let account = self
            .authorizer
            .credential()
            .map(|credential| credential.username.clone())
            .filter(|user| user != super::authorizer::IDENTITY_TOKEN_USER)
            .unwrap_or_default();
        TokenAttempt { realm, service, scope: scope.to_owned(), account, ..TokenAttempt::default() }
    }

    async fn token_request(&mut self, request: super::authorizer::TokenRequest) -> Result<Response, Box<Stop>> {
        let mut spec = RequestSpec::new(Stage::Token, request.method, request.url, SMALL_CAP, self.timeouts.request);
        spec.authorization = request.authorization;
        spec.body = request
            .form
            .map(|form| (zeroize::Zeroizing::new(form.as_bytes().to_vec()), "application/x-www-form-urlencoded"));
        let answer = self.prepare(spec).await;
        self.absorb(answer)
    }

    /// The token service's final answer: a token, or the stop it means.
    fn token_answer(&mut self, scope: &str, response: Response) -> Result<(), Box<Stop>> {
        match response.status {
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                let class = if self.authorizer.credential().is_some() {
                    FailureClass::WrongCredentialsToken
                } else {
                    FailureClass::NoCredentials
                };
                let cause = format!("the token service answered {}{}", response.status, self.realm_note());
                return Err(self.stop_with(class, Stage::Token, cause, response));
            }
            status => {
                let cause = format!("the token service answered {status}");
                return Err(self.stop_with(status_class(status, Stage::Token, ""), Stage::Token, cause, response));
            }
        }
        let Some(token) = self.authorizer.accept_token(self.tokens, scope, &response.body) else {
            let cause = "the token service's answer has no token that can be sent".to_owned();
            return Err(self.stop_with(FailureClass::Protocol, Stage::Token, cause, response));
        };
        self.redactor.add_secret(token.expose());
        Ok(())
    }

    /// ` (token service at HOST)` when the realm is on another host than the registry.
    fn realm_note(&self) -> String {
        let Scheme::Bearer { realm, .. } = self.authorizer.scheme() else { return String::new() };
        let realm_host = Url::parse(realm).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
        if realm_host.is_empty() || self.authorizer.policy().registry_host.starts_with(&realm_host) {
            String::new()
        } else {
            format!(" (token service at {realm_host})")
        }
    }

    /// A stop on an answered request (the last one recorded).
    pub(crate) fn stop_with(&self, class: FailureClass, stage: Stage, cause: String, response: Response) -> Box<Stop> {
        Box::new(Stop { class, stage, cause, request: self.records.last().cloned(), response: Some(response) })
    }

    /// The stop an unsuccessful status means at `stage`.
    pub(crate) fn status_stop(&self, stage: Stage, response: Response) -> Box<Stop> {
        let errors = registry_errors(&response.body, &self.redactor);
        let code = errors.first().map(|e| e.code.as_str()).unwrap_or_default();
        let class = match response.status.as_u16() {
            401 => match (self.authorizer.credential(), self.authorizer.has_token()) {
                (None, _) => FailureClass::NoCredentials,
                (Some(_), true) => FailureClass::Denied,
                (Some(_), false) => FailureClass::WrongCredentialsBasic,
            },
            _ => status_class(response.status, stage, code),
        };
        let cause = format!("the registry answered {}", response.status);
        self.stop_with(class, stage, cause, response)
    }
}

/// The class of an unsuccessful status other than 401.
fn status_class(status: StatusCode, stage: Stage, code: &str) -> FailureClass {
    match status.as_u16() {
        403 => FailureClass::Denied,
        404 if stage == Stage::Blob => FailureClass::BlobMissing,
        404 if code == "NAME_UNKNOWN" => FailureClass::RepositoryUnknown,
        404 => FailureClass::TagUnknown,
        429 => FailureClass::RateLimited,
        500..=599 => FailureClass::ServerError,
        _ => FailureClass::Protocol,
    }
}

/// A token service's refusal as the distribution client reads it (`parseHTTPErrorResponse`,
/// which containers/image follows): a `{"details": "…"}` body first — Docker Hub's, e.g.
/// `incorrect username or password` — as `UNAUTHORIZED` (401), `TOOMANYREQUESTS` (429) or
/// `UNKNOWN` with that message; else the error envelope. Made inert.
fn token_errors(status: u16, body: &[u8], redactor: &Redactor) -> Vec<RegistryError> {
    let details = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|value| value.get("details")?.as_str().map(str::to_owned))
        .filter(|details| !details.is_empty());
    let Some(details) = details else { return registry_errors(body, redactor) };
    let code = match status {
        401 => "UNAUTHORIZED",
        429 => "TOOMANYREQUESTS",
        _ => "UNKNOWN",
    };
    vec![RegistryError { code: code.to_owned(), message: redactor.clean(&details), detail: None }]
}

/// The registry's error envelope (`{"errors": [{"code", "message", "detail"}]}`), made inert.
pub(crate) fn registry_errors(body: &[u8], redactor: &Redactor) -> Vec<RegistryError> {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else { return Vec::new() };
    let Some(errors) = value.get("errors").and_then(|e| e.as_array()) else { return Vec::new() };
    let text =
        |e: &serde_json::Value, key: &str| redactor.clean(e.get(key).and_then(|c| c.as_str()).unwrap_or_default());
    errors
        .iter()
        .map(|e| RegistryError {
            code: text(e, "code"),
            message: text(e, "message"),
            detail: e.get("detail").filter(|d| !d.is_null()).map(|d| redactor.clean(&d.to_string())),
        })
        .collect()
}

/// An `HttpFailure` as a stop of `stage`.
pub(crate) fn failure_stop(stage: Stage, failure: HttpFailure) -> Box<Stop> {
    Stop::new(failure.class, stage, failure.cause)
}

/// Resolves once `flag` is set (looked at every 50 ms); never without a flag.
async fn until_set(flag: Option<&AtomicBool>) {
    let Some(flag) = flag else { return std::future::pending().await };
    while !flag.load(Ordering::Relaxed) {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
