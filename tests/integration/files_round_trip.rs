//! Real-world-shaped files: unchanged saves are byte-identical, an edit touches only its entry.

use regcred::auth_files::{AuthFile, ConflictPolicy, FileKind, encode_auth};
use regcred::secret::Secret;
use serde_json::Value;

use crate::support::{TempHome, fixture};

const DOCKER_FORMAT: [(&str, FileKind); 6] = [
    ("docker-desktop.json", FileKind::DockerConfig),
    ("ecr-gcr.json", FileKind::DockerConfig),
    ("proxies-headers.json", FileKind::DockerConfig),
    ("broken-entries.json", FileKind::DockerConfig),
    ("podman-auth.json", FileKind::ContainersAuth),
    ("dockercfg-map.json", FileKind::LegacyDockercfg),
];

#[test]
fn docker_written_files_serialize_back_byte_for_byte() {
    for (name, kind) in DOCKER_FORMAT {
        let bytes = fixture(name);
        let file = AuthFile::from_bytes(kind, &bytes).unwrap();
        assert_eq!(regcred::auth_files::to_go_indented(file.document()), bytes, "{name}");
        assert_eq!(file.to_bytes(), bytes, "{name}");
    }
}

#[test]
fn unchanged_save_leaves_the_file_byte_identical() {
    let home = TempHome::new();
    let mut names: Vec<(&str, FileKind)> = DOCKER_FORMAT.to_vec();
    names.push(("dockercfg-lines", FileKind::LegacyDockercfg));
    for (name, kind) in names {
        let path = home.path().join(name);
        let bytes = fixture(name);
        // A hand-edited variant too: two-space indentation and a trailing newline.
        for variant in [bytes.clone(), reindented(&bytes)] {
            std::fs::write(&path, &variant).unwrap();
            let mut file = AuthFile::load(&path, kind).unwrap();
            let report = file.save(ConflictPolicy::Refuse).unwrap();
            assert!(!report.written, "{name}");
            assert_eq!(std::fs::read(&path).unwrap(), variant, "{name}");
        }
    }
}

#[test]
fn editing_one_entry_changes_only_that_entry() {
    let home = TempHome::new();
    let cases = [
        ("docker-desktop.json", FileKind::DockerConfig, "registry.example.com:5000"),
        ("ecr-gcr.json", FileKind::DockerConfig, "quay.io"),
        ("proxies-headers.json", FileKind::DockerConfig, "localhost:5000"),
        ("broken-entries.json", FileKind::DockerConfig, "good.example.com"),
        ("podman-auth.json", FileKind::ContainersAuth, "quay.io/team"),
        ("dockercfg-map.json", FileKind::LegacyDockercfg, "registry.example.com"),
    ];
    for (name, kind, key) in cases {
        let path = home.path().join(name);
        let original = fixture(name);
        std::fs::write(&path, &original).unwrap();
        let mut file = AuthFile::load(&path, kind).unwrap();
        let password = Secret::new("n3w:pässword");
        file.set_credentials(key, "new-user", &password).unwrap();
        assert!(file.save(ConflictPolicy::Refuse).unwrap().written);

        let saved = std::fs::read(&path).unwrap();
        let mut before: Value = serde_json::from_slice(&original).unwrap();
        let mut after: Value = serde_json::from_slice(&saved).unwrap();
        // Check the edited entry, then put its old values back: the rest must be identical.
        let (before_entries, after_entries) = entry_maps(&mut before, &mut after, kind);
        let new_auth = after_entries[key]["auth"].clone();
        assert_eq!(new_auth, encode_auth("new-user", &password), "{name}");
        after_entries[key]["auth"] = before_entries[key]["auth"].clone();
        if after_entries[key].get("username").is_some() {
            after_entries[key]["username"] = before_entries[key]["username"].clone();
            after_entries[key]["password"] = before_entries[key]["password"].clone();
        }
        assert_eq!(before, after, "{name}: only the edited entry may change");
        // Docker-formatted input: every line but the edited ones is byte-identical.
        let changed = changed_lines(&original, &saved);
        assert!((1..=3).contains(&changed), "{name}: {changed} lines changed");
    }
}

fn entry_maps<'a>(before: &'a mut Value, after: &'a mut Value, kind: FileKind) -> (&'a mut Value, &'a mut Value) {
    if kind == FileKind::LegacyDockercfg { (before, after) } else { (&mut before["auths"], &mut after["auths"]) }
}

