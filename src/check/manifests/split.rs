//! Cutting a file into documents and parsing each into a JSON tree, so that one broken document
//! does not hide the others.
//!
//! YAML streams are cut at document markers (`---` or `...` at the start of a line, alone or
//! followed by a space), which YAML forbids inside any scalar, so cutting is safe before parsing.
//! Documents are numbered from 1 the way a YAML parser counts them: every document opened by
//! `---` counts (even if empty), and so does text before the first marker when it holds more
//! than comments. A file whose first character is `{` or `[` is read as a stream of JSON values
//! when it parses as one, and as YAML otherwise (a YAML flow mapping also starts with `{`).
//! YAML is turned into JSON as `sigs.k8s.io/yaml` does for kubectl: `<<` merge keys applied,
//! scalar keys turned into strings, tags dropped.

use serde_json::Value;

use super::ManifestError;

/// One document of a file, parsed or not.
#[derive(Debug)]
pub(crate) struct ParsedDocument {
    /// 1-based document number.
    pub(crate) number: usize,
    /// 1-based line where the document starts (its `---` line, if any).
    pub(crate) line: usize,
    /// The tree, or why there is none. `Ok(None)` for a document with no content.
    pub(crate) value: Result<Option<Value>, ManifestError>,
}

/// Splits and parses a file's text.
pub(crate) fn parse_documents(text: &str) -> Vec<ParsedDocument> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with(['{', '['])
        && let Some(documents) = parse_json_stream(text)
    {
        return documents;
    }
    split_yaml(text)
        .into_iter()
        .map(|segment| {
            let value = if segment.has_content { parse_yaml(segment.text, segment.line).map(Some) } else { Ok(None) };
            ParsedDocument { number: segment.number, line: segment.line, value }
        })
        .collect()
}

/// A stream of JSON values, or `None` when the first one does not parse (then it is YAML).
fn parse_json_stream(text: &str) -> Option<Vec<ParsedDocument>> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let mut documents = Vec::new();
    // Lines are counted from where the last count stopped: counting from the top for every value
    // would make a long stream quadratic.
    let mut lines = LineCounter::default();
    loop {
        let start = stream.byte_offset();
        let line = lines.line_at(text, start + leading_whitespace(&text[start..]));
        match stream.next() {
            None => return Some(documents),
            Some(Ok(value)) => {
                let number = documents.len() + 1;
                documents.push(ParsedDocument { number, line, value: Ok(Some(value)) });
            }
            // Too deep is too deep in YAML too (a YAML parser would take time in the square of the
            // depth to say so).
            Some(Err(error)) if documents.is_empty() && !error.to_string().contains("recursion limit") => return None,
            Some(Err(error)) => {
                let number = documents.len() + 1;
                let value = Err(ManifestError::Json(error.to_string()));
                documents.push(ParsedDocument { number, line, value });
                return Some(documents);
            }
        }
    }
}

fn leading_whitespace(text: &str) -> usize {
    text.len() - text.trim_start().len()
}

/// 1-based line numbers of increasing offsets, each line break counted once.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    breaks: usize,
}

impl LineCounter {
    fn line_at(&mut self, text: &str, offset: usize) -> usize {
        let offset = offset.min(text.len());
        if offset >= self.offset {
            self.breaks += text[self.offset..offset].matches('\n').count();
            self.offset = offset;
        }
        self.breaks + 1
    }
}

/// A YAML document's text, before parsing.
#[derive(Debug, PartialEq, Eq)]
struct Segment<'t> {
    number: usize,
    line: usize,
    text: &'t str,
    has_content: bool,
}

/// Cuts a YAML stream at its document markers.
fn split_yaml(text: &str) -> Vec<Segment<'_>> {
    let mut raw: Vec<(usize, usize, usize, bool)> = Vec::new();
    let (mut start, mut start_line, mut explicit) = (0, 1, false);
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        if let Some(opens) = marker(line) {
            raw.push((start, offset, start_line, explicit));
            (start, start_line, explicit) =
                if opens { (offset + 3, index + 1, true) } else { (offset + line.len(), index + 2, false) };
        }
        offset += line.len();
    }
    raw.push((start, text.len(), start_line, explicit));
    let mut number = 0;
    let mut segments = Vec::new();
    for (start, end, line, explicit) in raw {
        let body = &text[start.min(end)..end];
        let has_content = body.lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        if explicit || has_content {
            number += 1;
            segments.push(Segment { number, line, text: body, has_content });
        }
    }
    segments
}

/// `Some(true)` for a `---` line, `Some(false)` for a `...` line.
fn marker(line: &str) -> Option<bool> {
    let line = line.trim_end_matches(['\n', '\r']);
    let explicit = line.starts_with("---");
    if !explicit && !line.starts_with("...") {
        return None;
    }
    line[3..].chars().next().is_none_or(|c| c == ' ' || c == '\t').then_some(explicit)
}

/// Brackets deeper than this are refused before parsing: the parsers stop at 128 levels anyway,
/// and libyaml takes time in the square of the depth of flow collections (32,000 levels: 40 s).
/// Counted loosely (brackets inside strings too), hence the margin.
const MAX_FLOW_DEPTH: usize = 1_000;

