//! `cargo bench --bench yaml`: pull-secret rendering speed, as ratios against kubectl.
//!
//! 1. In-process: rendering a 1,000-registry Secret (YAML and JSON).
//! 2. Whole process, same single registry: `regcred yaml` vs
//!    `kubectl create secret docker-registry … --dry-run=client -o yaml`. Target: ≤ 0.1×.

#![allow(clippy::expect_used, reason = "a benchmark stops at the first failure")]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use regcred::pull_secret::{KubectlStyle, RegistryAuth, SecretRequest, SecretType, render_secret};
use regcred::secret::Secret;

const RUNS: usize = 21;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time_command(mut make: impl FnMut() -> Command) -> Duration {
    let samples = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let output = make().output().expect("run");
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            start.elapsed()
        })
        .collect();
    median(samples)
}

fn main() {
    let registries: Vec<RegistryAuth> = (0..1_000)
        .map(|i| {
            RegistryAuth::new(
                format!("registry-{i}.example.com:5000"),
                format!("robot-{i}"),
                Secret::new(format!("password-{i}-with-some-length")),
                (i % 2 == 0).then(|| format!("ops{i}@example.com")),
            )
        })
        .collect();
    let request = SecretRequest {
        name: "many".into(),
        namespace: Some("team".into()),
        secret_type: SecretType::DockerConfigJson,
        registries,
        style: KubectlStyle::WithCreationTimestamp,
    };
    let samples: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let rendered = render_secret(&request).expect("render");
            std::hint::black_box(rendered);
            start.elapsed()
        })
        .collect();
    println!("render 1,000-registry Secret (YAML+JSON): median {:.2} ms", median(samples).as_secs_f64() * 1e3);

    let home = tempfile::tempdir().expect("temp");
    let docker = home.path().join(".docker");
    std::fs::create_dir_all(&docker).expect("mkdir");
    std::fs::write(docker.join("config.json"), br#"{"auths":{"registry.example.com":{"auth":"cm9ib3Q6czNjcmV0"}}}"#)
        .expect("write");
    let regcred = env!("CARGO_BIN_EXE_regcred");
    let ours = time_command(|| {
        let mut command = Command::new(regcred);
        command.args(["yaml", "--name", "pull", "registry.example.com"]).env("HOME", home.path());
        command
    });
    println!("regcred yaml (whole process, 1 registry): median {:.2} ms", ours.as_secs_f64() * 1e3);
    let Some(kubectl) = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"].into_iter().find(|p| Path::new(p).is_file())
    else {
        println!("kubectl not installed: no ratio");
        return;
    };
    let theirs = time_command(|| {
        let mut command = Command::new(kubectl);
        command
            .args(["create", "secret", "docker-registry", "pull", "--docker-server=registry.example.com"])
            .args(["--docker-username=robot", "--docker-password=s3cret", "--dry-run=client", "-o", "yaml"])
            .env("KUBECONFIG", "/dev/null");
        command
    });
    println!("kubectl create secret --dry-run=client (whole process): median {:.2} ms", theirs.as_secs_f64() * 1e3);
    let ratio = ours.as_secs_f64() / theirs.as_secs_f64();
    println!("ratio regcred/kubectl = {ratio:.3} (target ≤ 0.100): {}", if ratio <= 0.1 { "met" } else { "NOT met" });
}
