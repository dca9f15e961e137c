//! Text that comes from the other side — a registry's error messages and challenges, redirect
//! targets, a token service's answers, a credential helper's error line — made inert before it is
//! shown anywhere (terminal, `--json`, the window, Copy report).
//!
//! * [`inert`] neutralizes control characters, terminal escape sequences and bidirectional
//!   overrides (each shown as a visible `\x1b`-style escape), folds line breaks and tabs into
//!   spaces, and caps the length.
//! * `Redactor` removes every form of a credential regcred sent (the password, `user:password`
//!   and its base64, the form-encoded password, tokens) from text a server echoes back.

use base64::Engine as _;
use zeroize::Zeroizing;

/// The longest piece of untrusted text shown, in characters.
pub const TEXT_CAP: usize = 1_000;

/// What a redacted credential is replaced with.
pub(crate) const REDACTED: &str = "<redacted>";

/// `text` with control characters, escape sequences and bidirectional overrides made visible and
/// harmless, line breaks and tabs as spaces, and at most `cap` characters (then `…`).
pub fn inert(text: &str, cap: usize) -> String {
    let mut out = String::with_capacity(text.len().min(cap + 8));
    for (count, ch) in text.chars().enumerate() {
        if count == cap {
            out.push('…');
            break;
        }
        match ch {
            '\n' | '\r' | '\t' => out.push(' '),
            c if is_hazard(c) => out.push_str(&escaped(c)),
            c => out.push(c),
        }
    }
    out
}

/// [`inert`], except that line breaks (`\n`) stay: for a text regcred composed from pieces that
/// were already made inert, where each line break is its own (a runtime's message that joins
/// the registry's errors on new lines, as containerd 2.x does). `\r` and tabs still fold.
pub(crate) fn inert_keeping_lines(text: &str, cap: usize) -> String {
    text.split('\n').map(|line| inert(line, cap)).collect::<Vec<_>>().join("\n")
}

/// `text` with the credential of every `Bearer …` and `Basic …` cut out: for a server that echoes
/// the request's `Authorization` header back (the API server's credentials come from a kubeconfig
/// or an exec plugin, so regcred does not always know their values to redact them by name).
pub(crate) fn scrub_authorization(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = find_scheme(rest) {
        let (before, from) = rest.split_at(at);
        let scheme_len = from.find(' ').map_or(from.len(), |space| space + 1);
        out.push_str(before);
        out.push_str(&from[..scheme_len]);
        let after = &from[scheme_len..];
        let token_len =
            after.find(|c: char| !(c.is_ascii_alphanumeric() || "-._~+/=:".contains(c))).unwrap_or(after.len());
        let token = &after[..token_len];
        // A credential, not a word: long enough and not only lowercase letters ("Basic auth").
        if token.len() >= 8 && !token.chars().all(|c| c.is_ascii_lowercase()) {
            out.push_str(REDACTED);
        } else {
            out.push_str(token);
        }
        rest = &after[token_len..];
    }
    out.push_str(rest);
    out
}

/// Where the next `Bearer ` or `Basic ` (as HTTP writes them) starts.
fn find_scheme(text: &str) -> Option<usize> {
    ["Bearer ", "Basic "].iter().filter_map(|scheme| text.find(scheme)).min()
}

/// Characters that can change what a terminal or a text view shows beyond themselves.
fn is_hazard(ch: char) -> bool {
    ch.is_control() || matches!(ch, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escaped(ch: char) -> String {
    let code = u32::from(ch);
    if code < 0x100 { format!("\\x{code:02x}") } else { format!("\\u{{{code:04x}}}") }
}

/// The credentials one operation sent, to be cut out of anything the other side says back.
#[derive(Default)]
pub(crate) struct Redactor {
    needles: Vec<Zeroizing<String>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.needles.len())
    }
}

/// Shorter secrets are not searched for: they would match ordinary words.
const MIN_SECRET_CHARS: usize = 4;

