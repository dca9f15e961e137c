//! Pull-secret YAML: parse-back, snapshots, validation, and `regcred yaml` end to end.

use std::os::unix::fs::PermissionsExt as _;

use base64::Engine as _;
use regcred::auth_files::{AuthFile, FileKind};
use regcred::pull_secret::{
    KubectlStyle, NodeFileFormat, PodRequest, PullPolicy, PullSecretError, RegistryAuth, SecretRequest, SecretType,
    pod_check_commands, render_node_recipe, render_pod, render_secret, render_service_account_patch,
};
use regcred::secret::Secret;
use serde_json::Value;

use crate::support::{TempHome, fixture};

fn registry(server: &str, username: &str, password: &str, email: Option<&str>) -> RegistryAuth {
    RegistryAuth::new(server, username, Secret::new(password), email.map(str::to_owned))
}

fn request(secret_type: SecretType, registries: Vec<RegistryAuth>) -> SecretRequest {
    SecretRequest {
        name: "regcred".to_owned(),
        namespace: Some("team-a".to_owned()),
        secret_type,
        registries,
        style: KubectlStyle::WithCreationTimestamp,
    }
}

fn tricky_registries() -> Vec<RegistryAuth> {
    vec![
        registry("registry.example.com:5000", "yes", "null", None),
        registry("https://index.docker.io/v1/", "0123", "pa:ss \"#' ü✓\n", Some("a: b #c")),
    ]
}

#[test]
fn every_document_parses_back_to_what_it_came_from() {
    for (secret_type, kind) in
        [(SecretType::DockerConfigJson, FileKind::DockerConfig), (SecretType::DockerCfg, FileKind::LegacyDockercfg)]
    {
        let rendered = render_secret(&request(secret_type, tricky_registries())).unwrap();
        let from_yaml: Value = serde_yaml_ng::from_str(&rendered.yaml).unwrap();
        let from_json: Value = serde_json::from_str(&rendered.json).unwrap();
        assert_eq!(from_yaml, from_json);
        assert_eq!(from_json["metadata"]["name"], "regcred");
        assert_eq!(from_json["metadata"]["namespace"], "team-a");
        assert_eq!(from_json["type"], secret_type.type_name());
        let encoded = from_json["data"][secret_type.data_key()].as_str().unwrap();
        let inner = base64::engine::general_purpose::STANDARD.decode(encoded).unwrap();
        let file = AuthFile::from_bytes(kind, &inner).expect("the Docker config parser accepts the inner JSON");
        for expected in tricky_registries() {
            let entry = file.entry(&expected.server).unwrap();
            assert!(entry.problems.is_empty(), "{:?}", entry.problems);
            assert_eq!(entry.username.as_deref(), Some(expected.credential.username.as_str()));
            assert_eq!(entry.password.as_ref(), Some(&expected.credential.secret));
            assert_eq!(entry.email, expected.email);
        }
    }
    let pod =
        render_pod(&PodRequest { namespace: Some("null".into()), ..PodRequest::verification("yes/no:0123", "on") })
            .unwrap();
    let from_yaml: Value = serde_yaml_ng::from_str(&pod.yaml).unwrap();
    assert_eq!(from_yaml, serde_json::from_str::<Value>(&pod.json).unwrap());
    assert_eq!(from_yaml["metadata"]["namespace"], "null");
    assert_eq!(from_yaml["spec"]["containers"][0]["image"], "yes/no:0123");
    assert_eq!(from_yaml["spec"]["imagePullSecrets"][0]["name"], "on");
}

#[test]
fn several_registries_share_one_secret_in_kubectls_key_order() {
    let rendered = render_secret(&request(SecretType::DockerConfigJson, tricky_registries())).unwrap();
    let json: Value = serde_json::from_str(&rendered.json).unwrap();
    let inner =
        base64::engine::general_purpose::STANDARD.decode(json["data"][".dockerconfigjson"].as_str().unwrap()).unwrap();
    let text = String::from_utf8(inner).unwrap();
    assert!(
        text.starts_with("{\"auths\":{\"https://index.docker.io/v1/\":{\"username\":\"0123\",\"password\":"),
        "{text}"
    );
    assert!(text.contains("\"email\":\"a: b #c\",\"auth\":"), "{text}");
}

#[test]
fn snapshots_of_the_dockercfg_secret_pod_patch_and_node_recipe() {
    let registries = vec![registry("registry.example.com", "robot", "s3cret", Some("ops@example.com"))];
    let dockercfg = render_secret(&request(SecretType::DockerCfg, registries.clone())).unwrap();
    insta::assert_snapshot!("dockercfg_secret_yaml", dockercfg.yaml);
    insta::assert_snapshot!("dockercfg_secret_json", dockercfg.json);
    let pod = PodRequest {
        pull_policy: PullPolicy::IfNotPresent,
        ..PodRequest::verification("registry.example.com/team/app:1.0", "regcred")
    };
    insta::assert_snapshot!("pod_yaml", render_pod(&pod).unwrap().yaml);
    insta::assert_snapshot!("pod_check_commands", pod_check_commands(&pod, "regcred.yaml").join("\n"));
    let patch = render_service_account_patch("default", Some("team-a"), "regcred").unwrap();
    insta::assert_snapshot!(
        "service_account_patch",
        format!("{}\n{}\n{}", patch.patch.yaml, patch.command, patch.append_command)
    );
    let recipe = render_node_recipe(&registries, NodeFileFormat::ConfigJson).unwrap();
    insta::assert_snapshot!("node_recipe_config_json", recipe.to_commented_text());
    let legacy = render_node_recipe(&registries, NodeFileFormat::Dockercfg).unwrap();
    insta::assert_snapshot!("node_recipe_dockercfg", legacy.content);
}

