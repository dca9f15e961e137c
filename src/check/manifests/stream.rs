//! A large `List` read item by item, so that its tree is never whole in memory: `kubectl get -o
//! yaml` of a big namespace, or `List`s nested in `List`s, tens of megabytes in one document.
//!
//! The document's text is cut, by its lines' indentation, into parts: each item of a block
//! sequence under an `items:` key, and what remains of each mapping that holds such a sequence
//! (its skeleton, with `items:` given a placeholder value). Each part is parsed by the same parser
//! as a whole document ([`super::split`]), read, and dropped; an item that is itself a `List` is
//! cut again. Nothing about YAML is decided here, only where the cuts go, and every part is
//! checked so that the parts mean exactly what the whole document means:
//! - a cut inside a quoted scalar or a flow collection leaves one part unterminated, and it fails
//!   to parse;
//! - an alias to an anchor in another part fails to parse (unknown anchor);
//! - a skeleton must give its `items` the placeholder, or the `items:` line was not the mapping's
//!   key;
//! - the collections around a part are counted, and a part that would pass the parser's limit of
//!   128 nested collections only inside the whole document is refused.
//!
//! Anything unusual (tabs in indentation, carriage returns, directives, a refused part) gives
//! `None`: the caller parses the whole document, as before, and reads it (or reports its error,
//! with its line) the one way.

use serde_json::{Map, Value};

use super::objects::{is_list, not_a_mapping};
use super::read::{enclosing_items, read_item, read_nested_list};
use super::{DocumentError, DocumentSource, Manifests, split};

/// Documents from this size on are read item by item when they are `List`s (smaller ones are
/// parsed whole: their trees are small).
pub(super) const STREAMED_FROM: usize = 1024 * 1024;

/// The value a skeleton's `items:` is given in place of its sequence.
const PLACEHOLDER: &str = "regcred-items-read-one-by-one";

/// The deepest nesting of collections accepted in parts (the parser refuses more than 128 in a
/// document; parts deeper than this margin are left to the whole document's parse).
const MAX_DEPTH: usize = 100;

/// A mapping with a block sequence under its `items:` key.
#[derive(Debug, PartialEq, Eq)]
struct List {
    /// Where the mapping starts and ends in the document's text.
    start: usize,
    end: usize,
    /// The `-` to blank out when the mapping is an item of a sequence.
    dash: Option<usize>,
    /// The column of its keys.
    column: usize,
    /// Its `items:` line, line break included.
    items_line: (usize, usize),
    /// Where its sequence ends.
    sequence_end: usize,
    /// The items, in order.
    items: Vec<Item>,
}

/// An item of a [`List`]'s sequence: from the start of its `-` line to the next item (or the end
/// of the sequence).
#[derive(Debug, PartialEq, Eq)]
struct Item {
    start: usize,
    dash: usize,
    end: usize,
    /// When the item is a mapping with a sequence of its own under `items:`.
    list: Option<Box<List>>,
}

/// What the scan has open, innermost last.
enum Open {
    Mapping(OpenMapping),
    Sequence { column: usize, items: Vec<Item> },
}

struct OpenMapping {
    /// The column of its keys, once its first key is seen.
    column: Option<usize>,
    /// For an item: where its line starts, its `-`, and the sequence's column.
    item: Option<(usize, usize, usize)>,
    /// Its `items:` line, when found at the key column.
    items_line: Option<(usize, usize)>,
    /// The `items:` line was the last content: a `-` now opens the sequence.
    awaiting: bool,
    /// The sequence under `items:`, once closed: its items and where it ended.
    sequence: Option<(Vec<Item>, usize)>,
}

impl OpenMapping {
    fn new(column: Option<usize>, item: Option<(usize, usize, usize)>) -> Self {
        Self { column, item, items_line: None, awaiting: false, sequence: None }
    }

    /// The mapping as a [`List`], when it has a sequence under `items:`.
    fn into_list(self, start: usize, end: usize) -> Option<List> {
        let (items, sequence_end) = self.sequence?;
        Some(List {
            start,
            end,
            dash: self.item.map(|(_, dash, _)| dash),
            column: self.column?,
            items_line: self.items_line?,
            sequence_end,
            items,
        })
    }
}

