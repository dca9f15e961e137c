//! Whom a test pull trusts, as Go programs (Docker, containerd, skopeo) trust: the system's roots,
//! the registry's own CAs from certs.d-style directories, a certificate that is itself in that
//! pool (the self-signed certificate of Docker's "deploy a registry" guide, which OpenSSL 3 marks
//! `CA:TRUE`), and the client certificate a registry may require (`client.cert` + `client.key`).
//!
//! Verification otherwise stays strict: chains, validity dates and host names are checked by
//! `rustls`' `WebPKI` verifier; only its refusal of a CA certificate as the server's own is lifted,
//! and only for a certificate that is byte for byte in the trust pool, with its host name checked.
//! The one exception is a runtime's own: containerd (1.7 and later) and Docker skip certificate
//! checks for a registry on the node itself (see [`OnLoopbackAnyCertificate`]), and a test pull in
//! their words does the same — for loopback names and addresses only.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;

use crate::atomic_file::read_regular;

/// Largest certificate or key file read.
const PEM_CAP: usize = 1024 * 1024;

/// Why the trust configuration could not be built (a certs.d file that cannot be used).
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum TrustError {
    /// A file could not be read.
    #[error("cannot read {}: {message}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A `.crt` with no certificate in it.
    #[error("{} holds no PEM certificate", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// A client certificate without its key (Docker's rule: `NAME.cert` needs `NAME.key`).
    #[error("the client certificate {} has no key next to it ({} is missing)", cert.display(), key.display())]
    MissingKey {
        /// The certificate.
        cert: PathBuf,
        /// The key that should be there.
        key: PathBuf,
    },
    /// A key file rustls cannot use.
    #[error("{} is not a PEM private key (PKCS#8, PKCS#1 or SEC1)", path.display())]
    BadKey {
        /// The file.
        path: PathBuf,
    },
    /// rustls refused the configuration (for example a key that does not match its certificate).
    #[error("the TLS configuration cannot be used: {0}")]
    Config(String),
}

/// What a registry's certs.d directories hold: its CAs and, optionally, a client identity.
#[derive(Default)]
pub(crate) struct RegistryTrust {
    /// Every `*.crt` certificate.
    pub(crate) cas: Vec<CertificateDer<'static>>,
    /// The first `NAME.cert` / `NAME.key` pair, in name order.
    pub(crate) identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    /// Where the identity came from, for the report.
    pub(crate) identity_path: Option<PathBuf>,
}

/// Reads `DIR/HOST/` under each of `ca_dirs`, as Docker lays it out: `*.crt` are CAs, `*.cert`
/// are client certificates whose keys are the `*.key` of the same name.
pub(crate) fn registry_trust(host: &str, ca_dirs: &[PathBuf]) -> Result<RegistryTrust, TrustError> {
    let mut trust = RegistryTrust::default();
    for dir in ca_dirs {
        let Ok(listing) = std::fs::read_dir(dir.join(host)) else { continue };
        let mut paths: Vec<PathBuf> = listing.flatten().map(|item| item.path()).collect();
        paths.sort();
        for path in paths {
            match path.extension().and_then(|e| e.to_str()) {
                Some("crt") => trust.cas.extend(certificates(&path)?),
                Some("cert") if trust.identity.is_none() => {
                    let key = path.with_extension("key");
                    if !key.exists() {
                        return Err(TrustError::MissingKey { cert: path, key });
                    }
                    trust.identity = Some((certificates(&path)?, private_key(&key)?));
                    trust.identity_path = Some(path);
                }
                _ => {}
            }
        }
    }
    Ok(trust)
}

