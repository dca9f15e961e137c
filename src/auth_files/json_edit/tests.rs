//! Tests of the patcher: real-looking files in many styles, and property tests over generated
//! styles and edits.

use std::collections::HashMap;
use std::time::Instant;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Map, Value, json};

use super::{patch, same_map, write_fresh};
use crate::go_json;

fn parse(text: &str) -> Map<String, Value> {
    serde_json::from_str(text).unwrap()
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn compact(value: &Value) -> String {
    String::from_utf8(go_json::to_vec_compact(value)).unwrap()
}

/// Patches and checks that the result parses back to `new`, key order included.
fn patched(text: &str, old: &Map<String, Value>, new: &Map<String, Value>) -> String {
    let out = patch(text, old, new).unwrap();
    let back = parse(&out);
    assert!(same_map(&back, new), "key order or content differs:\n{out}");
    assert_eq!(&back, new);
    out
}

fn auths_mut(map: &mut Map<String, Value>) -> &mut Map<String, Value> {
    map.entry("auths").or_insert_with(|| json!({})).as_object_mut().unwrap()
}

fn with_entry(map: &Map<String, Value>, host: &str, entry: Value) -> Map<String, Value> {
    let mut new = map.clone();
    auths_mut(&mut new).insert(host.to_owned(), entry);
    new
}

fn with_auth(map: &Map<String, Value>, host: &str, auth: &str) -> Map<String, Value> {
    let mut new = map.clone();
    auths_mut(&mut new)[host]["auth"] = json!(auth);
    new
}

/// Renames a key keeping its position, as regcred does.
fn renamed(map: &Map<String, Value>, from: &str, to: &str) -> Map<String, Value> {
    map.iter().map(|(k, v)| (if k == from { to.to_owned() } else { k.clone() }, v.clone())).collect()
}

fn with_renamed_entry(map: &Map<String, Value>, from: &str, to: &str) -> Map<String, Value> {
    let mut new = map.clone();
    let renamed_auths = renamed(auths_mut(&mut new), from, to);
    *auths_mut(&mut new) = renamed_auths;
    new
}

/// `out` is `text` with the first occurrence of `was` (at or after `from`) replaced by `now`.
fn assert_only_replaced(text: &str, out: &str, was: &str, now: &str) {
    let at = text.find(was).unwrap();
    assert_eq!(&out[..at], &text[..at], "text before the edit changed");
    assert_eq!(&out[at..at + now.len()], now);
    assert_eq!(&out[at + now.len()..], &text[at + was.len()..], "text after the edit changed");
}

/// The four checks every sample file goes through: identity, add an entry (exact text) and
/// remove it again, change the first entry's auth, rename the first entry.
fn check_file(text: &str, first_host: &str, first_auth: &str, expected_add: &str) {
    let old = parse(text);
    assert_eq!(patch(text, &old, &old).as_deref(), Some(text));

    let added = with_entry(&old, "new.example.com", json!({"auth": "bmV3OnB3"}));
    let out = patched(text, &old, &added);
    assert_eq!(out, expected_add);
    assert_eq!(patched(&out, &added, &old), text);

    let changed = with_auth(&old, first_host, "Y2hhbmdlZA==");
    let out = patched(text, &old, &changed);
    assert_only_replaced(text, &out, &format!("\"{first_auth}\""), "\"Y2hhbmdlZA==\"");
    assert_eq!(patched(&out, &changed, &old), text);

    let moved = with_renamed_entry(&old, first_host, "renamed.example.com");
    let out = patched(text, &old, &moved);
    assert_only_replaced(text, &out, &format!("\"{first_host}\""), "\"renamed.example.com\"");
    assert_eq!(patched(&out, &moved, &old), text);
}

const DOCKER: &str = "{\n\t\"auths\": {\n\t\t\"a.io\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t},\n\t\t\"b.io\": {\n\t\t\t\"auth\": \"eDp5\",\n\t\t\t\"email\": \"me@example.com\"\n\t\t}\n\t},\n\t\"credsStore\": \"desktop\"\n}";
const DOCKER_ADDED: &str = "{\n\t\"auths\": {\n\t\t\"a.io\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t},\n\t\t\"b.io\": {\n\t\t\t\"auth\": \"eDp5\",\n\t\t\t\"email\": \"me@example.com\"\n\t\t},\n\t\t\"new.example.com\": {\n\t\t\t\"auth\": \"bmV3OnB3\"\n\t\t}\n\t},\n\t\"credsStore\": \"desktop\"\n}";

#[test]
fn docker_tab_file() {
    check_file(DOCKER, "a.io", "dTpw", DOCKER_ADDED);
    assert_eq!(write_fresh(&parse(DOCKER)), DOCKER);
}

#[test]
fn two_and_four_space_files() {
    for unit in ["  ", "    "] {
        let text = DOCKER.replace('\t', unit);
        check_file(&text, "a.io", "dTpw", &DOCKER_ADDED.replace('\t', unit));
    }
}

#[test]
fn crlf_file_with_final_newline() {
    let text = format!("{DOCKER}\n").replace('\n', "\r\n");
    check_file(&text, "a.io", "dTpw", &format!("{DOCKER_ADDED}\n").replace('\n', "\r\n"));
}

#[test]
fn final_newline_and_leading_whitespace_are_kept() {
    let text = format!("\n  {}\n\n", DOCKER.replace('\t', "  ").replace('\n', "\n  "));
    let expected = format!("\n  {}\n\n", DOCKER_ADDED.replace('\t', "  ").replace('\n', "\n  "));
    check_file(&text, "a.io", "dTpw", &expected);
}

#[test]
fn inline_entries() {
    let text = "{\n  \"auths\": { \"a.io\": { \"auth\": \"dTpw\" }, \"b.io\": { \"auth\": \"eDp5\" } },\n  \"credsStore\": \"desktop\"\n}\n";
    let expected = "{\n  \"auths\": { \"a.io\": { \"auth\": \"dTpw\" }, \"b.io\": { \"auth\": \"eDp5\" }, \"new.example.com\": { \"auth\": \"bmV3OnB3\" } },\n  \"credsStore\": \"desktop\"\n}\n";
    check_file(text, "a.io", "dTpw", expected);
    // A field added to an inline entry stays inline, with the entry's spacing.
    let old = parse(text);
    let mut new = old.clone();
    auths_mut(&mut new)["b.io"]["email"] = json!("me@example.com");
    let out = patched(text, &old, &new);
    assert!(out.contains("\"b.io\": { \"auth\": \"eDp5\", \"email\": \"me@example.com\" } },"));
    assert_eq!(patched(&out, &new, &old), text);
}

#[test]
fn one_entry_per_line_inline() {
    let text = "{\n    \"auths\": {\n        \"a.io\": { \"auth\": \"dTpw\" },\n        \"b.io\": { \"auth\": \"eDp5\" }\n    }\n}";
    let expected = "{\n    \"auths\": {\n        \"a.io\": { \"auth\": \"dTpw\" },\n        \"b.io\": { \"auth\": \"eDp5\" },\n        \"new.example.com\": { \"auth\": \"bmV3OnB3\" }\n    }\n}";
    check_file(text, "a.io", "dTpw", expected);
}

#[test]
fn blank_lines_between_members() {
    let text = "{\n\t\"auths\": {\n\t\t\"a.io\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t},\n\n\t\t\"b.io\": {\n\t\t\t\"auth\": \"eDp5\"\n\t\t}\n\t},\n\n\t\"credsStore\": \"desktop\"\n}\n";
    let expected = "{\n\t\"auths\": {\n\t\t\"a.io\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t},\n\n\t\t\"b.io\": {\n\t\t\t\"auth\": \"eDp5\"\n\t\t},\n\n\t\t\"new.example.com\": {\n\t\t\t\"auth\": \"bmV3OnB3\"\n\t\t}\n\t},\n\n\t\"credsStore\": \"desktop\"\n}\n";
    check_file(text, "a.io", "dTpw", expected);
}

#[test]
fn spaced_colons() {
    let text = "{\n    \"auths\" : {\n        \"a.io\" : {\n            \"auth\" : \"dTpw\"\n        }\n    }\n}\n";
    let expected = "{\n    \"auths\" : {\n        \"a.io\" : {\n            \"auth\" : \"dTpw\"\n        },\n        \"new.example.com\" : {\n            \"auth\" : \"bmV3OnB3\"\n        }\n    }\n}\n";
    check_file(text, "a.io", "dTpw", expected);
    let tight = "{\n\t\"auths\":{\n\t\t\"a.io\":{\n\t\t\t\"auth\":\"dTpw\"\n\t\t}\n\t}\n}";
    let expected = "{\n\t\"auths\":{\n\t\t\"a.io\":{\n\t\t\t\"auth\":\"dTpw\"\n\t\t},\n\t\t\"new.example.com\":{\n\t\t\t\"auth\":\"bmV3OnB3\"\n\t\t}\n\t}\n}";
    check_file(tight, "a.io", "dTpw", expected);
}

#[test]
fn compact_one_line_file() {
    let text = r#"{"auths":{"x":{"auth":"dTpw"}}}"#;
    let expected = r#"{"auths":{"x":{"auth":"dTpw"},"new.example.com":{"auth":"bmV3OnB3"}}}"#;
    check_file(text, "x", "dTpw", expected);
    let old = parse(text);
    let mut new = old.clone();
    new.insert("credHelpers".into(), json!({"gcr.io": "gcloud"}));
    let out = patched(text, &old, &new);
    assert_eq!(out, r#"{"auths":{"x":{"auth":"dTpw"}},"credHelpers":{"gcr.io":"gcloud"}}"#);
    assert_eq!(patched(&out, &new, &old), text);
}

#[test]
fn python_json_dumps_style() {
    let text = r#"{"auths": {"a.io": {"auth": "dTpw"}}, "credsStore": "desktop"}"#;
    let expected =
        r#"{"auths": {"a.io": {"auth": "dTpw"}, "new.example.com": {"auth": "bmV3OnB3"}}, "credsStore": "desktop"}"#;
    check_file(text, "a.io", "dTpw", expected);
}

#[test]
fn rename_by_remove_and_append_moves_the_text_into_the_last_slot() {
    let old = parse(DOCKER);
    let mut new = old.clone();
    let entry = auths_mut(&mut new).shift_remove("a.io").unwrap();
    auths_mut(&mut new).insert("c.io".into(), entry);
    let out = patched(DOCKER, &old, &new);
    let expected = "{\n\t\"auths\": {\n\t\t\"b.io\": {\n\t\t\t\"auth\": \"eDp5\",\n\t\t\t\"email\": \"me@example.com\"\n\t\t},\n\t\t\"c.io\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t}\n\t},\n\t\"credsStore\": \"desktop\"\n}";
    assert_eq!(out, expected);
}

#[test]
fn only_cred_helpers_then_auths_added_and_removed() {
    let text = "{\n\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcloud\"\n\t}\n}";
    let old = parse(text);
    let added = with_entry(&old, "new.example.com", json!({"auth": "bmV3OnB3"}));
    let out = patched(text, &old, &added);
    assert_eq!(
        out,
        "{\n\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcloud\"\n\t},\n\t\"auths\": {\n\t\t\"new.example.com\": {\n\t\t\t\"auth\": \"bmV3OnB3\"\n\t\t}\n\t}\n}"
    );
    // The caller removes the entry and, having created "auths", the member too.
    let mut removed = added.clone();
    auths_mut(&mut removed).shift_remove("new.example.com");
    removed.shift_remove("auths");
    assert_eq!(patched(&out, &added, &removed), text);
    // Removing only the entry leaves an empty "auths", written as Go does.
    let mut emptied = added.clone();
    auths_mut(&mut emptied).shift_remove("new.example.com");
    let out = patched(&out, &added, &emptied);
    assert_eq!(out, "{\n\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcloud\"\n\t},\n\t\"auths\": {}\n}");
}

#[test]
fn empty_cred_helpers_kept_and_filled() {
    let text = "{\n\t\"auths\": {\n\t\t\"a.io\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t}\n\t},\n\t\"credHelpers\": {}\n}";
    check_file(
        text,
        "a.io",
        "dTpw",
        "{\n\t\"auths\": {\n\t\t\"a.io\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t},\n\t\t\"new.example.com\": {\n\t\t\t\"auth\": \"bmV3OnB3\"\n\t\t}\n\t},\n\t\"credHelpers\": {}\n}",
    );
    let old = parse(text);
    let mut new = old.clone();
    new["credHelpers"]["gcr.io"] = json!("gcloud");
    let out = patched(text, &old, &new);
    assert!(out.ends_with("\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcloud\"\n\t}\n}"), "{out}");
    assert_eq!(patched(&out, &new, &old), text);
}

#[test]
fn empty_objects_round_trip() {
    for (text, expected) in [
        ("{\"auths\": {}}", "{\"auths\": {\"x.io\": {\"auth\": \"eA==\"}}}"),
        ("{ \"auths\": { } }", "{ \"auths\": { \"x.io\": { \"auth\": \"eA==\" } } }"),
        ("{\n  \"auths\": {}\n}", "{\n  \"auths\": {\n    \"x.io\": {\n      \"auth\": \"eA==\"\n    }\n  }\n}"),
        ("{\n  \"auths\": { }\n}", "{\n  \"auths\": { \"x.io\": { \"auth\": \"eA==\" } }\n}"),
        ("{\n  \"auths\": {\n}\n}", "{\n  \"auths\": {\n    \"x.io\": {\n      \"auth\": \"eA==\"\n    }\n}\n}"),
        ("{}", "{\n\t\"auths\": {\n\t\t\"x.io\": {\n\t\t\t\"auth\": \"eA==\"\n\t\t}\n\t}\n}"),
        ("{ }", "{ \"auths\": { \"x.io\": { \"auth\": \"eA==\" } } }"),
        ("{}\r\n", "{\r\n\t\"auths\": {\r\n\t\t\"x.io\": {\r\n\t\t\t\"auth\": \"eA==\"\r\n\t\t}\r\n\t}\r\n}\r\n"),
    ] {
        let old = parse(text);
        let new = with_entry(&old, "x.io", json!({"auth": "eA=="}));
        let out = patched(text, &old, &new);
        assert_eq!(out, expected, "adding into {text:?}");
        let mut emptied = new.clone();
        auths_mut(&mut emptied).shift_remove("x.io");
        if !old.contains_key("auths") {
            emptied.shift_remove("auths");
        }
        assert_eq!(patched(&out, &new, &emptied), text, "removing again from {out:?}");
    }
}

/// The one case where add-then-remove does not give the original back.
#[test]
fn empty_object_across_lines_at_its_own_indent_comes_back_as_braces() {
    for (text, back) in [("{\n}", "{}"), ("{\n\t\"auths\": {\n\t}\n}", "{\n\t\"auths\": {}\n}")] {
        let old = parse(text);
        let new = with_entry(&old, "x.io", json!({"auth": "eA=="}));
        let out = patched(text, &old, &new);
        let mut emptied = new.clone();
        auths_mut(&mut emptied).shift_remove("x.io");
        if !old.contains_key("auths") {
            emptied.shift_remove("auths");
        }
        assert_eq!(patched(&out, &new, &emptied), back);
    }
}

#[test]
fn escapes_and_numbers_kept_in_untouched_values() {
    let text = "{\n\t\"auths\": {\n\t\t\"a.io\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t}\n\t},\n\t\"HttpHeaders\": {\n\t\t\"X-Note\": \"a \\u003cb\\u003e \\u0026 \\u00e9 \\/\"\n\t},\n\t\"n\": 2.50,\n\t\"e\": 1e3,\n\t\"big\": 12345678901234567890\n}";
    let expected = "{\n\t\"auths\": {\n\t\t\"a.io\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t},\n\t\t\"new.example.com\": {\n\t\t\t\"auth\": \"bmV3OnB3\"\n\t\t}\n\t},\n\t\"HttpHeaders\": {\n\t\t\"X-Note\": \"a \\u003cb\\u003e \\u0026 \\u00e9 \\/\"\n\t},\n\t\"n\": 2.50,\n\t\"e\": 1e3,\n\t\"big\": 12345678901234567890\n}";
    check_file(text, "a.io", "dTpw", expected);
    let old = parse(text);
    let mut new = old.clone();
    new["HttpHeaders"]["X-Note"] = json!("<b> & é");
    let out = patched(text, &old, &new);
    assert_only_replaced(text, &out, "\"a \\u003cb\\u003e \\u0026 \\u00e9 \\/\"", "\"\\u003cb\\u003e \\u0026 é\"");
}

#[test]
fn escaped_keys_are_matched_and_new_keys_escaped_like_go() {
    let text = "{\"auths\": {\"a\\u003cb\": {\"auth\": \"dTpw\"}}}";
    let old = parse(text);
    assert!(old["auths"].get("a<b").is_some());
    let changed = with_auth(&old, "a<b", "eA==");
    assert_eq!(patched(text, &old, &changed), "{\"auths\": {\"a\\u003cb\": {\"auth\": \"eA==\"}}}");
    let moved = with_renamed_entry(&old, "a<b", "c&d");
    assert_eq!(patched(text, &old, &moved), "{\"auths\": {\"c\\u0026d\": {\"auth\": \"dTpw\"}}}");
}

#[test]
fn email_added_and_removed_in_docker_entry() {
    let old = parse(DOCKER);
    let mut new = old.clone();
    auths_mut(&mut new)["a.io"]["email"] = json!("x@example.com");
    let out = patched(DOCKER, &old, &new);
    assert_only_replaced(DOCKER, &out, "\"dTpw\"", "\"dTpw\",\n\t\t\t\"email\": \"x@example.com\"");
    assert_eq!(patched(&out, &new, &old), DOCKER);
    let mut without = old.clone();
    auths_mut(&mut without)["b.io"].as_object_mut().unwrap().shift_remove("email");
    let out = patched(DOCKER, &old, &without);
    assert_only_replaced(DOCKER, &out, "\"eDp5\",\n\t\t\t\"email\": \"me@example.com\"", "\"eDp5\"");
}

#[test]
fn removing_first_middle_last_and_only_members() {
    let text = "{\n  \"auths\": {\n    \"a\": {},\n    \"b\": {},\n    \"c\": {}\n  }\n}";
    let old = parse(text);
    let cases = [
        ("a", "{\n  \"auths\": {\n    \"b\": {},\n    \"c\": {}\n  }\n}"),
        ("b", "{\n  \"auths\": {\n    \"a\": {},\n    \"c\": {}\n  }\n}"),
        ("c", "{\n  \"auths\": {\n    \"a\": {},\n    \"b\": {}\n  }\n}"),
    ];
    for (host, expected) in cases {
        let mut new = old.clone();
        auths_mut(&mut new).shift_remove(host);
        assert_eq!(patched(text, &old, &new), expected);
    }
    let mut new = old.clone();
    auths_mut(&mut new).clear();
    assert_eq!(patched(text, &old, &new), "{\n  \"auths\": {}\n}");
    let inline = parse("{ \"a\": 1 }");
    assert_eq!(patched("{ \"a\": 1 }", &inline, &Map::new()), "{ }");
}

#[test]
fn members_follow_the_new_order() {
    let text = "{\n\t\"a\": 1,\n\t\"b\": 2,\n\t\"c\": 3\n}";
    let old = parse(text);
    let new = object(json!({"x": 0, "a": 1, "c": 3, "b": 2, "y": 4}));
    let out = patched(text, &old, &new);
    assert_eq!(out, "{\n\t\"x\": 0,\n\t\"a\": 1,\n\t\"c\": 3,\n\t\"b\": 2,\n\t\"y\": 4\n}");
    // Inserted in the middle, then removed: back to the original.
    let middle = object(json!({"a": 1, "m": 9, "b": 2, "c": 3}));
    let out = patched(text, &old, &middle);
    assert_eq!(out, "{\n\t\"a\": 1,\n\t\"m\": 9,\n\t\"b\": 2,\n\t\"c\": 3\n}");
    assert_eq!(patched(&out, &middle, &old), text);
}

#[test]
fn map_equality_ignores_order_so_order_is_checked_separately() {
    let a = object(json!({"x": 1, "y": 2}));
    let b = object(json!({"y": 2, "x": 1}));
    assert_eq!(a, b);
    assert!(!same_map(&a, &b));
    assert_eq!(patched("{\"x\": 1, \"y\": 2}", &a, &b), "{\"y\": 2, \"x\": 1}");
}

#[test]
fn changed_arrays_and_types_written_in_file_style() {
    let text = "{\n  \"auths\": {\n    \"a.io\": { \"auth\": \"dTpw\", \"list\": [1, 2] }\n  },\n  \"plugins\": [\n    \"x\"\n  ],\n  \"n\": 1\n}";
    let old = parse(text);
    let mut new = old.clone();
    new["plugins"] = json!(["x", {"k": "v"}]);
    new["n"] = json!({"deep": {"er": [true]}});
    auths_mut(&mut new)["a.io"]["list"] = json!([1, 2, 3]);
    let out = patched(text, &old, &new);
    let expected = "{\n  \"auths\": {\n    \"a.io\": { \"auth\": \"dTpw\", \"list\": [1, 2, 3] }\n  },\n  \"plugins\": [\n    \"x\",\n    { \"k\": \"v\" }\n  ],\n  \"n\": {\n    \"deep\": { \"er\": [true] }\n  }\n}";
    assert_eq!(out, expected);
}

#[test]
fn refuses_what_it_cannot_patch() {
    let dup = "{\"auths\": {\"a\": {}, \"a\": {\"auth\": \"x\"}}, \"k\": 1}";
    let old = parse(dup);
    let mut new = old.clone();
    new["k"] = json!(2);
    let out = patched(dup, &old, &new);
    assert_eq!(out, dup.replace("1}", "2}"), "duplicate keys off the edit path are kept as they are");
    let mut deep = old.clone();
    auths_mut(&mut deep).insert("b".into(), json!({}));
    assert_eq!(patch(dup, &old, &deep), None, "duplicate keys on the edit path");
    assert_eq!(patch("[]", &Map::new(), &new), None);
    assert_eq!(patch("{} x", &Map::new(), &new), None);
    assert_eq!(patch("{\"a\": 1}", &Map::new(), &new), None, "text and map disagree");
    for garbage in
        ["", "{", "{\"a\"", "{\"a\":", "{\"a\":}", "{\"a\" 1}", "{\"a\":1,}", "{\"\\", "{\"a\":[\"]", "{\"a\":\"\\é\"}"]
    {
        let _ = patch(garbage, &Map::new(), &new);
        let _ = patch(garbage, &new, &Map::new());
    }
}

#[test]
fn twenty_thousand_entries_patch_quickly() {
    let mut auths = Map::new();
    for n in 0..20_000 {
        auths.insert(format!("registry-{n}.example.com"), json!({"auth": "dXNlcjpwYXNzd29yZA=="}));
    }
    let old = object(json!({"auths": auths, "credsStore": "desktop"}));
    let text = write_fresh(&old);
    let added = with_entry(&old, "new.example.com", json!({"auth": "bmV3OnB3"}));
    let mut changed = old.clone();
    changed["auths"]["registry-10000.example.com"]["auth"] = json!("Y2hhbmdlZA==");
    let mut removed = old.clone();
    auths_mut(&mut removed).shift_remove("registry-0.example.com");
    let mut timings = Vec::new();
    for new in [&old, &added, &changed, &removed] {
        let out = patch(&text, &old, new).unwrap();
        assert!(same_map(&parse(&out), new));
        // The best of a few runs, so a busy machine does not make the test flaky.
        let best = (0..5).map(|_| {
            let start = Instant::now();
            std::hint::black_box(patch(&text, &old, new));
            start.elapsed()
        });
        timings.push(best.min().unwrap());
    }
    let out = patch(&text, &old, &added).unwrap();
    assert_eq!(patch(&out, &added, &old).unwrap(), text);
    println!("20,000 entries ({} bytes): identity, add, change, remove: {timings:?}", text.len());
    if !cfg!(debug_assertions) {
        assert!(timings.iter().all(|t| t.as_millis() < 50), "{timings:?}");
    }
}

// ---- Property tests: documents rendered in random styles, patched with random edits. ----

/// A layout for the generator. Not generated: an empty object written across lines at its
/// own indentation (`{\n\t}`), the one case where add-then-remove gives `{}` back.
#[derive(Clone, Debug)]
#[allow(clippy::struct_excessive_bools, reason = "independent switches of the generator's layout")]
struct Style {
    indent: &'static str,
    inline_entries: bool,
    blank_lines: bool,
    colon: &'static str,
    crlf: bool,
    final_newline: bool,
    leading: &'static str,
    compact: bool,
    spaced_empty: bool,
    space_before_comma: bool,
}

/// Offsets of an object in rendered text; members are `[lead, key, key_end, value, value_end]`.
#[derive(Clone, Debug, Default)]
struct Spans {
    open: usize,
    close: usize,
    members: Vec<[usize; 5]>,
}

type SpanMap = HashMap<Vec<String>, Spans>;

/// The generator's own writer (independent of the module's scanner), recording spans.
struct Render<'s> {
    style: &'s Style,
    out: String,
    spans: SpanMap,
}

impl Render<'_> {
    fn newline(&mut self) {
        self.out.push_str(if self.style.crlf { "\r\n" } else { "\n" });
    }

    fn value(&mut self, value: &Value, path: &mut Vec<String>, depth: usize, inline: bool) {
        match value {
            Value::Object(map) => self.object(map, path, depth, inline),
            Value::Array(items) => self.array(items, path, depth, inline),
            other => self.out.push_str(&compact(other)),
        }
    }

    fn object(&mut self, map: &Map<String, Value>, path: &mut Vec<String>, depth: usize, inline: bool) {
        let style = self.style;
        let inline = inline || style.compact || (style.inline_entries && depth >= 2);
        let mut spans = Spans { open: self.out.len(), ..Spans::default() };
        self.out.push('{');
        if map.is_empty() && style.spaced_empty {
            self.out.push(' ');
        }
        for (n, (key, value)) in map.iter().enumerate() {
            if n > 0 {
                self.out.push_str(if style.space_before_comma && !style.compact { " ," } else { "," });
            }
            let lead = self.out.len();
            if inline {
                self.out.push_str(if style.compact { "" } else { " " });
            } else {
                self.newline();
                if style.blank_lines && n > 0 && depth <= 1 {
                    self.newline();
                }
                self.out.push_str(&style.indent.repeat(depth + 1));
            }
            let key_at = self.out.len();
            self.out.push_str(&compact(&json!(key)));
            let key_end = self.out.len();
            self.out.push_str(if style.compact { ":" } else { style.colon });
            let value_at = self.out.len();
            path.push(key.clone());
            self.value(value, path, depth + 1, inline);
            path.pop();
            spans.members.push([lead, key_at, key_end, value_at, self.out.len()]);
        }
        if !map.is_empty() {
            if !inline {
                self.newline();
                self.out.push_str(&style.indent.repeat(depth));
            } else if !style.compact {
                self.out.push(' ');
            }
        }
        spans.close = self.out.len();
        self.out.push('}');
        self.spans.insert(path.clone(), spans);
    }

    fn array(&mut self, items: &[Value], path: &mut Vec<String>, depth: usize, inline: bool) {
        let inline = inline || self.style.compact || (self.style.inline_entries && depth >= 2);
        self.out.push('[');
        for (n, item) in items.iter().enumerate() {
            if n > 0 {
                self.out.push(',');
                if inline && !self.style.compact {
                    self.out.push(' ');
                }
            }
            if !inline {
                self.newline();
                self.out.push_str(&self.style.indent.repeat(depth + 1));
            }
            path.push(format!("[{n}]"));
            self.value(item, path, depth + 1, inline);
            path.pop();
        }
        if !inline && !items.is_empty() {
            self.newline();
            self.out.push_str(&self.style.indent.repeat(depth));
        }
        self.out.push(']');
    }
}

