//! The objects, one resourceVersion counter for all of them (as etcd's revision), the change
//! history (so a watch from a list's resourceVersion sees what happened since) and the watchers.

use std::collections::BTreeMap;
use std::sync::mpsc::Sender;

use serde_json::{Value, json};

/// How a watcher or a list shows an object.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// As stored.
    Plain,
    /// A core/v1 Event as `events.k8s.io/v1`.
    EventsV1,
}

/// A parsed `fieldSelector` plus `labelSelector`.
#[derive(Clone, Default)]
pub struct Filter {
    /// (path, equal?, value); `regarding.*` is already mapped to `involvedObject.*`.
    pub fields: Vec<(String, bool, String)>,
    pub labels: Vec<LabelReq>,
}

/// One label requirement.
#[derive(Clone)]
pub enum LabelReq {
    Eq(String, String),
    Ne(String, String),
    Exists(String),
    Absent(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

fn split_top(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth) = (Vec::new(), String::new(), 0);
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.into_iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
}

impl Filter {
    /// Parses the two selectors as the apiserver's query parameters carry them.
    pub fn parse(fields: Option<&str>, labels: Option<&str>) -> Filter {
        let mut filter = Filter::default();
        for term in split_top(fields.unwrap_or("")) {
            let (path, eq, value) = if let Some((p, v)) = term.split_once("!=") {
                (p, false, v)
            } else if let Some((p, v)) = term.split_once("==") {
                (p, true, v)
            } else if let Some((p, v)) = term.split_once('=') {
                (p, true, v)
            } else {
                continue;
            };
            let path = path.trim().replacen("regarding.", "involvedObject.", 1);
            filter.fields.push((path, eq, value.trim().to_owned()));
        }
        for term in split_top(labels.unwrap_or("")) {
            let set = |rest: &str| -> Vec<String> {
                rest.trim()
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .split(',')
                    .map(|s| s.trim().to_owned())
                    .collect()
            };
            let req = if let Some((k, rest)) = term.split_once(" notin ") {
                LabelReq::NotIn(k.trim().into(), set(rest))
            } else if let Some((k, rest)) = term.split_once(" in ") {
                LabelReq::In(k.trim().into(), set(rest))
            } else if let Some((k, v)) = term.split_once("!=") {
                LabelReq::Ne(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                LabelReq::Eq(k.trim().into(), v.trim().into())
            } else if let Some(k) = term.strip_prefix('!') {
                LabelReq::Absent(k.trim().into())
            } else {
                LabelReq::Exists(term.clone())
            };
            filter.labels.push(req);
        }
        filter
    }

    /// Whether `obj` (as stored) passes.
    pub fn matches(&self, obj: &Value) -> bool {
        let fields_ok = self.fields.iter().all(|(path, eq, want)| {
            let mut cur = obj;
            for part in path.split('.') {
                cur = cur.get(part).unwrap_or(&Value::Null);
            }
            let have = match cur {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (have == *want) == *eq
        });
        let labels = &obj["metadata"]["labels"];
        let label = |k: &str| labels.get(k).and_then(Value::as_str);
        fields_ok
            && self.labels.iter().all(|req| match req {
                LabelReq::Eq(k, v) => label(k) == Some(v.as_str()),
                LabelReq::Ne(k, v) => label(k) != Some(v.as_str()),
                LabelReq::Exists(k) => label(k).is_some(),
                LabelReq::Absent(k) => label(k).is_none(),
                LabelReq::In(k, vs) => label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
                LabelReq::NotIn(k, vs) => !label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            })
    }
}

/// A watch stream's subscription.
pub struct Watcher {
    pub resource: String,
    pub namespace: Option<String>,
    pub filter: Filter,
    pub view: View,
    pub tx: Sender<Vec<u8>>,
}

/// Everything the server holds.
pub struct Store {
    pub objects: BTreeMap<String, Value>,
    pub rv: u64,
    /// (resourceVersion, resource, event type, object) of every change.
    pub history: Vec<(u64, String, &'static str, Value)>,
    pub watchers: Vec<Watcher>,
}

/// The storage key: `RESOURCE/NAMESPACE/NAME` (namespace empty for cluster-scoped objects).
pub fn key(resource: &str, namespace: &str, name: &str) -> String {
    format!("{resource}/{namespace}/{name}")
}

/// `now` as the apiserver writes timestamps (RFC 3339, seconds, UTC).
pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// A fresh random-looking UUID (v4 layout).
pub fn uuid() -> String {
    use sha2::Digest as _;
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let h = sha2::Sha256::digest(format!("{n}-{nanos}-{}", std::process::id()));
    let hex: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-4{}-a{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

/// Go's JSON: compact, `<`, `>`, `&` escaped, newline at the end (`pretty` for curl, as the
/// apiserver does for a `curl` User-Agent).
pub fn go_json(value: &Value, pretty: bool) -> Vec<u8> {
    let text =
        if pretty { serde_json::to_string_pretty(value) } else { serde_json::to_string(value) }.unwrap_or_default();
    let mut text = text.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026");
    if !pretty {
        text.push('\n');
    }
    text.into_bytes()
}

/// A core/v1 Event in the events.k8s.io/v1 shape the recordings show.
pub fn event_v1(core: &Value, with_kind: bool) -> Value {
    let mut out = serde_json::Map::new();
    if with_kind {
        out.insert("kind".into(), json!("Event"));
        out.insert("apiVersion".into(), json!("events.k8s.io/v1"));
    }
    out.insert("metadata".into(), core["metadata"].clone());
    out.insert("eventTime".into(), core.get("eventTime").cloned().unwrap_or(Value::Null));
    for (to, from) in [("reportingController", "reportingComponent"), ("reportingInstance", "reportingInstance")] {
        if let Some(v) = core.get(from) {
            out.insert(to.into(), v.clone());
        }
    }
    out.insert("reason".into(), core["reason"].clone());
    out.insert("regarding".into(), core["involvedObject"].clone());
    out.insert("note".into(), core["message"].clone());
    out.insert("type".into(), core["type"].clone());
    for (to, from) in [
        ("deprecatedSource", "source"),
        ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"),
        ("deprecatedCount", "count"),
    ] {
        if let Some(v) = core.get(from) {
            out.insert(to.into(), v.clone());
        }
    }
    Value::Object(out)
}

impl Store {
    pub fn new() -> Store {
        Store { objects: BTreeMap::new(), rv: 100, history: Vec::new(), watchers: Vec::new() }
    }

    /// The next resourceVersion.
    pub fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// Stores `obj` with a new resourceVersion and tells the watchers (ADDED or MODIFIED).
    pub fn write(&mut self, resource: &str, mut obj: Value) -> Value {
        let rv = self.next_rv();
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let ns = obj["metadata"]["namespace"].as_str().unwrap_or("").to_owned();
        let name = obj["metadata"]["name"].as_str().unwrap_or("").to_owned();
        let k = key(resource, &ns, &name);
        let kind = if self.objects.contains_key(&k) { "MODIFIED" } else { "ADDED" };
        self.objects.insert(k, obj.clone());
        self.notify(rv, resource, kind, &obj);
        obj
    }

    /// Removes an object, with a new resourceVersion on the DELETED event.
    pub fn delete(&mut self, resource: &str, ns: &str, name: &str) -> Option<Value> {
        let mut obj = self.objects.remove(&key(resource, ns, name))?;
        let rv = self.next_rv();
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        self.notify(rv, resource, "DELETED", &obj);
        Some(obj)
    }

    /// One object.
    pub fn get(&self, resource: &str, ns: &str, name: &str) -> Option<&Value> {
        self.objects.get(&key(resource, ns, name))
    }

    /// Objects of `resource` (in `ns`, or all), in key order (namespace, then name).
    pub fn list(&self, resource: &str, ns: Option<&str>, filter: &Filter) -> Vec<Value> {
        let prefix = match ns {
            Some(ns) => format!("{resource}/{ns}/"),
            None => format!("{resource}/"),
        };
        self.objects
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(_, v)| v)
            .filter(|v| filter.matches(v))
            .cloned()
            .collect()
    }

    fn notify(&mut self, rv: u64, resource: &str, kind: &'static str, obj: &Value) {
        self.history.push((rv, resource.to_owned(), kind, obj.clone()));
        let ns = obj["metadata"]["namespace"].as_str().unwrap_or("");
        self.watchers.retain(|w| {
            if w.resource != resource || w.namespace.as_deref().is_some_and(|n| n != ns) || !w.filter.matches(obj) {
                return true;
            }
            w.tx.send(watch_line(kind, obj, w.view)).is_ok()
        });
    }
}

/// One watch line: `{"type":…,"object":…}` and a newline.
pub fn watch_line(kind: &str, obj: &Value, view: View) -> Vec<u8> {
    let object = if view == View::EventsV1 { event_v1(obj, true) } else { obj.clone() };
    go_json(&json!({ "type": kind, "object": object }), false)
}
