//! The oldest `~/.dockercfg` form: two lines, `auth = <base64>` and `email = <address>`, for
//! Docker Hub only. regcred reads it into the JSON map form, which is what it writes back.

use serde_json::{Map, Value};

use crate::image_ref::DOCKER_HUB_AUTH_KEY;

/// Parses the two-line form into `{"https://index.docker.io/v1/": {"auth", "email"}}`, or `None`
/// when the text is not in that form.
pub(super) fn parse_lines(text: &str) -> Option<Map<String, Value>> {
    let mut lines = text.lines();
    let auth = lines.next()?.strip_prefix("auth = ")?;
    let email_line = lines.next().unwrap_or_default();
    let email = email_line.strip_prefix("email = ").or_else(|| email_line.is_empty().then_some(""))?;
    if lines.any(|line| !line.trim().is_empty()) {
        return None;
    }
    let mut entry = Map::new();
    entry.insert("auth".to_owned(), Value::String(auth.trim_end_matches('\r').to_owned()));
    entry.insert("email".to_owned(), Value::String(email.trim_end_matches('\r').to_owned()));
    let mut map = Map::new();
    map.insert(DOCKER_HUB_AUTH_KEY.to_owned(), Value::Object(entry));
    Some(map)
}

#[cfg(test)]
mod tests {
    use super::parse_lines;

    #[test]
    fn reads_the_two_line_form() {
        let map = parse_lines("auth = dXNlcjpwYXNz\nemail = me@example.com\n").unwrap();
        let entry = &map["https://index.docker.io/v1/"];
        assert_eq!(entry["auth"], "dXNlcjpwYXNz");
        assert_eq!(entry["email"], "me@example.com");
        assert!(parse_lines("auth=x\n").is_none());
        assert!(parse_lines("{}").is_none());
        assert!(parse_lines("auth = x\nemail = y\nextra\n").is_none());
    }
}