fn render(doc: &Map<String, Value>, style: &Style) -> (String, SpanMap) {
    let mut render = Render { style, out: String::new(), spans: HashMap::new() };
    let newline = if style.crlf { "\r\n" } else { "\n" };
    let leading = style.leading.replace('\n', newline);
    render.out.push_str(&leading);
    let base = render.out.len();
    render.object(doc, &mut Vec::new(), 0, false);
    if style.final_newline {
        render.out.push_str(newline);
    }
    debug_assert!(base <= render.out.len());
    (render.out, render.spans)
}

fn style() -> impl Strategy<Value = Style> {
    let indent = prop::sample::select(vec!["\t", "  ", "    "]);
    let colon = prop::sample::select(vec![": ", " : ", ":"]);
    let leading = prop::sample::select(vec!["", "\n", " ", "\n\n"]);
    let flags = prop::collection::vec(any::<bool>(), 6);
    (indent, colon, leading, flags, prop::bool::weighted(0.2)).prop_map(|(indent, colon, leading, f, compact)| Style {
        indent,
        inline_entries: f[0],
        blank_lines: f[1],
        colon,
        crlf: f[2],
        final_newline: f[3],
        leading,
        compact,
        spaced_empty: f[4],
        space_before_comma: f[5] && f[0],
    })
}

