//! The [`Secret`] newtype: a password or token that never shows itself by accident.
//!
//! `Debug` and `Display` print `<redacted>`, the bytes are wiped when the value is dropped, and
//! the type implements neither `Serialize` nor `Deserialize`: code that needs the plain text asks
//! for it by name with [`Secret::expose`].

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// A secret string (password, identity token, registry token).
///
/// ```
/// let password = regcred::secret::Secret::new("hunter2");
/// assert_eq!(format!("{password:?} {password}"), "Secret(<redacted>) <redacted>");
/// assert_eq!(password.expose(), "hunter2");
/// ```
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Secret(String);

impl Secret {
    /// Wraps a string as a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The plain text, for the few places that must send or encode it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn debug_and_display_redact() {
        let secret = Secret::new("hunter2-canary");
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert_eq!(format!("{secret}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(Secret(<redacted>))");
        assert_eq!(secret.expose(), "hunter2-canary");
    }
}
