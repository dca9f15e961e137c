//! Server-side printing (`Accept: application/json;as=Table;…`) for kubectl get. Pods follow
//! 06-lists #391 (column definitions copied from it); the other kinds were not recorded as Tables
//! and use upstream's columns (NAME, and the few kind columns listed below) with short
//! descriptions. Table watches (`kubectl get -w`) are not served: watches are plain JSON.

use std::sync::OnceLock;
use std::time::SystemTime;

use serde_json::{Value, json};

use super::handlers::ApiPath;

fn pod_columns() -> &'static Value {
    static COLUMNS: OnceLock<Value> = OnceLock::new();
    COLUMNS.get_or_init(|| {
        let lists = super::golden("api/06-lists.json");
        lists
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["response"]["body"]["kind"] == "Table")
            .map(|e| e["response"]["body"]["columnDefinitions"].clone())
            .unwrap_or(json!([]))
    })
}

fn column(name: &str, format: &str, priority: u8) -> Value {
    json!({"name": name, "type": "string", "format": format, "description": "", "priority": priority})
}

/// kubectl's `HumanDuration`.
pub fn age(created: &str) -> String {
    let Ok(at) = humantime::parse_rfc3339(created) else { return "<unknown>".into() };
    let secs = SystemTime::now().duration_since(at).map_or(0, |d| d.as_secs());
    let (mins, hours, days) = (secs / 60, secs / 3600, secs / 86400);
    if secs < 120 {
        format!("{secs}s")
    } else if mins < 10 {
        if secs.is_multiple_of(60) { format!("{mins}m") } else { format!("{mins}m{}s", secs % 60) }
    } else if mins < 180 {
        format!("{mins}m")
    } else if hours < 8 {
        if mins.is_multiple_of(60) { format!("{hours}h") } else { format!("{hours}h{}m", mins % 60) }
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 192 && !hours.is_multiple_of(24) {
        format!("{days}d{}h", hours % 24)
    } else {
        format!("{days}d")
    }
}

fn pod_status(pod: &Value) -> String {
    if pod["metadata"].get("deletionTimestamp").is_some() {
        return "Terminating".into();
    }
    let mut reason =
        pod["status"]["reason"].as_str().or(pod["status"]["phase"].as_str()).unwrap_or("Pending").to_owned();
    for c in pod["status"]["containerStatuses"].as_array().into_iter().flatten() {
        if let Some(r) = c["state"]["waiting"]["reason"].as_str() {
            r.clone_into(&mut reason);
        } else if let Some(t) = c["state"]["terminated"].as_object() {
            reason = t
                .get("reason")
                .and_then(Value::as_str)
                .map_or_else(|| format!("ExitCode:{}", t["exitCode"]), str::to_owned);
        }
    }
    reason
}

fn cells(kind: &str, o: &Value) -> Vec<Value> {
    let name = json!(o["metadata"]["name"]);
    let created = age(o["metadata"]["creationTimestamp"].as_str().unwrap_or(""));
    match kind {
        "Pod" => {
            let statuses = o["status"]["containerStatuses"].as_array().cloned().unwrap_or_default();
            let total = o["spec"]["containers"].as_array().map_or(0, Vec::len);
            let ready = statuses.iter().filter(|c| c["ready"] == true).count();
            let restarts: u64 = statuses.iter().filter_map(|c| c["restartCount"].as_u64()).sum();
            let none = |v: &Value| json!(v.as_str().unwrap_or("<none>"));
            vec![
                name,
                json!(format!("{ready}/{total}")),
                json!(pod_status(o)),
                json!(restarts.to_string()),
                json!(created),
                none(&o["status"]["podIP"]),
                none(&o["spec"]["nodeName"]),
                none(&o["status"]["nominatedNodeName"]),
                json!("<none>"),
            ]
        }
        "Namespace" => vec![name, json!(o["status"]["phase"]), json!(created)],
        "Secret" => {
            vec![name, json!(o["type"]), json!(o["data"].as_object().map_or(0, serde_json::Map::len)), json!(created)]
        }
        "ServiceAccount" => vec![name, json!(o["secrets"].as_array().map_or(0, Vec::len)), json!(created)],
        _ => vec![name, json!(created)],
    }
}

/// A Table of `items`.
pub fn table(p: &ApiPath, items: &[Value], meta: &Value) -> Value {
    let columns = match p.kind.as_str() {
        "Pod" => pod_columns().clone(),
        "Namespace" => json!([column("Name", "name", 0), column("Status", "", 0), column("Age", "", 0)]),
        "Secret" => {
            json!([column("Name", "name", 0), column("Type", "", 0), column("Data", "", 0), column("Age", "", 0)])
        }
        "ServiceAccount" => json!([column("Name", "name", 0), column("Secrets", "", 0), column("Age", "", 0)]),
        _ => json!([column("Name", "name", 0), column("Age", "", 0)]),
    };
    let rows: Vec<Value> = items
        .iter()
        .map(|o| json!({"cells": cells(&p.kind, o), "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}}))
        .collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "columnDefinitions": columns, "rows": rows})
}
