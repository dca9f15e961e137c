//! The failure report as a pure function of what a pull recorded: a [`Stop`] and the road's facts
//! in, a [`Failure`] (stage, request, status, the registry's errors, the challenge, and the three
//! lines) out.

use super::challenge::parse_challenges;
use super::explain::explain;
use super::facts::{Facts, TokenAttempt};
use super::node::Platform;
use super::node::Runtime;
use super::report::{Failure, FailureClass, RegistryError, Stage};
use super::session::{Stop, registry_errors};
use super::stages::Blob;
use crate::image_ref::ImageRef;
use crate::untrusted::Redactor;

/// What the road knew when it stopped.
pub(crate) struct Road<'a> {
    /// The image as written.
    pub(crate) image_input: &'a str,
    /// The parsed reference, when it parsed.
    pub(crate) image: Option<&'a ImageRef>,
    /// The host requests go to (`registry-1.docker.io` for Docker Hub).
    pub(crate) host: &'a str,
    /// `https` or `http`: how the registry is reached.
    pub(crate) scheme: &'a str,
    /// Whether a credential was sent.
    pub(crate) credentials_sent: bool,
    /// Whether the registry asked for Basic auth.
    pub(crate) basic: bool,
    /// The registry's challenge at `/v2/`.
    pub(crate) challenge: Option<&'a str>,
    /// The last token request.
    pub(crate) token: Option<&'a TokenAttempt>,
    /// The node's platform.
    pub(crate) platform: &'a Platform,
    /// Whether the tag is an index, and its digest.
    pub(crate) index: Option<&'a str>,
    /// Whether that index is an OCI image index (not a Docker manifest list).
    pub(crate) oci_index: bool,
    /// The blob that failed.
    pub(crate) blob: Option<&'a Blob>,
    /// The address a connection failed at (`IP:PORT`), when known.
    pub(crate) peer: Option<&'a str>,
    /// Whose words.
    pub(crate) runtime: Runtime,
}

impl<'a> Road<'a> {
    /// A road on which no request was answered: nothing sent, no challenge, token, index or blob.
    pub(crate) fn before_any_answer(
        image_input: &'a str,
        image: Option<&'a ImageRef>,
        host: &'a str,
        platform: &'a Platform,
        runtime: Runtime,
    ) -> Self {
        Road {
            image_input,
            image,
            host,
            scheme: "https",
            credentials_sent: false,
            basic: false,
            challenge: None,
            token: None,
            platform,
            index: None,
            oci_index: false,
            blob: None,
            peer: None,
            runtime,
        }
    }
}

/// The failure report for `stop` on `road`.
pub(crate) fn failure(stop: &Stop, road: &Road<'_>, redactor: &Redactor) -> Failure {
    let errors = stop.response.as_ref().map(|r| registry_errors(&r.body, redactor)).unwrap_or_default();
    let failing_challenge = stop
        .response
        .as_ref()
        .and_then(|r| r.headers.get(reqwest::header::WWW_AUTHENTICATE))
        .and_then(|h| h.to_str().ok())
        .map(|h| redactor.clean(h));
    let status =
        stop.response.as_ref().map(|r| r.status.as_u16()).or_else(|| stop.request.as_ref().and_then(|r| r.status));
    let challenge_error = failing_challenge
        .as_deref()
        .map(parse_challenges)
        .and_then(|cs| cs.into_iter().find(|c| c.scheme == "bearer").and_then(|c| c.param("error").map(str::to_owned)));
    let facts = facts(stop, road, &errors, status, challenge_error.as_deref());
    let explanation = explain(stop.class, &facts, road.runtime);
    Failure {
        class: stop.class,
        stage: stop.stage,
        request: stop.request.clone(),
        status,
        errors,
        challenge: failing_challenge.or_else(|| road.challenge.map(str::to_owned)),
        detail: stop.cause.clone(),
        verdict: explanation.verdict,
        kubelet_event: explanation.kubelet_event,
        kubelet_reason: explanation.kubelet_reason,
        what_to_do: explanation.what_to_do,
        runtime: road.runtime,
    }
}

