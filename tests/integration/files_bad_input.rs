//! Malformed files: a clear error that names the file, and the file left byte-identical.

use std::process::Output;

use regcred::auth_files::{AuthFile, AuthFileError, ConflictPolicy, FileKind};
use regcred::secret::Secret;

use crate::support::{TempHome, assert_no_panic};

fn bad_inputs() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let deep = format!("{{\"auths\":{}{}}}", "[".repeat(300), "]".repeat(300));
    let mut huge = b"{\"auths\":{},\"pad\":\"".to_vec();
    huge.resize(50 * 1024 * 1024 - 2, b'a');
    huge.extend_from_slice(b"\"}");
    vec![
        ("invalid JSON", b"{\"auths\": {".to_vec(), "invalid JSON"),
        ("trailing comma", b"{\"auths\": {},}".to_vec(), "invalid JSON"),
        ("byte-order mark", b"\xEF\xBB\xBF{\"auths\":{}}".to_vec(), "byte-order mark"),
        ("empty", Vec::new(), "the file is empty"),
        ("whitespace", b" \n\t ".to_vec(), "the file holds no JSON, only whitespace"),
        ("null", b"null".to_vec(), "found null"),
        ("top-level array", b"[{\"auths\":{}}]".to_vec(), "found an array"),
        ("a string", b"\"auths\"".to_vec(), "found a string"),
        ("invalid UTF-8", b"{\"auths\":{\"r\":{\"auth\":\"\xC3\x28\"}}}".to_vec(), "not valid UTF-8"),
        ("lone surrogate", b"{\"auths\":{\"r\":{\"auth\":\"\\ud800\"}}}".to_vec(), "invalid JSON"),
        ("nesting past the limit", deep.into_bytes(), "recursion limit"),
        ("auths not an object", b"{\"auths\":[]}".to_vec(), "\"auths\" must be an object"),
        ("credsStore not a string", b"{\"credsStore\":1}".to_vec(), "\"credsStore\" must be a string"),
        ("credHelpers values", b"{\"credHelpers\":{\"r\":1}}".to_vec(), "\"credHelpers\" must be a map of strings"),
        ("50 MB", huge, "too large (52428800 bytes"),
    ]
}

#[test]
fn malformed_files_give_a_clear_error_and_stay_untouched() {
    let home = TempHome::new();
    let path = home.docker_config();
    for (case, bytes, words) in bad_inputs() {
        home.write(&path, &bytes);
        let error = AuthFile::load(&path, FileKind::DockerConfig).unwrap_err();
        let text = error.to_string();
        assert!(matches!(error, AuthFileError::Malformed { .. }), "{case}: {text}");
        assert!(text.contains(words), "{case}: {text}");
        assert!(text.ends_with(&path.display().to_string()), "{case}: the path goes last: {text}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{case}: file changed");
    }
}

#[test]
fn the_cli_reports_malformed_files_without_panicking_or_writing() {
    let home = TempHome::new();
    let path = home.docker_config();
    for (case, bytes, words) in bad_inputs() {
        home.write(&path, &bytes);
        for args in [&["sources"][..], &["list"], &["list", "--json"], &["resolve", "nginx"]] {
            let output: Output = home.run(args);
            assert_no_panic(&output);
            let stderr = String::from_utf8_lossy(&output.stderr);
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(stderr.contains(words) || stdout.contains(words), "{case} {args:?}: {stdout} {stderr}");
        }
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{case}: file changed");
    }
}

#[test]
fn legacy_and_podman_files_refuse_bad_input_too() {
    let home = TempHome::new();
    for (kind, path) in [(FileKind::LegacyDockercfg, home.dockercfg()), (FileKind::ContainersAuth, home.podman_auth())]
    {
        for bytes in [&b"auth = only-one-line-without-email extra\nnot email\n"[..], b"", b"null", b"[1]", b"{"] {
            home.write(&path, bytes);
            let error = AuthFile::load(&path, kind).unwrap_err();
            assert!(error.to_string().contains(&path.display().to_string()), "{error}");
            assert_eq!(std::fs::read(&path).unwrap(), bytes);
        }
    }
}

#[test]
fn a_file_broken_by_another_program_after_loading_is_not_overwritten() {
    let home = TempHome::new();
    let path = home.docker_config();
    home.write(&path, b"{\"auths\":{\"r.example.com\":{}}}");
    let mut file = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
    file.set_credentials("r.example.com", "user", &Secret::new("pw")).unwrap();
    let garbage = b"{\"auths\": this is not json".to_vec();
    std::fs::write(&path, &garbage).unwrap();
    let error = file.save(ConflictPolicy::Refuse).unwrap_err();
    assert!(error.to_string().contains("invalid JSON"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), garbage);
    assert!(file.is_dirty(), "the edit is kept in memory");
}