fn text() -> impl Strategy<Value = String> {
    let chars =
        vec!['a', 'Z', '0', '=', '<', '>', '&', '"', '\\', '\n', '\t', '/', 'é', '\u{2028}', '\u{1}', ' ', '😀'];
    prop::collection::vec(prop::sample::select(chars), 0..8).prop_map(String::from_iter)
}

fn number() -> impl Strategy<Value = Value> {
    let written = vec!["2.50", "1e3", "12345678901234567890", "-0", "7", "-1.5E-7", "0.1"];
    prop::sample::select(written).prop_map(|n| serde_json::from_str(n).unwrap())
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![prop::sample::select(vec!["x", "y", "a<b", "k\"q", "ü"]).prop_map(String::from), text()]
}

fn nested() -> impl Strategy<Value = Value> {
    let scalar =
        prop_oneof![text().prop_map(Value::String), number(), any::<bool>().prop_map(Value::Bool), Just(Value::Null)];
    scalar.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..4).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn auth_text() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["dTpw", "eDp5", "dXNlcjpwYXNzd29yZA==", "", "YTpi"]).prop_map(String::from)
}

fn entry() -> impl Strategy<Value = Value> {
    let extra = (prop::sample::select(vec!["identitytoken", "registrytoken", "x-extra"]), nested());
    (prop::option::of(auth_text()), prop::option::of(text()), prop::option::of(extra), any::<bool>()).prop_map(
        |(auth, email, extra, extra_first)| {
            let mut map = Map::new();
            if let (Some((k, v)), true) = (&extra, extra_first) {
                map.insert((*k).to_owned(), v.clone());
            }
            if let Some(auth) = auth {
                map.insert("auth".into(), json!(auth));
            }
            if let Some(email) = email {
                map.insert("email".into(), json!(email));
            }
            if let (Some((k, v)), false) = (extra, extra_first) {
                map.insert(k.to_owned(), v);
            }
            Value::Object(map)
        },
    )
}

