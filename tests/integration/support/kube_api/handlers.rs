//! Routing, authentication, RBAC, discovery, lists, gets, creates, deletes and watches.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use super::http::{Reply, Request};
use super::store::{self, Filter, View, go_json, now, uuid};
use super::{Exchange, Shared, Who, status_body};

/// (groupVersion, resource, kind, namespaced) of everything stored.
pub const RESOURCES: &[(&str, &str, &str, bool)] = &[
    ("v1", "namespaces", "Namespace", false),
    ("v1", "nodes", "Node", false),
    ("v1", "pods", "Pod", true),
    ("v1", "secrets", "Secret", true),
    ("v1", "serviceaccounts", "ServiceAccount", true),
    ("v1", "events", "Event", true),
    ("v1", "configmaps", "ConfigMap", true),
    ("apps/v1", "deployments", "Deployment", true),
    ("apps/v1", "statefulsets", "StatefulSet", true),
    ("apps/v1", "daemonsets", "DaemonSet", true),
    ("apps/v1", "replicasets", "ReplicaSet", true),
    ("batch/v1", "jobs", "Job", true),
    ("batch/v1", "cronjobs", "CronJob", true),
    ("events.k8s.io/v1", "events", "Event", true),
    ("rbac.authorization.k8s.io/v1", "roles", "Role", true),
    ("rbac.authorization.k8s.io/v1", "rolebindings", "RoleBinding", true),
];

/// The headers every recorded response carries.
pub fn common_headers(content_type: &str) -> Vec<(String, String)> {
    vec![
        ("Audit-Id".into(), uuid()),
        ("Cache-Control".into(), "no-cache, private".into()),
        ("Content-Type".into(), content_type.into()),
    ]
}

/// A JSON reply (pretty for curl, as the apiserver does).
pub fn json_reply(req: &Request, status: u16, body: &Value) -> Reply {
    let pretty = req.header("User-Agent").is_some_and(|ua| ua.starts_with("curl"));
    let mut headers = common_headers("application/json");
    if status == 403 {
        headers.push(("X-Content-Type-Options".into(), "nosniff".into()));
    }
    Reply::Full { status, headers, body: go_json(body, pretty) }
}

/// A Status failure reply.
pub fn fail(req: &Request, code: u16, reason: &str, message: &str, details: Option<Value>) -> Reply {
    json_reply(req, code, &status_body(code, reason, message, details))
}

fn text(status: u16, body: &str) -> Reply {
    let mut headers = common_headers("text/plain; charset=utf-8");
    headers.push(("X-Content-Type-Options".into(), "nosniff".into()));
    Reply::Full { status, headers, body: body.as_bytes().to_vec() }
}

/// `secrets "x" not found`.
pub fn not_found(req: &Request, resource: &str, name: &str) -> Reply {
    fail(
        req,
        404,
        "NotFound",
        &format!("{resource} \"{name}\" not found"),
        Some(json!({"name": name, "kind": resource})),
    )
}

/// Discovery documents from 01-discovery and 01b-kubectl-discovery, by path.
pub fn load_discovery(fixtures: &Path, addr: SocketAddr) -> HashMap<String, Value> {
    let mut map = HashMap::new();
    for file in ["api/01-discovery.json", "api/01b-kubectl-discovery.json"] {
        let text = std::fs::read_to_string(fixtures.join(file)).expect("discovery fixture");
        let exchanges: Value = serde_json::from_str(&text).expect("discovery json");
        for e in exchanges.as_array().into_iter().flatten() {
            if e["response"]["status"] == 200 && e["response"]["body_kind"] == "json" {
                let mut body = e["response"]["body"].clone();
                if let Some(list) = body.get_mut("serverAddressByClientCIDRs") {
                    *list = json!([{"clientCIDR": "0.0.0.0/0", "serverAddress": addr.to_string()}]);
                }
                map.insert(e["request"]["path"].as_str().unwrap_or("").to_owned(), body);
            }
        }
    }
    map
}

