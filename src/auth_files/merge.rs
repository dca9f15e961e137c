//! Entry-level three-way merge of credential documents.
//!
//! When another program wrote the file after regcred loaded it, regcred's edits are re-applied
//! on top of the other program's version: each top-level key is one unit, except the maps of
//! registries (`auths`, `credHelpers`), where each registry is one unit. A unit changed on both
//! sides in different ways is a conflict.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// How to settle a unit that both sides changed differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConflictPolicy {
    /// Report the conflict and write nothing.
    #[default]
    Refuse,
    /// Keep this side's version of the conflicting units (all other units still merge).
    KeepOurs,
    /// Keep the other program's version of the conflicting units.
    KeepTheirs,
}

/// The result of a merge: the merged document and the units that conflicted. (No `Debug`: the
/// document holds credentials.)
#[derive(Clone, PartialEq)]
pub struct Merged {
    /// The merged document (conflicts settled by the policy, theirs when refusing).
    pub document: Map<String, Value>,
    /// Names of the conflicting units, such as `auths › registry.example.com`.
    pub conflicts: Vec<String>,
}

/// Merges `ours` and `theirs`, both descended from `base`. `nested` names the top-level keys
/// whose members are merged one by one (an empty name means the top level holds the entries).
/// `touched` names units this side explicitly set (`auths › key`): they count as changed even
/// when set to the value they had, so the other side's change to them is a conflict, not a
/// silent win.
pub fn merge(
    base: &Map<String, Value>,
    ours: &Map<String, Value>,
    theirs: &Map<String, Value>,
    nested: &[&str],
    touched: &BTreeSet<String>,
    policy: ConflictPolicy,
) -> Merged {
    let mut conflicts = Vec::new();
    let sides = Sides { nested, touched, policy };
    let document = merge_map(base, ours, theirs, "", &sides, &mut conflicts);
    Merged { document, conflicts }
}

/// What stays the same through the recursion of a merge.
struct Sides<'a> {
    nested: &'a [&'a str],
    touched: &'a BTreeSet<String>,
    policy: ConflictPolicy,
}

fn merge_map(
    base: &Map<String, Value>,
    ours: &Map<String, Value>,
    theirs: &Map<String, Value>,
    prefix: &str,
    sides: &Sides<'_>,
    conflicts: &mut Vec<String>,
) -> Map<String, Value> {
    let empty = Map::new();
    let mut merged = Map::new();
    let their_keys = theirs.keys();
    let our_new_keys = ours.keys().filter(|k| !theirs.contains_key(*k));
    for key in their_keys.chain(our_new_keys) {
        let (b, o, t) = (base.get(key), ours.get(key), theirs.get(key));
        if prefix.is_empty()
            && sides.nested.contains(&key.as_str())
            && let (Some(bm), Some(om), Some(tm)) = (as_map(b, &empty), as_map(o, &empty), as_map(t, &empty))
        {
            let inner_prefix = format!("{key} › ");
            let inner = merge_map(bm, om, tm, &inner_prefix, sides, conflicts);
            if !inner.is_empty() || (o.is_some() && t.is_some()) {
                merged.insert(key.clone(), Value::Object(inner));
            }
            continue;
        }
        let unit = format!("{prefix}{key}");
        let ours_changed = o != b || sides.touched.contains(&unit);
        let chosen = if o == t {
            o
        } else if !ours_changed {
            t
        } else if t == b {
            o
        } else {
            conflicts.push(unit);
            if sides.policy == ConflictPolicy::KeepOurs { o } else { t }
        };
        if let Some(value) = chosen {
            merged.insert(key.clone(), value.clone());
        }
    }
    merged
}

/// How many units differ between two documents (see [`differing_units`]). Tells which of several
/// versions another program most likely built its write on: the one it differs least from.
pub(super) fn distance(a: &Map<String, Value>, b: &Map<String, Value>, nested: &[&str]) -> usize {
    differing_units(a, b, nested).len()
}

/// The units that differ between two documents, named as [`merge`] names them: top-level keys,
/// and each member of the `nested` maps (`auths › registry`).
pub(super) fn differing_units(a: &Map<String, Value>, b: &Map<String, Value>, nested: &[&str]) -> Vec<String> {
    let empty = Map::new();
    let mut units = Vec::new();
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for key in keys {
        let (x, y) = (a.get(key), b.get(key));
        if nested.contains(&key.as_str())
            && let (Some(x), Some(y)) = (as_map(x, &empty), as_map(y, &empty))
        {
            units.extend(differing_units(x, y, &[]).into_iter().map(|member| format!("{key} › {member}")));
        } else if x != y {
            units.push(key.clone());
        }
    }
    units
}

