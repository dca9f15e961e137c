//! One registry entry of a credential file, decoded for reading, with its problems.
//!
//! The file keeps the entry's JSON untouched; [`Entry`] is a read-only view built from it.
//! Broken values are reported as [`EntryProblem`]s, never repaired or dropped.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use serde_json::{Map, Value};

use super::server_key::{ServerKey, ServerKeyError};
use crate::secret::Secret;

/// Something wrong with an entry. The entry is kept byte for byte; the problem is only shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryProblem {
    /// The key is the empty string.
    EmptyKey,
    /// The key is not a registry key Docker or Podman can match.
    InvalidKey(ServerKeyError),
    /// The entry is not a JSON object.
    NotAnObject,
    /// A known field holds something other than a string.
    NotAString(&'static str),
    /// `auth` is not base64 at all.
    AuthNotBase64,
    /// `auth` uses the URL-safe alphabet (`-`, `_`), which Docker cannot decode.
    AuthUrlSafe,
    /// `auth` lacks its `=` padding, which Docker cannot decode.
    AuthUnpadded,
    /// The decoded `auth` is not UTF-8 text.
    AuthNotUtf8,
    /// The decoded `auth` has no `:` between user and password.
    AuthNoColon,
    /// The decoded `auth` has an empty user name.
    AuthEmptyUser,
    /// The decoded `auth` contains NUL bytes.
    AuthNulByte,
    /// `auth` and the `username`/`password` fields disagree.
    AuthMismatch,
    /// Another key in the same file names the same registry.
    Duplicate(String),
}

impl fmt::Display for EntryProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyKey => f.write_str("the registry key is empty"),
            Self::InvalidKey(error) => write!(f, "{error}"),
            Self::NotAnObject => f.write_str("the entry is not a JSON object"),
            Self::NotAString(field) => write!(f, "\"{field}\" is not a string"),
            Self::AuthNotBase64 => f.write_str("\"auth\" is not valid base64"),
            Self::AuthUrlSafe => f.write_str("\"auth\" uses the URL-safe base64 alphabet, which Docker cannot read"),
            Self::AuthUnpadded => f.write_str("\"auth\" is missing its base64 padding, which Docker cannot read"),
            Self::AuthNotUtf8 => f.write_str("\"auth\" does not decode to text"),
            Self::AuthNoColon => f.write_str("\"auth\" does not decode to user:password (no colon)"),
            Self::AuthEmptyUser => f.write_str("\"auth\" has an empty user name"),
            Self::AuthNulByte => f.write_str("\"auth\" contains NUL bytes"),
            Self::AuthMismatch => f.write_str("\"auth\" and the username/password fields disagree"),
            Self::Duplicate(other) => write!(f, "the same registry as {other:?} (duplicate spelling)"),
        }
    }
}

/// A decoded view of one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key exactly as in the file.
    pub key: String,
    /// The key parsed and normalized, when it parses.
    pub server: Option<ServerKey>,
    /// The user name, from `auth` or the `username` field.
    pub username: Option<String>,
    /// The password, from `auth` or the `password` field.
    pub password: Option<Secret>,
    /// The `email` field.
    pub email: Option<String>,
    /// An OAuth identity (refresh) token, used instead of a password.
    pub identity_token: Option<Secret>,
    /// A bearer token sent to the registry as is.
    pub(crate) registry_token: Option<Secret>,
    /// What is wrong with the entry, if anything.
    pub problems: Vec<EntryProblem>,
}

impl Entry {
    /// Builds the view of `value` stored under `key`.
    pub(crate) fn from_json(key: &str, value: &Value) -> Self {
        let mut entry = Self {
            key: key.to_owned(),
            server: None,
            username: None,
            password: None,
            email: None,
            identity_token: None,
            registry_token: None,
            problems: Vec::new(),
        };
        match ServerKey::parse(key) {
            Ok(server) => entry.server = Some(server),
            Err(ServerKeyError::Empty) => entry.problems.push(EntryProblem::EmptyKey),
            Err(error) => entry.problems.push(EntryProblem::InvalidKey(error)),
        }
        let Value::Object(fields) = value else {
            entry.problems.push(EntryProblem::NotAnObject);
            return entry;
        };
        let mut text = |name: &'static str| string_field(fields, name, &mut entry.problems);
        let auth = text("auth");
        let username = text("username");
        let password = text("password");
        let email = text("email");
        let identity_token = text("identitytoken");
        let registry_token = text("registrytoken");
        entry.email = email.filter(|e| !e.is_empty());
        entry.identity_token = identity_token.filter(|t| !t.is_empty()).map(Secret::new);
        entry.registry_token = registry_token.filter(|t| !t.is_empty()).map(Secret::new);
        let Some(auth) = auth.filter(|a| !a.is_empty()) else {
            entry.username = username.filter(|u| !u.is_empty());
            entry.password = password.filter(|p| !p.is_empty()).map(Secret::new);
            return entry;
        };
        match decode_auth(&auth) {
            Ok((user, pass)) => {
                let fields_disagree = username.as_ref().is_some_and(|u| !u.is_empty() && *u != user)
                    || password.as_ref().is_some_and(|p| !p.is_empty() && *p != pass.expose());
                if fields_disagree {
                    entry.problems.push(EntryProblem::AuthMismatch);
                }
                entry.username = Some(user);
                entry.password = Some(pass);
            }
            Err(problem) => entry.problems.push(problem),
        }
        entry
    }