/// (resource, namespace, name) of an object path.
pub fn path_key(path: &str) -> Option<(String, String, String)> {
    let p = parse_path(path)?;
    Some((p.resource, p.namespace.unwrap_or_default(), p.name?))
}

/// A resource path, parsed.
pub struct ApiPath {
    pub gv: String,
    pub resource: String,
    pub kind: String,
    pub namespaced: bool,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
}

impl ApiPath {
    pub fn group(&self) -> &str {
        self.gv.split_once('/').map_or("", |(g, _)| g)
    }
}

pub fn parse_path(path: &str) -> Option<ApiPath> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (gv, rest) = match segs.as_slice() {
        ["api", "v1", rest @ ..] => ("v1".to_owned(), rest),
        ["apis", g, v, rest @ ..] => (format!("{g}/{v}"), rest),
        _ => return None,
    };
    let (namespace, resource, name, sub) = match rest {
        ["namespaces", ns, res, tail @ ..] => (Some(ns.to_string()), res.to_string(), tail.first(), tail.get(1)),
        [res, tail @ ..] => (None, res.to_string(), tail.first(), tail.get(1)),
        _ => return None,
    };
    let &(_, _, kind, namespaced) = RESOURCES.iter().find(|(g, r, _, _)| *g == gv && *r == resource)?;
    Some(ApiPath {
        gv,
        resource,
        kind: kind.to_owned(),
        namespaced,
        namespace,
        name: name.map(std::string::ToString::to_string),
        sub: sub.map(std::string::ToString::to_string),
    })
}

fn authenticate(shared: &Shared, req: &Request) -> Result<Who, ()> {
    if let Some(auth) = req.header("Authorization") {
        let token = auth.strip_prefix("Bearer ").ok_or(())?.trim();
        return shared.tokens.lock().map_err(|_| ())?.get(token).cloned().ok_or(());
    }
    Ok(if req.client_cert { Who::Admin } else { Who::Anonymous })
}

