//! Server-side apply (`PATCH application/apply-patch+yaml`) as 02-ssa-secret, 03-errors and
//! 03b recorded it: create 201, unchanged 200 with the same resourceVersion and times, changed
//! 200, `dryRun=All`, conflicts 409 naming the other manager unless `force=true`, fields a
//! manager stops applying removed when nobody else owns them, `stringData` folded into `data`.

use serde_json::{Value, json};

use super::Shared;
use super::apply::{
    Path, canonical, entries, entry, get_path, known_fields, leaves, namespace_missing, remove_path, secret_decode,
    set_path, store_entries, validate,
};
use super::handlers::{ApiPath, fail, json_reply};
use super::http::{Reply, Request};
use super::store::{now, uuid};

/// How the apiserver names a manager in a conflict (`"x"`, or `"x" using v1` for Update).
fn manager_label(raw: &Value) -> String {
    let name = format!("\"{}\"", raw["manager"].as_str().unwrap_or(""));
    if raw["operation"] == "Update" {
        format!("{name} using {}", raw["apiVersion"].as_str().unwrap_or("v1"))
    } else {
        name
    }
}

fn display(path: &Path) -> String {
    format!(".{}", path.join("."))
}

fn conflict_reply(req: &Request, mut conflicts: Vec<(String, Path)>) -> Reply {
    conflicts.sort();
    let message = if conflicts.len() == 1 {
        format!("Apply failed with 1 conflict: conflict with {}: {}", conflicts[0].0, display(&conflicts[0].1))
    } else {
        let mut lines = Vec::new();
        let mut last = String::new();
        for (m, path) in &conflicts {
            if *m != last {
                lines.push(format!("conflicts with {m}:"));
                last.clone_from(m);
            }
            lines.push(format!("- {}", display(path)));
        }
        format!("Apply failed with {} conflicts: {}", conflicts.len(), lines.join("\n"))
    };
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|(m, path)| json!({"reason": "FieldManagerConflict", "message": format!("conflict with {m}"), "field": display(path)}))
        .collect();
    fail(req, 409, "Conflict", &message, Some(json!({"causes": causes})))
}

fn without_managed(obj: &Value) -> Value {
    let mut o = obj.clone();
    o["metadata"].as_object_mut().map(|m| m.remove("managedFields"));
    o
}

