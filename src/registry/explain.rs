//! The three lines of `PULL-FAILURES.md`, as a pure function of what a pull recorded: the verdict
//! in plain words, what the kubelet will put in the Pod's events (in the chosen runtime's words,
//! see [`super::runtime_words`]), and what to do.

use super::facts::Facts;
use super::node::Runtime;
use super::report::{FailureClass, Stage};
use super::runtime_words;
use super::transport::TLS_HANDSHAKE_TIMEOUT;

/// What a failure means, in three lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Explanation {
    /// The verdict.
    pub(crate) verdict: String,
    /// The event `kubectl describe pod` shows.
    pub(crate) kubelet_event: String,
    /// The container's waiting reason: `ErrImagePull` (then `ImagePullBackOff`), `InvalidImageName`,
    /// or CRI-O's `RegistryUnavailable`.
    pub(crate) kubelet_reason: &'static str,
    /// What to do.
    pub(crate) what_to_do: String,
}

/// Explains a failure of `class` in `runtime`'s words.
pub(crate) fn explain(class: FailureClass, facts: &Facts<'_>, runtime: Runtime) -> Explanation {
    if class == FailureClass::InvalidReference {
        return Explanation {
            verdict: format!("\"{}\" is not a valid image reference", facts.image),
            kubelet_event: format!(
                "Failed to apply default image tag \"{0}\": couldn't parse image name \"{0}\": {1}",
                facts.image, facts.cause
            ),
            kubelet_reason: "InvalidImageName",
            what_to_do: "Fix the image name in the Pod spec (lowercase repository, valid tag or digest).".to_owned(),
        };
    }
    if class == FailureClass::PlatformMismatch {
        return Explanation {
            verdict: verdict(class, facts),
            kubelet_event: format!(
                "(no pull error: \"{}\" pulls, then the container cannot start — its log shows something like \"exec /entrypoint: exec format error\" and the kubelet reports \"Back-off restarting failed container\")",
                facts.image
            ),
            kubelet_reason: "CrashLoopBackOff",
            what_to_do: what_to_do(class, facts),
        };
    }
    let words = runtime_words::message(runtime, class, facts);
    let loopback = super::authorizer::is_loopback(&facts.host);
    // containerd 1.6 and 1.7 (the CRI's default registry settings) speak plain HTTP to a registry
    // on the node itself; a TLS port answers that with 400.
    let tls_spoken_plain = class == FailureClass::Protocol
        && facts.status == Some(400)
        && loopback
        && facts.ping_url.starts_with("http:")
        && runtime.loopback_road() == super::node::LoopbackRoad::PlainHttp;
    let (verdict, what_to_do) = if class == FailureClass::HttpToHttps && runtime == Runtime::CriO && loopback {
        (verdict(class, facts), "CRI-O, unlike containerd and Docker, makes no exception for a registry on the node itself: mark it `insecure = true` in /etc/containers/registries.conf on the node (and test with --insecure here), or serve it over TLS.".to_owned())
    } else if tls_spoken_plain {
        (
            format!(
                "{} speaks TLS, and this containerd speaks plain HTTP to a registry on the node itself (the TLS port answered 400)",
                facts.host
            ),
            format!(
                "containerd 1.6 and 1.7 with the CRI's default registry settings use plain HTTP for localhost. On the nodes, set the CRI's registry `config_path` (e.g. /etc/containerd/certs.d) and give the registry a certs.d/{0}/hosts.toml with `server = \"https://{0}\"` and its CA (`ca = …`, or `skip_verify = true`), or serve it in plain HTTP; containerd 2.x and Docker reach it over HTTPS as they are.",
                facts.host
            ),
        )
    } else if runtime_words::token_unreachable(class, facts) {
        token_unreachable(class, facts)
    } else if facts.stage == Stage::Ping && matches!(class, FailureClass::TagUnknown | FailureClass::RepositoryUnknown)
    {
        (
            format!("{} does not answer as a container registry: GET /v2/ answered 404 Not Found", facts.host),
            "Check the registry's address and port: a registry answers GET /v2/ with 200 or 401. A web server there, or a registry served under a path or on another port, answers 404.".to_owned(),
        )
    } else {
        (verdict(class, facts), what_to_do(class, facts))
    };
    let what_to_do =
        if facts.is_login_check() { login_what_to_do(class, facts).unwrap_or(what_to_do) } else { what_to_do };
    Explanation { verdict, kubelet_event: words.event(facts.image), kubelet_reason: words.reason, what_to_do }
}

