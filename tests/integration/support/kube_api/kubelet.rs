//! The node: Pod defaults the apiserver adds, the kubelet's replay of a recorded case (status
//! updates and Events with the recorded image swapped for the Pod's, times compressed), graceful
//! deletion and container logs.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};

use super::Shared;
use super::handlers::{ApiPath, fail, json_reply, not_found, reorder_meta};
use super::http::{Reply, Request};
use super::store::{now, uuid};

/// The recorded Pod cases (files 05a…05l).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodCase {
    WrongPassword,
    RightPassword,
    MissingSecret,
    MissingTag,
    InvalidImageName,
    NoEchoInImage,
    TokenWrongPassword,
    NoPullSecret,
    CachedIfNotPresent,
    TlsRegistry,
    NotListening,
    TokenRightPassword,
}

impl PodCase {
    /// The recording's file name under `api/`.
    pub fn file(self) -> &'static str {
        match self {
            PodCase::WrongPassword => "05a-pod-wrong-password.json",
            PodCase::RightPassword => "05b-pod-right-password.json",
            PodCase::MissingSecret => "05c-pod-missing-secret.json",
            PodCase::MissingTag => "05d-pod-missing-tag.json",
            PodCase::InvalidImageName => "05e-pod-invalid-image-name.json",
            PodCase::NoEchoInImage => "05f-pod-right-password-no-echo-in-image.json",
            PodCase::TokenWrongPassword => "05g-pod-token-registry-wrong-password.json",
            PodCase::NoPullSecret => "05h-pod-no-pull-secret.json",
            PodCase::CachedIfNotPresent => "05i-pod-cached-image-ifnotpresent-wrong-password.json",
            PodCase::TlsRegistry => "05j-pod-tls-registry-right-password.json",
            PodCase::NotListening => "05k-pod-registry-not-listening.json",
            PodCase::TokenRightPassword => "05l-pod-token-registry-right-password.json",
        }
    }
}

/// Watch lines: (seconds after the watch started, event type, object).
pub type Lines = Vec<(f64, String, Value)>;

/// The recorded watch lines of a case: (pod lines, event lines), each (t, type, object).
pub fn recorded(case: PodCase) -> (Lines, Lines) {
    let file = super::golden(&format!("api/{}", case.file()));
    let mut pods = Vec::new();
    let mut events = Vec::new();
    for e in file.as_array().into_iter().flatten() {
        let Some(lines) = e["response"]["watch_lines"].as_array() else { continue };
        let target =
            if e["request"]["path"].as_str().unwrap_or("").ends_with("/pods") { &mut pods } else { &mut events };
        for l in lines {
            target.push((
                l["t"].as_f64().unwrap_or(0.0),
                l["event"]["type"].as_str().unwrap_or("").to_owned(),
                l["event"]["object"].clone(),
            ));
        }
    }
    (pods, events)
}

/// (host, repository, tag) of an image reference.
fn split_image(image: &str) -> (String, String, String) {
    let (first, rest) = image.split_once('/').unwrap_or(("", image));
    let (host, path) = if first.contains(['.', ':']) || first == "localhost" { (first, rest) } else { ("", image) };
    let (repo, tag) = match path.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, t),
        _ => (path, "latest"),
    };
    (host.to_owned(), repo.to_owned(), tag.to_owned())
}

/// Rewrites recorded text for another image: the whole reference, `host/repo@`, the manifest
/// URL path and the registry host.
fn substitute(value: &Value, recorded_image: &str, image: &str) -> Value {
    let (rh, rr, rt) = split_image(recorded_image);
    let (h, r, t) = split_image(image);
    let mut text = value.to_string();
    let pairs = [
        (recorded_image.to_owned(), image.to_owned()),
        (format!("{rh}/{rr}@"), format!("{h}/{r}@")),
        (format!("/v2/{rr}/manifests/{rt}"), format!("/v2/{r}/manifests/{t}")),
    ];
    for (i, (from, _)) in pairs.iter().enumerate() {
        text = text.replace(from.as_str(), &format!("\u{1}{i}\u{1}"));
    }
    if !rh.is_empty() && !h.is_empty() {
        text = text.replace(&rh, "\u{1}h\u{1}");
    }
    for (i, (_, to)) in pairs.iter().enumerate() {
        text = text.replace(&format!("\u{1}{i}\u{1}"), to);
    }
    text = text.replace("\u{1}h\u{1}", &h);
    serde_json::from_str(&text).unwrap_or_else(|_| value.clone())
}

