//! `regcred check` where no pull is made: hostile text from manifests and credential files shown
//! inert (terminal, stderr, `JUnit`) while `--json` keeps the exact strings; the kubelet's order of
//! checks (an invalid image name is `InvalidImageName` whatever the pull policy); the summary's
//! count of kinds regcred does not read.

use serde_json::Value;

use crate::support::TempHome;

/// Escape sequences a third-party chart could carry: window title, clear screen, colour.
const TITLE: &str = "\u{1b}]0;title\u{7}";
const CLEAR: &str = "\u{1b}[2J";
const RED: &str = "\u{1b}[31m";

fn write(home: &TempHome, name: &str, text: &str) -> String {
    let path = home.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// A manifest with an escape sequence in every name field: namespace, Pod, container, image,
/// pull Secret, `ServiceAccount`, and a kind regcred does not read.
fn hostile_manifest() -> String {
    // JSON, so that every control character survives exactly as written.
    let pod = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": format!("pod{TITLE}"), "namespace": format!("ns{CLEAR}")},
        "spec": {
            "serviceAccountName": format!("sa{RED}"),
            "imagePullSecrets": [{"name": format!("pull{TITLE}")}],
            "containers": [
                {"name": format!("app{RED}"), "image": format!("registry.example.com/app{CLEAR}:1")},
                {"name": "cached", "image": format!("{TITLE}"), "imagePullPolicy": "Never"}
            ]
        }
    });
    let other =
        serde_json::json!({"apiVersion": "example.com/v1", "kind": format!("Thing{RED}"), "metadata": {"name": "x"}});
    format!("{pod}\n{other}\n")
}

fn assert_inert(what: &str, bytes: &[u8]) {
    assert!(
        !bytes.contains(&0x1b) && !bytes.contains(&0x07),
        "{what} carries a raw ESC or BEL: {}",
        String::from_utf8_lossy(bytes)
    );
}

#[test]
fn names_from_manifests_reach_text_and_junit_inert_and_json_exact() {
    let home = TempHome::new();
    let file = write(&home, "hostile.json", &hostile_manifest());
    let junit = home.path().join("report.xml");
    let output = home.run(&["check", "-f", &file, "--junit", junit.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    assert_inert("stdout", &output.stdout);
    assert_inert("stderr", &output.stderr);
    let junit = std::fs::read(&junit).unwrap();
    assert_inert("the JUnit report", &junit);
    let text = String::from_utf8(output.stdout).unwrap();
    for shown in [
        "ns\\x1b[2J/Pod/pod\\x1b]0;title\\x07",
        "app\\x1b[31m",
        "registry.example.com/app\\x1b[2J:1",
        "pull\\x1b]0;title\\x07",
    ] {
        assert!(text.contains(shown), "{shown} in {text}");
    }
    assert!(text.contains("1 object of kinds regcred does not read: Thing\\x1b[31m.example.com"), "{text}");
    assert!(String::from_utf8(junit).unwrap().contains("app\\x1b[31m registry.example.com/app\\x1b[2J:1"));

    let output = home.run(&["check", "--json", "-f", &file]);
    assert_inert("stderr with --json", &output.stderr);
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let app = &json["results"][0];
    assert_eq!(app["namespace"], format!("ns{CLEAR}"));
    assert_eq!(app["workload"], format!("Pod/pod{TITLE}"));
    assert_eq!(app["container"], format!("app{RED}"));
    assert_eq!(app["image"], format!("registry.example.com/app{CLEAR}:1"));
    assert!(app["notes"].to_string().contains("pull\\u001b]0;title\\u0007"), "{app}");
    assert_eq!(json["summary"]["not_read"][format!("Thing{RED}.example.com")], 1);
}

#[test]
fn an_invalid_image_name_is_invalid_whatever_the_pull_policy() {
    let home = TempHome::new();
    let pod = |name: &str, image: &str, policy: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n  - name: app\n    image: '{image}'\n    imagePullPolicy: {policy}\n"
        )
    };
    let text = [
        pod("template", "{IMAGE}", "Never"),
        pod("shouty", "Nginx:1", "Never"),
        pod("cached", "nginx:1.27", "Never"),
        pod("always", "Nginx:1", "Always"),
        // Nothing listens on loopback port 9: the pull fails at once.
        pod("written", "127.0.0.1:9/team/app:1", "IfNotPresent"),
        pod("defaulted", "127.0.0.1:9/team/app:2", "''"),
    ]
    .join("---\n");
    let file = write(&home, "policies.yaml", &text);
    let output = home.run(&["check", "--json", "-f", &file]);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let row = |name: &str| {
        json["results"].as_array().unwrap().iter().find(|r| r["workload"] == format!("Pod/{name}")).unwrap().clone()
    };
    for name in ["template", "shouty", "always"] {
        let row = row(name);
        assert_eq!(
            (row["verdict"].as_str(), row["reason"].as_str()),
            (Some("fails"), Some("InvalidImageName")),
            "{row}"
        );
        assert!(row["kubelet"].as_str().unwrap().starts_with("Failed to apply default image tag"), "{row}");
    }
    let cached = row("cached");
    assert_eq!(cached["verdict"], "skipped");
    let notes = cached["notes"].to_string();
    assert!(notes.contains("pre-pulled on every node"), "{notes}");
    assert!(
        notes
            .contains("ErrImageNeverPull, Container image \\\"nginx:1.27\\\" is not present with pull policy of Never"),
        "{notes}"
    );
    let if_not_present = "a node that already has the image starts the container without pulling";
    let written = row("written");
    assert_eq!(written["verdict"], "fails", "{written}");
    assert!(written["notes"].to_string().contains(if_not_present), "{written}");
    let defaulted = row("defaulted");
    assert_eq!(defaulted["verdict"], "fails", "{defaulted}");
    assert!(!defaulted["notes"].to_string().contains(if_not_present), "the default is not said: {defaulted}");
}