/// The Role each known ServiceAccount has: (namespace, resource, verbs, binding, role).
/// `lister` is 07-incluster's (pods get/list/watch, events list), `pod-reader` 03-errors'.
fn rules(who: &Who) -> Vec<(&'static str, &'static [&'static str], &'static str, &'static str)> {
    match who {
        Who::Sa { ns, name } if ns == "regcred-pods" && name == "lister" => vec![
            ("pods", &["get", "list", "watch"], "lister-pod-lister", "pod-lister"),
            ("events", &["list"], "lister-pod-lister", "pod-lister"),
        ],
        Who::Sa { ns, name } if ns == "regcred-pods" && name == "pod-reader" => {
            vec![("pods", &["get"], "pod-reader-get-pods", "get-pods")]
        }
        _ => Vec::new(),
    }
}

/// Whether `who` may; `Ok(Some(reason))` carries the RBAC reason `SelfSubjectAccessReview` shows.
pub fn authorize(who: &Who, verb: &str, group: &str, resource: &str, ns: Option<&str>) -> Result<Option<String>, ()> {
    if *who == Who::Admin {
        return Ok(None);
    }
    if let Who::Sa { ns: sa_ns, name } = who
        && group.is_empty()
        && ns == Some(sa_ns.as_str())
    {
        for (res, verbs, binding, role) in rules(who) {
            if res == resource && verbs.contains(&verb) {
                return Ok(Some(format!(
                    "RBAC: allowed by RoleBinding \"{binding}/{sa_ns}\" of Role \"{role}\" to ServiceAccount \"{name}/{sa_ns}\""
                )));
            }
        }
    }
    Err(())
}

fn forbidden(req: &Request, who: &Who, verb: &str, p: &ApiPath) -> Reply {
    let what = match &p.name {
        Some(name) => format!("{} \"{name}\"", p.resource),
        None => p.resource.clone(),
    };
    let scope = match &p.namespace {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".into(),
    };
    let resource = match &p.sub {
        Some(sub) => format!("{}/{sub}", p.resource),
        None => p.resource.clone(),
    };
    let message = format!(
        "{what} is forbidden: User \"{}\" cannot {verb} resource \"{resource}\" in API group \"{}\" {scope}",
        who.user(),
        p.group()
    );
    let mut details = serde_json::Map::new();
    if let Some(name) = &p.name {
        details.insert("name".into(), json!(name));
    }
    if !p.group().is_empty() {
        details.insert("group".into(), json!(p.group()));
    }
    details.insert("kind".into(), json!(p.resource));
    fail(req, 403, "Forbidden", &message, Some(Value::Object(details)))
}

/// Answers one request.
pub fn handle(shared: &Shared, mut req: Request) -> Reply {
    if req.header("Content-Type").is_some_and(|t| t.starts_with("application/vnd.kubernetes.protobuf"))
        && let Some(obj) = super::proto::decode(&req.body)
    {
        req.body = serde_json::to_vec(&obj).unwrap_or_default();
        for (name, value) in &mut req.headers {
            if name.eq_ignore_ascii_case("Content-Type") {
                *value = "application/json".into();
            }
        }
    }
    let who = authenticate(shared, &req);
    if let Ok(mut seen) = shared.requests.lock() {
        seen.push(Exchange {
            method: req.method.clone(),
            path: req.path.clone(),
            query: req.query.clone(),
            content_type: req.header("Content-Type").map(str::to_owned),
            user: who.as_ref().map_or_else(|()| "<unauthorized>".to_owned(), Who::user),
            body: String::from_utf8_lossy(&req.body).into_owned(),
        });
    }
    let Ok(who) = who else {
        return fail(&req, 401, "Unauthorized", "Unauthorized", None);
    };
    let path = req.path.trim_end_matches('/').to_owned();
    if req.header("Content-Type").is_some_and(|t| t.starts_with("application/vnd.kubernetes.protobuf"))
        && !req.body.is_empty()
    {
        // Protobuf of a kind `proto` does not know: the real server would decode it; this one
        // cannot, and says so the way the apiserver rejects a media type it does not serve.
        return fail(&req, 415, "UnsupportedMediaType", "415: Unsupported Media Type", Some(json!({})));
    }
    let public = ["/version", "/healthz", "/readyz", "/livez"];
    if public.contains(&path.as_str()) {
        if path == "/version" {
            return json_reply(&req, 200, &shared.discovery["/version"]);
        }
        return text(200, "ok");
    }
    if req.method == "POST" && who != Who::Anonymous {
        if path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews" {
            return reviews(&req, &who, "SelfSubjectAccessReview");
        }
        if path == "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews" {
            return reviews(&req, &who, "SelfSubjectRulesReview");
        }
    }
    let Some(p) = parse_path(&path) else {
        if who == Who::Anonymous {
            let message = format!("forbidden: User \"system:anonymous\" cannot get path \"{}\"", req.path);
            return fail(&req, 403, "Forbidden", &message, Some(json!({})));
        }
        if let Some(body) = shared.discovery.get(&path) {
            return json_reply(&req, 200, body);
        }
        if path.starts_with("/apis/") || path.starts_with("/api/") {
            // 03b: a removed API (policy/v1beta1) answers this Status, not the text 404.
            let message = "the server could not find the requested resource";
            return fail(&req, 404, "NotFound", message, Some(json!({})));
        }
        // 01-discovery: unknown paths (and /openapi/v2, /openapi/v3, never recorded).
        return text(404, "404 page not found\n");
    };
    let watch = matches!(req.param("watch"), Some("1" | "true"));
    let verb = match (req.method.as_str(), p.name.is_some()) {
        ("GET", _) if watch => "watch",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "get",
    };
    let verb = if p.sub.as_deref() == Some("token") { "create" } else { verb };
    let authz_resource = match &p.sub {
        Some(sub) if sub == "log" || sub == "token" => format!("{}/{sub}", p.resource),
        _ => p.resource.clone(),
    };
    if authorize(&who, verb, p.group(), &authz_resource, p.namespace.as_deref()).is_err() {
        return forbidden(&req, &who, verb, &p);
    }
    match (req.method.as_str(), &p.name, p.sub.as_deref()) {
        ("GET", None, _) if watch => watch_reply(shared, &req, &p),
        ("GET", None, _) => list(shared, &req, &p),
        ("GET", Some(name), Some("log")) => super::kubelet::logs(shared, &req, &p, name),
        ("GET", Some(name), _) => get(shared, &req, &p, name),
        ("POST", Some(name), Some("token")) => token_request(shared, &req, &p, name),
        ("POST", None, _) => super::apply::create(shared, &req, &p, &who),
        ("PUT", Some(name), _) => super::apply::update(shared, &req, &p, name),
        ("PATCH", Some(name), _) => {
            race(shared, &req.path);
            super::apply::patch(shared, &req, &p, name)
        }
        ("DELETE", Some(name), _) => delete(shared, &req, &p, name),
        _ => fail(
            &req,
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
            Some(json!({})),
        ),
    }
}

