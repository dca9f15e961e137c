//! A token server for Distribution's token auth, as TESTING.md describes it: `GET /token` with
//! optional Basic auth answers an RS256 JWT whose header carries `x5c` (a certificate that
//! chains to the registry's `rootcertbundle`), signed here with openssl. It also takes the OAuth2
//! `POST /token` (`grant_type=password`, or `refresh_token` with a user's identity token), unless
//! started GET-only like registries that answer the POST with 404/405.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::tiny_http::{Reply, TinyServer, response};

/// A running token server.
pub struct TokenServer {
    /// The HTTP server.
    pub server: TinyServer,
    /// The certificate bundle the registry must trust.
    pub bundle: PathBuf,
    _dir: tempfile::TempDir,
}

/// A user: password and the actions granted.
pub type Users = HashMap<String, (String, Vec<String>)>;

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl TokenServer {
    /// Starts a token server for `service` with `users`, taking GET and the OAuth2 POST.
    pub fn start(service: &str, users: Users) -> Self {
        Self::start_with(service, users, true)
    }

    /// Starts a token server that answers only GET (`oauth_post` false): a POST gets 405.
    pub fn start_with(service: &str, users: Users, oauth_post: bool) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let run = |args: &[&str]| super::registry::openssl(dir.path(), args);
        run(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "token.key",
            "-out",
            "token.crt",
            "-days",
            "2",
            "-subj",
            "/CN=regcred token issuer",
        ]);
        run(&["x509", "-in", "token.crt", "-outform", "DER", "-out", "token.der"]);
        let der = std::fs::read(dir.path().join("token.der")).expect("der");
        let x5c = STANDARD.encode(der);
        let key = dir.path().join("token.key");
        let service = service.to_owned();
        let server = TinyServer::start(move |head, _| answer(head, &service, &users, &x5c, &key, oauth_post));
        Self { server, bundle: dir.path().join("token.crt"), _dir: dir }
    }

    /// The realm URL.
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.server.addr)
    }

    /// How many token requests arrived.
    pub fn token_requests(&self) -> usize {
        self.server.requests().iter().filter(|h| h.contains("/token")).count()
    }

    /// The methods of the token requests, in order.
    pub fn token_methods(&self) -> Vec<String> {
        let requests = self.server.requests();
        requests
            .iter()
            .filter(|h| h.contains("/token"))
            .filter_map(|h| h.split(' ').next().map(str::to_owned))
            .collect()
    }
}

/// The parameters of a query string or form body.
fn form(text: &str) -> HashMap<String, String> {
    text.split('&').filter_map(|p| p.split_once('=')).map(|(k, v)| (k.to_owned(), percent_decode(v))).collect()
}

/// The subject and granted actions for a user name and password (or identity token, which is the
/// user's password here), or the 401 to answer.
fn authenticate(users: &Users, user: &str, password: &str) -> Result<(String, Vec<String>), Reply> {
    match users.get(user) {
        Some((expected, actions)) if expected == password => Ok((user.to_owned(), actions.clone())),
        _ => {
            let body = br#"{"errors":[{"code":"UNAUTHORIZED","message":"invalid username/password","detail":null}]}"#;
            Err(response("401 Unauthorized", &[("Content-Type", "application/json")], body))
        }
    }
}

fn answer(head: &str, service: &str, users: &Users, x5c: &str, key: &Path, oauth_post: bool) -> Reply {
    let request_line = head.lines().next().unwrap_or_default();
    let post = request_line.starts_with("POST ");
    if !(request_line.starts_with("GET ") || post && oauth_post) {
        return response("405 Method Not Allowed", &[], b"");
    }
    let target = request_line.split(' ').nth(1).unwrap_or_default();
    let query = if post {
        form(head.split_once("\r\n\r\n").map_or("", |(_, body)| body))
    } else {
        target.split_once('?').map(|(_, q)| form(q)).unwrap_or_default()
    };
    let basic = head
        .lines()
        .find_map(|l| l.strip_prefix("authorization: Basic ").or_else(|| l.strip_prefix("Authorization: Basic ")))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let field = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
    let login = if post {
        match field("grant_type") {
            "password" => authenticate(users, field("username"), field("password")),
            "refresh_token" => users.iter().find(|(_, (password, _))| password == field("refresh_token")).map_or_else(
                || authenticate(users, "", "-"),
                |(user, (password, _))| authenticate(users, user, password),
            ),
            _ => return response("400 Bad Request", &[], br#"{"error":"unsupported_grant_type"}"#),
        }
    } else {
        match basic.as_deref().and_then(|b| b.split_once(':')) {
            Some((user, password)) => authenticate(users, user, password),
            None => Ok((String::new(), Vec::new())),
        }
    };
    let (subject, granted) = match login {
        Ok(granted) => granted,
        Err(reply) => return reply,
    };
    let scope = query.get("scope").cloned().unwrap_or_default();
    let mut parts = scope.splitn(3, ':');
    let (kind, name, wanted) =
        (parts.next().unwrap_or_default(), parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let actions: Vec<String> =
        // A grant is an action on every repository (`pull`) or on one (`pull:team/app`).
        wanted.split(',').filter(|a| granted.iter().any(|g| g == a || *g == format!("{a}:{name}"))).map(str::to_owned).collect();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [x5c]});
    let claims = serde_json::json!({
        "iss": "regcred-test-issuer", "sub": subject, "aud": service,
        "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("{now}-{}", rand_suffix()),
        "access": if kind.is_empty() { serde_json::json!([]) } else { serde_json::json!([{"type": kind, "name": name, "actions": actions}]) },
    });
    let signing_input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let mut openssl = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl dgst");
    std::io::Write::write_all(openssl.stdin.as_mut().expect("stdin"), signing_input.as_bytes()).expect("sign input");
    drop(openssl.stdin.take());
    let signature = openssl.wait_with_output().expect("signature").stdout;
    let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature));
    let body = serde_json::json!({"token": token, "access_token": token, "expires_in": 300, "issued_at": "2026-01-01T00:00:00Z"});
    response("200 OK", &[("Content-Type", "application/json")], body.to_string().as_bytes())
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(7, |d| u64::from(d.subsec_nanos()))
}
