//! Just enough protobuf to read what kubectl's typed clients send (kubectl 1.32 posts
//! `application/vnd.kubernetes.protobuf` for `create secret` and `auth can-i`): the `k8s\0`
//! envelope (runtime.Unknown), `ObjectMeta`, Secret and `SelfSubjectAccessReview`, by the field
//! numbers of the upstream generated.proto files. Anything else is left to JSON.

use serde_json::{Value, json};

/// (field number, wire type, bytes or varint) of one message level.
fn fields(mut buf: &[u8]) -> Option<Vec<(u64, Vec<u8>)>> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let (tag, rest) = varint(buf)?;
        buf = rest;
        match tag & 7 {
            0 => {
                let (v, rest) = varint(buf)?;
                buf = rest;
                out.push((tag >> 3, v.to_string().into_bytes()));
            }
            2 => {
                let (len, rest) = varint(buf)?;
                let len = usize::try_from(len).ok()?;
                out.push((tag >> 3, rest.get(..len)?.to_vec()));
                buf = rest.get(len..)?;
            }
            _ => return None,
        }
    }
    Some(out)
}

fn varint(buf: &[u8]) -> Option<(u64, &[u8])> {
    let mut v = 0_u64;
    for (i, b) in buf.iter().enumerate().take(10) {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((v, &buf[i + 1..]));
        }
    }
    None
}

fn text(b: &[u8]) -> Value {
    json!(String::from_utf8_lossy(b))
}

fn map_entry(b: &[u8], bytes_value: bool) -> Option<(String, Value)> {
    let f = fields(b)?;
    let key = f.iter().find(|(n, _)| *n == 1).map(|(_, v)| String::from_utf8_lossy(v).into_owned()).unwrap_or_default();
    let value = f.iter().find(|(n, _)| *n == 2).map(|(_, v)| v.clone()).unwrap_or_default();
    let value = if bytes_value {
        use base64::Engine as _;
        json!(base64::engine::general_purpose::STANDARD.encode(value))
    } else {
        text(&value)
    };
    Some((key, value))
}

fn object_meta(b: &[u8]) -> Option<Value> {
    let mut meta = serde_json::Map::new();
    for (n, v) in fields(b)? {
        match n {
            1 if !v.is_empty() => drop(meta.insert("name".into(), text(&v))),
            2 if !v.is_empty() => drop(meta.insert("generateName".into(), text(&v))),
            3 if !v.is_empty() => drop(meta.insert("namespace".into(), text(&v))),
            11 | 12 => {
                let (k, val) = map_entry(&v, false)?;
                let m = meta.entry(if n == 11 { "labels" } else { "annotations" }).or_insert(json!({}));
                m[k] = val;
            }
            _ => {}
        }
    }
    Some(Value::Object(meta))
}

fn attributes(b: &[u8], names: &[&str]) -> Option<Value> {
    let mut out = serde_json::Map::new();
    for (n, v) in fields(b)? {
        if let Some(name) = usize::try_from(n).ok().and_then(|n| names.get(n.wrapping_sub(1)))
            && !v.is_empty()
        {
            out.insert((*name).into(), text(&v));
        }
    }
    Some(Value::Object(out))
}

/// The JSON equivalent of a protobuf request body, for the kinds above.
pub fn decode(body: &[u8]) -> Option<Value> {
    let envelope = fields(body.strip_prefix(b"k8s\0")?)?;
    let type_meta = fields(&envelope.iter().find(|(n, _)| *n == 1)?.1)?;
    let api_version = String::from_utf8_lossy(&type_meta.iter().find(|(n, _)| *n == 1)?.1).into_owned();
    let kind = String::from_utf8_lossy(&type_meta.iter().find(|(n, _)| *n == 2)?.1).into_owned();
    let raw = fields(&envelope.iter().find(|(n, _)| *n == 2)?.1)?;
    let mut obj = json!({"apiVersion": api_version, "kind": kind});
    for (n, v) in raw {
        match (kind.as_str(), n) {
            (_, 1) => obj["metadata"] = object_meta(&v)?,
            ("Secret", 2 | 4) => {
                let (k, val) = map_entry(&v, n == 2)?;
                let field = if n == 2 { "data" } else { "stringData" };
                if obj.get(field).is_none() {
                    obj[field] = json!({});
                }
                obj[field][k] = val;
            }
            ("Secret", 3) => obj["type"] = text(&v),
            ("SelfSubjectAccessReview", 2) => {
                let mut spec = json!({});
                for (sn, sv) in fields(&v)? {
                    match sn {
                        1 => {
                            spec["resourceAttributes"] = attributes(
                                &sv,
                                &["namespace", "verb", "group", "version", "resource", "subresource", "name"],
                            )?;
                        }
                        2 => spec["nonResourceAttributes"] = attributes(&sv, &["path", "verb"])?,
                        _ => {}
                    }
                }
                obj["spec"] = spec;
            }
            _ => {}
        }
    }
    Some(obj)
}
