//! Saving an edited credential file by patching its text, so only the edited bytes change.
//!
//! regcred parses `~/.docker/config.json`, `~/.dockercfg` or Podman's `auth.json` into a
//! [`Map`], edits the map, and saves. This module owns the text side of that save: [`patch`]
//! rewrites the file as it was loaded so that it represents the edited map, keeping every byte
//! that does not belong to an edit — indentation, inline objects, blank lines, spacing around
//! `:`, CRLF line ends, leading whitespace, the final newline or its absence, key order, and
//! the exact text of untouched strings and numbers. [`write_fresh`] is the style of a new file.
//!
//! How an edit is written:
//! - An unchanged member keeps its text (whitespace before it, key, separator, value).
//! - A changed scalar is written compact with Go's escaping; a changed object is patched member
//!   by member; a changed array, or a value whose type changed, is written afresh.
//! - A removed member takes its text, one comma and the whitespace before it along.
//! - A new member copies the whitespace before the member it is inserted in front of, or before
//!   the last member when appended; it uses the separator of the last member (`": "`, `" : "`,
//!   `":"`). A new object value copies the shape of a sibling's object value (inline or one
//!   member a line, inner spacing), level by level.
//! - Into an empty object `{}`: one member a line (newline, the indentation of the `{` line plus
//!   the file's indent unit, closing on a new line at the `{` line's indentation) where the
//!   surroundings are multi-line, otherwise inline with no padding (`{"k": v}`). Into `{ }` (any
//!   whitespace without a line break) inline with that padding kept on both sides; into an empty
//!   object with a line break inside, one member a line with the original inside kept before `}`.
//! - An object left with no members becomes `{}` when what stood before its `}` was exactly a
//!   line break plus the indentation of its `{` line, and keeps that whitespace otherwise.
//! - A key that disappears while a new key holds an equal value is a rename: the member keeps its
//!   text and only the key's bytes change.
//!
//! Adding a member and removing it again gives back the original bytes, with one exception: an
//! empty object written as a line break plus the indentation of its `{` line (`{\n}` at the top,
//! `"auths": {\n\t}` in a tab-indented file) comes back as `{}`, because adding into `{}` in a
//! multi-line file writes exactly that whitespace before the `}`.
//!
//! Members follow `new`'s order. When old members are reordered, each position keeps its
//! surrounding whitespace and the members' texts move, so the layout stays as it was.
//!
//! Text is scanned lazily: only the objects on the path of an edit are split into members.
//! Old and new keys are matched by walking both in step, with a hash map only where they
//! diverge, so a patch is linear in the size of the file.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::go_json;

mod scan;
#[cfg(test)]
mod tests;
mod write;

/// Deepest nesting followed when patching or writing; deeper input is refused (`None`).
const MAX_DEPTH: usize = 512;
/// How far [`Doc::line_indent`] looks back for a line start before using its table.
const LOOK_BACK: usize = 512;
/// How many levels of a sibling's nested objects are copied as the shape of new objects.
const MAX_CHAIN: usize = 8;

/// Rewrites `original` (the text `old` was parsed from) so that it represents `new`, changing only
/// the bytes of what differs. `None` when `original` cannot be patched (not a JSON object; an object
/// on the path of an edit has duplicate keys) — the caller then serializes `new` afresh.
#[must_use]
pub(super) fn patch(original: &str, old: &Map<String, Value>, new: &Map<String, Value>) -> Option<String> {
    let doc = Doc::new(original);
    let start = doc.skip_ws(0);
    let root = doc.object_at(start)?;
    let tail = doc.slice(root.close + 1, original.len())?;
    if !tail.bytes().all(is_ws) {
        return None;
    }
    if same_map(old, new) {
        return Some(original.to_owned());
    }
    let mut out = String::with_capacity(original.len() + 256);
    out.push_str(doc.slice(0, start)?);
    doc.patch_object(&mut out, &root, old, new, None, 0)?;
    out.push_str(tail);
    Some(out)
}