/// `-` alone or followed by a space: a block sequence entry.
fn is_entry(rest: &str) -> bool {
    rest == "-" || rest.starts_with("- ")
}

/// `items:` alone, or followed by a comment.
fn is_items_key(rest: &str) -> bool {
    rest.strip_prefix("items:").is_some_and(|after| {
        let after = after.trim_start_matches(' ');
        after.is_empty() || after.starts_with('#')
    })
}

/// The document's `List` structure, found from its lines' indentation; `None` when the document
/// is not a block mapping with a block sequence under its `items:`, or holds anything unusual.
fn scan(text: &str, explicit: bool) -> Option<List> {
    let mut stack = vec![Open::Mapping(OpenMapping::new(None, None))];
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += line.len();
        let body = line.strip_suffix('\n').unwrap_or(line);
        if body.contains('\r') {
            return None;
        }
        let rest = body.trim_start_matches(' ');
        let column = body.len() - rest.len();
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        // Content on the `---` line, a tab in the indentation, a directive: parsed whole.
        if (explicit && index == 0) || rest.starts_with(['\t', '%']) {
            return None;
        }
        place(&mut stack, start, column, rest, offset)?;
    }
    while stack.len() > 1 {
        close(&mut stack, text.len())?;
    }
    match stack.pop()? {
        Open::Mapping(mapping) => mapping.into_list(0, text.len()),
        Open::Sequence { .. } => None,
    }
}

/// Places a content line (`rest` at `column`, the line from `start` to `end`) in the open
/// structure.
fn place(stack: &mut Vec<Open>, start: usize, column: usize, rest: &str, end: usize) -> Option<()> {
    loop {
        match stack.last_mut()? {
            Open::Sequence { column: sequence, .. } => {
                let sequence = *sequence;
                if column == sequence && is_entry(rest) {
                    let after = &rest[1..];
                    let content = after.trim_start_matches(' ');
                    let key_column = (!content.is_empty() && !content.starts_with('#'))
                        .then(|| column + after.len() - content.len() + 1);
                    let item = Some((start, start + column, sequence));
                    stack.push(Open::Mapping(OpenMapping::new(key_column, item)));
                    return Some(());
                }
                if column > sequence {
                    return None;
                }
                close(stack, start)?;
            }
            Open::Mapping(mapping) => {
                if let Some((_, _, sequence)) = mapping.item
                    && column <= sequence
                {
                    close(stack, start)?;
                    continue;
                }
                let keys = *mapping.column.get_or_insert(column);
                if column < keys {
                    return None;
                }
                if mapping.awaiting {
                    mapping.awaiting = false;
                    if is_entry(rest) {
                        stack.push(Open::Sequence { column, items: Vec::new() });
                        continue;
                    }
                }
                if column == keys && mapping.items_line.is_none() && is_items_key(rest) {
                    mapping.items_line = Some((start, end));
                    mapping.awaiting = true;
                }
                return Some(());
            }
        }
    }
}

/// Closes what is innermost at `at`: a sequence (its mapping keeps it) or an item's mapping (its
/// sequence keeps it).
fn close(stack: &mut Vec<Open>, at: usize) -> Option<()> {
    match stack.pop()? {
        Open::Sequence { items, .. } => match stack.last_mut()? {
            Open::Mapping(mapping) => mapping.sequence = Some((items, at)),
            Open::Sequence { .. } => return None,
        },
        Open::Mapping(mapping) => {
            let (start, dash, _) = mapping.item?;
            let list = mapping.into_list(start, at).map(Box::new);
            match stack.last_mut()? {
                Open::Sequence { items, .. } => items.push(Item { start, dash, end: at, list }),
                Open::Mapping(_) => return None,
            }
        }
    }
    Some(())
}

/// A part's text: `start..end` of the document with the `-` at `dash` blanked out (so that the
/// item's node is where it was, alone).
fn item_text(text: &str, start: usize, end: usize, dash: usize) -> String {
    let mut part = String::with_capacity(end - start);
    part.push_str(&text[start..dash]);
    part.push(' ');
    part.push_str(&text[dash + 1..end]);
    part
}