#[test]
fn rename_and_remove_keep_order_and_unknown_fields() {
    let mut file = AuthFile::from_bytes(FileKind::DockerConfig, &fixture("proxies-headers.json")).unwrap();
    let new_server = regcred::auth_files::parse_server("registry.example.org").unwrap();
    let key = file.rename_entry("https://index.docker.io/v1/", &new_server).unwrap();
    assert_eq!(key, "registry.example.org");
    let keys: Vec<String> = file.entries().into_iter().map(|e| e.key).collect();
    assert_eq!(keys, ["registry.example.org", "localhost:5000"]);
    assert_eq!(file.document()["auths"]["registry.example.org"]["x-custom-field"]["keep"][1].to_string(), "2.50");
    file.remove_entry("registry.example.org").unwrap();
    assert_eq!(file.entries().len(), 1);
    assert!(file.document().contains_key("HttpHeaders"));
    let top: Vec<&String> = file.document().keys().collect();
    assert_eq!(top[0], "auths");
    assert_eq!(top[1], "HttpHeaders");
}

#[test]
fn legacy_line_form_is_read_and_written_as_the_json_map() {
    let home = TempHome::new();
    let path = home.dockercfg();
    home.write(&path, &fixture("dockercfg-lines"));
    let mut file = AuthFile::load(&path, FileKind::LegacyDockercfg).unwrap();
    let entry = file.entry("https://index.docker.io/v1/").unwrap();
    assert_eq!(entry.username.as_deref(), Some("olduser"));
    assert_eq!(entry.password.as_ref().map(Secret::expose), Some("oldpass"));
    assert_eq!(entry.email.as_deref(), Some("old@example.com"));
    file.set_email("https://index.docker.io/v1/", Some("new@example.com")).unwrap();
    file.save(ConflictPolicy::Refuse).unwrap();
    let written: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(written["https://index.docker.io/v1/"]["email"], "new@example.com");
    assert_eq!(written["https://index.docker.io/v1/"]["auth"], encode_auth("olduser", &Secret::new("oldpass")));
}

#[test]
fn broken_entries_are_flagged_and_kept() {
    let home = TempHome::new();
    let path = home.docker_config();
    let original = fixture("broken-entries.json");
    home.write(&path, &original);
    let mut file = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
    let entries = file.entries();
    let problems = |key: &str| {
        entries.iter().find(|e| e.key == key).map(|e| e.problems.iter().map(ToString::to_string).collect::<Vec<_>>())
    };
    assert_eq!(problems("good.example.com"), Some(vec![]));
    for (key, words) in [
        ("badb64.example.com", "not valid base64"),
        ("urlsafe.example.com", "URL-safe"),
        ("nopad.example.com", "padding"),
        ("nocolon.example.com", "no colon"),
        ("emptyuser.example.com", "empty user name"),
        ("nul.example.com", "NUL"),
        ("", "key is empty"),
        ("notobject.example.com", "not a JSON object"),
        ("wrongtype.example.com", "\"auth\" is not a string"),
        ("index.docker.io", "duplicate spelling"),
        ("https://index.docker.io/v1/", "duplicate spelling"),
    ] {
        let found = problems(key).unwrap_or_else(|| panic!("entry {key:?} was dropped"));
        assert!(found.iter().any(|p| p.contains(words)), "{key:?}: {found:?}");
    }
    // Editing the good entry leaves every broken one exactly as it was.
    file.set_credentials("good.example.com", "good", &Secret::new("new")).unwrap();
    file.save(ConflictPolicy::Refuse).unwrap();
    let before: Value = serde_json::from_slice(&original).unwrap();
    let after: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for (key, value) in before["auths"].as_object().unwrap() {
        if key != "good.example.com" {
            assert_eq!(after["auths"][key], *value, "{key:?}");
        }
    }
}

#[test]
fn adding_refuses_a_second_spelling_of_the_same_registry() {
    let mut file = AuthFile::from_bytes(FileKind::DockerConfig, &fixture("docker-desktop.json")).unwrap();
    let hub = regcred::auth_files::parse_server("registry-1.docker.io").unwrap();
    let error = file.add_entry(&hub).unwrap_err();
    assert!(error.to_string().contains("https://index.docker.io/v1/"), "{error}");
    let new = regcred::auth_files::parse_server("https://Registry.Example.net/v1/").unwrap();
    assert_eq!(file.add_entry(&new).unwrap(), "registry.example.net");
    let mut podman = AuthFile::from_bytes(FileKind::ContainersAuth, &fixture("podman-auth.json")).unwrap();
    let scoped = regcred::auth_files::parse_server("quay.io/other").unwrap();
    assert_eq!(podman.add_entry(&scoped).unwrap(), "quay.io/other");
}

fn reindented(bytes: &[u8]) -> Vec<u8> {
    let value: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    if value.is_null() {
        return bytes.to_vec();
    }
    let mut text = serde_json::to_string_pretty(&value).unwrap();
    text.push('\n');
    text.into_bytes()
}

fn changed_lines(before: &[u8], after: &[u8]) -> usize {
    let before: Vec<&[u8]> = before.split(|b| *b == b'\n').collect();
    let after: Vec<&[u8]> = after.split(|b| *b == b'\n').collect();
    assert_eq!(before.len(), after.len(), "line count changed");
    before.iter().zip(&after).filter(|(a, b)| a != b).count()
}
