//! The authorizer: the bottom layer of the registry road, with no I/O of its own (the session
//! above it sends what it asks for). It owns
//!
//! * the rule for where a credential may go ([`CredentialPolicy`], decided per request),
//! * the registry's challenge and what it asks for (Basic, or a Bearer token from a realm),
//! * the token requests as containerd makes them (an OAuth2 `POST`, falling back to a `GET` with
//!   Basic auth where the service answers 400/401/404/405; an identity token as a
//!   `refresh_token` grant, `POST` only) and the answers they get,
//! * the token cache, per realm, service, scope and user, holding tokens as [`Secret`]s.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::header::HeaderValue;
use reqwest::{Method, Url};
use sha2::Digest as _;

use super::challenge::{Challenge, parse_challenges};
use crate::keychain::Credential;
use crate::secret::Secret;

/// The user name a credential helper answers for an identity (refresh) token, as Docker's
/// protocol has it; the secret is then the token.
pub(crate) const IDENTITY_TOKEN_USER: &str = crate::keychain::IDENTITY_TOKEN_USERNAME;

/// Whether `host` (`name[:port]`) is on this machine.
pub(crate) fn is_loopback(host: &str) -> bool {
    let name = if host.starts_with('[') {
        host.trim_start_matches('[').split(']').next().unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or_default()
    };
    name == "localhost" || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `host[:port]` of a URL, as image references spell a registry.
pub(crate) fn url_authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// Whether two URLs share scheme, host and port (credentials may follow only then).
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
}

/// The URL for the record: no user info, no query (token requests carry account names there).
pub(crate) fn display_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    if shown.query().is_some_and(|q| q.contains("password")) {
        shown.set_query(Some("…"));
    }
    shown.to_string()
}

/// Where a credential (an `Authorization` header, a login form) may travel: decided per request,
/// whoever asked for it.
#[derive(Debug, Clone)]
pub(crate) struct CredentialPolicy {
    /// The registry, `host[:port]`.
    pub(crate) registry_host: String,
    /// Whether the user named the registry insecure (plain HTTP, credentials included).
    pub(crate) insecure: bool,
}

impl CredentialPolicy {
    /// Over HTTPS; over plain HTTP only to this machine (loopback) or to the registry host the
    /// user named insecure — never to another host in clear text, whatever a challenge or a
    /// redirect says.
    pub(crate) fn may_carry(&self, url: &Url) -> bool {
        match url.scheme() {
            "https" => true,
            "http" => {
                let authority = url_authority(url);
                is_loopback(&authority) || (self.insecure && authority == self.registry_host)
            }
            _ => false,
        }
    }
}

/// What the registry's challenge asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// No challenge: the registry is open.
    Open,
    /// `Basic`: the credential itself on every request.
    Basic,
    /// `Bearer`: a token from `realm` for `service`.
    Bearer {
        /// The token service's URL.
        realm: String,
        /// The `service` parameter.
        service: String,
    },
}

/// The key of a cached token: realm, service, scope and user.
type TokenKey = (String, String, String, String);

/// Bearer tokens by realm, service, scope and credential, until they expire (shared by the pulls
/// of one [`super::Puller`]).
#[derive(Default)]
pub(crate) struct TokenCache {
    tokens: Mutex<HashMap<TokenKey, (Secret, Instant)>>,
    /// One token request at a time per key: pulls that start together ask once.
    gates: Mutex<HashMap<TokenKey, std::sync::Arc<tokio::sync::Mutex<()>>>>,
}

/// The count only: the keys name credentials.
impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.tokens.lock().map(|tokens| tokens.len()).unwrap_or_default();
        f.debug_struct("TokenCache").field("tokens", &count).finish_non_exhaustive()
    }
}

impl TokenCache {
    /// The gate of `key`'s token requests.
    fn gate(&self, key: TokenKey) -> Option<std::sync::Arc<tokio::sync::Mutex<()>>> {
        self.gates.lock().ok().map(|mut gates| gates.entry(key).or_default().clone())
    }

    fn get(&self, key: &TokenKey) -> Option<Secret> {
        let tokens = self.tokens.lock().ok()?;
        tokens.get(key).filter(|(_, until)| *until > Instant::now()).map(|(token, _)| token.clone())
    }

