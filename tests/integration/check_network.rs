//! `regcred check` on an unhappy network, in a private network namespace the test makes (loopback
//! only) with its own `/etc/resolv.conf` and `/etc/hosts`: a DNS server that never answers, one
//! that says NXDOMAIN, and a server that accepts connections and says nothing. Each host fails
//! once for all its images (lookups and connections counted), in the words of Go's resolver and
//! `net/http`; `--timeout` ends a run that would otherwise wait, with its own verdict.
//!
//! The test re-runs itself as a worker under `unshare -m -n` (root), so the fake servers live in
//! the namespace with the `regcred` it starts.

use std::net::TcpListener;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use crate::support::dns::{Queries, dns_server, total};
use crate::support::{TempHome, component_available, is_worker, worker};

const WORKER: &str = "check_network::worker_in_a_private_network_namespace";
/// The resolver that never answers, and the one that says NXDOMAIN.
const SILENT_DNS: &str = "127.0.0.1";
const NXDOMAIN_DNS: &str = "127.0.0.2";

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn tools_present() -> bool {
    ["unshare", "ip", "mount"].iter().all(|tool| crate::support::registry::which(tool).is_some())
}

#[test]
fn unreachable_hosts_fail_once_each_in_the_resolvers_words_and_the_deadline_ends_the_run() {
    if is_worker(WORKER) {
        return;
    }
    if !component_available(
        "root with unshare, ip and mount (a private network namespace)",
        is_root() && tools_present(),
    ) {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let prepared = worker(WORKER, &[]);
    let output = Command::new("unshare")
        .args(["-m", "-n", "--"])
        .arg(exe)
        .args(prepared.get_args())
        .envs(prepared.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the worker failed:\n{text}");
    assert!(text.contains("worker: all cases checked"), "the worker did not run:\n{text}");
}

/// Runs inside the namespace (started by the test above).
#[test]
fn worker_in_a_private_network_namespace() {
    if !is_worker(WORKER) {
        return;
    }
    let home = TempHome::new();
    let resolv_conf = home.path().join("resolv.conf");
    let hosts = home.path().join("hosts");
    std::fs::write(&hosts, "127.0.0.1 localhost silent.test\n").unwrap();
    std::fs::write(&resolv_conf, format!("nameserver {SILENT_DNS}\noptions timeout:1 attempts:1\n")).unwrap();
    run_ok("ip", &["link", "set", "lo", "up"]);
    run_ok("mount", &["--bind", resolv_conf.to_str().unwrap(), "/etc/resolv.conf"]);
    run_ok("mount", &["--bind", hosts.to_str().unwrap(), "/etc/hosts"]);
    let never = dns_server(SILENT_DNS, false);
    let nxdomain = dns_server(NXDOMAIN_DNS, true);
    let (silent_port, accepted) = silent_server();

    never_answering_resolver(&home, &never);
    std::fs::write(&resolv_conf, format!("nameserver {NXDOMAIN_DNS}\noptions timeout:1 attempts:1\n")).unwrap();
    nxdomain_resolver(&home, &nxdomain);
    silent_registry(&home, silent_port, &accepted);
    deadline_ends_the_run(&home, silent_port);
    println!("worker: all cases checked");
}

/// 30 images on 3 hosts whose DNS server never answers: one lookup per host, every image fails
/// with the lookup's timeout in Go's words, each host named once in the summary.
fn never_answering_resolver(home: &TempHome, queries: &Queries) {
    let hosts = ["reg-a.test", "reg-b.test", "reg-c.test"];
    let images: Vec<String> =
        hosts.iter().flat_map(|host| (0..10).map(move |n| format!("{host}/team/app:t{n}"))).collect();
    let (code, json) = check(home, &images, &[]);
    assert_eq!(code, 1, "{json:#}");
    for host in hosts {
        let lookup = format!("lookup {host} on {SILENT_DNS}:53: i/o timeout");
        for result in rows(&json).iter().filter(|r| r["image"].as_str().unwrap().starts_with(host)) {
            assert_eq!(result["verdict"], "fails", "{result:#}");
            let image = result["image"].as_str().unwrap();
            let tag = image.rsplit(':').next().unwrap();
            assert_eq!(
                result["kubelet"],
                format!(
                    "Failed to pull image \"{image}\": rpc error: code = DeadlineExceeded desc = failed to pull and unpack image \"{image}\": failed to resolve image: failed to do request: Head \"https://{host}/v2/team/app/manifests/{tag}\": dial tcp: {lookup}"
                ),
            );
            assert_eq!(result["cause"], format!("the name lookup of {host} timed out: the DNS server did not answer"));
            assert!(result["what_to_do"].as_str().unwrap().contains("DNS"), "{result:#}");
        }
        let summary = unreachable(&json, host);
        assert_eq!(summary["pulls"], 10, "{summary:#}");
        assert_eq!(summary["detail"], lookup);
        assert_eq!(lookups_of(queries, host), (1, 1), "one lookup (A and AAAA) of {host} in the run");
        assert_eq!(json["summary"]["requests"][host], 0, "nothing sent to {host}");
    }
    assert_eq!(json["summary"]["unreachable"].as_array().unwrap().len(), 3, "{json:#}");
    assert_eq!(rows(&json).len(), 30);
    assert_eq!(total(queries), 6, "no other name was looked up: {queries:?}");
}

/// A DNS server that says NXDOMAIN: `no such host`, in every runtime's words, one lookup per host.
fn nxdomain_resolver(home: &TempHome, queries: &Queries) {
    let images = ["gone.test/team/app:1", "gone.test/team/app:2", "gone.test/other:3"].map(str::to_owned);
    let lookup = format!("lookup gone.test on {NXDOMAIN_DNS}:53: no such host");
    let (code, json) = check(home, &images, &[]);
    assert_eq!(code, 1, "{json:#}");
    for result in rows(&json) {
        assert_eq!(result["cause"], "the registry host gone.test does not resolve", "{result:#}");
        let kubelet = result["kubelet"].as_str().unwrap();
        assert!(kubelet.ends_with(&format!(": dial tcp: {lookup}")), "{kubelet}");
        assert!(!kubelet.contains("rpc error"), "no such host keeps code Unknown: {kubelet}");
    }
    assert_eq!(unreachable(&json, "gone.test")["pulls"], 3);
    assert_eq!(lookups_of(queries, "gone.test"), (1, 1));
    let (_, docker) = check(home, &images[..1], &["--runtime", "docker"]);
    assert_eq!(
        rows(&docker)[0]["kubelet"],
        format!(
            "Failed to pull image \"gone.test/team/app:1\": Error response from daemon: Get \"https://gone.test/v2/\": dial tcp: {lookup}"
        )
    );
    assert_eq!(lookups_of(queries, "gone.test"), (2, 2), "a new run looks up again");
}

/// A server that accepts connections and never says a word: one connection for six images, and a
/// TLS handshake timeout (the server was reached), not a dial timeout.
fn silent_registry(home: &TempHome, port: u16, accepted: &AtomicUsize) {
    let host = format!("silent.test:{port}");
    let images: Vec<String> = (0..6).map(|n| format!("{host}/team/app:t{n}")).collect();
    let before = accepted.load(Ordering::SeqCst);
    let (code, json) = check(home, &images, &[]);
    assert_eq!(code, 1, "{json:#}");
    for result in rows(&json) {
        let kubelet = result["kubelet"].as_str().unwrap();
        assert!(kubelet.ends_with("\": net/http: TLS handshake timeout"), "{kubelet}");
        assert!(!kubelet.contains("dial tcp"), "not a dial timeout: {kubelet}");
        assert_eq!(
            result["cause"],
            format!("{host} accepted the connection, then did not answer the TLS handshake in time")
        );
    }
    assert_eq!(unreachable(&json, &host)["pulls"], 6);
    assert_eq!(accepted.load(Ordering::SeqCst) - before, 1, "one connection for six images");
    assert_eq!(json["summary"]["requests"][host.as_str()], 1, "one request recorded: the ping");
}

/// `--timeout` ends a run whose registry never answers: every pull is reported as not finished
/// within the deadline, exit 1, and the summary's time is the process's.
fn deadline_ends_the_run(home: &TempHome, port: u16) {
    let images: Vec<String> = (0..3).map(|n| format!("silent.test:{port}/late/app:t{n}")).collect();
    let (code, json) = check(home, &images, &["--timeout", "2s"]);
    assert_eq!(code, 1, "{json:#}");
    for result in rows(&json) {
        assert_eq!(result["verdict"], "unfinished", "{result:#}");
        assert_eq!(result["cause"], "not finished within the deadline (2s)");
        assert!(result["what_to_do"].as_str().unwrap().contains("--timeout"));
    }
    assert_eq!(json["summary"]["unfinished"], 3);
    assert_eq!(json["summary"]["fails"], 0);
    assert!(json["summary"]["seconds"].as_f64().unwrap() >= 2.0, "counted from the process's start: {json:#}");
    // The text and the JUnit report say it too.
    let file = write_pods(home, &images[..1]);
    let junit = home.path().join("junit.xml");
    let output = home.run(&["check", "-f", &file, "--timeout", "1s", "--junit", junit.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("UNFINISHED") && text.contains("not finished within the deadline (1s)"), "{text}");
    assert!(text.contains("0 skipped, 1 unfinished"), "{text}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<error message=\"not finished within the deadline (1s)\" type=\"Unfinished\"/>"), "{xml}");
    let bad = home.run(&["check", "-f", &file, "--timeout", "soon"]);
    assert_eq!(bad.status.code(), Some(2), "a deadline that does not parse is a usage error");
}

fn run_ok(program: &str, args: &[&str]) {
    let output = Command::new(program).args(args).output().unwrap();
    assert!(output.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// One Pod per image.
fn write_pods(home: &TempHome, images: &[String]) -> String {
    let documents: Vec<String> = images
        .iter()
        .enumerate()
        .map(|(n, image)| {
            format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{n}\nspec:\n  containers:\n  - name: app\n    image: {image}\n")
        })
        .collect();
    let path = home.path().join("pods.yaml");
    std::fs::write(&path, documents.join("---\n")).unwrap();
    path.display().to_string()
}

fn check(home: &TempHome, images: &[String], args: &[&str]) -> (i32, Value) {
    let file = write_pods(home, images);
    let mut all = vec!["check", "--json", "-f", &file];
    all.extend_from_slice(args);
    let output = home.run(&all);
    let json = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("no JSON: {}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code().unwrap_or(-1), json)
}

fn rows(json: &Value) -> &Vec<Value> {
    json["results"].as_array().unwrap()
}

fn unreachable<'a>(json: &'a Value, host: &str) -> &'a Value {
    let hosts = json["summary"]["unreachable"].as_array().unwrap();
    hosts.iter().find(|h| h["host"] == host).unwrap_or_else(|| panic!("{host} not in {hosts:#?}"))
}

/// (A queries, AAAA queries) received for `name`.
fn lookups_of(queries: &Queries, name: &str) -> (usize, usize) {
    let queries = queries.lock().unwrap();
    let count = |qtype| queries.get(&(name.to_owned(), qtype)).copied().unwrap_or(0);
    (count(1), count(28))
}

/// A TCP server on 127.0.0.1 that accepts every connection, keeps it open and says nothing;
/// its port and the count of connections accepted.
fn silent_server() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::Builder::new()
        .name("silent-server".into())
        .spawn(move || {
            let mut open = Vec::new();
            for stream in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                open.push(stream);
            }
        })
        .unwrap();
    (port, accepted)
}
