//! Scanning the original text: byte offsets of objects, members, keys and values, and the facts
//! about the file's style (line ends, indent unit) that new text copies.

use std::borrow::Cow;
use std::cell::OnceCell;

use super::{Doc, LOOK_BACK, Member, Obj, Shape, indent_of, is_ws};

impl<'a> Doc<'a> {
    /// Wraps the text; nothing is scanned yet.
    pub(super) fn new(text: &'a str) -> Self {
        Doc {
            text,
            bytes: text.as_bytes(),
            newline: OnceCell::new(),
            unit: OnceCell::new(),
            line_starts: OnceCell::new(),
        }
    }

    /// The text at `from..to`, `None` when out of range or not on character boundaries.
    pub(super) fn slice(&self, from: usize, to: usize) -> Option<&'a str> {
        self.text.get(from..to)
    }

    /// The byte at `at`, `None` past the end.
    pub(super) fn byte(&self, at: usize) -> Option<u8> {
        self.bytes.get(at).copied()
    }

    /// The first offset at or after `at` that is not whitespace (or the end).
    pub(super) fn skip_ws(&self, mut at: usize) -> usize {
        while self.byte(at).is_some_and(is_ws) {
            at += 1;
        }
        at
    }

    /// The file's line break: CRLF when its first line ends with one.
    pub(super) fn newline(&self) -> &'static str {
        self.newline.get_or_init(|| match self.bytes.iter().position(|&b| b == b'\n') {
            Some(at) if at > 0 && self.byte(at - 1) == Some(b'\r') => "\r\n",
            _ => "\n",
        })
    }

    /// The file's indent unit: the first indented line's indentation beyond that of the line the
    /// top-level `{` is on; a tab when no line is indented.
    pub(super) fn unit(&self) -> &str {
        self.unit.get_or_init(|| {
            let start = self.skip_ws(0);
            let base = self.line_indent(start);
            let lines = self.text.get(start..).unwrap_or("").split('\n').skip(1);
            lines
                .filter(|line| !line.trim().is_empty())
                .find_map(|line| indent_of(line).strip_prefix(base).filter(|step| !step.is_empty()))
                .unwrap_or("\t")
                .to_owned()
        })
    }

    /// The indentation of the line that offset `at` is on: found by looking back when the line
    /// is short, else from a table of line starts (built once), so long lines stay linear.
    pub(super) fn line_indent(&self, at: usize) -> &'a str {
        let from = at.saturating_sub(LOOK_BACK);
        let window = self.bytes.get(from..at).unwrap_or_default();
        let start = match window.iter().rposition(|&b| b == b'\n') {
            Some(newline) => from + newline + 1,
            None if from == 0 => 0,
            None => {
                let starts = self.line_starts.get_or_init(|| {
                    let breaks = self.bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1);
                    std::iter::once(0).chain(breaks).collect()
                });
                let line = starts.partition_point(|&start| start <= at).saturating_sub(1);
                starts.get(line).copied().unwrap_or(0)
            }
        };
        indent_of(self.text.get(start..).unwrap_or(""))
    }

    /// The shape of a new file's objects: Docker's, in the file's line break and indent unit.
    pub(super) fn docker_shape(&self) -> Shape {
        let newline = self.newline().to_owned();
        Shape {
            multiline: true,
            open: newline.clone(),
            between: newline,
            close: String::new(),
            step: self.unit().to_owned(),
            sep: ": ".to_owned(),
        }
    }

    /// The offset just past the string starting at `at` (which must be `"`).
    pub(super) fn string_end(&self, at: usize) -> Option<usize> {
        let mut i = at + 1;
        loop {
            match self.byte(i)? {
                b'"' => return Some(i + 1),
                b'\\' => i += 2,
                _ => i += 1,
            }
        }
    }

    /// The offset just past the value starting at `at`.
    pub(super) fn value_end(&self, at: usize) -> Option<usize> {
        match self.byte(at)? {
            b'"' => self.string_end(at),
            b'{' | b'[' => self.container_end(at),
            _ => {
                let mut i = at;
                while self.byte(i).is_some_and(|b| !is_ws(b) && !matches!(b, b',' | b'}' | b']' | b':')) {
                    i += 1;
                }
                (i > at).then_some(i)
            }
        }
    }

    /// The offset just past the object or array starting at `at`, skipping strings.
    pub(super) fn container_end(&self, at: usize) -> Option<usize> {
        let mut depth = 0usize;
        let mut i = at;
        loop {
            match self.byte(i)? {
                b'"' => {
                    i = self.string_end(i)?;
                    continue;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// Splits the object starting at `open` into members (their values are only skipped).
    pub(super) fn object_at(&self, open: usize) -> Option<Obj<'a>> {
        if self.byte(open)? != b'{' {
            return None;
        }
        let mut members = Vec::new();
        let mut lead = open + 1;
        let mut at = self.skip_ws(lead);
        if self.byte(at)? == b'}' {
            return Some(Obj { open, close: at, members });
        }
        loop {
            let member = self.member_at(lead, at)?;
            let next = member.trail_end;
            members.push(member);
            match self.byte(next)? {
                b',' => {
                    lead = next + 1;
                    at = self.skip_ws(lead);
                }
                b'}' => return Some(Obj { open, close: next, members }),
                _ => return None,
            }
        }
    }

    /// The member whose whitespace starts at `lead` and whose key starts at `key`.
    pub(super) fn member_at(&self, lead: usize, key: usize) -> Option<Member<'a>> {
        if self.byte(key)? != b'"' {
            return None;
        }
        let key_end = self.string_end(key)?;
        let colon = self.skip_ws(key_end);
        if self.byte(colon)? != b':' {
            return None;
        }
        let value = self.skip_ws(colon + 1);
        let value_end = self.value_end(value)?;
        let name = self.key_name(key, key_end)?;
        Some(Member { lead, key, key_end, value, value_end, trail_end: self.skip_ws(value_end), name })
    }

    /// The decoded text of the string literal at `from..to`.
    pub(super) fn key_name(&self, from: usize, to: usize) -> Option<Cow<'a, str>> {
        let literal = self.slice(from, to)?;
        let inner = literal.get(1..literal.len().checked_sub(1)?)?;
        if inner.contains('\\') {
            serde_json::from_str(literal).ok().map(Cow::Owned)
        } else {
            Some(Cow::Borrowed(inner))
        }
    }
}