fn host(prefix: &str, n: usize) -> String {
    format!("{prefix}{n}.example.com")
}

fn document() -> impl Strategy<Value = Map<String, Value>> {
    let prefixes = prop::sample::select(vec!["r", "a<b&c", "reg\\istry", "é", "q\"uote"]);
    let auths = prop::collection::vec((prefixes, entry()), 0..=6)
        .prop_map(|entries| entries.into_iter().enumerate().map(|(n, (p, e))| (host(p, n), e)).collect::<Map<_, _>>());
    let helpers = prop::collection::vec((0..4usize, prop::sample::select(vec!["gcloud", "ecr-login"])), 0..=3)
        .prop_map(|hs| hs.into_iter().map(|(n, h)| (host("h", n), json!(h))).collect::<Map<_, _>>());
    let others = (prop::option::of(text()), prop::option::of(number()), prop::option::of(nested()), any::<bool>());
    (prop::option::weighted(0.85, auths), prop::option::of(helpers), prop::option::of(text()), others, 0..5usize)
        .prop_map(|(auths, helpers, store, (header, number, nested, empty), rotate)| {
            let mut members: Vec<(String, Value)> = Vec::new();
            members.extend(auths.map(|a| ("auths".to_owned(), Value::Object(a))));
            members.extend(helpers.map(|h| ("credHelpers".to_owned(), Value::Object(h))));
            members.extend(store.map(|s| ("credsStore".to_owned(), json!(s))));
            members.extend(header.map(|h| ("HttpHeaders".to_owned(), json!({"User-Agent": h}))));
            members.extend(number.map(|n| ("n".to_owned(), n)));
            members.extend(nested.map(|v| ("other".to_owned(), v)));
            if empty {
                members.push(("empty".to_owned(), json!({})));
            }
            let len = members.len().max(1);
            members.rotate_left(rotate % len);
            members.into_iter().collect()
        })
}