/// Runs the change a test queued for this object's next PATCH (`KubeApi::before_next_patch`).
fn race(shared: &Shared, path: &str) {
    let change = shared.races.lock().ok().and_then(|mut races| {
        let at = races.iter().position(|(queued, _)| queued == path)?;
        Some(races.remove(at).1)
    });
    let Some(change) = change else { return };
    let Some((resource, ns, name)) = path_key(path) else { return };
    let Ok(mut store) = shared.store.lock() else { return };
    if let Some(mut object) = store.get(&resource, &ns, &name).cloned() {
        change(&mut object);
        store.write(&resource, object);
    }
}

/// Answers the two `authorization.k8s.io` reviews (they are not stored resources).
pub fn reviews(req: &Request, who: &Who, kind: &str) -> Reply {
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(json!({}));
    let spec = body.get("spec").cloned().unwrap_or(json!({}));
    if kind == "SelfSubjectRulesReview" {
        // 07-incluster #300: recorded only for `lister`; other identities get the same shape.
        let resource_rules: Vec<Value> = std::iter::once(json!({"verbs": ["create"], "apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]}))
            .chain(rules(who).into_iter().map(|(res, verbs, _, _)| json!({"verbs": verbs, "apiGroups": [""], "resources": [res]})))
            .collect();
        let out = json!({"kind": kind, "apiVersion": "authorization.k8s.io/v1", "metadata": {"creationTimestamp": null}, "spec": {},
            "status": {"resourceRules": resource_rules, "nonResourceRules": [], "incomplete": false}});
        return json_reply(req, 201, &out);
    }
    let attrs = &spec["resourceAttributes"];
    let decision = if attrs.is_object() {
        authorize(
            who,
            attrs["verb"].as_str().unwrap_or(""),
            attrs["group"].as_str().unwrap_or(""),
            attrs["resource"].as_str().unwrap_or(""),
            attrs["namespace"].as_str(),
        )
    } else {
        // Non-resource URLs: discovery is open to every authenticated user (system:discovery).
        Ok(None)
    };
    let status = match decision {
        Ok(Some(reason)) => json!({"allowed": true, "reason": reason}),
        Ok(None) => json!({"allowed": true}),
        Err(()) => json!({"allowed": false}),
    };
    let manager = super::apply::manager(req);
    let entry = json!([{"manager": manager, "operation": "Update", "apiVersion": "authorization.k8s.io/v1", "time": now(), "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": super::apply::fields_of(&spec, true)}}]);
    let out = json!({"kind": kind, "apiVersion": "authorization.k8s.io/v1", "metadata": {"creationTimestamp": null, "managedFields": entry}, "spec": spec, "status": status});
    json_reply(req, 201, &out)
}

fn item_of(obj: &Value, view: View) -> Value {
    let mut item = if view == View::EventsV1 { store::event_v1(obj, false) } else { obj.clone() };
    if let Some(m) = item.as_object_mut() {
        m.remove("kind");
        m.remove("apiVersion");
    }
    item
}

fn view_of(p: &ApiPath) -> View {
    if p.gv == "events.k8s.io/v1" { View::EventsV1 } else { View::Plain }
}

fn list(shared: &Shared, req: &Request, p: &ApiPath) -> Reply {
    let filter = Filter::parse(req.param("fieldSelector"), req.param("labelSelector"));
    let Ok(store) = shared.store.lock() else { return fail(req, 500, "InternalError", "lock", None) };
    let mut items = store.list(&p.resource, p.namespace.as_deref(), &filter);
    let rv = store.rv;
    drop(store);
    let mut meta = serde_json::Map::new();
    meta.insert("resourceVersion".into(), json!(rv.to_string()));
    if let Some(token) = req.param("continue").filter(|t| !t.is_empty()) {
        // {"v":"meta.k8s.io/v1","rv":N,"start":"NS/NAME\u0000"} as in 06-lists #348/#349; served
        // from the current state, not from the snapshot at N as etcd would.
        let decoded =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).unwrap_or_default();
        let start = serde_json::from_slice::<Value>(&decoded)
            .ok()
            .and_then(|v| v["start"].as_str().map(str::to_owned))
            .unwrap_or_default();
        items.retain(|o| {
            let k = format!(
                "{}/{}",
                o["metadata"]["namespace"].as_str().unwrap_or(""),
                o["metadata"]["name"].as_str().unwrap_or("")
            );
            k.as_str() >= start.trim_end_matches('\0')
        });
    }
    if let Some(limit) = req.param("limit").and_then(|l| l.parse::<usize>().ok()).filter(|l| *l > 0)
        && items.len() > limit
    {
        let last = &items[limit - 1]["metadata"];
        let start =
            format!("{}/{}\u{0}", last["namespace"].as_str().unwrap_or(""), last["name"].as_str().unwrap_or(""));
        let token = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": start});
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(go_json(&token, false).trim_ascii_end());
        meta.insert("continue".into(), json!(token));
        meta.insert("remainingItemCount".into(), json!(items.len() - limit));
        items.truncate(limit);
    }
    if req.header("Accept").is_some_and(|a| a.contains("as=Table")) {
        return json_reply(req, 200, &super::table::table(p, &items, &Value::Object(meta)));
    }
    let view = view_of(p);
    let out = json!({"kind": format!("{}List", p.kind), "apiVersion": p.gv, "metadata": meta,
        "items": items.iter().map(|o| item_of(o, view)).collect::<Vec<_>>()});
    json_reply(req, 200, &out)
}

fn get(shared: &Shared, req: &Request, p: &ApiPath, name: &str) -> Reply {
    let ns = p.namespace.clone().unwrap_or_default();
    let obj = shared.store.lock().ok().and_then(|s| s.get(&p.resource, &ns, name).cloned());
    let Some(obj) = obj else { return not_found(req, &p.resource, name) };
    if req.header("Accept").is_some_and(|a| a.contains("as=Table")) {
        return json_reply(
            req,
            200,
            &super::table::table(
                p,
                std::slice::from_ref(&obj),
                &json!({"resourceVersion": obj["metadata"]["resourceVersion"]}),
            ),
        );
    }
    let obj = if view_of(p) == View::EventsV1 { store::event_v1(&obj, true) } else { obj };
    json_reply(req, 200, &obj)
}

fn watch_reply(shared: &Shared, req: &Request, p: &ApiPath) -> Reply {
    let filter = Filter::parse(req.param("fieldSelector"), req.param("labelSelector"));
    let view = view_of(p);
    let (tx, rx) = std::sync::mpsc::channel();
    let Ok(mut store) = shared.store.lock() else { return fail(req, 500, "InternalError", "lock", None) };
    let since = req.param("resourceVersion").and_then(|rv| rv.parse::<u64>().ok()).filter(|rv| *rv > 0);
    let ns_ok = |o: &Value| p.namespace.as_deref().is_none_or(|ns| o["metadata"]["namespace"].as_str() == Some(ns));
    let first: Vec<Vec<u8>> = match since {
        // Unset or "0": the current objects as ADDED, then changes.
        None => store
            .list(&p.resource, p.namespace.as_deref(), &filter)
            .iter()
            .map(|o| store::watch_line("ADDED", o, view))
            .collect(),
        Some(rv) => store
            .history
            .iter()
            .filter(|(at, res, _, o)| *at > rv && *res == p.resource && ns_ok(o) && filter.matches(o))
            .map(|(_, _, kind, o)| store::watch_line(kind, o, view))
            .collect(),
    };
    store.watchers.push(store::Watcher {
        resource: p.resource.clone(),
        namespace: p.namespace.clone(),
        filter,
        view,
        tx,
    });
    drop(store);
    // The apiserver's default is a random 30–60 min; clients (kube-rs 290 s) always set one.
    let timeout = req.param("timeoutSeconds").and_then(|t| t.parse().ok()).unwrap_or(1800);
    Reply::Watch { first, rx, deadline: Instant::now() + Duration::from_secs(timeout) }
}

fn delete(shared: &Shared, req: &Request, p: &ApiPath, name: &str) -> Reply {
    let ns = p.namespace.clone().unwrap_or_default();
    if p.resource == "pods" {
        return super::kubelet::delete_pod(shared, req, &ns, name);
    }
    let dry = req.param("dryRun") == Some("All");
    let options: Value = serde_json::from_slice(&req.body).unwrap_or(json!({}));
    let foreground =
        req.param("propagationPolicy") == Some("Foreground") || options["propagationPolicy"] == "Foreground";
    let Ok(mut store) = shared.store.lock() else { return fail(req, 500, "InternalError", "lock", None) };
    let Some(obj) = store.get(&p.resource, &ns, name).cloned() else {
        drop(store);
        return not_found(req, &p.resource, name);
    };
    if foreground && !dry {
        // 02b #427: the object comes back with deletionTimestamp and the foregroundDeletion
        // finalizer; there is no garbage collector here, so it is removed right after.
        let mut marked = obj.clone();
        marked["metadata"]["deletionTimestamp"] = json!(now());
        marked["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        marked["metadata"]["finalizers"] = json!(["foregroundDeletion"]);
        let marked = store.write(&p.resource, reorder_meta(marked));
        store.delete(&p.resource, &ns, name);
        drop(store);
        return json_reply(req, 200, &marked);
    }
    if !dry {
        store.delete(&p.resource, &ns, name);
    }
    drop(store);
    let out = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
        "details": {"name": name, "group": p.group(), "kind": p.resource, "uid": obj["metadata"]["uid"]}});
    let mut out = out;
    if p.group().is_empty() {
        out["details"].as_object_mut().map(|d| d.remove("group"));
    }
    json_reply(req, 200, &out)
}