/// The style a brand-new file is written in (Docker's: tabs, `": "`, LF, no final newline).
#[must_use]
pub(super) fn write_fresh(new: &Map<String, Value>) -> String {
    String::from_utf8(go_json::to_vec_indented(new, b"\t")).unwrap_or_default()
}

/// Whether two values are equal including the order of keys in every object.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => same_map(x, y),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        _ => a == b,
    }
}

/// Map equality that also requires the same key order (`Map`'s `==` ignores order).
fn same_map(x: &Map<String, Value>, y: &Map<String, Value>) -> bool {
    x.len() == y.len() && x.iter().zip(y).all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
}

/// JSON's insignificant whitespace.
fn is_ws(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// A non-empty object or array: the values whose layout depends on the file's style.
fn is_container(value: &Value) -> bool {
    match value {
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => false,
    }
}

/// Appends `value` as compact JSON with Go's escaping.
fn push_compact<T: Serialize + ?Sized>(out: &mut String, value: &T) {
    out.push_str(&String::from_utf8_lossy(&go_json::to_vec_compact(value)));
}

/// The spaces and tabs a line starts with.
fn indent_of(line: &str) -> &str {
    let len = line.bytes().take_while(|b| matches!(b, b' ' | b'\t')).count();
    line.get(..len).unwrap_or("")
}

/// Whitespace up to and including its last line break, if it has one.
fn line_breaks(ws: &str) -> Option<&str> {
    ws.rfind('\n').and_then(|at| ws.get(..=at))
}

/// Whitespace after its last line break (all of it when there is none).
fn after_break(ws: &str) -> &str {
    ws.rfind('\n').and_then(|at| ws.get(at + 1..)).unwrap_or(ws)
}

/// The first shape of a chain and the chain for one level deeper (the last shape repeats).
fn split_chain(chain: &[Shape]) -> Option<(&Shape, &[Shape])> {
    let (first, rest) = chain.split_first()?;
    Some((first, if rest.is_empty() { chain } else { rest }))
}

/// An object's members as byte offsets into the text.
struct Obj<'a> {
    /// Offset of `{`.
    open: usize,
    /// Offset of `}`.
    close: usize,
    /// Members in text order.
    members: Vec<Member<'a>>,
}

/// One `"key": value` of an object, as offsets: `lead` (whitespace before the key) .. `key` ..
/// `key_end` (separator) `value` .. `value_end` (trail) `trail_end` (the `,` or `}` after it).
struct Member<'a> {
    lead: usize,
    key: usize,
    key_end: usize,
    value: usize,
    value_end: usize,
    trail_end: usize,
    /// The decoded key.
    name: Cow<'a, str>,
}

/// How new objects (and arrays) are laid out, copied from an object in the file.
#[derive(Clone, Debug)]
struct Shape {
    /// One member a line.
    multiline: bool,
    /// Inline: whitespace after `{`. Multi-line: the line break(s) before the first member.
    open: String,
    /// Inline: whitespace after each comma. Multi-line: the line break(s) before later members.
    between: String,
    /// Inline: whitespace before `}` (multi-line objects close on a new line).
    close: String,
    /// Multi-line: indentation added per level.
    step: String,
    /// Between a key and its value.
    sep: String,
}

/// An old member written into the patched object: its index, the index of the old member whose
/// surrounding whitespace it takes (its own unless members were reordered), and whether it is
/// the last member written.
#[derive(Clone, Copy)]
struct Place {
    old: usize,
    slot: usize,
    last: bool,
}

/// Where a member of the patched object comes from.
#[derive(Clone, Copy)]
enum Source {
    /// The old member with this index (kept, changed or renamed).
    Old(usize),
    /// Written afresh.
    Fresh,
}