#[test]
fn helper_names_from_a_credential_file_are_inert_in_list_and_sources() {
    let home = TempHome::new();
    let config = serde_json::json!({
        "auths": {"registry.example.com": {}},
        "credsStore": format!("store{TITLE}"),
        "credHelpers": {"registry.example.com": format!("helper{CLEAR}")}
    });
    home.write(&home.docker_config(), config.to_string().as_bytes());
    for command in [&["list"][..], &["sources"][..]] {
        let output = home.run(command);
        assert_inert(&format!("{command:?} stdout"), &output.stdout);
        assert_inert(&format!("{command:?} stderr"), &output.stderr);
    }
    let list = String::from_utf8(home.run(&["list"]).stdout).unwrap();
    assert!(list.contains("helper helper\\x1b[2J"), "{list}");
    let sources = String::from_utf8(home.run(&["sources"]).stdout).unwrap();
    assert!(sources.contains("credsStore: store\\x1b]0;title\\x07"), "{sources}");
    let json: Value = serde_json::from_slice(&home.run(&["list", "--json"]).stdout).unwrap();
    assert_eq!(json[0]["secret"]["helper"], format!("helper{CLEAR}"), "--json keeps the exact name");
}

/// Manifests named without -f are read as with it (as people type `regcred check app.yaml`), and
/// a check given nothing says every way to give it something.
#[test]
fn paths_without_f_are_manifests_too() {
    let home = TempHome::new();
    let pod =
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: 'Nginx:1'\n";
    let file = write(&home, "pod.yaml", pod);
    let with_f = home.run(&["check", "--json", "-f", &file]);
    let without = home.run(&["check", "--json", &file]);
    assert_eq!(with_f.status.code(), Some(1), "{}", String::from_utf8_lossy(&with_f.stderr));
    assert_eq!(without.status.code(), Some(1), "{}", String::from_utf8_lossy(&without.stderr));
    let results = |output: &std::process::Output| {
        let json: Value = serde_json::from_slice(&output.stdout).unwrap();
        json["results"].clone()
    };
    assert_eq!(results(&with_f), results(&without));
    let nothing = home.run(&["check"]);
    assert_eq!(nothing.status.code(), Some(2));
    let said = String::from_utf8_lossy(&nothing.stderr);
    assert!(said.contains("--filename") && said.contains("--cluster"), "{said}");
}
