//! The unreachable-host case: 30 images on 3 registry hosts whose DNS server never answers, in a
//! private network namespace (`unshare -m -n`, root; loopback only) with its own
//! `/etc/resolv.conf` pointing at a UDP socket on 127.0.0.1:53 that reads and never answers (the
//! system resolver's default options: 5 s, 2 attempts). `regcred check` against
//! `xargs -P4 skopeo inspect` under the same resolver; DNS queries counted for each.
//!
//! The benchmark re-runs itself inside the namespace (marked by `REGCRED_BENCH_UNREACHABLE`).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MARK: &str = "REGCRED_BENCH_UNREACHABLE";
const HOSTS: [&str; 3] = ["reg-a.unreachable.test", "reg-b.unreachable.test", "reg-c.unreachable.test"];
const PER_HOST: usize = 10;

/// Whether this process is the run inside the namespace.
pub fn is_inside() -> bool {
    std::env::var_os(MARK).is_some()
}

/// Runs the case in a private network namespace, or says why it cannot.
pub fn measure() {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root || Command::new("unshare").arg("--version").output().is_err() {
        println!("unreachable hosts: needs root and unshare (a private network namespace): not measured");
        return;
    }
    let status = Command::new("unshare")
        .args(["-m", "-n", "--"])
        .arg(std::env::current_exe().unwrap())
        .env(MARK, "1")
        .status()
        .unwrap();
    assert!(status.success(), "the unreachable-host case failed");
}

/// Inside the namespace: the resolver, the two runs, the figures.
pub fn measure_inside() {
    let work = tempfile::tempdir().unwrap();
    let resolv_conf = work.path().join("resolv.conf");
    std::fs::write(&resolv_conf, "nameserver 127.0.0.1\n").unwrap();
    run(Command::new("ip").args(["link", "set", "lo", "up"]));
    run(Command::new("mount").arg("--bind").arg(&resolv_conf).arg("/etc/resolv.conf"));
    let queries = crate::dns::dns_server("127.0.0.1", false);
    let images: Vec<String> =
        HOSTS.iter().flat_map(|host| (0..PER_HOST).map(move |n| format!("{host}/team/app:t{n}"))).collect();
    let manifests = work.path().join("pods.yaml");
    std::fs::write(&manifests, pods(&images)).unwrap();

    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_regcred"))
        .args(["check", "--json", "-f", manifests.to_str().unwrap()])
        .env("HOME", work.path())
        .output()
        .unwrap();
    let ours = started.elapsed();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["summary"]["fails"], 30, "{}", String::from_utf8_lossy(&output.stderr));
    let our_queries = take(&queries);

    let list: String = images.iter().map(|image| format!("docker://{image}\n")).collect();
    let started = Instant::now();
    let mut xargs = Command::new("xargs")
        .args(["-P4", "-n1", "skopeo", "inspect", "--retry-times", "0"])
        .env("REGISTRY_AUTH_FILE", work.path().join("auth.json"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut xargs.stdin.take().unwrap(), list.as_bytes()).unwrap();
    let _ = xargs.wait();
    let theirs = started.elapsed();
    let their_queries = take(&queries);

    println!("unreachable hosts: 30 images on 3 hosts, a DNS server that never answers (whole process):");
    println!(
        "  regcred check {:.2} s ({our_queries} DNS queries, {} per host), xargs -P4 skopeo inspect {:.2} s ({their_queries} queries), ratio {:.3}; target: within 1.2x the connect timeout (10 s): {}",
        ours.as_secs_f64(),
        our_queries / HOSTS.len(),
        theirs.as_secs_f64(),
        ours.as_secs_f64() / theirs.as_secs_f64(),
        if ours <= Duration::from_secs(12) { "met" } else { "NOT met" }
    );
}

fn run(command: &mut Command) {
    let output = command.output().unwrap();
    assert!(output.status.success(), "{command:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// One Pod per image.
fn pods(images: &[String]) -> String {
    let documents: Vec<String> = images
        .iter()
        .enumerate()
        .map(|(n, image)| {
            format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{n}\nspec:\n  containers:\n  - name: app\n    image: {image}\n")
        })
        .collect();
    documents.join("---\n")
}

/// The queries counted so far, and a fresh count.
fn take(queries: &crate::dns::Queries) -> usize {
    let total = crate::dns::total(queries);
    queries.lock().unwrap().clear();
    total
}
