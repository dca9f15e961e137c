//! A tiny DNS server for tests and benchmarks in a private network namespace: it counts every
//! query by (name, type) and either never answers (a resolver that times out) or says NXDOMAIN.
//! Shared with `benches/check` through `#[path]`.

use std::collections::HashMap;
use std::net::UdpSocket;
use std::sync::{Arc, Mutex};

/// Queries received, by (name, type: 1 A, 28 AAAA).
pub type Queries = Arc<Mutex<HashMap<(String, u16), usize>>>;

/// A DNS server on `ip`:53 that counts queries and either never answers or says NXDOMAIN.
pub fn dns_server(ip: &str, nxdomain: bool) -> Queries {
    let socket = UdpSocket::bind((ip, 53)).unwrap();
    let queries: Queries = Arc::default();
    let counted = queries.clone();
    std::thread::Builder::new()
        .name(format!("dns-{ip}"))
        .spawn(move || {
            let mut buffer = [0u8; 1500];
            while let Ok((len, from)) = socket.recv_from(&mut buffer) {
                let Some((name, qtype, end)) = question(&buffer[..len]) else { continue };
                *counted.lock().unwrap().entry((name, qtype)).or_default() += 1;
                if nxdomain {
                    let _ = socket.send_to(&nxdomain_reply(&buffer[..end]), from);
                }
            }
        })
        .unwrap();
    queries
}

/// All queries counted so far.
pub fn total(queries: &Queries) -> usize {
    queries.lock().unwrap().values().sum()
}

/// The first question of a query: name (lowercase), type, and where the question ends.
fn question(packet: &[u8]) -> Option<(String, u16, usize)> {
    let mut at = 12;
    let mut labels = Vec::new();
    loop {
        let len = usize::from(*packet.get(at)?);
        at += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(packet.get(at..at + len)?).to_ascii_lowercase());
        at += len;
    }
    let qtype = u16::from_be_bytes([*packet.get(at)?, *packet.get(at + 1)?]);
    Some((labels.join("."), qtype, at + 4))
}

/// The query turned into its answer: QR, RD and RA set, RCODE 3 (NXDOMAIN), the question only.
fn nxdomain_reply(query: &[u8]) -> Vec<u8> {
    let mut reply = query.to_vec();
    reply[2] = 0x80 | (query[2] & 0x01);
    reply[3] = 0x80 | 3;
    reply[6..12].fill(0);
    reply
}