/// Metadata keys in the order the apiserver writes them.
pub fn reorder_meta(mut obj: Value) -> Value {
    const ORDER: &[&str] = &[
        "name",
        "generateName",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
    ];
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        let mut out = serde_json::Map::new();
        for k in ORDER {
            if let Some(v) = meta.remove(*k) {
                out.insert((*k).into(), v);
            }
        }
        out.append(meta);
        *meta = out;
    }
    obj
}

fn token_request(shared: &Shared, req: &Request, p: &ApiPath, name: &str) -> Reply {
    let ns = p.namespace.clone().unwrap_or_default();
    let sa = shared.store.lock().ok().and_then(|s| s.get("serviceaccounts", &ns, name).cloned());
    let Some(sa) = sa else { return not_found(req, "serviceaccounts", name) };
    let token = format!("sa-{}", uuid().replace('-', ""));
    if let Ok(mut tokens) = shared.tokens.lock() {
        tokens.insert(token.clone(), Who::Sa { ns: ns.clone(), name: name.to_owned() });
    }
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(json!({}));
    let seconds = body["spec"]["expirationSeconds"].as_u64().unwrap_or(3600);
    let expires = std::time::SystemTime::now() + Duration::from_secs(seconds);
    // 07-incluster #291, with an opaque token instead of a signed JWT (only this server reads it).
    let out = json!({"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": sa["metadata"]["creationTimestamp"]},
        "spec": {"audiences": body["spec"].get("audiences").cloned().unwrap_or(json!(["https://kubernetes.default.svc.cluster.local"])), "expirationSeconds": seconds, "boundObjectRef": null},
        "status": {"token": token, "expirationTimestamp": humantime::format_rfc3339_seconds(expires).to_string()}});
    json_reply(req, 201, &out)
}