fn read(path: &Path) -> Result<Vec<u8>, TrustError> {
    read_regular(path, PEM_CAP).map_err(|e| TrustError::Read { path: path.to_path_buf(), message: e.to_string() })
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TrustError> {
    let pem = read(path)?;
    let found: Vec<_> = CertificateDer::pem_slice_iter(&pem).filter_map(Result::ok).collect();
    if found.is_empty() {
        return Err(TrustError::NoCertificate { path: path.to_path_buf() });
    }
    Ok(found)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TrustError> {
    let pem = zeroize::Zeroizing::new(read(path)?);
    PrivateKeyDer::from_pem_slice(&pem).map_err(|_| TrustError::BadKey { path: path.to_path_buf() })
}

/// How a pull's HTTPS client checks servers: `roots` (system and registry CAs) through `WebPKI`,
/// and the pool-member rule. Built once per set of roots: every registry without CAs of its own
/// shares the one built from the system's roots (see `transport`), so 2,000 registries do not
/// hold 2,000 copies of the system store.
pub(crate) fn verifier(roots: &[CertificateDer<'static>]) -> Result<Arc<dyn ServerCertVerifier>, TrustError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut store = rustls::RootCertStore::empty();
    let mut pool = HashSet::new();
    for root in roots {
        if store.add(root.clone()).is_ok() {
            pool.insert(root.as_ref().to_vec());
        }
    }
    let config_error = |e: &dyn std::fmt::Display| TrustError::Config(e.to_string());
    // With no roots at all (an empty system store and no CA for the registry) nothing verifies.
    let webpki = if store.is_empty() {
        None
    } else {
        Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
                .build()
                .map_err(|e| config_error(&e))?,
        )
    };
    Ok(Arc::new(PoolVerifier { webpki, pool, algorithms: provider.signature_verification_algorithms }))
}

/// The rustls configuration of a pull's HTTPS client: `verifier` ([`verifier`]), and the client
/// identity when there is one. `asked` is set when a server asks for a client certificate, so
/// that a refused handshake can be explained.
pub(crate) fn client_config(
    verifier: Arc<dyn ServerCertVerifier>,
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    asked: Arc<AtomicBool>,
    handshake_started: Arc<AtomicBool>,
) -> Result<rustls::ClientConfig, TrustError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config_error = |e: &dyn std::fmt::Display| TrustError::Config(e.to_string());
    let key = match identity {
        Some((chain, key)) => {
            let signing = provider.key_provider.load_private_key(key).map_err(|e| config_error(&e))?;
            Some(Arc::new(CertifiedKey::new(chain, signing)))
        }
        None => None,
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error(&e))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_cert_resolver(Arc::new(ClientIdentity { key, asked }));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // rustls' default session cache, with a note of every handshake begun: a connection that
    // timed out after one began was accepted (a TLS handshake timeout, not a dial timeout).
    let sessions = Arc::new(rustls::client::ClientSessionMemoryCache::new(256));
    config.resumption = rustls::client::Resumption::store(Arc::new(HandshakeNote { sessions, handshake_started }));
    Ok(config)
}

/// rustls' session cache, noting that a handshake began: rustls asks its cache for a key-share
/// hint and a ticket when it writes a `ClientHello`, which it does once the TCP connection is up.
#[derive(Debug)]
struct HandshakeNote {
    sessions: Arc<rustls::client::ClientSessionMemoryCache>,
    handshake_started: Arc<AtomicBool>,
}

impl rustls::client::ClientSessionStore for HandshakeNote {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: rustls::NamedGroup) {
        self.sessions.set_kx_hint(server_name, group);
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<rustls::NamedGroup> {
        self.handshake_started.store(true, Ordering::Relaxed);
        self.sessions.kx_hint(server_name)
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: rustls::client::Tls12ClientSessionValue) {
        self.sessions.set_tls12_session(server_name, value);
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<rustls::client::Tls12ClientSessionValue> {
        self.sessions.tls12_session(server_name)
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        self.sessions.remove_tls12_session(server_name);
    }

    fn insert_tls13_ticket(&self, server_name: ServerName<'static>, value: rustls::client::Tls13ClientSessionValue) {
        self.sessions.insert_tls13_ticket(server_name, value);
    }

    fn take_tls13_ticket(&self, server_name: &ServerName<'static>) -> Option<rustls::client::Tls13ClientSessionValue> {
        self.handshake_started.store(true, Ordering::Relaxed);
        self.sessions.take_tls13_ticket(server_name)
    }
}

/// The client certificate (if any), and a note that a server asked for one.
#[derive(Debug)]
struct ClientIdentity {
    key: Option<Arc<CertifiedKey>>,
    asked: Arc<AtomicBool>,
}

impl ResolvesClientCert for ClientIdentity {
    fn resolve(&self, _root_hints: &[&[u8]], _schemes: &[rustls::SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.asked.store(true, Ordering::Relaxed);
        self.key.clone()
    }

    /// Always true, so that rustls processes a server's request for a certificate (and this
    /// resolver hears of it) even when there is none to give.
    fn has_certs(&self) -> bool {
        true
    }
}

/// `inner`, except that a server reached by a loopback name or address (`localhost`, 127.0.0.0/8,
/// `::1`) is taken with any certificate, as Go's `InsecureSkipVerify` takes it: what containerd's
/// hosts default sets for localhost, and Docker for its default insecure range. The handshake's
/// signatures are still checked.
#[derive(Debug)]
pub(crate) struct OnLoopbackAnyCertificate {
    inner: Arc<dyn ServerCertVerifier>,
    /// Set when a certificate `inner` refuses was taken.
    untrusted_taken: Arc<AtomicBool>,
}

impl OnLoopbackAnyCertificate {
    /// `inner` for every other host; `untrusted_taken` is set when a loopback certificate that
    /// `inner` would refuse is taken (the report then says which runtimes would refuse it).
    pub(crate) fn around(
        inner: Arc<dyn ServerCertVerifier>,
        untrusted_taken: Arc<AtomicBool>,
    ) -> Arc<dyn ServerCertVerifier> {
        Arc::new(Self { inner, untrusted_taken })
    }
}

impl ServerCertVerifier for OnLoopbackAnyCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let loopback = match server_name {
            ServerName::DnsName(name) => name.as_ref().eq_ignore_ascii_case("localhost"),
            ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).is_loopback(),
            _ => false,
        };
        if loopback {
            if self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now).is_err() {
                self.untrusted_taken.store(true, Ordering::Relaxed);
            }
            return Ok(ServerCertVerified::assertion());
        }
        self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `rustls`' `WebPKI` verifier, plus Go's rule that a certificate in the trust pool is trusted as the
/// server's certificate even when it is marked as a CA.
#[derive(Debug)]
struct PoolVerifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    /// The DER of every certificate in the pool.
    pool: HashSet<Vec<u8>>,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl PoolVerifier {
    /// Whether `WebPKI` refused only because the server's own certificate is a CA. `WebPKI` checks a
    /// certificate's validity dates before its basic constraints, so at that point the dates are
    /// known to be good.
    fn refused_as_ca(error: &rustls::Error) -> bool {
        let rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other)) = error else { return false };
        other.0.downcast_ref::<webpki::Error>() == Some(&webpki::Error::CaUsedAsEndEntity)
    }
}

impl ServerCertVerifier for PoolVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(webpki) = &self.webpki else {
            return Err(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer));
        };
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(error) if Self::refused_as_ca(&error) && self.pool.contains(end_entity.as_ref()) => {
                let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
                rustls::client::verify_server_name(&parsed, server_name)?;
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