#[derive(Clone, Debug)]
enum Edit {
    AddEntry(String, Value),
    RemoveEntry(usize),
    ChangeAuth(usize, String),
    AddEmail(usize, String),
    RemoveEmail(usize),
    Rename(usize, String),
    AddHelper(String, String),
    RemoveHelper(usize),
    SetStore(String),
    SetOther(Value),
}

fn edit() -> impl Strategy<Value = Edit> {
    let name = (prop::sample::select(vec!["new", "n<&>", "ü"]), 0..3usize).prop_map(|(p, n)| host(p, n));
    prop_oneof![
        (name.clone(), entry()).prop_map(|(h, e)| Edit::AddEntry(h, e)),
        any::<usize>().prop_map(Edit::RemoveEntry),
        (any::<usize>(), auth_text()).prop_map(|(i, a)| Edit::ChangeAuth(i, a)),
        (any::<usize>(), text()).prop_map(|(i, e)| Edit::AddEmail(i, e)),
        any::<usize>().prop_map(Edit::RemoveEmail),
        (any::<usize>(), name).prop_map(|(i, h)| Edit::Rename(i, h)),
        ((0..6usize).prop_map(|n| host("h", n)), prop::sample::select(vec!["gcloud", "pass"]))
            .prop_map(|(h, v)| Edit::AddHelper(h, v.to_owned())),
        any::<usize>().prop_map(Edit::RemoveHelper),
        text().prop_map(Edit::SetStore),
        nested().prop_map(Edit::SetOther),
    ]
}

