//! A tiny scripted HTTP/1.1 server on loopback, for hostile and odd registry behaviour: each
//! connection's request head is recorded and answered by the test's handler. It also speaks TLS
//! (rustls, with a certificate from a private CA) for HTTPS-only rules.

use std::io::{BufRead as _, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// How to answer one request.
pub enum Reply {
    /// Bytes to write, then close.
    Bytes(Vec<u8>),
    /// A head, then a body dripping one byte per interval, forever (until the client leaves).
    Drip(String, Duration),
    /// A head, then an endless body.
    Endless(String),
}

/// A simple response with a status line, headers and a body.
pub fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    Reply::Bytes(bytes)
}

/// The server; stops accepting when dropped (its thread ends with the test process).
pub struct TinyServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Every request head received, in order.
    pub seen: Arc<Mutex<Vec<String>>>,
}

type Handler = dyn Fn(&str, SocketAddr) -> Reply + Send + Sync;

impl TinyServer {
    /// Starts a server whose `handler` gets the request head and its own address.
    pub fn start(handler: impl Fn(&str, SocketAddr) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        Self::serve_on(listener, None, handler)
    }

    /// Like [`TinyServer::start`], over TLS: the certificate comes from a fresh private CA that
    /// `DIR/certs.d/127.0.0.1:PORT/ca.crt` trusts (see [`super::registry::make_tls`]). Plain HTTP
    /// gets no answer at all (the connection stays open until the client leaves).
    pub fn start_tls(dir: &Path, handler: impl Fn(&str, SocketAddr) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (cert, key) = super::registry::make_tls(dir, &addr.to_string());
        let chain =
            CertificateDer::pem_file_iter(&cert).expect("read cert").collect::<Result<Vec<_>, _>>().expect("cert");
        let key = PrivateKeyDer::from_pem_file(&key).expect("key");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocols")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server config");
        Self::serve_on(listener, Some(Arc::new(config)), handler)
    }

    fn serve_on(
        listener: TcpListener,
        tls: Option<Arc<rustls::ServerConfig>>,
        handler: impl Fn(&str, SocketAddr) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let seen_by_server = seen.clone();
        std::thread::Builder::new()
            .name(format!("tiny-http-{}", addr.port()))
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let (handler, seen, tls) = (handler.clone(), seen_by_server.clone(), tls.clone());
                    let _ = std::thread::Builder::new()
                        .name("tiny-http-conn".into())
                        .spawn(move || connection(stream, tls, &*handler, &seen, addr));
                }
            })
            .expect("server thread");
        Self { addr, seen }
    }

    /// The request heads so far.
    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// One connection: TLS or plain, and what each kind of server says to the other kind of client.
fn connection(
    stream: TcpStream,
    tls: Option<Arc<rustls::ServerConfig>>,
    handler: &Handler,
    seen: &Mutex<Vec<String>>,
    addr: SocketAddr,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    match tls {
        Some(_) if !speaks_tls(&stream) => {
            // Some TLS ports keep silent to clear text until the client leaves.
            let _ = std::io::copy(&mut &stream, &mut std::io::sink());
        }
        Some(config) => {
            if let Ok(connection) = rustls::ServerConnection::new(config) {
                serve(rustls::StreamOwned::new(connection, stream), handler, seen, addr);
            }
        }
        None if speaks_tls(&stream) => {
            // What Go's server answers a ClientHello on a plain-HTTP port.
            let mut stream = stream;
            let _ = stream.write_all(
                b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n",
            );
        }
        None => serve(stream, handler, seen, addr),
    }
}

/// Whether the client opens with a TLS handshake (a `ClientHello`).
fn speaks_tls(stream: &TcpStream) -> bool {
    let mut first = [0_u8; 1];
    stream.peek(&mut first).is_ok_and(|n| n == 1) && first[0] == 0x16
}

fn serve(stream: impl Read + Write, handler: &Handler, seen: &Mutex<Vec<String>>, addr: SocketAddr) {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line == "\r\n" => break,
            Ok(_) => head.push_str(&line),
        }
    }
    // A request body (a token POST's form) follows the head after a blank line.
    let length = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0_usize);
    if length > 0 {
        let mut body = vec![0; length.min(1 << 20)];
        if reader.read_exact(&mut body).is_ok() {
            head.push_str("\r\n");
            head.push_str(&String::from_utf8_lossy(&body));
        }
    }
    if let Ok(mut seen) = seen.lock() {
        seen.push(head.clone());
    }
    let stream = reader.get_mut();
    match handler(&head, addr) {
        Reply::Bytes(bytes) => {
            let _ = stream.write_all(&bytes).and_then(|()| stream.flush());
        }
        Reply::Drip(head, interval) => {
            if stream.write_all(head.as_bytes()).is_err() {
                return;
            }
            while stream.write_all(b"x").and_then(|()| stream.flush()).is_ok() {
                std::thread::sleep(interval);
            }
        }
        Reply::Endless(head) => {
            if stream.write_all(head.as_bytes()).is_err() {
                return;
            }
            let chunk = vec![b'{'; 64 * 1024];
            while stream.write_all(&chunk).is_ok() {}
        }
    }
}