    fn put(&self, key: TokenKey, token: Secret, lifetime: Duration) {
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.insert(key, (token, Instant::now() + lifetime));
        }
    }
}

/// One token request the session is to send: method, URL, optional Basic authorization, and
/// optional form body (it carries the secret: wiped when dropped).
pub(crate) struct TokenRequest {
    /// `POST` (OAuth2 form) or `GET`.
    pub(crate) method: Method,
    /// The realm (with the `GET` query).
    pub(crate) url: Url,
    /// `Authorization: Basic …` for the `GET` with a password.
    pub(crate) authorization: Option<HeaderValue>,
    /// The form for the `POST`.
    pub(crate) form: Option<zeroize::Zeroizing<String>>,
}

/// Why a token could not be asked for at all (decided before any connection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenRefusal {
    /// The realm is not a URL.
    BadRealm(String),
    /// The realm speaks plain HTTP where a password may not go.
    PlainHttp(String),
}

/// The credential, the challenge, and the authorization they give, for one pull.
#[derive(Debug)]
pub(crate) struct Authorizer<'a> {
    credential: Option<&'a Credential>,
    policy: CredentialPolicy,
    /// Whether the registry itself is reached over HTTPS (its credentials never go to a plain-HTTP
    /// token service on another host).
    registry_tls: bool,
    scheme: Scheme,
    /// The registry's `WWW-Authenticate` header, as received.
    pub(crate) challenge: Option<String>,
    authorization: Option<HeaderValue>,
}

impl<'a> Authorizer<'a> {
    /// An authorizer for `credential` (none: anonymous) under `policy`.
    pub(crate) fn new(credential: Option<&'a Credential>, policy: CredentialPolicy) -> Self {
        Self { credential, policy, registry_tls: true, scheme: Scheme::Open, challenge: None, authorization: None }
    }

    /// The rule for where credentials may go.
    pub(crate) fn policy(&self) -> &CredentialPolicy {
        &self.policy
    }