/// Fills in what the apiserver would and stores the object.
pub fn put(shared: &Shared, mut obj: Value) {
    let api_version = obj["apiVersion"].as_str().unwrap_or("v1").to_owned();
    let kind = obj["kind"].as_str().unwrap_or("").to_owned();
    let Some(&(_, resource, _, namespaced)) = RESOURCES
        .iter()
        .find(|(g, _, k, _)| *g == api_version && *k == kind)
        .or_else(|| RESOURCES.iter().find(|(_, _, k, _)| *k == kind))
    else {
        panic!("put: unknown kind {kind}");
    };
    let meta = &mut obj["metadata"];
    if meta.get("uid").is_none() {
        meta["uid"] = json!(uuid());
    }
    if meta.get("creationTimestamp").is_none() {
        meta["creationTimestamp"] = json!(now());
    }
    if namespaced && meta.get("namespace").is_none() {
        meta["namespace"] = json!("default");
    }
    if kind == "Namespace" {
        let name = meta["name"].clone();
        meta["labels"]["kubernetes.io/metadata.name"] = name;
        if obj.get("spec").is_none() {
            obj["spec"] = json!({"finalizers": ["kubernetes"]});
        }
        if obj.get("status").is_none() {
            obj["status"] = json!({"phase": "Active"});
        }
    }
    let obj = reorder_meta(obj);
    if let Ok(mut store) = shared.store.lock() {
        store.write(resource, obj);
    }
}