    /// Whether the entry carries no credential (a `{}` stub, or email only): its secret lives
    /// in a credential helper, or nowhere.
    pub(crate) fn is_stub(&self) -> bool {
        self.password.is_none()
            && self.identity_token.is_none()
            && self.registry_token.is_none()
            && !self.problems.iter().any(is_auth_problem)
    }

    /// Whether the entry has problems that make Docker unable to use it.
    pub(crate) fn is_broken(&self) -> bool {
        self.problems.iter().any(|p| !matches!(p, EntryProblem::Duplicate(_)))
    }
}

fn is_auth_problem(problem: &EntryProblem) -> bool {
    matches!(
        problem,
        EntryProblem::AuthNotBase64
            | EntryProblem::AuthUrlSafe
            | EntryProblem::AuthUnpadded
            | EntryProblem::AuthNotUtf8
            | EntryProblem::AuthNoColon
            | EntryProblem::AuthEmptyUser
            | EntryProblem::AuthNulByte
            | EntryProblem::NotAString("auth")
    )
}

fn string_field(fields: &Map<String, Value>, name: &'static str, problems: &mut Vec<EntryProblem>) -> Option<String> {
    match fields.get(name)? {
        Value::String(text) => Some(text.clone()),
        Value::Null => None,
        _ => {
            problems.push(EntryProblem::NotAString(name));
            None
        }
    }
}

/// Encodes `user:password` the way Docker does (standard alphabet, padded).
pub fn encode_auth(username: &str, password: &Secret) -> String {
    let mut plain = zeroize::Zeroizing::new(String::with_capacity(username.len() + password.expose().len() + 1));
    plain.push_str(username);
    plain.push(':');
    plain.push_str(password.expose());
    STANDARD.encode(plain.as_bytes())
}

/// Decodes an `auth` value into user and password, naming the problem when it cannot.
pub(crate) fn decode_auth(auth: &str) -> Result<(String, Secret), EntryProblem> {
    let bytes = zeroize::Zeroizing::new(STANDARD.decode(auth).map_err(|_| diagnose_base64(auth))?);
    if bytes.contains(&0) {
        return Err(EntryProblem::AuthNulByte);
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| EntryProblem::AuthNotUtf8)?;
    let Some((user, password)) = text.split_once(':') else {
        return Err(EntryProblem::AuthNoColon);
    };
    if user.is_empty() {
        return Err(EntryProblem::AuthEmptyUser);
    }
    Ok((user.to_owned(), Secret::new(password)))
}

fn diagnose_base64(auth: &str) -> EntryProblem {
    if auth.contains(['-', '_']) {
        EntryProblem::AuthUrlSafe
    } else if STANDARD_NO_PAD.decode(auth).is_ok() {
        EntryProblem::AuthUnpadded
    } else {
        EntryProblem::AuthNotBase64
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Entry, EntryProblem, decode_auth, encode_auth};
    use crate::secret::Secret;

    #[test]
    fn auth_round_trip_keeps_colons_in_the_password() {
        let auth = encode_auth("robot$ci", &Secret::new("pa:ss:wörd"));
        let (user, password) = decode_auth(&auth).unwrap();
        assert_eq!(user, "robot$ci");
        assert_eq!(password.expose(), "pa:ss:wörd");
    }

    #[test]
    fn broken_auth_values_are_named() {
        let cases = [
            ("dXNlcjpw-ss_", EntryProblem::AuthUrlSafe),
            ("dXNlcnBhc3M=", EntryProblem::AuthNoColon),
            ("dXNlcjpwYXM", EntryProblem::AuthUnpadded),
            ("!!!!", EntryProblem::AuthNotBase64),
            ("OnBhc3M=", EntryProblem::AuthEmptyUser),
            ("dXNlcgA6cGFzcw==", EntryProblem::AuthNulByte),
            ("/w==", EntryProblem::AuthNotUtf8),
        ];
        for (auth, problem) in cases {
            let entry = Entry::from_json("r.example.com", &json!({ "auth": auth }));
            assert_eq!(entry.problems, [problem], "{auth}");
            assert!(entry.is_broken());
        }
    }

    #[test]
    fn stubs_tokens_and_fields() {
        assert!(Entry::from_json("r.example.com", &json!({})).is_stub());
        let token = Entry::from_json("r.example.com", &json!({ "auth": "", "identitytoken": "tok" }));
        assert!(!token.is_stub());
        assert!(token.problems.is_empty());
        let plain = Entry::from_json("r.example.com", &json!({ "username": "u", "password": "p" }));
        assert_eq!(plain.username.as_deref(), Some("u"));
        let wrong = Entry::from_json("", &json!({ "auth": 7 }));
        assert_eq!(wrong.problems, [EntryProblem::EmptyKey, EntryProblem::NotAString("auth")]);
        let not_object = Entry::from_json("r.example.com", &json!("x"));
        assert_eq!(not_object.problems, [EntryProblem::NotAnObject]);
    }
}