    /// The credential, if any.
    pub(crate) fn credential(&self) -> Option<&'a Credential> {
        self.credential
    }

    /// What the registry asked for.
    pub(crate) fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    /// The `Authorization` value to send with registry requests (Basic credential or Bearer token).
    pub(crate) fn authorization(&self) -> Option<&HeaderValue> {
        self.authorization.as_ref()
    }

    /// Whether a Bearer token is in use.
    pub(crate) fn has_token(&self) -> bool {
        matches!(self.scheme, Scheme::Bearer { .. }) && self.authorization.is_some()
    }

    /// Takes the registry's answer to `GET /v2/` (reached over `registry_tls` or not): its
    /// challenge decides the scheme.
    pub(crate) fn challenged(&mut self, header: Option<&str>, registry_tls: bool) {
        self.registry_tls = registry_tls;
        self.challenge = header.map(str::to_owned);
        let challenges = header.map(parse_challenges).unwrap_or_default();
        self.scheme = scheme_of(&challenges);
    }

    /// Basic authorization for the registry at `base`, when the registry asked for Basic and
    /// there is a credential; `Err` when the credential may not go there.
    pub(crate) fn basic_for(&mut self, base: &Url) -> Result<(), String> {
        if self.scheme != Scheme::Basic {
            return Ok(());
        }
        let Some(credential) = self.credential else { return Ok(()) };
        if !self.policy.may_carry(base) {
            return Err("the registry is plain HTTP and not marked insecure: credentials are not sent".to_owned());
        }
        self.authorization = Some(basic_authorization(credential).ok_or("the credential cannot be sent in a header")?);
        Ok(())
    }

    /// The cache key of the token for `scope`.
    pub(crate) fn token_key(&self, scope: &str) -> Option<TokenKey> {
        let Scheme::Bearer { realm, service } = &self.scheme else { return None };
        Some((realm.clone(), service.clone(), scope.to_owned(), self.credential_id()))
    }

    /// Whose cached things these are: the user name and a digest of the secret, so that two
    /// passwords of one user (a stale pull secret beside a good one) never share a token or
    /// anything a run keeps. Empty when anonymous. In memory only; never printed.
    pub(crate) fn credential_id(&self) -> String {
        let Some(credential) = self.credential else { return String::new() };
        let digest = sha2::Sha256::new()
            .chain_update(credential.username.as_bytes())
            .chain_update([0])
            .chain_update(credential.secret.expose().as_bytes())
            .finalize();
        format!("{}#{digest:x}", credential.username)
    }

    /// Uses a cached token for `scope`, when there is one; returns it (for redaction).
    pub(crate) fn cached_token(&mut self, cache: &TokenCache, scope: &str) -> Option<Secret> {
        let token = cache.get(&self.token_key(scope)?)?;
        self.use_token(&token).ok()?;
        Some(token)
    }

    /// The gate that lets one pull at a time ask for `scope`'s token (see [`TokenCache`]).
    pub(crate) fn token_gate(&self, cache: &TokenCache, scope: &str) -> Option<std::sync::Arc<tokio::sync::Mutex<()>>> {
        cache.gate(self.token_key(scope)?)
    }

    /// The token requests for `scope`, in order: the OAuth2 `POST` (with a credential), then the
    /// `GET` fallback (with Basic auth for a password; anonymous without a credential). An
    /// identity token has no `GET`. Refused before any connection where the password may not go.
    pub(crate) fn token_requests(&self, scope: &str) -> Result<Vec<TokenRequest>, TokenRefusal> {
        let Scheme::Bearer { realm, service } = &self.scheme else { return Ok(Vec::new()) };
        let url = Url::parse(realm).map_err(|_| TokenRefusal::BadRealm(realm.clone()))?;
        let Some(credential) = self.credential else {
            return Ok(vec![get_request(&url, service, scope, None)]);
        };
        let downgrade = self.registry_tls && url.scheme() != "https" && !is_loopback(&self.policy.registry_host);
        if !self.policy.may_carry(&url) || (downgrade && !self.policy.insecure) {
            return Err(TokenRefusal::PlainHttp(display_url(&url)));
        }
        let post = TokenRequest {
            method: Method::POST,
            url: url.clone(),
            authorization: None,
            form: Some(oauth_form(credential, service, scope)),
        };
        if credential.username == IDENTITY_TOKEN_USER {
            return Ok(vec![post]);
        }
        let mut get = get_request(&url, service, scope, basic_authorization(credential));
        get.url.query_pairs_mut().append_pair("account", &credential.username);
        Ok(vec![post, get])
    }

    /// Whether the `GET` fallback follows a `POST` answered with `status` (containerd's rule).
    pub(crate) fn falls_back_after(status: u16) -> bool {
        matches!(status, 400 | 401 | 404 | 405)
    }

    /// Takes a token service's successful answer: the token (or `None` when the answer has none)
    /// is used from now on and cached for `scope`.
    pub(crate) fn accept_token(&mut self, cache: &TokenCache, scope: &str, body: &[u8]) -> Option<Secret> {
        let answer: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let token = answer.get("token").or_else(|| answer.get("access_token")).and_then(|t| t.as_str())?;
        let token = Secret::new(token);
        self.use_token(&token).ok()?;
        let lifetime = answer.get("expires_in").and_then(serde_json::Value::as_u64).unwrap_or(60).max(10);
        if let Some(key) = self.token_key(scope) {
            cache.put(key, token.clone(), Duration::from_secs(lifetime - 5));
        }
        Some(token)
    }

    fn use_token(&mut self, token: &Secret) -> Result<(), ()> {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| ())?;
        value.set_sensitive(true);
        self.authorization = Some(value);
        Ok(())
    }
}

/// The scheme a set of challenges asks for: Bearer before Basic, as runtimes choose.
fn scheme_of(challenges: &[Challenge]) -> Scheme {
    if let Some(bearer) = challenges.iter().find(|c| c.scheme == "bearer") {
        return Scheme::Bearer {
            realm: bearer.param("realm").unwrap_or_default().to_owned(),
            service: bearer.param("service").unwrap_or_default().to_owned(),
        };
    }
    if challenges.iter().any(|c| c.scheme == "basic") { Scheme::Basic } else { Scheme::Open }
}

/// The `GET` token request: Distribution's query (`service`, `scope`, and `account` for a
/// password).
fn get_request(realm: &Url, service: &str, scope: &str, authorization: Option<HeaderValue>) -> TokenRequest {
    let mut url = realm.clone();
    url.query_pairs_mut().append_pair("service", service);
    if !scope.is_empty() {
        url.query_pairs_mut().append_pair("scope", scope);
    }
    TokenRequest { method: Method::GET, url, authorization, form: None }
}

