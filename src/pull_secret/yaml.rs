//! YAML exactly as kubectl prints it.
//!
//! kubectl's `-o yaml` marshals the object to JSON and converts that to YAML with go-yaml
//! (sigs.k8s.io/yaml): mapping keys sorted, two-space indentation, sequences under a key at the
//! key's own indentation, and strings left plain unless they would read back as something
//! else (`yes`, `null`, `0123`, `2024-01-02` → double quotes) or contain characters plain style
//! cannot hold (`: `, ` #`, leading `-`, quotes → single quotes; control characters → double
//! quotes). This module does the same for `serde_json::Value`s built from typed objects.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// Renders a JSON value as a YAML document (block style, sorted keys, trailing newline).
pub(crate) fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        scalar => {
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
    out
}

fn sorted(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut pairs: Vec<_> = map.iter().collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    pairs
}

fn write_map(out: &mut String, map: &Map<String, Value>, indent: usize) {
    for (index, (key, value)) in sorted(map).into_iter().enumerate() {
        // The first key of a map inside a sequence item follows the "- " directly.
        if index > 0 || !out.ends_with("- ") {
            push_indent(out, indent);
        }
        out.push_str(&string_text(key));
        out.push(':');
        write_value_after_key(out, value, indent);
    }
}

fn write_value_after_key(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, indent + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, indent);
        }
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        push_indent(out, indent);
        out.push_str("- ");
        match item {
            Value::Object(map) if !map.is_empty() => write_map(out, map, indent + 2),
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                write_seq(out, inner, indent + 2);
            }
            scalar => {
                out.push_str(&scalar_text(scalar));
                out.push('\n');
            }
        }
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => string_text(text),
        Value::Object(_) => "{}".to_owned(),
        Value::Array(_) => "[]".to_owned(),
    }
}

/// How go-yaml writes a string: plain, 'single-quoted' or "double-quoted".
pub(crate) fn string_text(text: &str) -> String {
    if text.contains('\n') || resolves_to_non_string(text) || needs_double_quotes(text) {
        return double_quoted(text);
    }
    if plain_allowed(text) { text.to_owned() } else { format!("'{}'", text.replace('\'', "''")) }
}

/// Whether go-yaml's resolver would read the unquoted text as a non-string (bool, null,
/// number, timestamp, base-60 float, merge key).
fn resolves_to_non_string(text: &str) -> bool {
    const SPECIAL: [&str; 36] = [
        "", "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE", "n",
        "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE", ".nan", ".NaN", ".NAN", ".inf", ".Inf",
        ".INF", "+.inf", "-.inf", "<<",
    ];
    if SPECIAL.contains(&text) || matches!(text, "+.Inf" | "+.INF" | "-.Inf" | "-.INF") {
        return true;
    }
    let Some(first) = text.bytes().next() else { return true };
    match first {
        b'.' => looks_like_float(text),
        b'0'..=b'9' | b'+' | b'-' => {
            let plain: String = text.chars().filter(|c| *c != '_').collect();
            is_timestamp(text)
                || is_go_int(&plain)
                || looks_like_float(&plain)
                || is_binary_int(&plain)
                || is_base60_float(text)
        }
        _ => false,
    }
}

/// `strconv.ParseInt/ParseUint(s, 0, 64)` syntax: decimal, `0x`, `0o`, `0b`, or leading-0 octal.
fn is_go_int(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    let lower = digits.to_ascii_lowercase();
    let (body, radix) = if let Some(hex) = lower.strip_prefix("0x") {
        (hex, 16)
    } else if let Some(octal) = lower.strip_prefix("0o") {
        (octal, 8)
    } else if let Some(binary) = lower.strip_prefix("0b") {
        (binary, 2)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (&lower[1..], 8)
    } else {
        (lower.as_str(), 10)
    };
    !body.is_empty() && body.chars().all(|c| c.is_digit(radix))
}

fn is_binary_int(text: &str) -> bool {
    let body = text.strip_prefix("-0b").or_else(|| text.strip_prefix("0b"));
    body.is_some_and(|b| !b.is_empty() && b.bytes().all(|c| c == b'0' || c == b'1'))
}

/// go-yaml's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn looks_like_float(text: &str) -> bool {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", fraction)) => all_digits(fraction),
        Some((whole, fraction)) => all_digits(whole) && (fraction.is_empty() || all_digits(fraction)),
        None => all_digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| all_digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(text: &str) -> bool {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (body, _fraction) = match body.split_once('.') {
        Some((b, f)) if f.bytes().all(|c| c.is_ascii_digit() || c == b'_') => (b, Some(f)),
        Some(_) => return false,
        None => (body, None),
    };
    let mut parts = body.split(':');
    let head = parts.next().unwrap_or_default();
    let head_ok = head.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && head.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    let rest: Vec<&str> = parts.collect();
    head_ok
        && !rest.is_empty()
        && rest.iter().all(|p| match p.as_bytes() {
            [d] => d.is_ascii_digit(),
            [a, d] => (b'0'..=b'5').contains(a) && d.is_ascii_digit(),
            _ => false,
        })
}