fn facts<'a>(
    stop: &'a Stop,
    road: &'a Road<'a>,
    errors: &'a [RegistryError],
    status: Option<u16>,
    challenge_error: Option<&'a str>,
) -> Facts<'a> {
    let (reference, name, repo, manifest_ref) = match road.image {
        Some(image) => (
            image.to_string(),
            format!("{}/{}", image.domain(), image.path()),
            image.path().to_owned(),
            image.manifest_reference().to_owned(),
        ),
        None => (road.image_input.to_owned(), road.image_input.to_owned(), String::new(), String::new()),
    };
    let (familiar_name, familiar_ref) = familiar(road.image, &name);
    let token = road.token;
    let blob = road.blob;
    Facts {
        image: road.image_input,
        familiar_name,
        familiar_ref,
        host: road.host.to_owned(),
        manifest_url: format!("{}://{}/v2/{repo}/manifests/{manifest_ref}", road.scheme, road.host),
        ping_url: format!("{}://{}/v2/", road.scheme, road.host),
        stage: stop.stage,
        url: stop.request.as_ref().map(|r| r.url.clone()).unwrap_or_default(),
        status,
        errors,
        challenge_error,
        basic: road.basic,
        credentials_sent: road.credentials_sent,
        token,
        realm: token.map(|t| t.realm.clone()).unwrap_or_default(),
        token_get_url: token.map(containerd_token_url).unwrap_or_default(),
        token_account_url: token.map(account_token_url).unwrap_or_default(),
        token_post_only: token.is_some_and(|t| t.post_only),
        go_error: go_error(stop, &failing_host(stop, road.host, token), road.peer),
        cause: &stop.cause,
        index_digest: road.index.unwrap_or_default().to_owned(),
        platform: (
            road.platform.os.clone(),
            road.platform.architecture.clone(),
            road.platform.variant.clone().unwrap_or_default(),
        ),
        from_index: road.index.is_some(),
        oci_index: road.oci_index,
        blob_digest: blob.map(|b| b.digest.clone()).unwrap_or_default(),
        blob_size: blob.map_or(0, |b| b.size),
        blob_media_type: blob.map(|b| b.media_type.clone()).unwrap_or_default(),
        blob_is_config: blob.is_some_and(|b| b.config),
        actual_digest: actual_digest(&stop.cause),
        reference,
        name,
        manifest_ref,
    }
}

/// Docker's short forms: `nginx` and `nginx:1.0` for Docker Hub's library, the full name elsewhere.
fn familiar(image: Option<&ImageRef>, name: &str) -> (String, String) {
    let Some(image) = image else { return (name.to_owned(), name.to_owned()) };
    let short = name.strip_prefix("docker.io/library/").or_else(|| name.strip_prefix("docker.io/")).unwrap_or(name);
    let reference = match (image.tag(), image.digest()) {
        (_, Some(digest)) => format!("{short}@{digest}"),
        (Some(tag), None) => format!("{short}:{tag}"),
        (None, None) => short.to_owned(),
    };
    (short.to_owned(), reference)
}

/// `REALM?scope=…&service=…`: containerd's token `GET` (`url.Values.Encode`: keys sorted,
/// values query-escaped).
fn containerd_token_url(token: &TokenAttempt) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if !token.scope.is_empty() {
        query.append_pair("scope", &token.scope);
    }
    query.append_pair("service", &token.service);
    format!("{}?{}", token.realm, query.finish())
}

/// The token `GET` as Docker's distribution client and containers/image build it: `account` (the
/// user name) when there is a password, then `scope` and `service` (Go's `url.Values.Encode`:
/// keys sorted, values escaped).
fn account_token_url(token: &TokenAttempt) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if !token.account.is_empty() {
        query.append_pair("account", &token.account);
    }
    if !token.scope.is_empty() {
        query.append_pair("scope", &token.scope);
    }
    query.append_pair("service", &token.service);
    format!("{}?{}", token.realm, query.finish())
}