/// The object being patched, with what its members are written from.
struct Scope<'s, 'a> {
    obj: &'s Obj<'a>,
    /// The old values, by member index.
    old: Vec<&'s Value>,
    /// The layout of this object itself (from its members, or its surroundings when empty).
    own: Shape,
    /// The shapes for new values inside this object, level by level (computed when needed).
    kids: OnceCell<Vec<Shape>>,
    depth: usize,
}

/// The original text with lazily computed facts about its style.
struct Doc<'a> {
    text: &'a str,
    bytes: &'a [u8],
    newline: OnceCell<&'static str>,
    unit: OnceCell<String>,
    line_starts: OnceCell<Vec<usize>>,
}

/// For each member of `new`, the old member it is written from, if any. `None` when the text's
/// members are not exactly `old`'s keys in order (duplicate keys in the text, or text and map
/// disagree). Keys are matched by walking both in step, hashing only where they diverge.
fn plan(obj: &Obj<'_>, old: &Map<String, Value>, new: &Map<String, Value>) -> Option<Vec<Source>> {
    let members = &obj.members;
    if members.len() != old.len() || !members.iter().zip(old.keys()).all(|(m, key)| m.name == key.as_str()) {
        return None;
    }
    let mut index: Option<HashMap<&str, usize>> = None;
    let mut used = vec![false; members.len()];
    let mut next = 0;
    let mut sources = Vec::with_capacity(new.len());
    for key in new.keys() {
        let found = if members.get(next).is_some_and(|m| m.name == key.as_str()) {
            Some(next)
        } else {
            let index =
                index.get_or_insert_with(|| members.iter().enumerate().map(|(i, m)| (m.name.as_ref(), i)).collect());
            index.get(key.as_str()).copied()
        };
        sources.push(found.map_or(Source::Fresh, Source::Old));
        if let Some(i) = found {
            next = i + 1;
            if let Some(flag) = used.get_mut(i) {
                *flag = true;
            }
        }
    }
    match_renames(&mut sources, old, new, &used);
    Some(sources)
}

/// Turns new members into renames of removed ones holding an equal value (key order included),
/// each matched to the first such removed member.
fn match_renames(sources: &mut [Source], old: &Map<String, Value>, new: &Map<String, Value>, used: &[bool]) {
    if used.iter().all(|&u| u) || !sources.iter().any(|s| matches!(s, Source::Fresh)) {
        return;
    }
    let mut removed: HashMap<Vec<u8>, Vec<usize>> = HashMap::new();
    let unused = old.values().zip(used).enumerate().filter(|(_, (_, used))| !**used);
    for (i, (value, _)) in unused.rev() {
        removed.entry(go_json::to_vec_compact(value)).or_default().push(i);
    }
    for (source, value) in sources.iter_mut().zip(new.values()) {
        if matches!(source, Source::Fresh)
            && let Some(i) = removed.get_mut(&go_json::to_vec_compact(value)).and_then(Vec::pop)
        {
            *source = Source::Old(i);
        }
    }
}

/// For each member written, the old member whose surrounding whitespace it takes. Old members
/// take the whitespace of the old positions in order, so a reordered object keeps its layout and
/// an unreordered one keeps each member's own; a new member takes the leading whitespace of the
/// old member written after it (`None` when none follows).
fn whitespace_slots(sources: &[Source]) -> Vec<Option<usize>> {
    let old = |source: &Source| match *source {
        Source::Old(i) => Some(i),
        Source::Fresh => None,
    };
    let mut kept: Vec<usize> = sources.iter().filter_map(old).collect();
    if !kept.is_sorted() {
        kept.sort_unstable();
    }
    let mut in_order = kept.into_iter();
    let mut slots: Vec<Option<usize>> = sources.iter().map(|s| old(s).and_then(|_| in_order.next())).collect();
    let mut following = None;
    for slot in slots.iter_mut().rev() {
        if slot.is_some() {
            following = *slot;
        } else {
            *slot = following;
        }
    }
    slots
}
