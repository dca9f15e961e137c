//! Reading and writing credential-file JSON the way Docker and Podman do.
//!
//! Docker and Podman write with Go's `json.MarshalIndent(v, "", "\t")`: tab indentation, `": "`
//! after keys, and Go's HTML-safe escaping of `<`, `>`, `&`, U+2028 and U+2029. Writing the same
//! way means a file Docker wrote comes back byte for byte when nothing in it changed.

use serde_json::{Map, Value};

/// Largest credential file regcred will read; real ones are kilobytes.
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;

/// Why bytes are not a credential-file JSON object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonShapeError {
    /// Larger than [`MAX_FILE_BYTES`].
    #[error("the file is too large ({0} bytes; the limit is {MAX_FILE_BYTES})")]
    TooLarge(usize),
    /// Zero bytes.
    #[error("the file is empty")]
    Empty,
    /// Only whitespace (spaces, tabs, line breaks).
    #[error("the file holds no JSON, only whitespace")]
    OnlyWhitespace,
    /// Starts with EF BB BF.
    #[error("the file starts with a UTF-8 byte-order mark, which Docker and Podman cannot read")]
    ByteOrderMark,
    /// Not UTF-8.
    #[error("the file is not valid UTF-8 (first bad byte at offset {0})")]
    NotUtf8(usize),
    /// `serde_json` refused it (syntax, nesting depth, lone surrogates …).
    #[error("invalid JSON: {0}")]
    Syntax(String),
    /// Valid JSON, but not an object at the top.
    #[error("expected a JSON object at the top level, found {0}")]
    NotAnObject(&'static str),
    /// A top-level field Docker and Podman rely on has the wrong type.
    #[error("\"{field}\" must be {expected}, found {found}")]
    Field {
        /// The field's name.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
        /// What it is.
        found: &'static str,
    },
}

/// Checks size, BOM, emptiness and encoding, then parses a top-level JSON object.
pub(super) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonShapeError> {
    let text = check_text(bytes)?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(JsonShapeError::NotAnObject(kind_name(&other))),
        Err(error) => Err(JsonShapeError::Syntax(error.to_string())),
    }
}

/// The checks before JSON parsing, shared with the legacy line format.
pub(super) fn check_text(bytes: &[u8]) -> Result<&str, JsonShapeError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(JsonShapeError::TooLarge(bytes.len()));
    }
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        return Err(JsonShapeError::ByteOrderMark);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| JsonShapeError::NotUtf8(e.valid_up_to()))?;
    if text.is_empty() {
        return Err(JsonShapeError::Empty);
    }
    if text.trim().is_empty() {
        return Err(JsonShapeError::OnlyWhitespace);
    }
    Ok(text)
}

/// A JSON value's kind in words, for error messages.
pub(super) fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Serializes an object as Go's `json.MarshalIndent(v, "", "\t")` would.
pub fn to_go_indented(map: &Map<String, Value>) -> Vec<u8> {
    crate::go_json::to_vec_indented(map, b"\t")
}

#[cfg(test)]
mod tests {
    use super::{JsonShapeError, parse_object, to_go_indented};

    #[test]
    fn writes_like_go_marshal_indent() {
        let input = "{\n\t\"auths\": {\n\t\t\"r.example.com\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t},\n\t\t\"x\": {}\n\t},\n\t\"HttpHeaders\": {\n\t\t\"User-Agent\": \"a \\u003cb\\u003e \\u0026 \\u2028\"\n\t},\n\t\"list\": [\n\t\t1,\n\t\t2.50\n\t],\n\t\"empty\": []\n}";
        let map = parse_object(input.as_bytes()).unwrap();
        assert_eq!(String::from_utf8(to_go_indented(&map)).unwrap(), input);
    }

    #[test]
    fn shapes_are_refused_with_reasons() {
        assert_eq!(parse_object(b""), Err(JsonShapeError::Empty));
        assert_eq!(parse_object(b" \n"), Err(JsonShapeError::OnlyWhitespace));
        assert_eq!(parse_object(b"\xEF\xBB\xBF{}"), Err(JsonShapeError::ByteOrderMark));
        assert_eq!(parse_object(b"{\"a\":\"\xff\"}"), Err(JsonShapeError::NotUtf8(6)));
        assert_eq!(parse_object(b"null"), Err(JsonShapeError::NotAnObject("null")));
        assert_eq!(parse_object(b"[]"), Err(JsonShapeError::NotAnObject("an array")));
        assert!(matches!(parse_object(b"{\"a\":"), Err(JsonShapeError::Syntax(_))));
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(200), "]".repeat(200));
        assert!(matches!(parse_object(deep.as_bytes()), Err(JsonShapeError::Syntax(e)) if e.contains("recursion")));
    }
}