/// The digest the bytes really had, from a corruption's cause (`unexpected commit digest X, …`).
fn actual_digest(cause: &str) -> String {
    cause
        .split("unexpected commit digest ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap_or_default()
        .to_owned()
}

/// The host a failed request went to: the token service's for a token request, else the
/// registry's.
pub(crate) fn failing_host(stop: &Stop, registry: &str, token: Option<&TokenAttempt>) -> String {
    let realm = token.filter(|_| stop.stage == Stage::Token).and_then(|t| reqwest::Url::parse(&t.realm).ok());
    let address = |realm: reqwest::Url| {
        let port = realm.port_or_known_default().unwrap_or(443);
        format!("{}:{port}", realm.host_str().unwrap_or_default())
    };
    realm.map_or_else(|| registry.to_owned(), address)
}

/// A transport failure in the words of Go's `net`, `net/http` and `crypto/tls`, as runtimes
/// print it.
fn go_error(stop: &Stop, host: &str, peer: Option<&str>) -> String {
    let hostname = host.rsplit_once(':').filter(|(_, port)| port.parse::<u16>().is_ok()).map_or(host, |(name, _)| name);
    let peer = peer.map_or_else(|| with_port(host), str::to_owned);
    match stop.class {
        // The lookup's own words (`lookup HOST on NAMESERVER:53: …`) when regcred made it.
        FailureClass::DnsFailure | FailureClass::DnsTimeout if stop.cause.starts_with("lookup ") => {
            format!("dial tcp: {}", stop.cause)
        }
        FailureClass::DnsFailure => format!("dial tcp: lookup {hostname}: no such host"),
        FailureClass::DnsTimeout => format!("dial tcp: lookup {hostname}: i/o timeout"),
        FailureClass::ConnectionRefused => format!("dial tcp {peer}: connect: connection refused"),
        FailureClass::Timeout if stop.cause.contains("awaiting response headers") => {
            "net/http: timeout awaiting response headers".to_owned()
        }
        FailureClass::Timeout if stop.cause.starts_with(super::transport::TLS_HANDSHAKE_TIMEOUT) => {
            super::transport::TLS_HANDSHAKE_TIMEOUT.to_owned()
        }
        FailureClass::Timeout => format!("dial tcp {peer}: i/o timeout"),
        FailureClass::TlsUnknownAuthority => {
            "tls: failed to verify certificate: x509: certificate signed by unknown authority".to_owned()
        }
        FailureClass::TlsFailure => tls_error(&stop.cause, hostname),
        FailureClass::TlsClientCertificate => "remote error: tls: certificate required".to_owned(),
        FailureClass::HttpToHttps => "http: server gave HTTP response to HTTPS client".to_owned(),
        _ => stop.cause.clone(),
    }
}

fn with_port(host: &str) -> String {
    if host.rsplit_once(':').is_some_and(|(_, port)| port.parse::<u16>().is_ok()) {
        host.to_owned()
    } else {
        format!("{host}:443")
    }
}

/// rustls' verification failures in Go's `x509` words (`HostnameError`, `CertificateInvalidError`).
fn tls_error(cause: &str, hostname: &str) -> String {
    let verify = "tls: failed to verify certificate: x509:";
    if let Some(presented) = cause.split("certificate is only valid for ").nth(1) {
        return format!("{verify} {}", hostname_error(presented, hostname));
    }
    if cause.contains("is not valid for any names") {
        return format!("{verify} certificate is not valid for any names, but wanted to match {hostname}");
    }
    if cause.contains("expired") || cause.contains("not valid yet") || cause.contains("NotValidYet") {
        return format!("{verify} certificate has expired or is not yet valid");
    }
    format!("tls: {cause}")
}

/// Go's `HostnameError.Error()` from the names rustls says the certificate has.
fn hostname_error(presented: &str, hostname: &str) -> String {
    let names: Vec<String> = presented
        .split(", ")
        .flat_map(|part| part.split(" or "))
        .map(|name| {
            let inner = name.split_once('(').map_or(name, |(_, rest)| rest.trim_end_matches(')'));
            inner.trim().trim_matches('"').to_owned()
        })
        .filter(|name| !name.is_empty())
        .collect();
    let wants_ip = hostname.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok();
    let (ips, dns): (Vec<&String>, Vec<&String>) = names.iter().partition(|n| n.parse::<std::net::IpAddr>().is_ok());
    let valid: Vec<&str> =
        if wants_ip { ips.iter().map(|s| s.as_str()).collect() } else { dns.iter().map(|s| s.as_str()).collect() };
    if wants_ip && valid.is_empty() {
        return format!("cannot validate certificate for {hostname} because it doesn't contain any IP SANs");
    }
    if valid.is_empty() {
        return format!("certificate is not valid for any names, but wanted to match {hostname}");
    }
    format!("certificate is valid for {}, not {hostname}", valid.join(", "))
}

/// A stage failure with no request behind it (reference, credentials).
pub(crate) fn early_failure(
    class: FailureClass,
    stage: Stage,
    image_input: &str,
    cause: &str,
    runtime: Runtime,
) -> Failure {
    let stop = Stop { class, stage, cause: cause.to_owned(), request: None, response: None };
    let platform = Platform::default();
    let road = Road::before_any_answer(image_input, None, "", &platform, runtime);
    failure(&stop, &road, &Redactor::new())
}

#[cfg(test)]
mod tests {
    use super::hostname_error;

    /// A name that does not resolve: a short name is said to be Docker Hub's, and a public
    /// registry's name, which exists, puts the blame on this machine's DNS, not the image.
    #[test]
    fn a_name_that_does_not_resolve_is_told_by_whose_it_is() -> Result<(), crate::image_ref::ImageRefError> {
        let advice = |input: &str| {
            let image = crate::image_ref::ImageRef::parse(input)?;
            let host = image.registry_host().to_owned();
            let stop = super::Stop {
                class: super::FailureClass::DnsFailure,
                stage: super::Stage::Ping,
                cause: "no such host".to_owned(),
                request: None,
                response: None,
            };
            let platform = super::Platform::default();
            let road = super::Road::before_any_answer(input, Some(&image), &host, &platform, super::Runtime::default());
            Ok(super::failure(&stop, &road, &super::Redactor::new()).what_to_do)
        };
        let hub = advice("nginx")?;
        assert!(
            hub.starts_with("nginx names no registry host, so it is Docker Hub's (docker.io/library/nginx)"),
            "{hub}"
        );
        assert!(hub.contains("this machine is offline or its DNS cannot see the internet"), "{hub}");
        let ghcr = advice("ghcr.io/team/app:1")?;
        assert!(ghcr.starts_with("ghcr.io is a public registry's name"), "{ghcr}");
        let own = advice("registry.corp.example/team/app:1")?;
        assert!(own.starts_with("Check the registry host name in the image"), "{own}");
        Ok(())
    }

    #[test]
    fn host_name_errors_read_as_go_writes_them() {
        assert_eq!(
            hostname_error("IpAddress(127.0.0.1)", "localhost"),
            "certificate is not valid for any names, but wanted to match localhost"
        );
        assert_eq!(
            hostname_error("DnsName(\"registry.test\") or DnsName(\"localhost\")", "other.test"),
            "certificate is valid for registry.test, localhost, not other.test"
        );
        assert_eq!(
            hostname_error("DnsName(\"registry.test\")", "10.0.0.1"),
            "cannot validate certificate for 10.0.0.1 because it doesn't contain any IP SANs"
        );
    }
}