/// The registry answered, and the token service it sends clients to could not be reached: the
/// verdict names that service (its host, not the registry's), and what to do is about it.
fn token_unreachable(class: FailureClass, facts: &Facts<'_>) -> (String, String) {
    let service = reqwest::Url::parse(&facts.realm)
        .map_or_else(|_| facts.realm.clone(), |url| super::authorizer::url_authority(&url));
    let at_service = Facts { host: service, ..facts.clone() };
    (
        format!("the registry's token service {} cannot be reached: {}", facts.realm, verdict(class, &at_service)),
        format!(
            "The registry answered and sent clients to its token service at {}, which cannot be reached from here: check that service (and the realm the registry announces, its auth.token.realm), and that the nodes can reach it too.",
            facts.realm
        ),
    )
}

/// What to do after a login check (no image, no node): the same facts, said of the login alone.
fn login_what_to_do(class: FailureClass, f: &Facts<'_>) -> Option<String> {
    Some(match class {
        FailureClass::WrongCredentialsBasic | FailureClass::WrongCredentialsToken => {
            "Check the user name and the password or token (a token may have expired, or lack the scope to pull).".to_owned()
        }
        FailureClass::DnsFailure => format!(
            "Check the registry's host name ({}), and this machine's DNS: the DNS server says the name does not exist.",
            host_only(&f.host)
        ),
        FailureClass::Protocol if f.cause.starts_with(super::facts::UNANSWERABLE_401) => {
            "The registry asks for a login in a way neither regcred nor the container runtimes answer (it must challenge with Basic or Bearer): check the registry's auth settings, or the proxy in front of it.".to_owned()
        }
        _ => return None,
    })
}

/// The verdict in plain words.
fn verdict(class: FailureClass, f: &Facts<'_>) -> String {
    let sent = f.credentials_sent;
    match class {
        FailureClass::InvalidReference => format!("\"{}\" is not a valid image reference", f.image),
        FailureClass::CredentialUnavailable => "regcred could not read the credential for this registry".to_owned(),
        FailureClass::DnsFailure => format!("the registry host {} does not resolve", host_only(&f.host)),
        FailureClass::DnsTimeout => {
            format!("the name lookup of {} timed out: the DNS server did not answer", host_only(&f.host))
        }
        FailureClass::ConnectionRefused => format!("nothing accepts connections at {}", f.host),
        FailureClass::Timeout if f.cause.starts_with(TLS_HANDSHAKE_TIMEOUT) => {
            format!("{} accepted the connection, then did not answer the TLS handshake in time", f.host)
        }
        FailureClass::Timeout => format!("{} did not answer in time", f.host),
        FailureClass::TlsUnknownAuthority => {
            format!("{}'s certificate is signed by an authority this machine does not trust", f.host)
        }
        FailureClass::TlsFailure => format!("the TLS connection to {} failed", f.host),
        FailureClass::TlsClientCertificate => {
            format!("{} requires a client certificate (mutual TLS), and none it accepts was presented", f.host)
        }
        FailureClass::HttpToHttps => format!("{} speaks plain HTTP, not HTTPS", f.host),
        FailureClass::WrongCredentialsBasic => "the registry refused the user name or password".to_owned(),
        FailureClass::WrongCredentialsToken => "the registry's token service refused the user name or password".to_owned(),
        FailureClass::NoCredentials => "the registry requires credentials and none are configured for it".to_owned(),
        FailureClass::Denied if sent => "the credentials work, but they are not allowed to pull this repository".to_owned(),
        FailureClass::Denied => "the registry refuses anonymous pulls of this repository".to_owned(),
        FailureClass::RepositoryUnknown if sent => {
            "the repository does not exist, or these credentials cannot see it (registries answer 404 for private repositories they hide)".to_owned()
        }
        FailureClass::RepositoryUnknown => "the repository does not exist on this registry (or is private and hidden from anonymous pulls)".to_owned(),
        FailureClass::TagUnknown if sent => {
            "the repository is there, but not this tag or digest (or these credentials cannot see it)".to_owned()
        }
        FailureClass::TagUnknown => "the repository exists, but not this tag or digest".to_owned(),
        FailureClass::PlatformMissing => "the image has no manifest for the node's platform".to_owned(),
        FailureClass::PlatformMismatch => {
            format!("the image is built for another platform than the node's {}", f.platform_text())
        }
        FailureClass::RateLimited => "the registry is rate limiting pulls".to_owned(),
        FailureClass::BlobMissing => "a layer or config blob is missing from the registry".to_owned(),
        FailureClass::BlobCorrupted => "a blob's content does not match its digest".to_owned(),
        FailureClass::ServerError => "the registry failed with a server error".to_owned(),
        FailureClass::Refused => format!("regcred stopped for safety: {}", f.cause),
        FailureClass::Protocol => "the registry answered something that is not the registry protocol".to_owned(),
        FailureClass::Cancelled => "cancelled".to_owned(),
    }
}

