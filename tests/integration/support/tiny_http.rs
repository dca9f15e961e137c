//! A tiny scripted HTTP/1.1 server on loopback, for hostile and odd registry behaviour: each
//! connection's request head is recorded and answered by the test's handler.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let seen_by_server = seen.clone();
        std::thread::Builder::new()
            .name(format!("tiny-http-{}", addr.port()))
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let (handler, seen) = (handler.clone(), seen_by_server.clone());
                    let _ = std::thread::Builder::new()
                        .name("tiny-http-conn".into())
                        .spawn(move || serve(stream, &*handler, &seen, addr));
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

fn serve(stream: TcpStream, handler: &Handler, seen: &Mutex<Vec<String>>, addr: SocketAddr) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    // A TLS ClientHello on this plain-HTTP port gets what Go's server answers: a 400 in clear text.
    let mut first = [0_u8; 1];
    if stream.peek(&mut first).is_ok_and(|n| n == 1) && first[0] == 0x16 {
        let mut stream = stream;
        let _ = stream.write_all(
            b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n",
        );
        return;
    }
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
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
        if std::io::Read::read_exact(&mut reader, &mut body).is_ok() {
            head.push_str("\r\n");
            head.push_str(&String::from_utf8_lossy(&body));
        }
    }
    if let Ok(mut seen) = seen.lock() {
        seen.push(head.clone());
    }
    let mut stream = stream;
    match handler(&head, addr) {
        Reply::Bytes(bytes) => {
            let _ = stream.write_all(&bytes);
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
