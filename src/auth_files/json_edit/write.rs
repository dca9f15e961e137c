//! Writing the patched text: members kept, changed, renamed, removed or added, and new values laid
//! out in the shape of their surroundings.

use std::borrow::Cow;
use std::cell::OnceCell;

use serde_json::{Map, Value};

use super::{
    Doc, MAX_CHAIN, MAX_DEPTH, Member, Obj, Place, Scope, Shape, Source, after_break, is_container, line_breaks, plan,
    push_compact, same, split_chain, whitespace_slots,
};

impl<'a> Doc<'a> {
    /// The layout of a non-empty object, read from its first and last members.
    pub(super) fn shape_of(&self, obj: &Obj<'a>) -> Option<Shape> {
        let (first, last) = (obj.members.first()?, obj.members.last()?);
        let first_lead = self.slice(first.lead, first.key)?;
        let last_lead = self.slice(last.lead, last.key)?;
        let separator = self.slice(last.key_end, last.value)?.to_owned();
        let several = obj.members.len() > 1;
        if first_lead.contains('\n') || last_lead.contains('\n') {
            let open = line_breaks(first_lead).unwrap_or(self.newline());
            let between = if several { line_breaks(last_lead).unwrap_or(open) } else { open };
            let indent = after_break(if last_lead.contains('\n') { last_lead } else { first_lead });
            let own_step = indent.strip_prefix(self.line_indent(obj.open)).filter(|s| !s.is_empty());
            let step = own_step.unwrap_or(self.unit()).to_owned();
            let (open, between, close) = (open.to_owned(), between.to_owned(), String::new());
            return Some(Shape { multiline: true, open, between, close, step, sep: separator });
        }
        let between = match (several, first_lead.is_empty()) {
            (true, _) => last_lead,
            (false, false) => first_lead,
            (false, true) if separator.contains(' ') => " ",
            (false, true) => "",
        };
        let close = self.slice(last.value_end, obj.close)?.to_owned();
        Some(Shape {
            multiline: false,
            open: first_lead.to_owned(),
            between: between.to_owned(),
            close,
            step: String::new(),
            sep: separator,
        })
    }

    /// The layout for members added to the empty object `obj`, whose surroundings suggest `level`.
    pub(super) fn empty_shape(&self, obj: &Obj<'a>, level: &Shape) -> Shape {
        let inside = self.slice(obj.open + 1, obj.close).unwrap_or("");
        let multiline = if inside.is_empty() { level.multiline } else { inside.contains('\n') };
        let separator = level.sep.clone();
        if multiline {
            let newline = self.newline().to_owned();
            let (open, close, step) = (newline.clone(), String::new(), self.unit().to_owned());
            return Shape { multiline, open, between: newline, close, step, sep: separator };
        }
        let between = if level.multiline { " " } else { level.between.as_str() }.to_owned();
        let (open, close, step) = (inside.to_owned(), inside.to_owned(), String::new());
        Shape { multiline, open, between, close, step, sep: separator }
    }