/// The OAuth2 form: `grant_type=refresh_token` for an identity token, else `grant_type=password`.
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

/// `Authorization: Basic …` for a credential, marked sensitive.
fn basic_authorization(credential: &Credential) -> Option<HeaderValue> {
    let plain = zeroize::Zeroizing::new(format!("{}:{}", credential.username, credential.secret.expose()));
    let encoded = zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(plain.as_bytes()));
    let mut value = HeaderValue::from_str(&format!("Basic {}", encoded.as_str())).ok()?;
    value.set_sensitive(true);
    Some(value)
}

#[cfg(test)]
mod tests {
    use reqwest::Url;

    use super::{Authorizer, CredentialPolicy, Scheme, TokenRefusal, is_loopback};
    use crate::keychain::Credential;
    use crate::secret::Secret;

    fn policy(host: &str, insecure: bool) -> CredentialPolicy {
        CredentialPolicy { registry_host: host.to_owned(), insecure }
    }

    #[test]
    fn credentials_go_in_clear_text_only_to_loopback_or_the_insecure_registry() {
        let url = |u: &str| Url::parse(u).unwrap();
        let local = policy("127.0.0.1:5000", false);
        assert!(local.may_carry(&url("http://127.0.0.1:5000/v2/")));
        assert!(local.may_carry(&url("http://localhost:9/token")));
        assert!(local.may_carry(&url("https://token.example.com/token")));
        assert!(!local.may_carry(&url("http://token.example.com/token")));
        let insecure = policy("reg.lan:5000", true);
        assert!(insecure.may_carry(&url("http://reg.lan:5000/v2/")));
        assert!(!insecure.may_carry(&url("http://reg.lan:5001/v2/")));
        assert!(!insecure.may_carry(&url("http://auth.lan/token")));
        assert!(!policy("reg.lan", false).may_carry(&url("http://reg.lan/v2/")));
        assert!(is_loopback("[::1]:5000") && !is_loopback("10.0.0.1"));
    }

    #[test]
    fn a_plain_http_realm_elsewhere_gets_no_password_but_an_anonymous_get() {
        let credential = Credential { username: "u".into(), secret: Secret::new("p") };
        let mut authorizer = Authorizer::new(Some(&credential), policy("127.0.0.1:5000", false));
        authorizer.challenged(Some(r#"Bearer realm="http://token.example.com/t",service="s""#), false);
        assert!(matches!(authorizer.scheme(), Scheme::Bearer { .. }));
        assert!(matches!(authorizer.token_requests("repository:a:pull"), Err(TokenRefusal::PlainHttp(_))));
        let mut anonymous = Authorizer::new(None, policy("127.0.0.1:5000", false));
        anonymous.challenged(Some(r#"Bearer realm="http://token.example.com/t",service="s""#), false);
        let requests = anonymous.token_requests("repository:a:pull").unwrap();
        assert_eq!(requests.len(), 1);
        assert!(requests[0].authorization.is_none() && requests[0].form.is_none());
    }

    #[test]
    fn a_password_gets_the_post_then_the_get_and_an_identity_token_only_the_post() {
        let password = Credential { username: "u".into(), secret: Secret::new("p") };
        let mut authorizer = Authorizer::new(Some(&password), policy("r.io", false));
        authorizer.challenged(Some(r#"Bearer realm="https://auth.r.io/token",service="r.io""#), true);
        let methods: Vec<_> = authorizer.token_requests("s").unwrap().iter().map(|r| r.method.clone()).collect();
        assert_eq!(methods, [reqwest::Method::POST, reqwest::Method::GET]);
        let identity = Credential { username: super::IDENTITY_TOKEN_USER.into(), secret: Secret::new("refresh") };
        let mut authorizer = Authorizer::new(Some(&identity), policy("r.io", false));
        authorizer.challenged(Some(r#"Bearer realm="https://auth.r.io/token",service="r.io""#), true);
        let requests = authorizer.token_requests("s").unwrap();
        assert_eq!(requests.len(), 1);
        assert!(requests[0].form.as_ref().unwrap().contains("grant_type=refresh_token"));
    }
}
