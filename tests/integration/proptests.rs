//! Property tests of the three file parsers and the reference parser: no input panics them,
//! and parse → serialize → parse is stable.

use proptest::prelude::*;
use proptest::test_runner::Config;
use regcred::auth_files::{AuthFile, FileKind, to_go_indented};
use regcred::image_ref::ImageRef;
use serde_json::{Map, Value};

/// Cases per property; with 6 properties that is 12,000 generated inputs per run.
const CASES: u32 = 2_000;

const KINDS: [FileKind; 3] = [FileKind::DockerConfig, FileKind::LegacyDockercfg, FileKind::ContainersAuth];

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[a-zA-Z0-9+/=:<>&\u{2028}\u{0}-\u{1f}\"\\\\ éü✓-]{0,24}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z\"<>:/.]{0,10}", inner), 0..4)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

fn entry() -> impl Strategy<Value = Value> {
    prop_oneof![
        (r"[A-Za-z0-9+/_=-]{0,32}", prop::option::of("[a-z@.]{0,12}")).prop_map(|(auth, email)| {
            let mut map = Map::new();
            map.insert("auth".into(), Value::String(auth));
            if let Some(email) = email {
                map.insert("email".into(), Value::String(email));
            }
            Value::Object(map)
        }),
        json_value(),
    ]
}

fn document() -> impl Strategy<Value = Map<String, Value>> {
    let auths = prop::collection::vec((r"(https?://)?[a-zA-Z0-9.:/_-]{0,24}", entry()), 0..6);
    let extra = prop::collection::vec(("[a-zA-Z]{1,12}", json_value()), 0..4);
    (auths, extra, prop::option::of("[a-z-]{1,10}")).prop_map(|(auths, extra, store)| {
        let mut map: Map<String, Value> =
            extra.into_iter().filter(|(k, _)| k != "credsStore" && k != "credHelpers").collect();
        map.insert("auths".into(), Value::Object(auths.into_iter().collect()));
        if let Some(store) = store {
            map.insert("credsStore".into(), Value::String(store));
        }
        map
    })
}

fn stable_round_trip(kind: FileKind, bytes: &[u8]) -> Result<(), TestCaseError> {
    let Ok(file) = AuthFile::from_bytes(kind, bytes) else { return Ok(()) };
    let _ = file.entries();
    let written = to_go_indented(file.document());
    let again = AuthFile::from_bytes(kind, &written).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(again.document(), file.document());
    prop_assert_eq!(to_go_indented(again.document()), written);
    Ok(())
}

proptest! {
    #![proptest_config(Config { cases: CASES, failure_persistence: None, ..Config::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        for kind in KINDS {
            stable_round_trip(kind, &bytes)?;
        }
    }

    #[test]
    fn structured_documents_round_trip(doc in document(), pretty in any::<bool>()) {
        let bytes = if pretty { serde_json::to_vec_pretty(&doc) } else { serde_json::to_vec(&doc) }.unwrap();
        for kind in KINDS {
            let file = AuthFile::from_bytes(kind, &bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(file.document(), &doc);
            stable_round_trip(kind, &bytes)?;
        }
    }

    #[test]
    fn mutated_documents_never_panic(doc in document(), cut in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = serde_json::to_vec(&doc).unwrap();
        let at = cut.index(bytes.len().max(1)).min(bytes.len().saturating_sub(1));
        if !bytes.is_empty() { bytes[at] = byte; }
        for kind in KINDS {
            stable_round_trip(kind, &bytes)?;
            stable_round_trip(kind, &bytes[..at])?;
        }
    }

    #[test]
    fn legacy_line_form_round_trips(auth in "[A-Za-z0-9+/=]{0,40}", email in "[a-z@.]{0,20}") {
        let text = format!("auth = {auth}\nemail = {email}\n");
        let file = AuthFile::from_bytes(FileKind::LegacyDockercfg, text.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(file.entries().len(), 1);
        stable_round_trip(FileKind::LegacyDockercfg, text.as_bytes())?;
    }

    #[test]
    fn references_never_panic_and_reparse_to_themselves(input in r"([a-zA-Z0-9.:\[\]_-]{0,12}/){0,3}[a-zA-Z0-9._-]{0,16}(:[a-zA-Z0-9._-]{0,8})?(@sha256:[0-9a-f]{64})?") {
        if let Ok(reference) = ImageRef::parse(&input) {
            let again = ImageRef::parse(&reference.to_string()).map_err(|e| TestCaseError::fail(format!("{reference}: {e}")))?;
            prop_assert_eq!(again, reference);
        }
    }

    #[test]
    fn arbitrary_strings_never_panic_the_reference_parser(input in "\\PC{0,80}") {
        if let Ok(reference) = ImageRef::parse(&input) {
            prop_assert_eq!(ImageRef::parse(&reference.to_string()), Ok(reference));
        }
    }
}
