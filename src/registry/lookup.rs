//! Name lookups as a pull needs them: each host name looked up once for the life of a
//! [`Resolver`] (a run of `regcred check`, or one test pull), lookups of different hosts in
//! parallel, each within a deadline, and a failure in the words of Go's resolver as a node's
//! runtime prints it (`lookup HOST on NAMESERVER:53: no such host` / `… i/o timeout`). The HTTP
//! clients resolve through it too (see [`Resolver::for_clients`]), so a registry's later
//! connections and its token service never ask the DNS server again.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, Shared};

/// Where Go's resolver (and glibc's) reads its name servers.
const RESOLV_CONF: &str = "/etc/resolv.conf";

/// Why a lookup failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LookupFailure {
    /// The DNS server did not answer in time (or answered "try again").
    Timeout,
    /// The name does not exist (NXDOMAIN), or has no address.
    NoSuchHost,
    /// Anything else, in the system resolver's words.
    Other(String),
}

/// A failed lookup: the host, the name server asked (the first of `/etc/resolv.conf`, as Go's
/// resolver names it), and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.go_words())]
pub(crate) struct LookupError {
    /// The host name looked up.
    pub(crate) host: String,
    /// `IP:53`, when `/etc/resolv.conf` names a server.
    pub(crate) nameserver: Option<String>,
    /// Why it failed.
    pub(crate) failure: LookupFailure,
}

impl LookupError {
    /// Go's `net.DNSError` text: `lookup HOST on NAMESERVER:53: no such host`.
    pub(crate) fn go_words(&self) -> String {
        let on = self.nameserver.as_ref().map(|server| format!(" on {server}")).unwrap_or_default();
        let why = match &self.failure {
            LookupFailure::Timeout => "i/o timeout",
            LookupFailure::NoSuchHost => "no such host",
            LookupFailure::Other(text) => text,
        };
        format!("lookup {}{on}: {why}", self.host)
    }

    /// Whether the server never answered.
    pub(crate) fn timed_out(&self) -> bool {
        self.failure == LookupFailure::Timeout
    }
}

/// What a lookup settles: the addresses, or why there are none.
pub(crate) type Lookup = Result<Arc<[IpAddr]>, LookupError>;

/// One lookup, shared by everyone who asks for the same host while it runs and after.
type SharedLookup = Shared<BoxFuture<'static, Lookup>>;

/// Looks each host name up once, within `limit`, and keeps the answer.
#[derive(Debug)]
pub(crate) struct Resolver {
    limit: Duration,
    lookups: Mutex<HashMap<String, SharedLookup>>,
}

impl Resolver {
    /// A resolver whose lookups give up after `limit` (the connect timeout: a node's dial
    /// includes its lookup).
    pub(crate) fn new(limit: Duration) -> Self {
        Self { limit, lookups: Mutex::new(HashMap::new()) }
    }

    /// The addresses of `host` (a name, not an IP literal): the first call starts the lookup on a
    /// task of its own, so it ends within the limit even when every caller stops waiting; every
    /// later call shares it.
    pub(crate) async fn lookup(&self, host: &str) -> Lookup {
        let key = host.to_ascii_lowercase();
        let shared = {
            let Ok(mut lookups) = self.lookups.lock() else {
                return lookup_within(key, self.limit).await;
            };
            lookups.entry(key.clone()).or_insert_with(|| start(key, self.limit)).clone()
        };
        shared.await
    }

    /// What the lookup of `host` settled, if it ended.
    pub(crate) fn settled(&self, host: &str) -> Option<Lookup> {
        self.lookups.lock().ok()?.get(&host.to_ascii_lowercase())?.peek().cloned()
    }

    /// Whether a lookup of `host` was started and has not ended.
    pub(crate) fn pending(&self, host: &str) -> bool {
        self.lookups
            .lock()
            .ok()
            .and_then(|lookups| lookups.get(&host.to_ascii_lowercase()).map(|l| l.peek().is_none()))
            .unwrap_or(false)
    }

    /// This resolver as reqwest's, for the HTTP clients.
    pub(crate) fn for_clients(self: &Arc<Self>) -> Arc<ForClients> {
        Arc::new(ForClients(self.clone()))
    }
}

/// A [`Resolver`] as the HTTP clients' resolver.
#[derive(Debug)]
pub(crate) struct ForClients(Arc<Resolver>);

impl reqwest::dns::Resolve for ForClients {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses = resolver.lookup(&host).await?;
            let addrs: reqwest::dns::Addrs =
                Box::new(addresses.iter().map(|ip| SocketAddr::new(*ip, 0)).collect::<Vec<_>>().into_iter());
            Ok(addrs)
        })
    }
}