/// What an edit must do to the text, in offsets of the original.
#[derive(Debug)]
enum Expect {
    /// Nothing changes.
    Same,
    /// New text inserted at this offset, nothing else changed.
    Insert(usize),
    /// `from..to` replaced by the given text.
    Replace(usize, usize, String),
    /// `from..to` removed.
    Remove(usize, usize),
    /// The only member of the object with these spans removed.
    RemoveOnly(Spans),
    /// Some change (a value written afresh or patched in place).
    Changed,
}

fn spans_at(spans: &SpanMap, path: &[&str]) -> Spans {
    let path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
    spans.get(&path).cloned().unwrap_or_default()
}

fn insert_point(spans: &Spans) -> Expect {
    Expect::Insert(spans.members.last().map_or(spans.open + 1, |m| m[4]))
}

fn removal(spans: Spans, i: usize) -> Expect {
    let members = &spans.members;
    match (members.get(i.wrapping_sub(1)), members.get(i), members.get(i + 1)) {
        (_, Some(m), Some(next)) => Expect::Remove(m[0], next[0]),
        (Some(prev), Some(m), None) => Expect::Remove(prev[4], m[4]),
        _ => Expect::RemoveOnly(spans),
    }
}

fn nth_key(map: &Map<String, Value>, i: usize) -> Option<String> {
    (!map.is_empty()).then(|| map.keys().nth(i % map.len()).cloned()).flatten()
}