/// A member map, an absent one as empty, `None` when the value is not a map.
fn as_map<'a>(value: Option<&'a Value>, empty: &'a Map<String, Value>) -> Option<&'a Map<String, Value>> {
    match value {
        None => Some(empty),
        Some(Value::Object(map)) => Some(map),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::{Map, Value, json};

    use super::{ConflictPolicy, differing_units, distance, merge};

    fn obj(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn edits_to_different_entries_both_survive() {
        let base = obj(json!({"auths": {"a": {"auth": "1"}, "b": {"auth": "1"}, "gone": {}}, "x": 1}));
        let ours = obj(json!({"auths": {"a": {"auth": "2"}, "b": {"auth": "1"}, "gone": {}, "new": {}}, "x": 1}));
        let theirs = obj(json!({"auths": {"a": {"auth": "1"}, "b": {"auth": "3"}}, "x": 1, "proxies": {}}));
        let merged = merge(&base, &ours, &theirs, &["auths"], &BTreeSet::new(), ConflictPolicy::Refuse);
        assert!(merged.conflicts.is_empty());
        assert_eq!(
            Value::Object(merged.document),
            json!({"auths": {"a": {"auth": "2"}, "b": {"auth": "3"}, "new": {}}, "x": 1, "proxies": {}})
        );
    }

    #[test]
    fn same_entry_changed_on_both_sides_conflicts() {
        let base = obj(json!({"auths": {"a": {"auth": "1"}}}));
        let ours = obj(json!({"auths": {"a": {"auth": "2"}}}));
        let theirs = obj(json!({"auths": {"a": {"auth": "3"}}}));
        for (policy, expected) in
            [(ConflictPolicy::Refuse, "3"), (ConflictPolicy::KeepTheirs, "3"), (ConflictPolicy::KeepOurs, "2")]
        {
            let merged = merge(&base, &ours, &theirs, &["auths"], &BTreeSet::new(), policy);
            assert_eq!(merged.conflicts, ["auths › a"]);
            assert_eq!(merged.document["auths"]["a"]["auth"], expected);
        }
        let removed = obj(json!({"auths": {}}));
        let merged = merge(&base, &removed, &theirs, &["auths"], &BTreeSet::new(), ConflictPolicy::Refuse);
        assert_eq!(merged.conflicts, ["auths › a"]);
    }

    #[test]
    fn a_unit_set_to_its_old_value_still_conflicts_with_their_change() {
        let base = obj(json!({"auths": {"a": {"auth": "1"}}}));
        let theirs = obj(json!({"auths": {"a": {"auth": "3"}}}));
        let touched = BTreeSet::from(["auths › a".to_owned()]);
        let merged = merge(&base, &base, &theirs, &["auths"], &touched, ConflictPolicy::Refuse);
        assert_eq!(merged.conflicts, ["auths › a"]);
        let untouched = merge(&base, &base, &theirs, &["auths"], &BTreeSet::new(), ConflictPolicy::Refuse);
        assert!(untouched.conflicts.is_empty());
    }

    #[test]
    fn distance_counts_units_not_bytes() {
        let absent = obj(json!({"n": 1}));
        assert_eq!(differing_units(&absent, &obj(json!({"n": 1, "auths": {"a": {}}})), &["auths"]), ["auths › a"]);
        let a = obj(json!({"auths": {"a": {"auth": "1"}, "b": {}}, "credHelpers": {"a": "x"}, "n": 1}));
        let b = obj(json!({"auths": {"a": {"auth": "2"}, "c": {}}, "credHelpers": {"a": "x"}, "n": 1, "m": 2}));
        let nested = ["auths", "credHelpers"];
        assert_eq!(distance(&a, &a, &nested), 0);
        // auths › a changed, auths › b gone, auths › c new, m new.
        assert_eq!(distance(&a, &b, &nested), 4);
        assert_eq!(distance(&b, &a, &nested), 4);
        assert_eq!(distance(&a, &b, &[]), 2, "without nesting, auths is one unit");
        assert_eq!(differing_units(&a, &b, &nested), ["auths › a", "auths › b", "auths › c", "m"]);
    }
}
