//! JSON written byte for byte the way Go's `encoding/json` writes it.
//!
//! Docker, Podman and kubectl are Go programs: `json.Marshal` escapes `<`, `>`, `&`, U+2028 and
//! U+2029 as `\u003c`-style sequences, and `json.MarshalIndent` puts `": "` after keys. Matching
//! that lets regcred reproduce their files and their output exactly.

use std::io;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

/// Compact JSON, as `json.Marshal`.
pub(crate) fn to_vec_compact<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    write_with(value, GoFormatter(CompactFormatter))
}

/// Indented JSON, as `json.MarshalIndent(v, "", indent)`.
pub fn to_vec_indented<T: Serialize + ?Sized>(value: &T, indent: &[u8]) -> Vec<u8> {
    write_with(value, GoFormatter(PrettyFormatter::with_indent(indent)))
}

fn write_with<T: Serialize + ?Sized, F: Formatter>(value: &T, formatter: GoFormatter<F>) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Writing JSON values and plain structs into a Vec cannot fail (no I/O, string keys).
    if value.serialize(&mut serializer).is_err() {
        out.clear();
    }
    out
}

/// A formatter that adds Go's HTML-safe escaping to another formatter's layout.
struct GoFormatter<F>(F);

impl<F: Formatter> Formatter for GoFormatter<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        let mut start = 0;
        for (index, ch) in fragment.char_indices() {
            let escape = match ch {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..index])?;
            writer.write_all(escape.as_bytes())?;
            start = index + ch.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_array(writer)
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object(writer)
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_value(writer)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{to_vec_compact, to_vec_indented};

    #[test]
    fn escapes_like_go() {
        let value = json!({"k": "<a> & \u{2028}\u{2029} \"q\" \\ \n\t\u{8}\u{c}\u{1} ü/"});
        assert_eq!(
            String::from_utf8(to_vec_compact(&value)).unwrap(),
            r#"{"k":"\u003ca\u003e \u0026 \u2028\u2029 \"q\" \\ \n\t\b\f\u0001 ü/"}"#
        );
        assert_eq!(
            String::from_utf8(to_vec_indented(&json!({"a": [1]}), b"    ")).unwrap(),
            "{\n    \"a\": [\n        1\n    ]\n}"
        );
    }
}
