//! Differential test against real kubectl: `regcred`'s pull Secret is byte-identical to
//! `kubectl create secret docker-registry … --dry-run=client -o yaml|json` for generated cases.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use regcred::pull_secret::{KubectlStyle, RegistryAuth, SecretRequest, SecretType, render_secret};
use regcred::secret::Secret;

use crate::support::{Xorshift, component_available};

/// Generated cases, each compared as YAML and as JSON.
const CASES: usize = 320;

/// kubectl, if installed.
pub fn kubectl() -> Option<PathBuf> {
    let path = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"].into_iter().map(PathBuf::from).find(|p| p.is_file())?;
    Command::new(&path).args(["version", "--client"]).output().ok()?.status.success().then_some(path)
}

#[derive(Debug, Clone)]
struct Case {
    name: String,
    namespace: Option<String>,
    server: String,
    username: String,
    password: String,
    email: Option<String>,
}

const SPECIAL_WORDS: [&str; 17] = [
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "true",
    "null",
    "0123",
    "1e3",
    "123",
    "2024-01-02",
    "0x1f",
    "0b101",
    "1-2",
    "08",
    "0o17",
];

fn pick<'a>(rng: &mut Xorshift, items: &[&'a str]) -> &'a str {
    items[rng.index(items.len())]
}

fn label(rng: &mut Xorshift) -> String {
    if rng.below(3) == 0 {
        return pick(rng, &SPECIAL_WORDS).to_owned();
    }
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789-";
    let len = 1 + rng.index(16);
    let text: String = (0..len).map(|_| char::from(alphabet[rng.index(alphabet.len())])).collect();
    let text = text.trim_matches('-');
    if text.is_empty() { "x".to_owned() } else { text.to_owned() }
}

fn free_text(rng: &mut Xorshift) -> String {
    const PIECES: [&str; 30] = [
        "a", "Z", "9", ":", "\"", "'", "\\", " ", "#", "<", ">", "&", "ü", "✓", "😀", "\t", "yes", "null", "0123",
        ": ", "- ", "@", "%", "{", "}", "[", "]", "|", "=", "/",
    ];
    let len = 1 + rng.below(8);
    let text: String = (0..len).map(|_| pick(rng, &PIECES)).collect();
    text
}

fn generate(rng: &mut Xorshift) -> Case {
    const SERVERS: [&str; 10] = [
        "https://index.docker.io/v1/",
        "registry.example.com",
        "registry.example.com:5000",
        "https://r.example.com:8443/v2/",
        "http://insecure.local:80/path",
        "localhost:5000",
        "[::1]:5000",
        "quay.io/team/app",
        "régistry.example",
        "a<b>&c",
    ];
    let name = match rng.below(3) {
        0 => label(rng),
        1 => format!("{}.{}", label(rng), label(rng)),
        _ => pick(rng, &SPECIAL_WORDS).to_owned(),
    };
    Case {
        name,
        namespace: (rng.below(2) == 0).then(|| label(rng)),
        server: pick(rng, &SERVERS).to_owned(),
        username: free_text(rng),
        password: free_text(rng),
        email: (rng.below(2) == 0).then(|| free_text(rng)),
    }
}

fn kubectl_output(kubectl: &PathBuf, case: &Case, format: &str) -> String {
    let mut command = Command::new(kubectl);
    command.args(["create", "secret", "docker-registry", &case.name]);
    command.arg(format!("--docker-server={}", case.server));
    command.arg(format!("--docker-username={}", case.username));
    command.arg(format!("--docker-password={}", case.password));
    if let Some(email) = &case.email {
        command.arg(format!("--docker-email={email}"));
    }
    if let Some(namespace) = &case.namespace {
        command.args(["-n", namespace]);
    }
    command.args(["--dry-run=client", "-o", format]);
    let output = command.env("KUBECONFIG", "/dev/null").output().unwrap();
    assert!(output.status.success(), "kubectl failed for {case:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn render(case: &Case, style: KubectlStyle) -> regcred::pull_secret::Rendered {
    render_secret(&SecretRequest {
        name: case.name.clone(),
        namespace: case.namespace.clone(),
        secret_type: SecretType::DockerConfigJson,
        registries: vec![RegistryAuth::new(
            case.server.clone(),
            case.username.clone(),
            Secret::new(case.password.as_str()),
            case.email.clone(),
        )],
        style,
    })
    .unwrap_or_else(|e| panic!("{case:?}: {e}"))
}

#[test]
fn secrets_are_byte_identical_to_kubectl() {
    let Some(kubectl) = kubectl() else {
        component_available("kubectl", false);
        return;
    };
    let mut rng = Xorshift(0x5EED_1234_ABCD_0001);
    let cases: Vec<Case> = (0..CASES).map(|_| generate(&mut rng)).collect();
    let probe = kubectl_output(&kubectl, &cases[0], "yaml");
    let style = if probe.contains("creationTimestamp") {
        KubectlStyle::WithCreationTimestamp
    } else {
        KubectlStyle::WithoutCreationTimestamp
    };
    let mismatches = Mutex::new(Vec::new());
    let chunks: Vec<&[Case]> = cases.chunks(CASES.div_ceil(4)).collect();
    std::thread::scope(|scope| {
        for (index, chunk) in chunks.into_iter().enumerate() {
            let (kubectl, mismatches) = (&kubectl, &mismatches);
            std::thread::Builder::new()
                .name(format!("kubectl-{index}"))
                .spawn_scoped(scope, move || {
                    for case in chunk {
                        let ours = render(case, style);
                        for (format, expected, actual) in [("yaml", &ours.yaml, "yaml"), ("json", &ours.json, "json")] {
                            let theirs = kubectl_output(kubectl, case, actual);
                            if theirs != *expected {
                                mismatches
                                    .lock()
                                    .unwrap()
                                    .push(format!("{format} {case:?}\nkubectl:\n{theirs}\nregcred:\n{expected}"));
                            }
                        }
                    }
                })
                .unwrap();
        }
    });
    let mismatches = mismatches.into_inner().unwrap();
    assert!(mismatches.is_empty(), "{} of {} outputs differ; first:\n{}", mismatches.len(), CASES * 2, mismatches[0]);
    println!("kubectl oracle: {CASES} cases × 2 formats = {} outputs byte-identical", CASES * 2);
}