/// The apply itself.
#[allow(clippy::too_many_lines, reason = "one apply, step by step as the apiserver does it")]
pub fn apply(shared: &Shared, req: &Request, p: &ApiPath, name: &str) -> Reply {
    let Some(mgr) = req.param("fieldManager").filter(|m| !m.is_empty()).map(str::to_owned) else {
        let details = json!({"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [{"reason": "FieldValueRequired", "message": "Required value: is required for apply patch", "field": "fieldManager"}]});
        let message =
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch";
        return fail(req, 422, "Invalid", message, Some(details));
    };
    let mut applied = match serde_yaml_ng::from_slice::<Value>(&req.body) {
        Ok(v) if v.is_object() => v,
        // 03 #167 says `yaml: line 3: did not find expected ',' or ']'` (go-yaml); the detail
        // after `yaml: ` here is serde_yaml_ng's wording, not go-yaml's.
        Ok(_) => {
            return fail(
                req,
                400,
                "BadRequest",
                "error decoding YAML: error converting YAML to JSON: yaml: not a mapping",
                None,
            );
        }
        Err(e) => {
            return fail(
                req,
                400,
                "BadRequest",
                &format!("error decoding YAML: error converting YAML to JSON: yaml: {e}"),
                None,
            );
        }
    };
    if let Some(body_name) = applied["metadata"]["name"].as_str().filter(|n| *n != name) {
        let message = format!("the name of the object ({body_name}) does not match the name on the URL ({name})");
        return fail(req, 400, "BadRequest", &message, None);
    }
    let ns = p.namespace.clone().unwrap_or_default();
    if let Some(known) = known_fields(&p.kind)
        && let Some((field, _)) = applied.as_object().into_iter().flatten().find(|(k, _)| !known.contains(&k.as_str()))
    {
        // 03b: 500 whatever fieldValidation says.
        let message = format!(
            "failed to create typed patch object ({ns}/{name}; /v1, Kind={}): .{field}: field not declared in schema",
            p.kind
        );
        return fail(req, 500, "", &message, None);
    }
    if let Some(reply) = namespace_missing(shared, req, p) {
        return reply;
    }
    applied["metadata"]["name"] = json!(name);
    if p.namespace.is_some() {
        applied["metadata"]["namespace"] = json!(ns);
    }
    if p.kind == "Secret" {
        let mut probe = applied.clone();
        if let Err(reply) = secret_decode(req, &mut probe) {
            return reply;
        }
    }
    let applied_leaves = leaves(&p.kind, &applied);
    let force = req.param("force") == Some("true");
    let dry = req.param("dryRun") == Some("All");
    let Ok(mut store) = shared.store.lock() else { return fail(req, 500, "InternalError", "lock", None) };
    let Some(live) = store.get(&p.resource, &ns, name).cloned() else {
        let mut obj = json!({"kind": p.kind, "apiVersion": p.gv, "metadata": {"name": name}});
        if p.namespace.is_some() {
            obj["metadata"]["namespace"] = json!(ns);
        }
        obj["metadata"]["uid"] = json!(uuid());
        obj["metadata"]["creationTimestamp"] = json!(now());
        for path in &applied_leaves {
            set_path(&mut obj, path, get_path(&applied, path).clone());
        }
        if p.kind == "Secret"
            && let Err(reply) = secret_decode(req, &mut obj)
        {
            return reply;
        }
        if let Err(reply) = validate(req, &p.kind, &obj, None) {
            return reply;
        }
        store_entries(&mut obj, vec![entry(&mgr, "Apply", &p.gv, applied_leaves)], &p.gv);
        let mut obj = canonical(&p.kind, obj);
        if !dry {
            obj = store.write(&p.resource, obj);
        }
        return json_reply(req, 201, &obj);
    };
    let mut list = entries(&live);
    let is_me = |raw: &Value| raw["manager"] == mgr.as_str() && raw["operation"] == "Apply";
    let mut conflicts = Vec::new();
    for e in list.iter().filter(|e| !is_me(&e.raw)) {
        for path in e.paths.iter().filter(|p| applied_leaves.contains(p)) {
            if get_path(&live, path) != get_path(&applied, path) {
                conflicts.push((manager_label(&e.raw), path.clone()));
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return conflict_reply(req, conflicts);
    }
    let conflicting: Vec<Path> = conflicts.into_iter().map(|(_, p)| p).collect();
    let mut new = live.clone();
    let previous: Vec<Path> = list.iter().find(|e| is_me(&e.raw)).map(|e| e.paths.clone()).unwrap_or_default();
    for e in list.iter_mut().filter(|e| !is_me(&e.raw)) {
        e.paths.retain(|p| !conflicting.contains(p));
    }
    for path in previous.iter().filter(|p| !applied_leaves.contains(p)) {
        let owned_elsewhere = list.iter().any(|e| !is_me(&e.raw) && e.paths.contains(path));
        if !owned_elsewhere {
            remove_path(&mut new, path);
        }
    }
    for path in &applied_leaves {
        set_path(&mut new, path, get_path(&applied, path).clone());
    }
    if p.kind == "Secret"
        && let Err(reply) = secret_decode(req, &mut new)
    {
        return reply;
    }
    if let Err(reply) = validate(req, &p.kind, &new, Some(&live)) {
        return reply;
    }
    let content_changed = without_managed(&canonical(&p.kind, new.clone())) != without_managed(&live);
    let others_changed = list.iter().zip(entries(&live)).any(|(a, b)| a.paths != b.paths);
    let mine_changed = previous != applied_leaves || !list.iter().any(|e| is_me(&e.raw));
    if !content_changed && !others_changed && !mine_changed {
        // 02 #100: unchanged → 200 with the same resourceVersion and managedFields times.
        return json_reply(req, 200, &live);
    }
    match list.iter_mut().find(|e| is_me(&e.raw)) {
        Some(e) => {
            e.paths.clone_from(&applied_leaves);
            if content_changed || mine_changed {
                e.raw["time"] = json!(now());
            }
        }
        None => list.push(entry(&mgr, "Apply", &p.gv, applied_leaves)),
    }
    store_entries(&mut new, list, &p.gv);
    let new = canonical(&p.kind, new);
    if dry {
        // 02 #102: the would-be object, resourceVersion not bumped.
        return json_reply(req, 200, &new);
    }
    let stored = store.write(&p.resource, new);
    json_reply(req, 200, &stored)
}
