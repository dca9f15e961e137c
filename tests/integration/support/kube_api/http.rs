//! The wire: HTTPS on loopback (rustls, optional client certificate), HTTP/1.1 keep-alive,
//! `Content-Length` bodies (chunked above 2 KiB, as Go's server does once its buffer fills) and
//! chunked watch streams, one JSON object per line and per chunk.

use std::io::{BufRead as _, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// One parsed request.
pub struct Request {
    pub method: String,
    pub path: String,
    /// The raw (URL-encoded) query.
    pub query: String,
    pub params: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the client presented a certificate our CA signed (the only one is `admin`).
    pub client_cert: bool,
}

impl Request {
    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// A decoded query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// What to send back.
pub enum Reply {
    /// A complete response.
    Full { status: u16, headers: Vec<(String, String)>, body: Vec<u8> },
    /// A watch: `first` lines now, then whatever arrives on `rx` until `deadline`.
    Watch { first: Vec<Vec<u8>>, rx: Receiver<Vec<u8>>, deadline: Instant },
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        410 => "Gone",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        500 => "Internal Server Error",
        _ => "Unknown",
    }
}

/// Accepts connections forever on `listener`, one thread per connection.
pub fn serve(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    handler: Arc<dyn Fn(Request) -> Reply + Send + Sync>,
) {
    let port = listener.local_addr().map_or(0, |a| a.port());
    std::thread::Builder::new()
        .name(format!("kube-api-{port}"))
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let (config, handler) = (config.clone(), handler.clone());
                let _ = std::thread::Builder::new().name("kube-api-conn".into()).spawn(move || {
                    let Ok(connection) = rustls::ServerConnection::new(config) else { return };
                    let _ = stream.set_read_timeout(Some(Duration::from_mins(2)));
                    connection_loop(rustls::StreamOwned::new(connection, stream), &*handler);
                });
            }
        })
        .expect("kube-api thread");
}

type Tls = rustls::StreamOwned<rustls::ServerConnection, TcpStream>;

fn connection_loop(stream: Tls, handler: &(dyn Fn(Request) -> Reply + Send + Sync)) {
    let mut reader = BufReader::new(stream);
    loop {
        let Some(request) = read_request(&mut reader) else { return };
        let keep_alive = !request.header("Connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let reply = handler(request);
        let stream = reader.get_mut();
        let ok = match reply {
            Reply::Full { status, headers, body } => write_full(stream, status, &headers, &body),
            Reply::Watch { first, rx, deadline } => write_watch(stream, first, &rx, deadline),
        };
        if !ok || !keep_alive {
            let _ = stream.flush();
            stream.conn.send_close_notify();
            let _ = stream.flush();
            return;
        }
    }
}

fn read_request(reader: &mut BufReader<Tls>) -> Option<Request> {
    let mut line = String::new();
    // Skip stray blank lines between requests.
    while line.trim().is_empty() {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let find = |name: &str| headers.iter().find(|(n, _): &&(String, String)| n.eq_ignore_ascii_case(name));
    let mut body = Vec::new();
    if find("Transfer-Encoding").is_some_and(|(_, v)| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some((_, length)) = find("Content-Length") {
        body = vec![0; length.parse().ok()?];
        reader.read_exact(&mut body).ok()?;
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let params = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let client_cert = reader.get_ref().conn.peer_certificates().is_some_and(|c| !c.is_empty());
    Some(Request { method, path: path.to_owned(), query: query.to_owned(), params, headers, body, client_cert })
}

fn head(status: u16, headers: &[(String, String)]) -> String {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Date: {}\r\n", humantime::format_rfc3339_seconds(std::time::SystemTime::now())));
    head
}

fn write_full(stream: &mut Tls, status: u16, headers: &[(String, String)], body: &[u8]) -> bool {
    let mut bytes = head(status, headers).into_bytes();
    if body.len() > 2048 {
        bytes.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
        bytes.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
        bytes.extend_from_slice(body);
        bytes.extend_from_slice(b"\r\n0\r\n\r\n");
    } else {
        bytes.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        bytes.extend_from_slice(body);
    }
    stream.write_all(&bytes).and_then(|()| stream.flush()).is_ok()
}

fn chunk(stream: &mut Tls, line: &[u8]) -> bool {
    let mut bytes = format!("{:x}\r\n", line.len()).into_bytes();
    bytes.extend_from_slice(line);
    bytes.extend_from_slice(b"\r\n");
    stream.write_all(&bytes).and_then(|()| stream.flush()).is_ok()
}

fn write_watch(stream: &mut Tls, first: Vec<Vec<u8>>, rx: &Receiver<Vec<u8>>, deadline: Instant) -> bool {
    let headers = super::handlers::common_headers("application/json");
    let mut bytes = head(200, &headers).into_bytes();
    bytes.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
    if stream.write_all(&bytes).and_then(|()| stream.flush()).is_err() {
        return false;
    }
    for line in first {
        if !chunk(stream, &line) {
            return false;
        }
    }
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        match rx.recv_timeout(deadline - now) {
            Ok(line) => {
                if !chunk(stream, &line) {
                    return false;
                }
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
        }
    }
    stream.write_all(b"0\r\n\r\n").and_then(|()| stream.flush()).is_ok()
}
