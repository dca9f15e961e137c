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

/// One document of a file, before or after parsing.
#[derive(Debug)]
pub(crate) struct Document<'t> {
    /// 1-based document number.
    pub(crate) number: usize,
    /// 1-based line where the document starts (its `---` line, if any).
    pub(crate) line: usize,
    /// Whether it opens with `---` (its text then starts after the marker, on the marker's line).
    pub(crate) explicit: bool,
    /// Its text or its tree.
    pub(crate) body: Body<'t>,
}

/// What a document holds.
#[derive(Debug)]
pub(crate) enum Body<'t> {
    /// No content (only comments or blank lines).
    Empty,
    /// A YAML document's text, not parsed yet (see [`parse_yaml`]).
    Yaml(&'t str),
    /// A JSON value, or why there is none.
    Parsed(Result<Value, ManifestError>),
}

/// Splits a file's text and hands each document to `each`, one at a time: a document's tree is
/// made by the caller and dropped before the next one's.
pub(crate) fn documents<'t>(text: &'t str, each: impl FnMut(Document<'t>)) {
    documents_after_bom(text.strip_prefix('\u{feff}').unwrap_or(text), each);
}

/// [`documents`] of a text whose byte-order mark is already removed.
fn documents_after_bom<'t>(text: &'t str, mut each: impl FnMut(Document<'t>)) {
    if text.trim_start().starts_with(['{', '[']) && json_stream(text, &mut each) {
        return;
    }
    let mut cuts = Cuts::default();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        offset += line.len();
        if let Some(raw) = cuts.line(line) {
            yaml_document(&mut cuts, raw, &text[raw.start.min(raw.end)..raw.end], &mut each);
        }
    }
    let raw = cuts.finish();
    yaml_document(&mut cuts, raw, &text[raw.start.min(raw.end)..raw.end], &mut each);
    debug_assert_eq!(offset, text.len());
}