/// Sets `map[key] = value` at the end or in place; the expectation for the text.
fn set_member(map: &mut Map<String, Value>, spans: &Spans, key: &str, value: Value) -> Expect {
    match map.keys().position(|k| k == key) {
        Some(i) if map[key] == value => {
            let _ = i;
            Expect::Same
        }
        Some(i) => {
            let m = spans.members.get(i).copied().unwrap_or_default();
            let with = compact(&value);
            map.insert(key.to_owned(), value);
            Expect::Replace(m[3], m[4], with)
        }
        None => {
            map.insert(key.to_owned(), value);
            insert_point(spans)
        }
    }
}

fn remove_member(map: &mut Map<String, Value>, spans: Spans, key: &str) -> Option<Expect> {
    let i = map.keys().position(|k| k == key)?;
    map.shift_remove(key);
    Some(removal(spans, i))
}

/// Applies `edit` to `doc` as regcred would; `None` where it does not apply.
fn apply(doc: &Map<String, Value>, spans: &SpanMap, edit: &Edit) -> Option<(Map<String, Value>, Expect)> {
    let mut new = doc.clone();
    let root = spans_at(spans, &[]);
    let expect = match edit {
        Edit::AddEntry(name, entry) => match new.get_mut("auths") {
            Some(Value::Object(auths)) if auths.contains_key(name) => return None,
            Some(Value::Object(auths)) => set_member(auths, &spans_at(spans, &["auths"]), name, entry.clone()),
            _ => set_member(&mut new, &root, "auths", json!({ name.clone(): entry })),
        },
        Edit::RemoveEntry(i) => {
            let auths = new.get_mut("auths")?.as_object_mut()?;
            let key = nth_key(auths, *i)?;
            remove_member(auths, spans_at(spans, &["auths"]), &key)?
        }
        Edit::ChangeAuth(i, value) | Edit::AddEmail(i, value) => {
            let field = if matches!(edit, Edit::ChangeAuth(..)) { "auth" } else { "email" };
            let auths = new.get_mut("auths")?.as_object_mut()?;
            let key = nth_key(auths, *i)?;
            let entry = auths.get_mut(&key)?.as_object_mut()?;
            set_member(entry, &spans_at(spans, &["auths", &key]), field, json!(value))
        }
        Edit::RemoveEmail(i) => {
            let auths = new.get_mut("auths")?.as_object_mut()?;
            let key = nth_key(auths, *i)?;
            let entry = auths.get_mut(&key)?.as_object_mut()?;
            remove_member(entry, spans_at(spans, &["auths", &key]), "email")?
        }
        Edit::Rename(i, to) => {
            let auths = new.get_mut("auths")?.as_object_mut()?;
            let from = nth_key(auths, *i)?;
            if auths.contains_key(to) {
                return None;
            }
            let at = auths.keys().position(|k| *k == from)?;
            *auths = renamed(auths, &from, to);
            let m = spans_at(spans, &["auths"]).members.get(at).copied().unwrap_or_default();
            Expect::Replace(m[1], m[2], compact(&json!(to)))
        }
        Edit::AddHelper(name, helper) => match new.get_mut("credHelpers") {
            Some(Value::Object(helpers)) => {
                set_member(helpers, &spans_at(spans, &["credHelpers"]), name, json!(helper))
            }
            _ => set_member(&mut new, &root, "credHelpers", json!({ name.clone(): helper })),
        },
        Edit::RemoveHelper(i) => {
            let helpers = new.get_mut("credHelpers")?.as_object_mut()?;
            let key = nth_key(helpers, *i)?;
            remove_member(helpers, spans_at(spans, &["credHelpers"]), &key)?
        }
        Edit::SetStore(value) => set_member(&mut new, &root, "credsStore", json!(value)),
        Edit::SetOther(value) => {
            new.insert("other".into(), value.clone());
            Expect::Changed
        }
    };
    Some((new, expect))
}