/// Whether `text` opens more than [`MAX_FLOW_DEPTH`] `[`/`{` without closing them.
fn too_deep(text: &str) -> bool {
    let mut depth: usize = 0;
    for byte in text.bytes() {
        match byte {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Parses one YAML document; error positions count from the top of the file.
///
/// The document is parsed on its own and the line numbers of an error are moved afterwards:
/// padding each document with the lines before it would make a file of many documents cost time
/// in the square of its length.
fn parse_yaml(text: &str, line: usize) -> Result<Value, ManifestError> {
    if too_deep(text) {
        return Err(ManifestError::Yaml(format!(
            "recursion limit exceeded: collections nested more than {MAX_FLOW_DEPTH} deep (document at line {line})"
        )));
    }
    let lines_before = line.saturating_sub(1);
    let error = |e: serde_yaml_ng::Error| ManifestError::Yaml(shift_lines(&e.to_string(), lines_before));
    let mut value: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(error)?;
    value.apply_merge().map_err(error)?;
    yaml_to_json(value)
}

/// `message` with every `line N` moved down by `lines_before` (the parser counts from the start
/// of the document; the user counts from the top of the file).
fn shift_lines(message: &str, lines_before: usize) -> String {
    const WORD: &str = "line ";
    let mut out = String::with_capacity(message.len() + 8);
    let mut rest = message;
    while let Some(at) = rest.find(WORD) {
        let (before, after) = rest.split_at(at + WORD.len());
        out.push_str(before);
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        match after[..digits].parse::<usize>() {
            Ok(number) => out.push_str(&(number.saturating_add(lines_before)).to_string()),
            Err(_) => out.push_str(&after[..digits]),
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// The YAML → JSON conversion kubectl applies (`sigs.k8s.io/yaml`).
fn yaml_to_json(value: serde_yaml_ng::Value) -> Result<Value, ManifestError> {
    use serde_yaml_ng::Value as Yaml;
    Ok(match value {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => number_to_json(&n),
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect::<Result<_, _>>()?),
        Yaml::Mapping(mapping) => {
            let mut object = serde_json::Map::with_capacity(mapping.len());
            for (key, value) in mapping {
                object.insert(key_to_string(key)?, yaml_to_json(value)?);
            }
            Value::Object(object)
        }
        Yaml::Tagged(tagged) => yaml_to_json(tagged.value)?,
    })
}

fn number_to_json(n: &serde_yaml_ng::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::from(i)
    } else if let Some(u) = n.as_u64() {
        Value::from(u)
    } else {
        n.as_f64().and_then(serde_json::Number::from_f64).map_or_else(|| Value::String(n.to_string()), Value::Number)
    }
}

fn key_to_string(key: serde_yaml_ng::Value) -> Result<String, ManifestError> {
    use serde_yaml_ng::Value as Yaml;
    match key {
        Yaml::String(s) => Ok(s),
        Yaml::Null => Ok("null".to_owned()),
        Yaml::Bool(b) => Ok(b.to_string()),
        Yaml::Number(n) => Ok(n.to_string()),
        Yaml::Tagged(tagged) => key_to_string(tagged.value),
        Yaml::Sequence(_) | Yaml::Mapping(_) => Err(ManifestError::Yaml("a mapping key is not a scalar".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::{Segment, parse_documents, split_yaml};

    fn numbers_and_lines(text: &str) -> Vec<(usize, usize, bool)> {
        split_yaml(text).into_iter().map(|s: Segment<'_>| (s.number, s.line, s.has_content)).collect()
    }

    #[test]
    fn counts_documents_like_a_yaml_parser() {
        assert_eq!(numbers_and_lines("a: 1\n---\nb: 2\n"), [(1, 1, true), (2, 2, true)]);
        assert_eq!(numbers_and_lines("---\na: 1\n---\n---\nb: 2\n"), [(1, 1, true), (2, 3, false), (3, 4, true)]);
        assert_eq!(numbers_and_lines("# only a comment\n---\nb: 2"), [(1, 2, true)]);
        assert_eq!(numbers_and_lines(""), []);
        assert_eq!(numbers_and_lines("a: 1\n...\n---\nb: 2\n"), [(1, 1, true), (2, 3, true)]);
        assert_eq!(numbers_and_lines("a: '---'\nb: ---x\n"), [(1, 1, true)]);
        assert_eq!(numbers_and_lines("--- {a: 1}\n"), [(1, 1, true)]);
    }

    #[test]
    fn segments_hold_their_own_text() {
        let segments = split_yaml("a: 1\n---\nb: 2\n--- # c\nc: 3");
        let texts: Vec<&str> = segments.iter().map(|s| s.text).collect();
        assert_eq!(texts, ["a: 1\n", "\nb: 2\n", " # c\nc: 3"]);
    }

    #[test]
    fn errors_give_file_lines() {
        let documents = parse_documents("a: 1\n---\nb: [\n---\nc: 3\n");
        assert_eq!(documents.len(), 3);
        let error = documents[1].value.as_ref().unwrap_err().to_string();
        assert!(error.contains("line 4") || error.contains("line 3"), "{error}");
        assert!(documents[2].value.as_ref().is_ok_and(Option::is_some));
    }

    #[test]
    fn json_streams_and_yaml_flow() {
        let documents = parse_documents("{\"a\": 1}\n{\"b\": 2}");
        assert_eq!(documents.iter().map(|d| (d.number, d.line)).collect::<Vec<_>>(), [(1, 1), (2, 2)]);
        let flow = parse_documents("{a: 1}\n---\n{b: 2}\n");
        assert_eq!(flow.len(), 2);
        assert!(flow.iter().all(|d| d.value.as_ref().is_ok_and(Option::is_some)));
        let broken = parse_documents("{\"a\": 1}\n{\"b\": ");
        assert!(broken[1].value.is_err());
    }

    #[test]
    fn yaml_becomes_json_like_kubectl() {
        let documents = parse_documents("base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n1: one\ntrue: yes\n");
        let value = documents[0].value.as_ref().unwrap().as_ref().unwrap();
        assert_eq!(value["derived"], serde_json::json!({"x": 1, "y": 2}));
        assert_eq!(value["1"], "one");
        assert_eq!(value["true"], "yes");
    }
}