/// The objects a fresh cluster has.
pub fn seed(shared: &Shared) {
    for ns in ["default", "kube-node-lease", "kube-public", "kube-system", "regcred-pods"] {
        put(
            shared,
            json!({"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": ns,
            "managedFields": [{"manager": "kube-apiserver", "operation": "Update", "apiVersion": "v1", "time": now(), "fieldsType": "FieldsV1",
            "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:kubernetes.io/metadata.name": {}}}}}]}}),
        );
        put(
            shared,
            json!({"kind": "ServiceAccount", "apiVersion": "v1", "metadata": {"name": "default", "namespace": ns}}),
        );
    }
    for (sa, role, binding, rules) in [
        (
            "lister",
            "pod-lister",
            "lister-pod-lister",
            json!([{"verbs": ["get", "list", "watch"], "apiGroups": [""], "resources": ["pods"]}, {"verbs": ["list"], "apiGroups": [""], "resources": ["events"]}]),
        ),
        (
            "pod-reader",
            "get-pods",
            "pod-reader-get-pods",
            json!([{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]),
        ),
    ] {
        put(
            shared,
            json!({"kind": "ServiceAccount", "apiVersion": "v1", "metadata": {"name": sa, "namespace": "regcred-pods"}}),
        );
        put(
            shared,
            json!({"kind": "Role", "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": {"name": role, "namespace": "regcred-pods"}, "rules": rules}),
        );
        put(
            shared,
            json!({"kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": {"name": binding, "namespace": "regcred-pods"},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": "regcred-pods"}],
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role}}),
        );
    }
    // node-1 as 06-lists #363 shows it (NotReady, not-ready taint), with fresh uid and times.
    let lists = std::fs::read_to_string(shared.fixtures.join("api/06-lists.json")).expect("06-lists");
    let lists: Value = serde_json::from_str(&lists).expect("06-lists json");
    let mut node = serde_json::Map::new();
    node.insert("kind".into(), json!("Node"));
    node.insert("apiVersion".into(), json!("v1"));
    node.extend(lists_node(&lists));
    put(shared, Value::Object(node));
}

fn lists_node(lists: &Value) -> serde_json::Map<String, Value> {
    let node = lists
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["request"]["path"] == "/api/v1/nodes")
        .map(|e| e["response"]["body"]["items"][0].clone());
    let mut node = node.and_then(|n| n.as_object().cloned()).unwrap_or_default();
    if let Some(meta) = node.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("uid");
        meta.remove("creationTimestamp");
        meta.remove("resourceVersion");
    }
    node
}