impl Facts<'_> {
    fn platform_text(&self) -> String {
        let (os, arch, variant) = self.wanted_platform();
        if variant.is_empty() { format!("{os}/{arch}") } else { format!("{os}/{arch}/{variant}") }
    }
}

/// What to do about it.
fn what_to_do(class: FailureClass, f: &Facts<'_>) -> String {
    let host = &f.host;
    match class {
        FailureClass::InvalidReference => "Fix the image name in the Pod spec (lowercase repository, valid tag or digest).".to_owned(),
        FailureClass::CredentialUnavailable => "Fix the credential source named above (install the helper, unlock the keychain); the node uses the pull secret you give it, not this machine's keychain.".to_owned(),
        FailureClass::DnsFailure => dns_failure_what_to_do(f),
        FailureClass::DnsTimeout => "Check the DNS: the name server in /etc/resolv.conf (here and on the nodes) must be reachable and answer (try `nslookup HOST` or `dig HOST`); a firewall that drops port 53 looks the same. The registry itself was never reached.".replace("HOST", host_only(host)),
        FailureClass::ConnectionRefused => "The registry is down, the port is wrong, or a firewall blocks it.".to_owned(),
        FailureClass::Timeout if f.cause.starts_with(TLS_HANDSHAKE_TIMEOUT) => "Something accepts connections at that address but does not speak TLS to regcred: check the port, and that the registry (or the proxy or load balancer in front of it) is healthy.".to_owned(),
        FailureClass::Timeout => "Check that the registry is up and reachable from the nodes (firewall, proxy, routes).".to_owned(),
        FailureClass::TlsUnknownAuthority => format!(
            "Install the registry's CA on every node: /etc/containerd/certs.d/{host}/ca.crt (containerd), /etc/containers/certs.d/{host}/ca.crt (CRI-O) or /etc/docker/certs.d/{host}/ca.crt (Docker); here, pass --ca-dir or put it in ~/.docker/certs.d/{host}/ca.crt."
        ),
        FailureClass::TlsFailure => format!("Check the registry's certificate (host name, expiry, chain), and the CA the nodes trust for it (/etc/containerd/certs.d/{host}/, /etc/containers/certs.d/{host}/ or /etc/docker/certs.d/{host}/; here ~/.docker/certs.d/{host}/ or --ca-dir)."),
        FailureClass::TlsClientCertificate => format!(
            "Give the nodes the client certificate: /etc/containerd/certs.d/{host}/ (client = [\"client.cert\", \"client.key\"] in hosts.toml), /etc/containers/certs.d/{host}/ or /etc/docker/certs.d/{host}/ with client.cert and client.key; here, put them in ~/.docker/certs.d/{host}/ or the --ca-dir directory."
        ),
        FailureClass::HttpToHttps => "Serve the registry over TLS, or configure it as an insecure (HTTP) registry on every node (containerd hosts.toml, CRI-O registries.conf, Docker insecure-registries) and here with --insecure.".to_owned(),
        FailureClass::WrongCredentialsBasic => "Fix the user name or password (or token) of this registry's entry, and check which source the node's pull secret uses.".to_owned(),
        FailureClass::WrongCredentialsToken => "Fix the user name or password (or token) of this registry's entry.".to_owned(),
        FailureClass::NoCredentials => "Log in to the registry (regcred login), then attach the pull secret to the Pod (imagePullSecrets) or its ServiceAccount.".to_owned(),
        FailureClass::Denied if f.credentials_sent => "Grant this account pull access to the repository, and check the repository path.".to_owned(),
        FailureClass::Denied => "Log in with an account that may pull this repository and attach the pull secret to the Pod.".to_owned(),
        FailureClass::RepositoryUnknown if f.credentials_sent => "Check the repository path (Docker Hub images need their namespace, e.g. library/nginx), and that this account may see the repository.".to_owned(),
        FailureClass::RepositoryUnknown => "Check the repository path (Docker Hub images need their namespace, e.g. library/nginx); if it is private, log in first.".to_owned(),
        FailureClass::TagUnknown => "Check the tag (list the repository's tags) or push it.".to_owned(),
        FailureClass::PlatformMissing => "Build and push the image for that platform, or pick a tag that has it (see the platforms listed).".to_owned(),
        FailureClass::PlatformMismatch => "Build the image for the nodes' platform (docker buildx build --platform …), or schedule the Pod on nodes of the image's platform (nodeSelector kubernetes.io/arch).".to_owned(),
        FailureClass::RateLimited => "Authenticate the pulls (a pull secret raises the limit), use a pull-through mirror or cache, or wait for the window to reset.".to_owned(),
        FailureClass::BlobMissing => "The registry lost data: push the image again.".to_owned(),
        FailureClass::BlobCorrupted => "Push the image again; check proxies or mirrors between nodes and registry.".to_owned(),
        FailureClass::ServerError => "The problem is on the registry's side: retry later or ask its operators.".to_owned(),
        FailureClass::Refused => "Serve the registry and its token service over HTTPS, or mark the registry insecure knowingly (--insecure).".to_owned(),
        FailureClass::Protocol => "Check that the host really is a container registry (no proxy or login page in between).".to_owned(),
        FailureClass::Cancelled => "Run it again to see the result.".to_owned(),
    }
}