/// go-yaml tries timestamps for text that starts with `YYYY-`: a date `YYYY-M-D` that Go's
/// `time.Parse` accepts, or such a date followed by a time. Anything with a time part is
/// treated as a timestamp here (quoting too much is harmless; too little is not).
fn is_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() < 5 || !bytes[..4].iter().all(u8::is_ascii_digit) || bytes[4] != b'-' {
        return false;
    }
    let date_end = text.find([' ', 'T', 't']).unwrap_or(text.len());
    let mut fields = text[5..date_end].split('-');
    let (Some(month), Some(day), None) = (fields.next(), fields.next(), fields.next()) else { return false };
    let number = |s: &str| (1..=2).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    if !number(month) || !number(day) {
        return false;
    }
    let year: u32 = text[..4].parse().unwrap_or(0);
    let month: u32 = month.parse().unwrap_or(0);
    let day: u32 = day.parse().unwrap_or(0);
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days_in_month).contains(&day)
}

/// Characters libyaml cannot write inside plain or single-quoted scalars.
fn needs_double_quotes(text: &str) -> bool {
    text.chars().any(|c| !is_printable(c)) || text.starts_with('\u{feff}')
}

/// libyaml's `is_printable` (with unicode output enabled, as go-yaml sets it).
fn is_printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && c != '\u{feff}'
}

/// libyaml's analysis of whether a scalar may be written plain in block context.
fn plain_allowed(text: &str) -> bool {
    if text.starts_with("---") || text.starts_with("...") {
        return false;
    }
    let chars: Vec<char> = text.chars().collect();
    let is_blank_at = |i: usize| chars.get(i).is_none_or(|c| *c == ' ');
    if chars.first() == Some(&' ') || chars.last() == Some(&' ') {
        return false;
    }
    for (index, c) in chars.iter().enumerate() {
        let first = index == 0;
        let blocks = match c {
            '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%' | '@' | '`' if first => {
                true
            }
            '?' | ':' | '-' if first => is_blank_at(index + 1),
            ':' => is_blank_at(index + 1),
            '#' => chars.get(index - 1) == Some(&' '),
            _ => false,
        };
        if blocks {
            return false;
        }
    }
    true
}

fn double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if !is_printable(c) && u32::from(c) <= 0xff => {
                let _ = write!(out, "\\x{:02X}", u32::from(c));
            }
            c if !is_printable(c) => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{string_text, to_yaml};

    #[test]
    fn quotes_like_go_yaml() {
        let cases = [
            ("plain", "plain"),
            ("yes", "\"yes\""),
            ("null", "\"null\""),
            ("", "\"\""),
            ("0123", "\"0123\""),
            ("0128", "\"0128\""),
            ("123", "\"123\""),
            ("1e3", "\"1e3\""),
            ("0x1f", "\"0x1f\""),
            ("1_000", "\"1_000\""),
            ("2024-01-02", "\"2024-01-02\""),
            ("2023-02-30", "2023-02-30"),
            ("1:20", "\"1:20\""),
            ("a: b", "'a: b'"),
            ("a:b", "a:b"),
            ("a #b", "'a #b'"),
            ("a#b", "a#b"),
            ("- x", "'- x'"),
            ("-x", "-x"),
            ("'q'", "'''q'''"),
            ("\"q\"", "'\"q\"'"),
            (" lead", "' lead'"),
            ("tab\there", "\"tab\\there\""),
            ("line\nbreak", "\"line\\nbreak\""),
            ("ünïcödé ✓", "ünïcödé ✓"),
            ("1.5", "\"1.5\""),
            ("1.2.3", "1.2.3"),
            ("e3", "e3"),
        ];
        for (input, expected) in cases {
            assert_eq!(string_text(input), expected, "{input:?}");
        }
    }

    #[test]
    fn layout_matches_kubectl() {
        let pod = json!({"spec": {"containers": [{"name": "c", "command": ["echo", "SUCCESS"]}], "imagePullSecrets": [{"name": "s"}]}, "apiVersion": "v1", "metadata": {"creationTimestamp": null, "labels": {}}});
        assert_eq!(
            to_yaml(&pod),
            "apiVersion: v1\nmetadata:\n  creationTimestamp: null\n  labels: {}\nspec:\n  containers:\n  - command:\n    - echo\n    - SUCCESS\n    name: c\n  imagePullSecrets:\n  - name: s\n"
        );
    }
}
