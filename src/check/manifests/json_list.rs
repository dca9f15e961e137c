//! A large JSON document that is a `List` (what `kubectl get -o json` prints for a big namespace)
//! read item by item, so that its tree is never whole in memory: the top-level object's `items`
//! are deserialized one at a time, each read and dropped; every other key is kept (they are few).
//!
//! `kubectl` writes `items` before `kind`, so whether the object is a `List` is only known at its
//! end: the items are read into a `Manifests` of their own, which is kept only if it was. Anything
//! the item-by-item reading could read otherwise than the whole document — not one object, `items`
//! twice or not an array, a typed list (`PodList`) with an item that names no kind, any syntax
//! error — gives `None`, and the caller reads the document whole as before (its errors and line
//! numbers unchanged).

use std::fmt;
use std::sync::Arc;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::objects::{is_list, not_a_mapping};
use super::read::{read_item, read_nested_list};
use super::{DocumentError, DocumentSource, Manifests};

/// Reads `text`, one JSON object, when it is a `List`; `None` for anything else (see the module).
pub(super) fn read_list(text: &str, source: &DocumentSource, namespace: &str) -> Option<Manifests> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    let mut manifests = Manifests::default();
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let top = Top { manifests: &mut manifests, source, namespace };
    let read = top.deserialize(&mut deserializer).ok()?;
    deserializer.end().ok()?;
    let kind = read.skeleton.get("kind").and_then(Value::as_str).unwrap_or_default();
    let implied_kind = kind.strip_suffix("List").is_some_and(|kind| !kind.is_empty());
    if !read.items_once || !is_list(&read.skeleton) || (implied_kind && read.an_item_names_no_kind) {
        return None;
    }
    Some(manifests)
}

/// The top-level object: its keys but `items`, and what reading the items found.
struct Top<'m> {
    manifests: &'m mut Manifests,
    source: &'m DocumentSource,
    namespace: &'m str,
}

struct Read {
    skeleton: Map<String, Value>,
    items_once: bool,
    an_item_names_no_kind: bool,
}

impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = Read;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Read, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = Read;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Read, A::Error> {
        let mut read = Read { skeleton: Map::new(), items_once: false, an_item_names_no_kind: false };
        let mut items_seen = 0;
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                items_seen += 1;
                if items_seen > 1 {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                let items = Items { manifests: &mut *self.manifests, source: self.source, namespace: self.namespace };
                read.an_item_names_no_kind = map.next_value_seed(items)?;
                // A placeholder, so that the skeleton is a `List` by the reader's own test.
                read.skeleton.insert(key, Value::Array(Vec::new()));
            } else {
                let value: Value = map.next_value()?;
                read.skeleton.insert(key, value);
            }
        }
        read.items_once = items_seen == 1;
        Ok(read)
    }
}

/// The `items` array, read one item at a time as the reader's walk reads a top-level `List`'s
/// items; its value says whether an item named no kind.
struct Items<'m> {
    manifests: &'m mut Manifests,
    source: &'m DocumentSource,
    namespace: &'m str,
}