/// New text keeps the file's line break and indentation characters.
fn check_new_text(text: &str, out: &str, from: usize, to: usize, style: &Style) -> Result<(), TestCaseError> {
    let added = &out[from..to];
    if text.contains("\r\n") {
        for (at, _) in added.match_indices('\n') {
            prop_assert!(from + at > 0 && out.as_bytes()[from + at - 1] == b'\r', "bare LF in a CRLF file: {added:?}");
        }
    }
    let newline = if style.crlf { "\r\n" } else { "\n" };
    if !style.compact && !style.indent.contains('\t') && text.contains(&format!("{newline}{}", style.indent)) {
        prop_assert!(!added.contains('\t'), "tab in a space-indented file: {added:?}");
    }
    Ok(())
}

/// The region where `out` differs from `text` keeps the file's line break and indentation.
fn check_changed_region(text: &str, out: &str, style: &Style) -> Result<(), TestCaseError> {
    let mut prefix = text.bytes().zip(out.bytes()).take_while(|(a, b)| a == b).count();
    let room = text.len().min(out.len()) - prefix;
    let suffix = text.bytes().rev().zip(out.bytes().rev()).take(room).take_while(|(a, b)| a == b).count();
    let mut end = out.len() - suffix;
    while !out.is_char_boundary(prefix) {
        prefix -= 1;
    }
    while !out.is_char_boundary(end) {
        end += 1;
    }
    check_new_text(text, out, prefix, end, style)
}

fn check_expectation(text: &str, out: &str, expect: &Expect, style: &Style) -> Result<(), TestCaseError> {
    match expect {
        Expect::Same => prop_assert_eq!(out, text),
        Expect::Changed => check_changed_region(text, out, style)?,
        Expect::Insert(at) => {
            prop_assert!(out.len() > text.len());
            let end = at + out.len() - text.len();
            prop_assert_eq!(&out[..*at], &text[..*at], "text before the insertion changed");
            prop_assert_eq!(&out[end..], &text[*at..], "text after the insertion changed");
            check_new_text(text, out, *at, end, style)?;
        }
        Expect::Replace(from, to, with) => {
            prop_assert_eq!(out.to_owned(), format!("{}{with}{}", &text[..*from], &text[*to..]));
        }
        Expect::Remove(from, to) => prop_assert_eq!(out.to_owned(), format!("{}{}", &text[..*from], &text[*to..])),
        Expect::RemoveOnly(spans) => {
            let (before, after) = (&text[..=spans.open], &text[spans.close..]);
            let kept = &text[spans.members[0][4]..spans.close];
            let candidates = [format!("{before}{after}"), format!("{before}{kept}{after}")];
            prop_assert!(candidates.contains(&out.to_owned()), "{out:?} from {text:?}");
        }
    }
    Ok(())
}

fn check_edit(doc: &Map<String, Value>, style: &Style, edit: &Edit) -> Result<(), TestCaseError> {
    let (text, spans) = render(doc, style);
    let old = parse(&text);
    prop_assert!(same_map(&old, doc), "the generator's rendering parses back");
    prop_assert_eq!(patch(&text, &old, &old), Some(text.clone()));
    let Some((new, expect)) = apply(&old, &spans, edit) else { return Ok(()) };
    let out = patch(&text, &old, &new);
    prop_assert!(out.is_some(), "no patch for {text:?}");
    let out = out.unwrap_or_default();
    let back: Map<String, Value> =
        serde_json::from_str(&out).map_err(|e| TestCaseError::fail(format!("{e}: {out:?}")))?;
    prop_assert!(same_map(&back, &new), "{out:?} does not parse to the new map (order included)");
    prop_assert_eq!(&back, &new);
    check_expectation(&text, &out, &expect, style)?;
    let reverse = patch(&out, &new, &old).unwrap_or_default();
    match expect {
        Expect::Insert(_) | Expect::Replace(..) => prop_assert_eq!(reverse, text, "undoing the edit"),
        _ => prop_assert!(same_map(&parse(&reverse), &old)),
    }
    Ok(())
}

fn check_edits(doc: &Map<String, Value>, style: &Style, edits: &[Edit]) -> Result<(), TestCaseError> {
    let (text, _) = render(doc, style);
    let old = parse(&text);
    let mut new = old.clone();
    for edit in edits {
        if let Some((next, _)) = apply(&new, &HashMap::new(), edit) {
            new = next;
        }
    }
    let out = patch(&text, &old, &new).unwrap_or_default();
    let back = parse(&out);
    prop_assert!(same_map(&back, &new), "{out:?}");
    let reverse = patch(&out, &new, &old).unwrap_or_default();
    prop_assert!(same_map(&parse(&reverse), &old), "{reverse:?}");
    prop_assert_eq!(patch(&out, &new, &new), Some(out.clone()));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8_000))]
    #[test]
    fn one_edit_changes_only_its_bytes(doc in document(), style in style(), edit in edit()) {
        check_edit(&doc, &style, &edit)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_500))]
    #[test]
    fn several_edits_parse_back(doc in document(), style in style(), edits in prop::collection::vec(edit(), 1..5)) {
        check_edits(&doc, &style, &edits)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]
    #[test]
    fn damaged_text_never_panics(doc in document(), style in style(), cut in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let (text, _) = render(&doc, &style);
        let old = parse(&text);
        let new = with_entry(&old, "x.io", json!({"auth": "eA=="}));
        let mut at = cut.index(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let _ = patch(&text[..at], &old, &new);
        let mut bytes = text.clone().into_bytes();
        if let Some(b) = bytes.get_mut(at) {
            *b = byte;
        }
        if let Ok(damaged) = String::from_utf8(bytes) {
            let _ = patch(&damaged, &old, &new);
            let _ = patch(&damaged, &new, &old);
        }
    }
}