/// A `List`'s mapping without its sequence, `items:` given the placeholder.
fn skeleton_text(text: &str, list: &List) -> String {
    let (line_start, line_end) = list.items_line;
    let mut part = match list.dash {
        Some(dash) => item_text(text, list.start, line_start, dash),
        None => text[list.start..line_start].to_owned(),
    };
    part.push_str(&" ".repeat(list.column));
    part.push_str("items: ");
    part.push_str(PLACEHOLDER);
    part.push('\n');
    // The sequence starts on the line after `items:` (comments and blank lines before its first
    // `-` go with it).
    debug_assert!(line_end <= list.sequence_end);
    part.push_str(&text[list.sequence_end..list.end]);
    part
}

/// A part parsed, inside `around` collections of the document; `None` when it does not parse or
/// would be too deep in the whole document.
fn parse(part: &str, around: usize) -> Option<Value> {
    let (value, depth) = split::parse_yaml_part(part)?;
    (around + depth <= MAX_DEPTH).then_some(value)
}

/// A skeleton parsed: its mapping, when `items` holds the placeholder (the cut was where it
/// should be).
fn skeleton(text: &str, list: &List, around: usize) -> Option<Map<String, Value>> {
    match parse(&skeleton_text(text, list), around)? {
        Value::Object(object) if object.get("items").and_then(Value::as_str) == Some(PLACEHOLDER) => Some(object),
        _ => None,
    }
}

/// A `List` being read: its items, and what they inherit (as [`super::read`]'s frames).
struct Frame<'l> {
    items: std::iter::Enumerate<std::slice::Iter<'l, Item>>,
    item_kind: Option<String>,
    outer_items: std::sync::Arc<[usize]>,
    nesting: usize,
}

impl<'l> Frame<'l> {
    fn new(list: &'l List, object: &Map<String, Value>, outer_items: std::sync::Arc<[usize]>, nesting: usize) -> Self {
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or_default();
        let item_kind = kind.strip_suffix("List").filter(|kind| !kind.is_empty()).map(str::to_owned);
        Self { items: list.items.iter().enumerate(), item_kind, outer_items, nesting }
    }
}