impl<'de> DeserializeSeed<'de> for Items<'_> {
    type Value = bool;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Items<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut names_no_kind = false;
        let outer: Arc<[usize]> = Arc::from([]);
        let mut index = 0;
        while let Some(item) = seq.next_element::<Value>()? {
            let item_source =
                DocumentSource { item: Some(index), outer_items: outer.clone(), nesting: 0, ..self.source.clone() };
            match item {
                Value::Object(object) if is_list(&object) => {
                    read_nested_list(self.manifests, &object, &outer, 0, index, item_source, self.namespace);
                }
                Value::Object(object) => {
                    names_no_kind |= object.get("kind").and_then(Value::as_str).is_none_or(str::is_empty);
                    read_item(self.manifests, &object, None, item_source, self.namespace);
                }
                Value::Null => {}
                other => {
                    self.manifests.errors.push(DocumentError { source: item_source, error: not_a_mapping(&other) });
                }
            }
            index += 1;
        }
        Ok(names_no_kind)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::{DocumentSource, Manifests, read, read_documents, stream::STREAMED_FROM};
    use super::read_list;

    fn source() -> DocumentSource {
        DocumentSource::document("t.json", 1, 1)
    }

    /// The document read whole, as every JSON document was before.
    fn whole(text: &str) -> Manifests {
        let mut manifests = Manifests::default();
        let value: Value = serde_json::from_str(text).unwrap();
        read::read_object(&mut manifests, &value, source(), "default");
        manifests
    }

    fn pod(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
               "spec": {"containers": [{"name": "app", "image": format!("registry.example.com/{name}:1")}]}})
    }

    #[test]
    fn lists_read_item_by_item_as_whole() {
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "pull"},
            "type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": "e30="}});
        let nested = json!({"apiVersion": "v1", "kind": "List", "items": [pod("inner"), {"kind": "List", "items": [pod("deep")]}]});
        let cases = [
            // kubectl's order: items before kind.
            json!({"apiVersion": "v1", "items": [pod("a"), secret, Value::Null, 7, nested, {"kind": "Widget"}], "kind": "List", "metadata": {"resourceVersion": ""}}),
            json!({"kind": "List", "items": []}),
            // A typed list whose items all name their kind.
            json!({"kind": "PodList", "items": [pod("b")]}),
            json!({"kind": "List", "items": [{"metadata": {"name": "no-kind"}}]}),
        ];
        for case in cases {
            let text = case.to_string();
            let read = read_list(&text, &source(), "default").expect("a List");
            assert_eq!(read, whole(&text), "{text}");
        }
    }

    #[test]
    fn what_could_read_otherwise_is_left_to_the_whole_document() {
        for text in [
            // A typed list with an item that names no kind: its kind is implied.
            json!({"items": [{"metadata": {"name": "x"}, "spec": {"containers": []}}], "kind": "PodList"}).to_string(),
            // Not a List.
            json!({"kind": "Widget", "items": [pod("a")]}).to_string(),
            json!({"items": [pod("a")]}).to_string(),
            // `items` twice (the last one wins in the whole document).
            r#"{"kind": "List", "items": [], "items": [{"kind": "Pod"}]}"#.to_owned(),
            // Not an array, broken, or more than one value.
            r#"{"kind": "List", "items": null}"#.to_owned(),
            r#"{"kind": "List", "items": [{"kind": "Pod"}"#.to_owned(),
            r#"{"kind": "List", "items": []} {"kind": "Pod"}"#.to_owned(),
            "[]".to_owned(),
        ] {
            assert!(read_list(&text, &source(), "default").is_none(), "{text}");
        }
    }

    #[test]
    fn a_large_json_list_is_read_item_by_item_as_whole() {
        let mut items = Vec::new();
        let mut size = 0;
        while size <= STREAMED_FROM {
            let item = pod(&format!("pod-{}", items.len()));
            size += item.to_string().len();
            items.push(item);
        }
        let text = format!("\n{}", json!({"apiVersion": "v1", "items": items, "kind": "List"}));
        let read = read_documents("t.json", &text, "default");
        assert_eq!(read.workloads.len(), items.len());
        // The whole reading of the same document (on line 2, as `read_documents` counts).
        let mut expected = Manifests::default();
        let value: Value = serde_json::from_str(&text).unwrap();
        read::read_object(&mut expected, &value, DocumentSource::document("t.json", 1, 2), "default");
        assert_eq!(read, expected);

        // The same from a file (as `check -f` reads it).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.json");
        std::fs::write(&path, &text).unwrap();
        let from_file = super::super::read_path(&path, "default").unwrap();
        let name = path.display().to_string();
        let mut expected = Manifests::default();
        read::read_object(&mut expected, &value, DocumentSource::document(&name, 1, 2), "default");
        assert_eq!(from_file, expected);
    }
}