/// What to do when the DNS server says the registry's name does not exist: a short name is
/// Docker Hub's, and a public registry's name does exist — then this machine's DNS is what failed.
fn dns_failure_what_to_do(f: &Facts<'_>) -> String {
    let host = host_only(&f.host);
    let short = if !crate::image_ref::names_its_registry(f.image) && host == "registry-1.docker.io" {
        format!("{} names no registry host, so it is Docker Hub's ({}), on the nodes too. ", f.image, f.name)
    } else {
        String::new()
    };
    let public = matches!(
        crate::known_registries::detect_id(host),
        Some(
            crate::known_registries::PresetId::DockerHub
                | crate::known_registries::PresetId::Ghcr
                | crate::known_registries::PresetId::Gitlab
                | crate::known_registries::PresetId::Quay
        )
    ) || matches!(host, "gcr.io" | "mcr.microsoft.com" | "public.ecr.aws" | "registry.k8s.io" | "nvcr.io");
    if public {
        format!(
            "{short}{host} is a public registry's name, and it exists: the DNS server of this machine says it does not, so this machine is offline or its DNS cannot see the internet. This answer speaks for this machine, not for the nodes: test from a machine on the nodes' network, or check the nodes' DNS."
        )
    } else {
        format!(
            "{short}Check the registry host name in the image, and the nodes' DNS: the DNS server says the name does not exist."
        )
    }
}

fn host_only(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split(']').next().map_or(host, |h| h.trim_start_matches('['));
    }
    host.split(':').next().unwrap_or(host)
}