#[test]
fn each_validation_rule_names_its_field() {
    let good = || request(SecretType::DockerConfigJson, vec![registry("r.example.com", "u", "p", None)]);
    let cases: Vec<(SecretRequest, &str)> = vec![
        (
            SecretRequest { name: String::new(), ..good() },
            "metadata.name: Invalid value: \"\": name or generateName is required",
        ),
        (
            SecretRequest { name: "Bad_Name".into(), ..good() },
            "metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain",
        ),
        (SecretRequest { name: "a".repeat(254), ..good() }, "must be no more than 253 characters"),
        (
            SecretRequest { namespace: Some("a.b".into()), ..good() },
            "metadata.namespace: Invalid value: \"a.b\": a lowercase RFC 1123 label",
        ),
        (SecretRequest { namespace: Some("n".repeat(64)), ..good() }, "must be no more than 63 characters"),
        (SecretRequest { registries: vec![], ..good() }, "select at least one registry"),
        (SecretRequest { registries: vec![registry("r", "", "p", None)], ..good() }, "has no user name"),
        (SecretRequest { registries: vec![registry("r", "u", "", None)], ..good() }, "has no password"),
        (
            SecretRequest { registries: vec![registry("r", "u", "p", None), registry("r", "v", "q", None)], ..good() },
            "selected twice",
        ),
        (
            SecretRequest { registries: vec![registry("r", "u", &"p".repeat(800_000), None)], ..good() },
            "data: Invalid value: \"",
        ),
    ];
    for (bad, words) in cases {
        let error = render_secret(&bad).unwrap_err().to_string();
        assert!(error.contains(words), "{words:?} not in {error:?}");
    }
    let too_big =
        render_secret(&SecretRequest { registries: vec![registry("r", "u", &"p".repeat(800_000), None)], ..good() });
    assert!(too_big.unwrap_err().to_string().contains("Too long: must have at most 1048576 bytes"));
    let pod = PodRequest::verification("Registry/UPPER", "regcred");
    assert!(matches!(render_pod(&pod), Err(PullSecretError::InvalidImage(_))));
    let pod = PodRequest { name: "x_y".into(), ..PodRequest::verification("nginx", "regcred") };
    assert!(render_pod(&pod).unwrap_err().to_string().starts_with("metadata.name: Invalid value"));
    let pod = PodRequest::verification("nginx", "Bad");
    assert!(render_pod(&pod).unwrap_err().to_string().starts_with("spec.imagePullSecrets[0].name"));
    assert!(
        render_service_account_patch("Default", None, "regcred").unwrap_err().to_string().starts_with("serviceaccount")
    );
    assert!(matches!(render_node_recipe(&[], NodeFileFormat::ConfigJson), Err(PullSecretError::NoRegistries)));
}

#[test]
fn cli_writes_0600_refuses_overwrite_and_reads_secrets_from_the_files() {
    let home = TempHome::new();
    home.write(&home.docker_config(), &fixture("ecr-gcr.json"));
    home.write(&home.dockercfg(), &fixture("dockercfg-lines"));
    let out = home.path().join("out/pull.yaml");
    let output = home.run(&[
        "yaml",
        "--name",
        "pull",
        "quay.io",
        "docker.io",
        "--pod",
        "quay.io/team/app",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
    let written = std::fs::read_to_string(&out).unwrap();
    let documents: Vec<Value> = written.split("---\n").map(|d| serde_yaml_ng::from_str(d).unwrap()).collect();
    assert_eq!(documents[0]["kind"], "Secret");
    assert_eq!(documents[1]["kind"], "Pod");
    let inner = base64::engine::general_purpose::STANDARD
        .decode(documents[0]["data"][".dockerconfigjson"].as_str().unwrap())
        .unwrap();
    let inner: Value = serde_json::from_slice(&inner).unwrap();
    assert_eq!(inner["auths"]["quay.io"]["username"], "robot+ci");
    assert_eq!(inner["auths"]["https://index.docker.io/v1/"]["password"], "oldpass", "from the legacy line form");

    let again = home.run(&["yaml", "--name", "pull", "quay.io", "--output", out.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), written, "not overwritten");
    let forced = home.run(&["yaml", "--name", "pull", "quay.io", "--output", out.to_str().unwrap(), "--force"]);
    assert!(forced.status.success());

    let json = home.run(&["yaml", "--name", "pull", "quay.io", "-o", "json", "--service-account"]);
    let parsed: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(parsed["kind"], "Secret");
    assert!(String::from_utf8_lossy(&json.stderr).contains("kubectl patch serviceaccount default"));

    let missing = home.run(&["yaml", "--name", "pull", "ghcr.io"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no credential for ghcr.io"));
    let mut config: Value = serde_json::from_slice(&fixture("ecr-gcr.json")).unwrap();
    config["credHelpers"]["private.example.com"] = "regcred-test-absent".into();
    home.write(&home.docker_config(), &serde_json::to_vec(&config).unwrap());
    let helper_missing = home.run(&["yaml", "--name", "pull", "private.example.com"]);
    let stderr = String::from_utf8_lossy(&helper_missing.stderr);
    assert!(stderr.contains("docker-credential-regcred-test-absent is configured but not installed"), "{stderr}");
    let invalid = home.run(&["yaml", "--name", "Pull", "quay.io"]);
    assert!(String::from_utf8_lossy(&invalid.stderr).contains("metadata.name: Invalid value: \"Pull\""));
}