/// Reads a YAML document (`text`, a document of the file at `source`) when it is a `List` in block
/// style, item by item, into manifests of its own; `None` when it is not, or when any part is
/// refused: the caller then parses the whole document.
pub(super) fn read_list(text: &str, explicit: bool, source: &DocumentSource, namespace: &str) -> Option<Manifests> {
    if split::too_deep(text) {
        return None;
    }
    let list = scan(text, explicit)?;
    let object = skeleton(text, &list, 0)?;
    if !is_list(&object) {
        return None;
    }
    let mut manifests = Manifests::default();
    let mut stack = vec![Frame::new(&list, &object, std::sync::Arc::from([]), 0)];
    drop(object);
    while let Some(frame) = stack.last_mut() {
        let Some((index, item)) = frame.items.next() else {
            stack.pop();
            continue;
        };
        // The document's mapping and sequence, then a mapping and a sequence per enclosing List.
        let around = 2 * (frame.nesting + 1);
        let item_source = DocumentSource {
            item: Some(index),
            outer_items: frame.outer_items.clone(),
            nesting: frame.nesting,
            ..source.clone()
        };
        if let Some(inner) = &item.list {
            let object = skeleton(text, inner, around)?;
            if is_list(&object) {
                let outer_items = enclosing_items(&frame.outer_items, index);
                let nesting = frame.nesting + 1;
                stack.push(Frame::new(inner, &object, outer_items, nesting));
                continue;
            }
        }
        let value = parse(&item_text(text, item.start, item.end, item.dash), around)?;
        match &value {
            Value::Object(object) if is_list(object) => {
                read_nested_list(
                    &mut manifests,
                    object,
                    &frame.outer_items,
                    frame.nesting,
                    index,
                    item_source,
                    namespace,
                );
            }
            Value::Object(object) => {
                read_item(&mut manifests, object, frame.item_kind.as_deref(), item_source, namespace);
            }
            Value::Null => {}
            other => manifests.errors.push(DocumentError { source: item_source, error: not_a_mapping(other) }),
        }
    }
    Some(manifests)
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::super::{DocumentError, DocumentSource, Manifests, read, read_documents, split};
    use super::{List, STREAMED_FROM, read_list, scan};

    fn source() -> DocumentSource {
        DocumentSource::document("t.yaml", 1, 1)
    }

    /// The document read whole, as every document was before.
    fn whole(text: &str) -> Manifests {
        let mut manifests = Manifests::default();
        match split::parse_yaml(text, 1) {
            Ok(value) => read::read_object(&mut manifests, &value, source(), "default"),
            Err(error) => manifests.errors.push(DocumentError { source: source(), error }),
        }
        manifests
    }

    /// The document read item by item, which must give what the whole document gives.
    fn streamed(text: &str) -> Option<Manifests> {
        let read = read_list(text, false, &source(), "default")?;
        assert_eq!(read, whole(text), "{text}");
        Some(read)
    }

    fn pod(name: &str, indent: &str) -> String {
        format!(
            "{indent}- apiVersion: v1\n{indent}  kind: Pod\n{indent}  metadata: {{name: {name}}}\n{indent}  spec:\n{indent}    containers:\n{indent}    - {{name: app, image: 'registry.example.com/{name}:1'}}\n"
        )
    }

    #[test]
    fn the_fixtures_read_item_by_item_as_whole() {
        fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    files(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let mut paths = Vec::new();
        files(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/manifests"), &mut paths);
        let mut lists = 0;
        for path in paths {
            let text = std::fs::read_to_string(&path).unwrap();
            split::documents(&text, |document| {
                if let split::Body::Yaml(text) = document.body {
                    lists += usize::from(streamed(text).is_some());
                }
            });
        }
        assert!(lists >= 1, "no fixture was read item by item");
    }

    #[test]
    fn tricky_lists_read_item_by_item_as_whole() {
        let kubectl = "apiVersion: v1\nitems:\n".to_owned()
            + &pod("a", "")
            + &pod("b", "")
            + "kind: List\nmetadata:\n  resourceVersion: \"\"\n";
        let typed = "kind: PodList\nitems:\n- metadata: {name: implied}\n  spec: {containers: [{name: c, image: x}]}\n-\n- 3\n- [1, 2]\n- kind: Pod\n  metadata: {name: broken}\n  spec: {containers: [{name: c}]}\n";
        let scalars = r#"kind: List
items:
# a comment between items
- apiVersion: "v1"
  kind: !!str Pod
  metadata:
    name: &n "007"
    labels: {1: one, true: yes, null: nothing, 1.5: x}
    annotations:
      quoted: '123'
      plain: 0x1F
      literal: |
        - not an item
        items:
      folded: >-
        folded
        text
  base: &base {image: 'reg.example.com/app:1', imagePullPolicy: Never}
  spec:
    containers:
    - <<: *base
      name: *n
    - !custom {name: tagged, image: "reg.example.com/app:2"}
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: builder}, imagePullSecrets: [{name: regcred}]}
"#;
        let mut nested = String::from("kind: List\nitems:\n");
        for depth in 0..12 {
            let indent = "  ".repeat(depth);
            let _ = write!(nested, "{indent}- kind: List\n{indent}  items:\n");
            nested.push_str(&pod(&format!("p{depth}"), &"  ".repeat(depth + 1)));
        }
        nested.push_str(&pod("last", "  "));
        nested.push_str(
            "- kind: List\n  items: [{kind: Pod, metadata: {name: flow}, spec: {containers: [{name: c, image: x}]}}]\n",
        );
        nested.push_str("- kind: List\n  items:\n  - 1\n  metadata: {}\n");
        nested.push_str("- kind: NotAList\n  items:\n  - 1\n");
        for text in [kubectl.as_str(), typed, scalars, &nested] {
            let read = streamed(text).unwrap_or_else(|| panic!("not read item by item: {text}"));
            assert!(!read.workloads.is_empty() || !read.service_accounts.is_empty(), "{text}");
        }
        let read = streamed(&nested).unwrap();
        let deepest = read.workloads.iter().find(|w| w.name == "p11").unwrap();
        assert_eq!(
            deepest.source.to_string(),
            "t.yaml: document 1 (line 1), items[0].items[1].items[1].items[1].items[1].items[1].items[1].items[1].…(4 more Lists).items[0]"
        );
        assert!(read.errors.iter().any(|e| e.source.to_string().ends_with("items[2].items[0]")), "{:?}", read.errors);
        let typed = streamed(typed).unwrap();
        assert_eq!(typed.workloads[0].name, "implied");
        assert_eq!(typed.errors.len(), 3, "{:?}", typed.errors);
    }

    #[test]
    fn what_cannot_be_cut_safely_is_read_whole() {
        let deep = {
            let mut text = String::from("kind: List\nitems:\n");
            for depth in 0..60 {
                let indent = "  ".repeat(depth);
                let _ = write!(text, "{indent}- kind: List\n{indent}  items:\n");
            }
            text + &"  ".repeat(60) + "- 1\n"
        };
        for text in [
            // An alias to another item's anchor.
            "kind: List\nitems:\n- &a {kind: Pod}\n- *a\n",
            // An anchor of an item used after the sequence.
            "kind: List\nitems:\n- &a {kind: Pod}\nother: *a\n",
            // A quoted scalar over lines less indented than the items.
            "kind: List\nitems:\n- a: \"x\n- y\"\n",
            // Broken YAML in an item, and `items` twice.
            "kind: List\nitems:\n- {a: [\n- b\n",
            "kind: List\nitems:\n- a\nitems:\n- b\n",
            // Not a List, and nested deeper than the margin below the parser's limit.
            "kind: Thing\nitems:\n- a\n",
            &deep,
        ] {
            assert!(read_list(text, false, &source(), "default").is_none(), "{text}");
        }
        let error = whole("kind: List\nitems:\n- {a: [\n- b\n").errors.remove(0).error.to_string();
        assert!(error.contains("line"), "{error}");
    }

    #[test]
    fn a_large_list_is_read_item_by_item_as_a_document_of_a_file() {
        let mut text = String::from("# Source: list\napiVersion: v1\nitems:\n- kind: List\n  items:\n");
        let mut n = 0;
        while text.len() <= STREAMED_FROM {
            text.push_str(&pod(&format!("pod-{n}"), "  "));
            n += 1;
        }
        text.push_str("kind: List\n");
        let streamed = read_documents("t.yaml", &text, "default");
        assert_eq!(streamed.workloads.len(), n);
        assert_eq!(streamed, whole(&text));
        // The same with a broken item at the end: the document's error, with its line.
        let broken = text.clone() + "bad: [\n";
        let read = read_documents("t.yaml", &broken, "default");
        assert!(read.workloads.is_empty());
        assert_eq!(read, whole(&broken));
    }

    /// The items' texts of the document's `List`, and for each the texts of its own items.
    fn cuts(text: &str) -> Option<Vec<(String, Vec<String>)>> {
        let list: List = scan(text, false)?;
        Some(
            list.items
                .iter()
                .map(|item| {
                    let inner = item.list.as_ref().map_or_else(Vec::new, |inner| {
                        inner.items.iter().map(|i| text[i.start..i.end].to_owned()).collect()
                    });
                    (text[item.start..item.end].to_owned(), inner)
                })
                .collect(),
        )
    }

    #[test]
    fn cuts_block_sequences_under_items() {
        let text = "apiVersion: v1\nitems:\n- a: 1\n  b: 2\n# between\n- c\nkind: List\n";
        let found = cuts(text).unwrap();
        assert_eq!(found, [("- a: 1\n  b: 2\n# between\n".to_owned(), vec![]), ("- c\n".to_owned(), vec![])]);
        let indented = "items:\n  - kind: List\n    items:\n    - x: 1\n    - y\n    metadata: {}\n  - z\nkind: List\n";
        let found = cuts(indented).unwrap();
        assert_eq!(found[0].1, ["    - x: 1\n", "    - y\n"]);
        assert_eq!(found[1].0, "  - z\n");
    }

    #[test]
    fn leaves_the_rest_whole() {
        for text in [
            "kind: List\nitems: [a, b]\n",
            "kind: List\nitems:\n  a: 1\n",
            "\t- a\n",
            "kind: List\nitems:\n\t- a\n",
            "kind: List\r\nitems:\r\n- a\r\n",
            "a: 1\n",
            "- a\n- b\n",
        ] {
            assert!(scan(text, false).is_none(), "{text:?}");
        }
        // The first line of a document opened by `---` is what follows the marker.
        assert!(scan(" kind: List\nitems:\n- a\n", true).is_none());
        assert!(scan(" # c\nkind: List\nitems:\n- a\n", true).is_some());
    }
}