/// Starts the lookup of `host` on a task of its own (or here, outside a runtime).
fn start(host: String, limit: Duration) -> SharedLookup {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return lookup_within(host, limit).boxed().shared();
    };
    let task = runtime.spawn(lookup_within(host.clone(), limit));
    async move {
        task.await.unwrap_or_else(|error| {
            Err(LookupError { host, nameserver: nameserver(), failure: LookupFailure::Other(error.to_string()) })
        })
    }
    .boxed()
    .shared()
}

/// The system resolver's answer for `host`, or a timeout after `limit`.
async fn lookup_within(host: String, limit: Duration) -> Lookup {
    let lookup = tokio::net::lookup_host((host.as_str(), 0));
    let failure = match tokio::time::timeout(limit, lookup).await {
        Ok(Ok(found)) => {
            let mut addresses: Vec<IpAddr> = Vec::new();
            for address in found {
                if !addresses.contains(&address.ip()) {
                    addresses.push(address.ip());
                }
            }
            if !addresses.is_empty() {
                return Ok(addresses.into());
            }
            LookupFailure::NoSuchHost
        }
        Ok(Err(error)) => failure_of(&error.to_string()),
        Err(_) => LookupFailure::Timeout,
    };
    Err(LookupError { host, nameserver: nameserver(), failure })
}

/// Sorts the system resolver's error text (`getaddrinfo`'s `gai_strerror`, glibc and BSD).
/// `EAI_AGAIN` is glibc's answer both to a server that never answered and to `SERVFAIL`: Go
/// would call the second `server misbehaving`, which regcred cannot tell apart here.
fn failure_of(text: &str) -> LookupFailure {
    let lower = text.to_ascii_lowercase();
    let no_such_host = ["not known", "no address associated", "nodename nor servname", "no such host"];
    if no_such_host.iter().any(|words| lower.contains(words)) {
        LookupFailure::NoSuchHost
    } else if lower.contains("temporary failure") || lower.contains("try again") || lower.contains("timed out") {
        LookupFailure::Timeout
    } else {
        LookupFailure::Other(text.to_owned())
    }
}

/// The first name server of `/etc/resolv.conf` as Go's resolver names it (`IP:53`).
pub fn nameserver() -> Option<String> {
    let text = std::fs::read_to_string(RESOLV_CONF).ok()?;
    first_nameserver(&text)
}

/// The first `nameserver` line's address, `IP:53` (`[IPv6]:53`).
fn first_nameserver(resolv_conf: &str) -> Option<String> {
    resolv_conf.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        if words.next() != Some("nameserver") {
            return None;
        }
        let address = words.next()?;
        let ip: IpAddr = address.split('%').next()?.parse().ok()?;
        Some(SocketAddr::new(ip, 53).to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_words_name_the_server_when_resolv_conf_has_one() {
        let error = |nameserver: Option<&str>, failure| LookupError {
            host: "r.example".to_owned(),
            nameserver: nameserver.map(str::to_owned),
            failure,
        };
        assert_eq!(
            error(Some("10.96.0.10:53"), LookupFailure::Timeout).go_words(),
            "lookup r.example on 10.96.0.10:53: i/o timeout"
        );
        assert_eq!(error(None, LookupFailure::NoSuchHost).go_words(), "lookup r.example: no such host");
    }

    #[test]
    fn the_first_nameserver_is_named_as_go_names_it() {
        let conf = "# comment\nsearch x\nnameserver 127.0.0.53\nnameserver 8.8.8.8\n";
        assert_eq!(first_nameserver(conf).as_deref(), Some("127.0.0.53:53"));
        assert_eq!(first_nameserver("nameserver fe80::1%eth0\n").as_deref(), Some("[fe80::1]:53"));
        assert_eq!(first_nameserver("options ndots:5\n"), None);
    }

    #[test]
    fn system_resolver_errors_are_sorted() {
        assert_eq!(
            failure_of("failed to lookup address information: Name or service not known"),
            LookupFailure::NoSuchHost
        );
        assert_eq!(
            failure_of("failed to lookup address information: Temporary failure in name resolution"),
            LookupFailure::Timeout
        );
        assert!(matches!(failure_of("something odd"), LookupFailure::Other(_)));
    }

    #[tokio::test]
    async fn one_lookup_per_host_however_many_ask() {
        let resolver = Arc::new(Resolver::new(Duration::from_secs(5)));
        let all = (0..8).map(|_| {
            let resolver = resolver.clone();
            async move { resolver.lookup("localhost").await }
        });
        let answers = futures_util::future::join_all(all).await;
        assert!(answers.iter().all(|answer| answer.as_ref().is_ok_and(|ips| ips.iter().all(IpAddr::is_loopback))));
        assert_eq!(resolver.lookups.lock().unwrap().len(), 1);
        assert!(!resolver.pending("LOCALHOST"));
        assert!(resolver.settled("localhost").is_some_and(|l| l.is_ok()));
    }
}