/// The recordings' container is `test`; a Pod with another container name sees its own.
fn rename_container(obj: &mut Value, recorded_pod: &Value, pod: &Value) {
    let (Some(from), Some(to)) =
        (recorded_pod["spec"]["containers"][0]["name"].as_str(), pod["spec"]["containers"][0]["name"].as_str())
    else {
        return;
    };
    if from == to {
        return;
    }
    let text = obj
        .to_string()
        .replace(&format!("\"name\":\"{from}\""), &format!("\"name\":\"{to}\""))
        .replace(&format!("containers{{{from}}}"), &format!("containers{{{to}}}"))
        .replace(&format!("container {from}"), &format!("container {to}"))
        .replace(&format!("[{from}]"), &format!("[{to}]"));
    if let Ok(v) = serde_json::from_str(&text) {
        *obj = v;
    }
}

fn parse_time(s: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339(s).ok()
}

/// Moves every recorded timestamp: `base + (t - recorded_base) * scale`.
fn rebase(value: &mut Value, recorded_base: SystemTime, base: SystemTime, scale: f64) {
    match value {
        Value::String(s) if s.len() == 20 && s.ends_with('Z') && s.as_bytes().get(10) == Some(&b'T') => {
            if let Some(t) = parse_time(s) {
                let offset = t.duration_since(recorded_base).unwrap_or_default().as_secs_f64() * scale;
                *s = humantime::format_rfc3339_seconds(base + Duration::from_secs_f64(offset)).to_string();
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|v| rebase(v, recorded_base, base, scale)),
        Value::Object(m) => m.values_mut().for_each(|v| rebase(v, recorded_base, base, scale)),
        _ => {}
    }
}

fn case_for(shared: &Shared, pod: &Value) -> Option<PodCase> {
    let image = pod["spec"]["containers"][0]["image"].as_str()?;
    if let Some(case) = shared.plays.lock().ok()?.get(image).copied() {
        return Some(case);
    }
    let judges = shared.judges.lock().ok()?;
    let judge = judges.iter().find(|judge| image.starts_with(&format!("{}/", judge.host)))?;
    Some(judge.case(shared, pod, image))
}

/// A registry the kubelet stand-in judges Pods for (see `KubeApi::kubelet_judges`).
pub struct Judge {
    pub host: String,
    pub user: String,
    pub password: String,
    pub tags: Vec<String>,
}

impl Judge {
    fn case(&self, shared: &Shared, pod: &Value, image: &str) -> PodCase {
        use base64::Engine as _;
        let path = &image[self.host.len() + 1..];
        let tag = path.rsplit_once(':').map_or("latest", |(_, tag)| tag);
        if !self.tags.iter().any(|known| known == tag) {
            return PodCase::MissingTag;
        }
        let ns = pod["metadata"]["namespace"].as_str().unwrap_or("default");
        let names: Vec<&str> = pod["spec"]["imagePullSecrets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|reference| reference["name"].as_str())
            .collect();
        let Ok(store) = shared.store.lock() else { return PodCase::NoPullSecret };
        let secrets: Vec<&Value> = names.iter().filter_map(|name| store.get("secrets", ns, name)).collect();
        if secrets.is_empty() {
            return if names.is_empty() { PodCase::NoPullSecret } else { PodCase::MissingSecret };
        }
        let mut holds_host = false;
        for secret in secrets {
            let Some(data) = secret["data"][".dockerconfigjson"].as_str() else { continue };
            let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(data) else { continue };
            let Ok(config) = serde_json::from_slice::<Value>(&bytes) else { continue };
            let entry = &config["auths"][&self.host];
            if entry.is_null() {
                continue;
            }
            holds_host = true;
            let expected = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", self.user, self.password));
            if (entry["username"] == self.user.as_str() && entry["password"] == self.password.as_str())
                || entry["auth"] == expected.as_str()
            {
                return PodCase::RightPassword;
            }
        }
        if holds_host { PodCase::WrongPassword } else { PodCase::NoPullSecret }
    }
}

fn pod_alive(shared: &Shared, ns: &str, name: &str, uid: &Value) -> Option<Value> {
    let store = shared.store.lock().ok()?;
    store.get("pods", ns, name).filter(|p| p["metadata"]["uid"] == *uid).cloned()
}

/// Starts the kubelet's replay for a Pod just created (when its image has a case).
pub fn pod_created(shared: &Shared, pod: &Value) {
    let Some(case) = case_for(shared, pod) else { return };
    let Some(shared) = shared.me.get().and_then(std::sync::Weak::upgrade) else { return };
    let pod = pod.clone();
    let _ = std::thread::Builder::new().name("kube-api-kubelet".into()).spawn(move || play(&shared, &pod, case));
}

fn play(shared: &Arc<Shared>, pod: &Value, case: PodCase) {
    let (pod_lines, event_lines) = recorded(case);
    let Some((t0, _, recorded_pod)) = pod_lines.first().cloned() else { return };
    let recorded_image = recorded_pod["spec"]["containers"][0]["image"].as_str().unwrap_or("").to_owned();
    let image = pod["spec"]["containers"][0]["image"].as_str().unwrap_or("").to_owned();
    let recorded_base = parse_time(recorded_pod["metadata"]["creationTimestamp"].as_str().unwrap_or(""))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let (ns, name, uid) = (
        pod["metadata"]["namespace"].as_str().unwrap_or("").to_owned(),
        pod["metadata"]["name"].as_str().unwrap_or("").to_owned(),
        pod["metadata"]["uid"].clone(),
    );
    let base = SystemTime::now();
    let scale = shared.scale();
    let mut steps: Vec<(f64, bool, Value)> = pod_lines
        .iter()
        .skip(1)
        .take_while(|(_, _, o)| o["metadata"].get("deletionTimestamp").is_none())
        .map(|(t, _, o)| (*t, true, o.clone()))
        .chain(event_lines.iter().map(|(t, _, o)| (*t, false, o.clone())))
        .collect();
    steps.sort_by(|a, b| a.0.total_cmp(&b.0));
    let start = Instant::now();
    let mut names = std::collections::HashMap::new();
    for (t, is_pod, recorded_obj) in steps {
        let due = start + Duration::from_secs_f64(((t - t0) * scale).max(0.0));
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        let Some(live) = pod_alive(shared, &ns, &name, &uid) else { return };
        if live["metadata"].get("deletionTimestamp").is_some() {
            return;
        }
        let mut obj = substitute(&recorded_obj, &recorded_image, &image);
        rebase(&mut obj, recorded_base, base, scale);
        rename_container(&mut obj, &recorded_pod, pod);
        let Ok(mut store) = shared.store.lock() else { return };
        if is_pod {
            let mut new = live.clone();
            new["status"] = obj["status"].clone();
            // The scheduler's binding, which the recordings lack (their Pods named node-1
            // themselves): a Pod the kubelet runs is on the recorded node.
            if new["spec"]["nodeName"].is_null() {
                new["spec"]["nodeName"] = recorded_pod["spec"]["nodeName"].clone();
            }
            let kubelet_entry = obj["metadata"]["managedFields"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|e| e["manager"] == "kubelet")
                .cloned();
            if let (Some(mut entry), Some(list)) = (kubelet_entry, new["metadata"]["managedFields"].as_array_mut()) {
                entry["time"] = json!(now());
                list.retain(|e| e["manager"] != "kubelet");
                list.push(entry);
            }
            store.write("pods", new);
        } else {
            let recorded_name = obj["metadata"]["name"].as_str().unwrap_or("").to_owned();
            let event_name = names
                .entry(recorded_name)
                .or_insert_with(|| format!("{name}.{}", &uuid().replace('-', "")[..16]))
                .clone();
            let existing = store.get("events", &ns, &event_name).cloned();
            let meta = &mut obj["metadata"];
            meta["name"] = json!(event_name);
            meta["namespace"] = json!(ns);
            meta["uid"] = existing.as_ref().map_or_else(|| json!(uuid()), |e| e["metadata"]["uid"].clone());
            if let Some(e) = &existing {
                meta["creationTimestamp"] = e["metadata"]["creationTimestamp"].clone();
            }
            let involved = &mut obj["involvedObject"];
            involved["name"] = json!(name);
            involved["namespace"] = json!(ns);
            involved["uid"] = uid.clone();
            involved["resourceVersion"] = pod["metadata"]["resourceVersion"].clone();
            store.write("events", obj);
        }
    }
}

/// What the apiserver adds to a new Pod (as 05's POST bodies → 201 bodies show).
pub fn pod_defaults(pod: &mut Value) {
    let spec = pod["spec"].as_object().cloned().unwrap_or_default();
    let suffix: String = uuid().chars().filter(char::is_ascii_lowercase).chain("xxxxx".chars()).take(5).collect();
    let volume = format!("kube-api-access-{suffix}");
    let mut containers = spec.get("containers").cloned().unwrap_or(json!([]));
    for c in containers.as_array_mut().into_iter().flatten() {
        let image = c["image"].as_str().unwrap_or("").to_owned();
        let mut out = serde_json::Map::new();
        for k in ["name", "image", "command", "args", "workingDir", "ports", "env"] {
            if let Some(v) = c.get(k) {
                out.insert(k.into(), v.clone());
            }
        }
        out.insert("resources".into(), c.get("resources").cloned().unwrap_or(json!({})));
        let mut mounts = c.get("volumeMounts").cloned().unwrap_or(json!([]));
        if let Some(m) = mounts.as_array_mut() {
            m.push(
                json!({"name": volume, "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}),
            );
        }
        out.insert("volumeMounts".into(), mounts);
        out.insert("terminationMessagePath".into(), json!("/dev/termination-log"));
        out.insert("terminationMessagePolicy".into(), json!("File"));
        let latest = !image.rsplit('/').next().unwrap_or("").contains(':') || image.ends_with(":latest");
        let policy = c.get("imagePullPolicy").cloned().unwrap_or(json!(if latest { "Always" } else { "IfNotPresent" }));
        out.insert("imagePullPolicy".into(), policy);
        for (k, v) in c.as_object().into_iter().flatten() {
            out.entry(k.clone()).or_insert_with(|| v.clone());
        }
        *c = Value::Object(out);
    }
    let mut volumes = spec.get("volumes").cloned().unwrap_or(json!([]));
    if let Some(v) = volumes.as_array_mut() {
        v.push(json!({"name": volume, "projected": {"sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
        {"configMap": {"name": "openshift-service-ca.crt", "items": [{"key": "service-ca.crt", "path": "service-ca.crt"}]}}], "defaultMode": 420}}));
    }
    let sa = spec.get("serviceAccountName").cloned().unwrap_or(json!("default"));
    let defaults = [
        ("volumes", volumes),
        ("containers", containers),
        ("restartPolicy", json!("Always")),
        ("terminationGracePeriodSeconds", json!(30)),
        ("dnsPolicy", json!("ClusterFirst")),
        ("serviceAccountName", sa.clone()),
        ("serviceAccount", sa),
        ("nodeName", Value::Null),
        ("hostNetwork", Value::Null),
        ("securityContext", json!({})),
        ("imagePullSecrets", Value::Null),
        ("schedulerName", json!("default-scheduler")),
        (
            "tolerations",
            json!([{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]),
        ),
        ("priority", json!(0)),
        ("enableServiceLinks", json!(true)),
        ("preemptionPolicy", json!("PreemptLowerPriority")),
    ];
    let mut out = serde_json::Map::new();
    for (k, default) in defaults {
        let v = match k {
            "volumes" | "containers" | "serviceAccount" => Some(default),
            _ => spec.get(k).cloned().or(Some(default).filter(|d| !d.is_null())),
        };
        if let Some(v) = v {
            out.insert(k.into(), v);
        }
    }
    for (k, v) in spec {
        out.entry(k).or_insert(v);
    }
    pod["spec"] = Value::Object(out);
    if pod.get("status").is_none() {
        pod["status"] = json!({"phase": "Pending", "qosClass": "BestEffort"});
    }
}

/// DELETE of a Pod: 200 with the Pod (deletionTimestamp, deletionGracePeriodSeconds), then on
/// watches MODIFIED, the kubelet's last status (as recorded), MODIFIED with grace 0, DELETED.
pub fn delete_pod(shared: &Shared, req: &Request, ns: &str, name: &str) -> Reply {
    let options: Value = serde_json::from_slice(&req.body).unwrap_or(json!({}));
    let Ok(mut store) = shared.store.lock() else { return fail(req, 500, "InternalError", "lock", None) };
    let Some(live) = store.get("pods", ns, name).cloned() else {
        drop(store);
        return not_found(req, "pods", name);
    };
    let phase = live["status"]["phase"].as_str().unwrap_or("");
    let terminal = phase == "Succeeded" || phase == "Failed";
    let grace = options["gracePeriodSeconds"]
        .as_u64()
        .or_else(|| req.param("gracePeriodSeconds").and_then(|g| g.parse().ok()))
        .unwrap_or_else(|| live["spec"]["terminationGracePeriodSeconds"].as_u64().unwrap_or(30));
    let grace = if terminal || live["spec"]["nodeName"].is_null() { 0 } else { grace };
    let mut marked = live.clone();
    let when = SystemTime::now() + Duration::from_secs(grace);
    marked["metadata"]["deletionTimestamp"] = json!(humantime::format_rfc3339_seconds(when).to_string());
    marked["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
    let marked = reorder_meta(marked);
    if req.param("dryRun") == Some("All") {
        drop(store);
        return json_reply(req, 200, &marked);
    }
    if live["spec"]["nodeName"].is_null() {
        // Never scheduled: the apiserver deletes at once (not recorded; upstream behaviour).
        store.delete("pods", ns, name);
        drop(store);
        return json_reply(req, 200, &marked);
    }
    let marked = store.write("pods", marked);
    if grace == 0 {
        store.delete("pods", ns, name);
        drop(store);
        return json_reply(req, 200, &marked);
    }
    drop(store);
    let case = case_for(shared, &live);
    if let Some(shared) = shared.me.get().and_then(std::sync::Weak::upgrade) {
        let (ns, name) = (ns.to_owned(), name.to_owned());
        let _ = std::thread::Builder::new()
            .name("kube-api-kubelet-kill".into())
            .spawn(move || finish_delete(&shared, &ns, &name, &live, case));
    }
    json_reply(req, 200, &marked)
}

fn finish_delete(shared: &Arc<Shared>, ns: &str, name: &str, live: &Value, case: Option<PodCase>) {
    let scale = shared.scale();
    // 05a: the kubelet writes its status once more ~0.01 s after the DELETE, confirms with grace 0
    // ~2.6 s after it, and the object goes. Without a case: the same 2.6 s, no status write.
    let mut final_at = 2.6;
    let start = Instant::now();
    if let Some(case) = case {
        let (pod_lines, _) = recorded(case);
        let deleting: Vec<_> = pod_lines
            .iter()
            .filter(|(_, k, o)| k == "MODIFIED" && o["metadata"].get("deletionTimestamp").is_some())
            .collect();
        if let Some((t_mark, _, _)) = deleting.first() {
            let recorded_image = pod_lines[0].2["spec"]["containers"][0]["image"].as_str().unwrap_or("").to_owned();
            let image = live["spec"]["containers"][0]["image"].as_str().unwrap_or("").to_owned();
            for (t, _, o) in deleting.iter().skip(1) {
                if o["metadata"]["deletionGracePeriodSeconds"] == 0 {
                    final_at = t - t_mark;
                    continue;
                }
                std::thread::sleep(
                    (start + Duration::from_secs_f64((t - t_mark) * scale)).saturating_duration_since(Instant::now()),
                );
                let mut status = substitute(&o["status"], &recorded_image, &image);
                rename_container(&mut status, &pod_lines[0].2, live);
                let rec_base = parse_time(pod_lines[0].2["metadata"]["creationTimestamp"].as_str().unwrap_or(""))
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                let base = parse_time(live["metadata"]["creationTimestamp"].as_str().unwrap_or(""))
                    .unwrap_or(SystemTime::now());
                rebase(&mut status, rec_base, base, scale);
                let Ok(mut store) = shared.store.lock() else { return };
                let Some(mut cur) = store.get("pods", ns, name).cloned() else { return };
                cur["status"] = status;
                store.write("pods", cur);
            }
        }
    }
    std::thread::sleep((start + Duration::from_secs_f64(final_at * scale)).saturating_duration_since(Instant::now()));
    let Ok(mut store) = shared.store.lock() else { return };
    let Some(mut cur) = store.get("pods", ns, name).cloned() else { return };
    cur["metadata"]["deletionTimestamp"] = json!(now());
    cur["metadata"]["deletionGracePeriodSeconds"] = json!(0);
    store.write("pods", cur);
    store.delete("pods", ns, name);
}

/// `GET …/pods/NAME/log`. Not recorded: the output is what `command: [echo, …]` prints once the
/// container terminated (the cases run `echo SUCCESS`); a container that has not started answers
/// 400 with the kubelet's wording (upstream `validateContainerLogStatus`), quoted from memory.
pub fn logs(shared: &Shared, req: &Request, p: &ApiPath, name: &str) -> Reply {
    let ns = p.namespace.clone().unwrap_or_default();
    let pod = shared.store.lock().ok().and_then(|s| s.get("pods", &ns, name).cloned());
    let Some(pod) = pod else { return not_found(req, "pods", name) };
    let container = req
        .param("container")
        .map(str::to_owned)
        .or_else(|| pod["spec"]["containers"][0]["name"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let spec = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == container.as_str())
        .cloned()
        .unwrap_or(Value::Null);
    let status = pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == container.as_str())
        .cloned();
    let state = status.as_ref().map_or(Value::Null, |s| s["state"].clone());
    if let Some(terminated) = state.get("terminated") {
        let started = terminated["reason"] != "StartError";
        let command: Vec<&str> = spec["command"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(spec["args"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .collect();
        let out = if started && command.first() == Some(&"echo") {
            format!("{}\n", command[1..].join(" "))
        } else {
            String::new()
        };
        let mut headers = super::handlers::common_headers("text/plain");
        headers.retain(|(n, _)| n != "Cache-Control");
        return Reply::Full { status: 200, headers, body: out.into_bytes() };
    }
    let reason = state["waiting"]["reason"].as_str().unwrap_or("ContainerCreating");
    let why = if reason == "ErrImagePull" || reason == "ImagePullBackOff" {
        "trying and failing to pull image"
    } else {
        reason
    };
    let message = format!("container \"{container}\" in pod \"{name}\" is waiting to start: {why}");
    fail(req, 400, "BadRequest", &message, None)
}
