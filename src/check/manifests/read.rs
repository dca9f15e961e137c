//! One parsed document to typed values: each object to its reader (a workload, a
//! `ServiceAccount`, a Secret, a custom resource with pods, or a kind counted as not read), and
//! `kind: List` and typed lists (`PodList` …), a `List` inside a `List` included, to any depth the
//! parser accepts. The lists are walked with an explicit stack, not by recursion: a hostile
//! nesting costs one small frame per level, never the thread's stack.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::objects::{
    Template, is_list, kind_name, name_and_namespace, not_a_mapping, pod_spec_path, read_secret, read_service_account,
    read_workload, seq, string, workload_kind,
};
use super::{DocumentError, DocumentSource, ManifestError, Manifests, SHOWN_NESTING};

/// Reads one document into `manifests`, recording an error instead when it is malformed.
pub(super) fn read_object(manifests: &mut Manifests, value: &Value, source: DocumentSource, namespace: &str) {
    match value {
        Value::Object(object) if is_list(object) => read_list(manifests, object, &source, namespace),
        Value::Object(object) => read_item(manifests, object, None, source, namespace),
        other => manifests.errors.push(DocumentError { source, error: not_a_mapping(other) }),
    }
}

/// Reads one object (a document or a `List` item), recording an error instead when it is
/// malformed.
pub(super) fn read_item(
    manifests: &mut Manifests,
    object: &Map<String, Value>,
    implied_kind: Option<&str>,
    source: DocumentSource,
    namespace: &str,
) {
    if let Err(error) = read_single(manifests, object, implied_kind, &source, namespace) {
        manifests.errors.push(DocumentError { source, error });
    }
}

/// One object: a workload, a `ServiceAccount`, a Secret, or something this module ignores.
fn read_single(
    manifests: &mut Manifests,
    object: &Map<String, Value>,
    implied_kind: Option<&str>,
    source: &DocumentSource,
    namespace: &str,
) -> Result<(), ManifestError> {
    let kind = match string(object, "kind", "kind")? {
        Some(kind) if !kind.is_empty() => kind,
        _ => implied_kind.ok_or_else(|| ManifestError::Missing("kind".to_owned()))?,
    };
    let group = match string(object, "apiVersion", "apiVersion")? {
        Some(api_version) => api_version.split_once('/').map_or("", |(group, _)| group),
        None => "",
    };
    let kind_name = kind_name(kind, group);
    if kind == "ServiceAccount" && group.is_empty() {
        manifests.service_accounts.push(read_service_account(object, source, namespace)?);
    } else if kind == "Secret" && group.is_empty() {
        match read_secret(object, source, namespace) {
            Ok(secret) => manifests.secrets.push(secret),
            Err(error) => {
                // Named, so that a pod that uses it is told the Secret is broken, not absent.
                if let Ok(named) = name_and_namespace(object, namespace) {
                    manifests.broken_secrets.push(named);
                }
                return Err(error);
            }
        }
    } else if let Some(kind) = workload_kind(kind, group) {
        let path = pod_spec_path(kind);
        manifests.workloads.push(read_workload(object, Template { kind, kind_name, path }, source, namespace)?);
    } else if !super::custom::read(manifests, object, kind_name.clone(), group, source, namespace)? {
        *manifests.not_read.entry(kind_name).or_default() += 1;
    }
    Ok(())
}

/// A `List` being read: its remaining items, and what its items inherit.
struct Frame<'v> {
    items: std::iter::Enumerate<std::slice::Iter<'v, Value>>,
    /// The kind of items that name none (`PodList` → `Pod`).
    item_kind: Option<&'v str>,
    /// The enclosing items, as [`DocumentSource::outer_items`] holds them.
    outer_items: Arc<[usize]>,
    /// How many `List`s enclose this one.
    nesting: usize,
}

impl<'v> Frame<'v> {
    fn new(
        list: &'v Map<String, Value>,
        outer_items: Arc<[usize]>,
        nesting: usize,
    ) -> Result<Self, super::ManifestError> {
        let items = seq(list, "items", "items")?.map_or(&[][..], Vec::as_slice);
        let list_kind = list.get("kind").and_then(Value::as_str).unwrap_or_default();
        let item_kind = list_kind.strip_suffix("List").filter(|kind| !kind.is_empty());
        Ok(Self { items: items.iter().enumerate(), item_kind, outer_items, nesting })
    }

    /// The frame of a `List` that is item `index` of this one.
    fn inner(&self, list: &'v Map<String, Value>, index: usize) -> Result<Self, super::ManifestError> {
        Self::new(list, enclosing_items(&self.outer_items, index), self.nesting + 1)
    }
}

/// The enclosing items of a `List` that is item `index` of a `List` enclosed by `outer_items`.
pub(super) fn enclosing_items(outer_items: &Arc<[usize]>, index: usize) -> Arc<[usize]> {
    if outer_items.len() < SHOWN_NESTING {
        outer_items.iter().copied().chain([index]).collect()
    } else {
        outer_items.clone()
    }
}

/// Reads every item of `list` (and of the `List`s among its items), each on its own: a broken
/// item is an error of its own, and the others are still read.
pub(super) fn read_list(
    manifests: &mut Manifests,
    list: &Map<String, Value>,
    source: &DocumentSource,
    namespace: &str,
) {
    match Frame::new(list, Arc::from([]), 0) {
        Ok(frame) => walk(manifests, frame, source, namespace),
        Err(error) => manifests.errors.push(DocumentError { source: source.clone(), error }),
    }
}

/// Reads `list`, item `index` of a `List` (enclosed by `outer_items`, `nesting` deep) whose items
/// come from [`super::stream`], as [`read_list`] reads a `List` among its items.
pub(super) fn read_nested_list(
    manifests: &mut Manifests,
    list: &Map<String, Value>,
    outer_items: &Arc<[usize]>,
    nesting: usize,
    index: usize,
    item_source: DocumentSource,
    namespace: &str,
) {
    match Frame::new(list, enclosing_items(outer_items, index), nesting + 1) {
        Ok(frame) => walk(manifests, frame, &item_source, namespace),
        Err(error) => manifests.errors.push(DocumentError { source: item_source, error }),
    }
}

/// Reads the items of `first` and of the `List`s among them, depth first, with an explicit stack.
fn walk(manifests: &mut Manifests, first: Frame<'_>, source: &DocumentSource, namespace: &str) {
    let mut stack = vec![first];
    while let Some(frame) = stack.last_mut() {
        let Some((index, item)) = frame.items.next() else {
            stack.pop();
            continue;
        };
        let item_source = DocumentSource {
            item: Some(index),
            outer_items: frame.outer_items.clone(),
            nesting: frame.nesting,
            ..source.clone()
        };
        match item {
            Value::Object(object) if is_list(object) => match frame.inner(object, index) {
                Ok(inner) => stack.push(inner),
                Err(error) => manifests.errors.push(DocumentError { source: item_source, error }),
            },
            Value::Object(object) => read_item(manifests, object, frame.item_kind, item_source, namespace),
            Value::Null => {}
            other => manifests.errors.push(DocumentError { source: item_source, error: not_a_mapping(other) }),
        }
    }
}