impl Redactor {
    /// A redactor for nothing yet.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds a secret (a password or a token) in every form it travels in: as is, form-encoded.
    pub(crate) fn add_secret(&mut self, secret: &str) {
        self.push(secret);
        let encoded: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        self.push(&encoded);
    }

    /// Adds a user name and password, and the `user:password` pair as Basic auth sends it.
    pub(crate) fn add_login(&mut self, username: &str, password: &str) {
        self.add_secret(password);
        let pair = Zeroizing::new(format!("{username}:{password}"));
        self.push(&pair);
        let encoded = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(pair.as_bytes()));
        self.push(&encoded);
        self.push(encoded.trim_end_matches('='));
    }

    fn push(&mut self, needle: &str) {
        if needle.chars().count() >= MIN_SECRET_CHARS && !self.needles.iter().any(|n| n.as_str() == needle) {
            self.needles.push(Zeroizing::new(needle.to_owned()));
            // Longest first, so a secret inside a longer encoded form does not leave a remnant.
            self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        }
    }

    /// `text` with every known credential replaced by [`REDACTED`].
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for needle in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), REDACTED);
            }
        }
        out
    }

    /// [`Redactor::redact`], then [`inert`] with [`TEXT_CAP`]: the one way untrusted text enters a
    /// report.
    pub(crate) fn clean(&self, text: &str) -> String {
        inert(&self.redact(text), TEXT_CAP)
    }

    /// [`Redactor::clean`] keeping line breaks (see [`inert_keeping_lines`]).
    pub(crate) fn clean_keeping_lines(&self, text: &str) -> String {
        inert_keeping_lines(&self.redact(text), TEXT_CAP)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn echoed_authorization_headers_lose_their_credentials() {
        assert_eq!(
            super::scrub_authorization(
                "denied: Authorization: Bearer eyJhbGciOi.x-y_z== and Basic dXNlcjpwYXNz, Bearer"
            ),
            "denied: Authorization: Bearer <redacted> and Basic <redacted>, Bearer"
        );
        assert_eq!(super::scrub_authorization("use Basic authentication"), "use Basic authentication");
    }

    use super::{REDACTED, Redactor, inert};

    #[test]
    fn escape_sequences_and_controls_become_visible_text() {
        let hostile = "denied\u{1b}[2J\u{1b}]0;pwned\u{7}\r\n\u{2714} would pull\u{202e}gnp.exe\u{9b}31m";
        let shown = inert(hostile, 1000);
        assert_eq!(shown, "denied\\x1b[2J\\x1b]0;pwned\\x07  \u{2714} would pull\\u{202e}gnp.exe\\x9b31m");
        assert!(!shown.chars().any(char::is_control));
    }

    #[test]
    fn long_text_is_capped() {
        let shown = inert(&"a".repeat(5000), 10);
        assert_eq!(shown, format!("{}…", "a".repeat(10)));
    }

    #[test]
    fn every_form_of_a_sent_credential_is_redacted() {
        let mut redactor = Redactor::new();
        redactor.add_login("user", "s3cret+canary/x");
        redactor.add_secret("eyJ.token.sig");
        let echoed = "got Basic dXNlcjpzM2NyZXQrY2FuYXJ5L3g= and password=s3cret%2Bcanary%2Fx and s3cret+canary/x \
                      and user:s3cret+canary/x and Bearer eyJ.token.sig";
        let shown = redactor.clean(echoed);
        for leaked in ["s3cret", "dXNlcjpzM2NyZXQrY2FuYXJ5L3g", "eyJ.token.sig"] {
            assert!(!shown.contains(leaked), "{shown}");
        }
        assert_eq!(shown.matches(REDACTED).count(), 5, "{shown}");
    }

    #[test]
    fn short_secrets_are_not_searched_for() {
        let mut redactor = Redactor::new();
        redactor.add_secret("a");
        assert_eq!(redactor.redact("a registry"), "a registry");
    }
}
