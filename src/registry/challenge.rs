//! `WWW-Authenticate` challenges (RFC 7235): several per header, quoted and escaped parameters.

use std::collections::BTreeMap;

/// One challenge: a scheme and its parameters (names lowercased).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Challenge {
    /// `basic`, `bearer` … (lowercased).
    pub(crate) scheme: String,
    /// `realm`, `service`, `scope`, `error` …
    pub(crate) params: BTreeMap<String, String>,
}

impl Challenge {
    /// A parameter's value.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

struct Cursor<'a> {
    text: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn skip_space(&mut self) {
        while self.at < self.text.len() && matches!(self.text[self.at], b' ' | b'\t') {
            self.at += 1;
        }
    }

    fn skip_separators(&mut self) {
        while self.at < self.text.len() && matches!(self.text[self.at], b' ' | b'\t' | b',') {
            self.at += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn token(&mut self) -> String {
        let start = self.at;
        while self.at < self.text.len() && !matches!(self.text[self.at], b' ' | b'\t' | b',' | b'=' | b'"') {
            self.at += 1;
        }
        String::from_utf8_lossy(&self.text[start..self.at]).into_owned()
    }

    fn quoted(&mut self) -> String {
        let mut value = Vec::new();
        self.at += 1;
        while let Some(byte) = self.peek() {
            self.at += 1;
            match byte {
                b'\\' => {
                    if let Some(escaped) = self.peek() {
                        value.push(escaped);
                        self.at += 1;
                    }
                }
                b'"' => break,
                other => value.push(other),
            }
        }
        String::from_utf8_lossy(&value).into_owned()
    }
}

/// Parses every challenge of a `WWW-Authenticate` header value.
pub(crate) fn parse_challenges(header: &str) -> Vec<Challenge> {
    let mut cursor = Cursor { text: header.as_bytes(), at: 0 };
    let mut challenges: Vec<Challenge> = Vec::new();
    loop {
        cursor.skip_separators();
        if cursor.peek().is_none() {
            break;
        }
        let word = cursor.token();
        if word.is_empty() {
            cursor.at += 1;
            continue;
        }
        cursor.skip_space();
        if cursor.peek() == Some(b'=') {
            cursor.at += 1;
            cursor.skip_space();
            let value = if cursor.peek() == Some(b'"') { cursor.quoted() } else { cursor.token() };
            if let Some(current) = challenges.last_mut() {
                current.params.insert(word.to_ascii_lowercase(), value);
            }
        } else {
            challenges.push(Challenge { scheme: word.to_ascii_lowercase(), params: BTreeMap::new() });
        }
    }
    challenges
}

#[cfg(test)]
mod tests {
    use super::parse_challenges;

    #[test]
    fn bearer_basic_several_and_escaped() {
        let header = r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push", Basic realm="Registry \"Realm\"", error=insufficient_scope"#;
        let challenges = parse_challenges(header);
        assert_eq!(challenges.len(), 2);
        assert_eq!(challenges[0].scheme, "bearer");
        assert_eq!(challenges[0].param("realm"), Some("https://auth.example.com/token"));
        assert_eq!(challenges[0].param("scope"), Some("repository:a/b:pull,push"));
        assert_eq!(challenges[1].scheme, "basic");
        assert_eq!(challenges[1].param("realm"), Some("Registry \"Realm\""));
        assert_eq!(challenges[1].param("error"), Some("insufficient_scope"));
        assert_eq!(parse_challenges("Basic realm=x").len(), 1);
        assert!(parse_challenges("").is_empty());
        assert!(parse_challenges(",,, =").is_empty());
    }
}