    /// The last member of `obj` whose value is a non-empty object, split into members.
    pub(super) fn sample_of(&self, obj: &Obj<'a>) -> Option<Obj<'a>> {
        let objects = obj.members.iter().rev().filter(|m| self.byte(m.value) == Some(b'{'));
        objects.filter_map(|m| self.object_at(m.value)).find(|o| !o.members.is_empty())
    }

    /// The shapes of a sibling object value and of its own nested objects, level by level.
    pub(super) fn sample_chain(&self, obj: &Obj<'a>) -> Vec<Shape> {
        let mut chain = Vec::new();
        let mut current = self.sample_of(obj);
        while let Some(node) = current
            && chain.len() < MAX_CHAIN
        {
            let Some(shape) = self.shape_of(&node) else { break };
            chain.push(shape);
            current = self.sample_of(&node);
        }
        chain
    }

    /// The shapes for new values inside the scope's object (cached in the scope).
    pub(super) fn kids<'s>(&self, scope: &'s Scope<'_, 'a>) -> &'s [Shape] {
        scope.kids.get_or_init(|| {
            let chain = self.sample_chain(scope.obj);
            if chain.is_empty() { vec![scope.own.clone()] } else { chain }
        })
    }

    /// Writes `obj` patched from `old` to `new`. `level` is the shape expected at this level,
    /// used only when `obj` is empty (Docker's shape when `None`, as for the top level).
    pub(super) fn patch_object(
        &self,
        out: &mut String,
        obj: &Obj<'a>,
        old: &Map<String, Value>,
        new: &Map<String, Value>,
        level: Option<&Shape>,
        depth: usize,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let sources = plan(obj, old, new)?;
        let own = match (obj.members.is_empty(), level) {
            (false, _) => self.shape_of(obj)?,
            (true, Some(level)) => self.empty_shape(obj, level),
            (true, None) => self.empty_shape(obj, &self.docker_shape()),
        };
        let scope = Scope { obj, old: old.values().collect(), own, kids: OnceCell::new(), depth };
        out.push('{');
        self.emit_members(out, &scope, new, &sources)?;
        out.push_str(&self.close(&scope, new.is_empty())?);
        out.push('}');
        Some(())
    }

    /// Writes the members of `new` in order, each from its source, with the commas between.
    pub(super) fn emit_members(
        &self,
        out: &mut String,
        scope: &Scope<'_, 'a>,
        new: &Map<String, Value>,
        sources: &[Source],
    ) -> Option<()> {
        let slots = whitespace_slots(sources);
        for (n, ((key, value), source)) in new.iter().zip(sources).enumerate() {
            if n > 0 {
                out.push(',');
            }
            let slot = slots.get(n).copied().flatten();
            if let (Source::Old(old), Some(slot)) = (*source, slot) {
                let place = Place { old, slot, last: n + 1 == sources.len() };
                self.emit_old(out, scope, place, key, value)?;
            } else {
                let lead = self.new_lead(scope, n, slot)?;
                self.emit_new(out, scope, &lead, key, value)?;
            }
        }
        Some(())
    }

    /// Writes an old member as `key: value`, keeping every byte that did not change.
    pub(super) fn emit_old(
        &self,
        out: &mut String,
        scope: &Scope<'_, 'a>,
        place: Place,
        key: &str,
        value: &Value,
    ) -> Option<()> {
        let members = &scope.obj.members;
        let (member, slot) = (members.get(place.old)?, members.get(place.slot)?);
        let before = *scope.old.get(place.old)?;
        out.push_str(self.slice(slot.lead, slot.key)?);
        if member.name == key {
            out.push_str(self.slice(member.key, member.key_end)?);
        } else {
            push_compact(out, key);
        }
        out.push_str(self.slice(member.key_end, member.value)?);
        if same(before, value) {
            out.push_str(self.slice(member.value, member.value_end)?);
        } else {
            self.emit_changed(out, scope, member, before, value)?;
        }
        if !place.last && place.slot + 1 < members.len() {
            out.push_str(self.slice(slot.value_end, slot.trail_end)?);
        }
        Some(())
    }

    /// Writes the new value of a member whose value changed.
    pub(super) fn emit_changed(
        &self,
        out: &mut String,
        scope: &Scope<'_, 'a>,
        member: &Member<'a>,
        before: &Value,
        after: &Value,
    ) -> Option<()> {
        if let (Value::Object(was), Value::Object(now)) = (before, after) {
            let child = self.object_at(member.value)?;
            let level = if child.members.is_empty() { self.kids(scope).first() } else { None };
            return self.patch_object(out, &child, was, now, level, scope.depth + 1);
        }
        if !is_container(after) {
            push_compact(out, after);
            return Some(());
        }
        self.write_value(out, after, self.line_indent(member.key), self.kids(scope), scope.depth + 1)
    }

    /// Writes a member that is not in the old object, after the whitespace `lead`.
    pub(super) fn emit_new(
        &self,
        out: &mut String,
        scope: &Scope<'_, 'a>,
        lead: &str,
        key: &str,
        value: &Value,
    ) -> Option<()> {
        out.push_str(lead);
        push_compact(out, key);
        out.push_str(&scope.own.sep);
        if !is_container(value) {
            push_compact(out, value);
            return Some(());
        }
        let indent = if lead.contains('\n') { after_break(lead) } else { self.line_indent(scope.obj.open) };
        self.write_value(out, value, indent, self.kids(scope), scope.depth + 1)
    }

    /// The whitespace before new member number `n`: that of the old member slot it is inserted
    /// in front of, else that of the last old member, else (empty object) from the object's shape.
    pub(super) fn new_lead(&self, scope: &Scope<'_, 'a>, n: usize, next_old: Option<usize>) -> Option<Cow<'a, str>> {
        let members = &scope.obj.members;
        if let Some(next) = next_old {
            let member = members.get(next)?;
            return self.slice(member.lead, member.key).map(Cow::Borrowed);
        }
        let own = &scope.own;
        let Some(last) = members.last() else {
            let breaks = if n == 0 { &own.open } else { &own.between };
            if !own.multiline {
                return Some(Cow::Owned(breaks.clone()));
            }
            return Some(Cow::Owned(format!("{breaks}{}{}", self.line_indent(scope.obj.open), own.step)));
        };
        let lead = self.slice(last.lead, last.key)?;
        Some(if members.len() > 1 || lead.contains('\n') {
            Cow::Borrowed(lead)
        } else {
            Cow::Owned(own.between.clone())
        })
    }

    /// The whitespace before the closing `}`.
    pub(super) fn close(&self, scope: &Scope<'_, 'a>, emptied: bool) -> Option<Cow<'a, str>> {
        let obj = scope.obj;
        let natural = || format!("{}{}", self.newline(), self.line_indent(obj.open));
        let Some(last) = obj.members.last() else {
            let inside = self.slice(obj.open + 1, obj.close)?;
            if !inside.is_empty() || !scope.own.multiline {
                return Some(Cow::Borrowed(inside));
            }
            return Some(Cow::Owned(natural()));
        };
        let close = self.slice(last.value_end, obj.close)?;
        if emptied && close.contains('\n') && close == natural() {
            return Some(Cow::Borrowed(""));
        }
        Some(Cow::Borrowed(close))
    }

    /// Writes a value afresh in the file's style: objects and arrays laid out by `chain`
    /// (`indent` is that of the line the value starts on), scalars compact.
    pub(super) fn write_value(
        &self,
        out: &mut String,
        value: &Value,
        indent: &str,
        chain: &[Shape],
        depth: usize,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match value {
            Value::Object(map) if !map.is_empty() => self.write_object(out, map, indent, chain, depth),
            Value::Array(items) if !items.is_empty() => self.write_array(out, items, indent, chain, depth),
            _ => {
                push_compact(out, value);
                Some(())
            }
        }
    }

    /// Writes a non-empty object afresh in the shape `chain[0]`.
    pub(super) fn write_object(
        &self,
        out: &mut String,
        map: &Map<String, Value>,
        indent: &str,
        chain: &[Shape],
        depth: usize,
    ) -> Option<()> {
        let (shape, deeper) = split_chain(chain)?;
        let inner = if shape.multiline { format!("{indent}{}", shape.step) } else { indent.to_owned() };
        out.push('{');
        for (n, (key, value)) in map.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.push_str(if n == 0 { &shape.open } else { &shape.between });
            if shape.multiline {
                out.push_str(&inner);
            }
            push_compact(out, key.as_str());
            out.push_str(&shape.sep);
            self.write_value(out, value, &inner, deeper, depth + 1)?;
        }
        if shape.multiline {
            out.push_str(self.newline());
            out.push_str(indent);
        } else {
            out.push_str(&shape.close);
        }
        out.push('}');
        Some(())
    }

    /// Writes a non-empty array afresh: one item a line when `chain[0]` is multi-line (as Go
    /// does), else inline with the shape's spacing after commas.
    pub(super) fn write_array(
        &self,
        out: &mut String,
        items: &[Value],
        indent: &str,
        chain: &[Shape],
        depth: usize,
    ) -> Option<()> {
        let (shape, deeper) = split_chain(chain)?;
        let inner = if shape.multiline { format!("{indent}{}", shape.step) } else { indent.to_owned() };
        out.push('[');
        for (n, item) in items.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            if shape.multiline {
                out.push_str(self.newline());
                out.push_str(&inner);
            } else if n > 0 {
                out.push_str(&shape.between);
            }
            self.write_value(out, item, &inner, deeper, depth + 1)?;
        }
        if shape.multiline {
            out.push_str(self.newline());
            out.push_str(indent);
        }
        out.push(']');
        Some(())
    }
}