/// Reads a file's documents as its lines arrive, so that a file of many documents is never held
/// whole: only the document being read is. Hands each to `each` as [`documents`] does. A file
/// read as JSON (its first character `{` or `[`) is read whole first.
///
/// # Errors
///
/// When reading fails; `InvalidData` when the text is not UTF-8 (every document read before is
/// then to be discarded, as a file that is not text is not read at all).
pub(crate) fn documents_from_reader(
    mut reader: impl std::io::BufRead,
    mut each: impl FnMut(Document<'_>),
) -> std::io::Result<()> {
    let mut buffer = String::new();
    // The file's offset of the buffer's first byte.
    let mut base = 0;
    let mut cuts = Cuts::default();
    let mut first = true;
    let mut content_seen = false;
    loop {
        let before = buffer.len();
        if reader.read_line(&mut buffer)? == 0 {
            break;
        }
        if first {
            first = false;
            if buffer.starts_with('\u{feff}') {
                buffer.drain(..'\u{feff}'.len_utf8());
            }
        }
        let line = &buffer[before..];
        if !content_seen && !line.trim().is_empty() {
            content_seen = true;
            if line.trim_start().starts_with(['{', '[']) {
                reader.read_to_string(&mut buffer)?;
                documents_after_bom(&buffer, each);
                return Ok(());
            }
        }
        if let Some(raw) = cuts.line(line) {
            yaml_document(&mut cuts, raw, &buffer[(raw.start - base).min(raw.end - base)..raw.end - base], &mut each);
            // Keep only what the next document may start with (the rest of a `---` line).
            let keep = cuts.start.min(base + buffer.len());
            buffer.drain(..keep - base);
            base = keep;
        }
    }
    let raw = cuts.finish();
    let start = raw.start.max(base).min(raw.end);
    yaml_document(&mut cuts, raw, &buffer[start - base..raw.end - base], &mut each);
    Ok(())
}

/// One cut of a YAML stream, numbered when it counts as a document, handed on.
fn yaml_document<'t>(cuts: &mut Cuts, raw: Raw, body: &'t str, each: &mut impl FnMut(Document<'t>)) {
    let has_content = body.lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    if raw.explicit || has_content {
        cuts.number += 1;
        let body = if has_content { Body::Yaml(body) } else { Body::Empty };
        each(Document { number: cuts.number, line: raw.line, explicit: raw.explicit, body });
    }
}

/// A stream of JSON values handed to `each`; `false` (and nothing handed) when the first one
/// does not parse (then it is YAML).
fn json_stream<'t>(text: &str, each: &mut impl FnMut(Document<'t>)) -> bool {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let mut number = 0;
    // Lines are counted from where the last count stopped: counting from the top for every value
    // would make a long stream quadratic.
    let mut lines = LineCounter::default();
    loop {
        let start = stream.byte_offset();
        let line = lines.line_at(text, start + leading_whitespace(&text[start..]));
        match stream.next() {
            None => return true,
            Some(Ok(value)) => {
                number += 1;
                each(Document { number, line, explicit: false, body: Body::Parsed(Ok(value)) });
            }
            // Too deep is too deep in YAML too (a YAML parser would take time in the square of the
            // depth to say so).
            Some(Err(error)) if number == 0 && !error.to_string().contains("recursion limit") => return false,
            Some(Err(error)) => {
                number += 1;
                each(Document {
                    number,
                    line,
                    explicit: false,
                    body: Body::Parsed(Err(ManifestError::Json(error.to_string()))),
                });
                return true;
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

/// Where a YAML stream is cut, found line by line: the document markers (see the module's
/// documentation), with the offsets of the text between them.
#[derive(Debug)]
struct Cuts {
    /// Where the current cut starts (just after its `---`, or after a `...` line).
    start: usize,
    /// Its 1-based line.
    start_line: usize,
    /// Whether it was opened by `---`.
    explicit: bool,
    /// The offset of the next line.
    offset: usize,
    /// The 0-based index of the next line.
    index: usize,
    /// Documents counted so far.
    number: usize,
}

impl Default for Cuts {
    fn default() -> Self {
        Self { start: 0, start_line: 1, explicit: false, offset: 0, index: 0, number: 0 }
    }
}

/// The text between two markers: `start..end` of the stream, on 1-based `line`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Raw {
    start: usize,
    end: usize,
    line: usize,
    explicit: bool,
}

impl Cuts {
    /// The next line (with its line break); the cut it closes, when it is a marker.
    fn line(&mut self, line: &str) -> Option<Raw> {
        let offset = self.offset;
        let index = self.index;
        self.offset += line.len();
        self.index += 1;
        let opens = marker(line)?;
        let raw = Raw { start: self.start, end: offset, line: self.start_line, explicit: self.explicit };
        (self.start, self.start_line, self.explicit) =
            if opens { (offset + 3, index + 1, true) } else { (offset + line.len(), index + 2, false) };
        Some(raw)
    }

    /// The last cut, at the end of the stream.
    fn finish(&self) -> Raw {
        Raw { start: self.start, end: self.offset, line: self.start_line, explicit: self.explicit }
    }
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
pub(super) fn too_deep(text: &str) -> bool {
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
pub(super) fn parse_yaml(text: &str, line: usize) -> Result<Value, ManifestError> {
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

/// A part of a document (see [`super::stream`]) parsed as [`parse_yaml`] parses a document: its
/// tree, and how deeply its collections nest as the parser counts them (tags counted too, to be
/// safe); `None` when it does not parse.
pub(super) fn parse_yaml_part(text: &str) -> Option<(Value, usize)> {
    let mut value: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).ok()?;
    let depth = yaml_depth(&value);
    value.apply_merge().ok()?;
    Some((yaml_to_json(value).ok()?, depth))
}

/// How many collections (and tags) nest in `value`, at the deepest.
fn yaml_depth(value: &serde_yaml_ng::Value) -> usize {
    use serde_yaml_ng::Value as Yaml;
    match value {
        Yaml::Sequence(items) => 1 + items.iter().map(yaml_depth).max().unwrap_or(0),
        Yaml::Mapping(mapping) => {
            1 + mapping.iter().map(|(key, value)| yaml_depth(key).max(yaml_depth(value))).max().unwrap_or(0)
        }
        Yaml::Tagged(tagged) => 1 + yaml_depth(&tagged.value),
        Yaml::Null | Yaml::Bool(_) | Yaml::Number(_) | Yaml::String(_) => 0,
    }
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
    use super::{Body, Document, documents, documents_from_reader, parse_yaml};

    /// Number, line and the text (none: empty) of each document, read from the text and from a
    /// reader line by line (which must agree).
    fn cut(text: &str) -> Vec<(usize, usize, Option<String>)> {
        fn row(document: Document<'_>) -> (usize, usize, Option<String>) {
            let text = match document.body {
                Body::Empty => None,
                Body::Yaml(text) => Some(text.to_owned()),
                Body::Parsed(value) => Some(format!("{value:?}")),
            };
            (document.number, document.line, text)
        }
        let mut whole = Vec::new();
        documents(text, |document| whole.push(row(document)));
        let mut streamed = Vec::new();
        documents_from_reader(std::io::BufReader::with_capacity(4, text.as_bytes()), |document| {
            streamed.push(row(document));
        })
        .unwrap();
        assert_eq!(whole, streamed, "{text:?}");
        whole
    }

    fn numbers_and_lines(text: &str) -> Vec<(usize, usize, bool)> {
        cut(text).into_iter().map(|(number, line, text)| (number, line, text.is_some())).collect()
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
        assert_eq!(numbers_and_lines("---"), [(1, 1, false)]);
        assert_eq!(numbers_and_lines("\u{feff}a: 1\n---\n"), [(1, 1, true), (2, 2, false)]);
    }

    #[test]
    fn documents_hold_their_own_text() {
        let texts: Vec<Option<String>> = cut("a: 1\n---\nb: 2\n--- # c\nc: 3").into_iter().map(|(_, _, t)| t).collect();
        assert_eq!(texts, [Some("a: 1\n".to_owned()), Some("\nb: 2\n".to_owned()), Some(" # c\nc: 3".to_owned())]);
    }

    #[test]
    fn a_reader_reads_json_whole_and_refuses_what_is_not_utf8() {
        assert_eq!(cut("\n  {\"a\": 1}\n{\"b\": 2}").len(), 2);
        assert_eq!(cut("\u{feff}[1]").len(), 1);
        let error = documents_from_reader(&b"a: 1\n---\nb: \xff\n"[..], |_| {}).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    }

    #[test]
    fn errors_give_file_lines() {
        let mut results = Vec::new();
        documents("a: 1\n---\nb: [\n---\nc: 3\n", |document| {
            let Body::Yaml(text) = document.body else { panic!("not YAML") };
            results.push(parse_yaml(text, document.line));
        });
        assert_eq!(results.len(), 3);
        let error = results[1].as_ref().unwrap_err().to_string();
        assert!(error.contains("line 4") || error.contains("line 3"), "{error}");
        assert!(results[2].is_ok());
    }

    #[test]
    fn json_streams_and_yaml_flow() {
        let json = cut("{\"a\": 1}\n{\"b\": 2}");
        assert_eq!(json.iter().map(|d| (d.0, d.1)).collect::<Vec<_>>(), [(1, 1), (2, 2)]);
        let mut flow = Vec::new();
        documents("{a: 1}\n---\n{b: 2}\n", |document| {
            let Body::Yaml(text) = document.body else { panic!("not YAML") };
            flow.push(parse_yaml(text, document.line));
        });
        assert_eq!(flow.len(), 2);
        assert!(flow.iter().all(Result::is_ok));
        let mut broken = Vec::new();
        documents("{\"a\": 1}\n{\"b\": ", |document| broken.push(document.body));
        assert!(matches!(broken[1], Body::Parsed(Err(_))));
    }

    #[test]
    fn yaml_becomes_json_like_kubectl() {
        let value = parse_yaml("base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n1: one\ntrue: yes\n", 1).unwrap();
        assert_eq!(value["derived"], serde_json::json!({"x": 1, "y": 2}));
        assert_eq!(value["1"], "one");
        assert_eq!(value["true"], "yes");
    }
}
