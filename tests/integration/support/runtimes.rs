//! Real container runtimes as oracles: containerd (Debian's 1.6.20, with its CRI plugin), dockerd
//! (Debian's `docker.io`, 20.10.24) on that containerd, and podman (4.3.1), each with private
//! roots, state and sockets. They run in the caller's network and mount namespaces — the oracle
//! test starts them inside a private namespace with only loopback (see `runtime_oracles.rs`) —
//! and are stopped by PID when [`Runtimes`] is dropped (and killed by the kernel, through
//! `setpriv --pdeathsig`, if the process that started them dies first).
//!
//! Pulls go through the calls a node makes: the CRI `runtime.v1.ImageService/PullImage` for
//! containerd (what the kubelet calls), the Engine API's `POST /images/create` for dockerd (what
//! cri-dockerd calls), and `podman pull` for containers/image (the library CRI-O pulls with).
//! `runtime_client.py` (python3-grpcio, hand-encoded protobuf) makes the first two calls.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::registry::which;

/// Debian's Python, which has python3-grpcio (a `python3` earlier on `PATH` may not).
const PYTHON: &str = "/usr/bin/python3";

/// The client that makes the CRI and Engine API calls.
const CLIENT: &str = include_str!("runtime_client.py");

/// Whether everything the oracles need is installed: the runtimes, the Python gRPC module, and
/// the tools that make the namespace.
pub fn missing() -> Vec<String> {
    let mut missing: Vec<String> = ["containerd", "dockerd", "podman", "unshare", "ip", "mount", "setpriv"]
        .iter()
        .filter(|tool| which(tool).is_none())
        .map(|tool| (*tool).to_owned())
        .collect();
    let grpc = Command::new(PYTHON)
        .args(["-c", "import grpc"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !grpc {
        missing.push("python3-grpcio (for /usr/bin/python3)".to_owned());
    }
    missing
}

/// Runs `command` with its output captured, killing it (by PID) if it outlives `limit`.
/// Returns the output and whether it finished in time.
pub fn run_bounded(command: &mut Command, limit: Duration) -> (Output, bool) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", command.get_program().display()));
    let readers = [
        child.stdout.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        child.stderr.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    ]
    .map(|stream| {
        std::thread::Builder::new()
            .name("oracle-output".into())
            .spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut stream) = stream {
                    let _ = stream.read_to_end(&mut bytes);
                }
                bytes
            })
            .expect("reader thread")
    });
    let deadline = Instant::now() + limit;
    let mut in_time = true;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            in_time = false;
            let _ = child.kill();
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let [stdout, stderr] = readers.map(|reader| reader.join().unwrap_or_default());
    (Output { status, stdout, stderr }, in_time)
}

/// What a real runtime did with one pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    /// The image was pulled.
    Pulled,
    /// The pull failed: the gRPC code (`Unknown` for dockerd and podman) and the message.
    Failed { code: String, message: String },
}

/// A user name and password for a pull.
pub type Login<'a> = Option<(&'a str, &'a str)>;

/// The running runtimes; stopped when dropped.
pub struct Runtimes {
    dir: tempfile::TempDir,
    containerd: Child,
    dockerd: Child,
    /// `containerd --version` and `dockerd --version`, `podman --version`.
    pub versions: Vec<String>,
}

fn version(tool: &str) -> String {
    let output = Command::new(tool).arg("--version").output().map(|o| o.stdout).unwrap_or_default();
    String::from_utf8_lossy(&output).trim().to_owned()
}

/// Waits until `path` exists (a socket), or panics with `log`'s tail.
fn wait_for(path: &Path, child: &mut Child, log: &Path, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        let exited = child.try_wait().ok().flatten();
        if exited.is_some() || Instant::now() > deadline {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(20).collect();
            panic!("{what} did not start ({exited:?}):\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `program ARGS` under `setpriv --pdeathsig KILL`, its output appended to `log`.
fn daemon(program: &str, args: &[String], log: &Path) -> Child {
    let file = std::fs::File::create(log).expect("log file");
    Command::new("setpriv")
        .args(["--pdeathsig", "KILL", "--", program])
        .args(args)
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("log"))
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("start {program}: {e}"))
}

/// Stops a daemon by its PID: SIGTERM, then SIGKILL after `grace`.
fn stop(child: &mut Child, grace: Duration) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Runtimes {
    /// Starts containerd (CRI on, native snapshotter, `registry.config_path` set to an empty
    /// directory) and dockerd on it, in the caller's namespaces.
    pub fn start() -> Self {
        let dir = tempfile::Builder::new().prefix("oracles-").tempdir().expect("temp dir");
        let d = dir.path();
        let path = |name: &str| d.join(name).display().to_string();
        for sub in ["containerd", "hosts.d", "docker", "podman", "client"] {
            std::fs::create_dir_all(d.join(sub)).expect("mkdir");
        }
        std::fs::write(d.join("client/runtime_client.py"), CLIENT).expect("client");
        let config = format!(
            r#"version = 2
root = "{root}"
state = "{state}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "{socket}"

[plugins."io.containerd.internal.v1.opt"]
  path = "{opt}"

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "native"

[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "{hosts}"
"#,
            root = path("containerd/root"),
            state = path("containerd/state"),
            socket = path("containerd.sock"),
            opt = path("containerd/opt"),
            hosts = path("hosts.d"),
        );
        std::fs::write(d.join("containerd.toml"), config).expect("containerd config");
        let mut containerd =
            daemon("containerd", &["--config".to_owned(), path("containerd.toml")], &d.join("containerd.log"));
        wait_for(&d.join("containerd.sock"), &mut containerd, &d.join("containerd.log"), "containerd");
        std::fs::write(d.join("docker/daemon.json"), "{}\n").expect("daemon.json");
        let mut dockerd = daemon(
            "dockerd",
            &[
                "--bridge=none",
                "--iptables=false",
                "--ip6tables=false",
                "--storage-driver=vfs",
                "--data-root",
                &path("docker/data"),
                "--exec-root",
                &path("docker/exec"),
                "--pidfile",
                &path("docker/dockerd.pid"),
                "--config-file",
                &path("docker/daemon.json"),
                "-H",
                &format!("unix://{}", path("docker.sock")),
                "--containerd",
                &path("containerd.sock"),
            ]
            .map(str::to_owned),
            &d.join("dockerd.log"),
        );
        wait_for(&d.join("docker.sock"), &mut dockerd, &d.join("dockerd.log"), "dockerd");
        // The socket appears before the API answers; wait for `GET /_ping`.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ping(&d.join("docker.sock")) {
            assert!(Instant::now() < deadline, "dockerd does not answer /_ping");
            std::thread::sleep(Duration::from_millis(100));
        }
        let versions = vec![version("containerd"), version("dockerd"), version("podman")];
        Self { dir, containerd, dockerd, versions }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn client(&self, kind: &str, socket: &str, image: &str, login: Login<'_>) -> Observed {
        let mut command = Command::new(PYTHON);
        command.arg(self.path("client/runtime_client.py")).arg(kind).arg(self.path(socket)).arg(image);
        if let Some((user, password)) = login {
            command.env("ORACLE_USER", user).env("ORACLE_PASSWORD", password);
        }
        let (output, in_time) = run_bounded(&mut command, Duration::from_mins(5));
        assert!(in_time, "{kind} pull of {image} did not end in 5 minutes");
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "runtime_client.py {kind}: {text}{}", String::from_utf8_lossy(&output.stderr));
        parse(&text)
    }

    /// containerd's CRI `PullImage`, then `RemoveImage`.
    pub fn containerd(&self, image: &str, login: Login<'_>) -> Observed {
        let observed = self.client("cri", "containerd.sock", image, login);
        self.client("cri-rm", "containerd.sock", image, None);
        observed
    }

    /// dockerd's `POST /images/create`, then `DELETE /images/…`.
    pub fn dockerd(&self, image: &str, login: Login<'_>) -> Observed {
        let observed = self.client("docker", "docker.sock", image, login);
        if observed == Observed::Pulled {
            self.client("docker-rm", "docker.sock", image, None);
        }
        observed
    }

    fn podman_command(&self) -> Command {
        let mut command = Command::new("podman");
        command
            .arg("--root")
            .arg(self.path("podman/root"))
            .arg("--runroot")
            .arg(self.path("podman/run"))
            .arg("--tmpdir")
            .arg(self.path("podman/tmp"))
            .args(["--storage-driver", "vfs", "--events-backend", "file", "--cgroup-manager", "cgroupfs"])
            .env("TMPDIR", self.path("podman/tmp"));
        command
    }

    /// `podman pull` (with `--tls-verify=false` when `insecure`: what CRI-O does for a registry
    /// marked `insecure = true`), then `podman rmi`. The message is podman's `Error: …` line
    /// without `Error: `.
    pub fn podman(&self, image: &str, login: Login<'_>, insecure: bool) -> Observed {
        // One auth file per pull: the scripted classes pull side by side.
        static PULLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = PULLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let auth = self.path(&format!("podman/auth-{n}.json"));
        let auths = match login {
            Some((user, password)) => {
                use base64::Engine as _;
                let host = image.split('/').next().unwrap_or_default();
                let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                serde_json::json!({"auths": {host: {"auth": token}}})
            }
            None => serde_json::json!({"auths": {}}),
        };
        std::fs::write(&auth, auths.to_string()).expect("auth file");
        std::fs::create_dir_all(self.path("podman/tmp")).expect("tmp");
        let mut command = self.podman_command();
        command.args(["pull", "-q", "--authfile"]).arg(&auth);
        if insecure {
            command.arg("--tls-verify=false");
        }
        command.arg(image);
        let (output, in_time) = run_bounded(&mut command, Duration::from_mins(5));
        assert!(in_time, "podman pull {image} did not end in 5 minutes");
        let observed = if output.status.success() {
            Observed::Pulled
        } else {
            // The last line that starts with `Error: ` (earlier ones are retry warnings, whose
            // text also holds `Error: `), to the end: the message may span lines.
            let stderr = String::from_utf8_lossy(&output.stderr);
            let message = match stderr.rfind("\nError: ") {
                Some(at) => &stderr[at + "\nError: ".len()..],
                None => stderr.strip_prefix("Error: ").unwrap_or(&stderr),
            };
            Observed::Failed {
                code: "Unknown".to_owned(),
                message: message.strip_suffix('\n').unwrap_or(message).to_owned(),
            }
        };
        let mut rmi = self.podman_command();
        rmi.args(["rmi", "-f", image]);
        let _ = run_bounded(&mut rmi, Duration::from_mins(1));
        observed
    }
}

/// Whether the Engine API on `socket` answers `GET /_ping` with 200.
fn ping(socket: &Path) -> bool {
    use std::io::Write as _;
    let Ok(mut stream) = std::os::unix::net::UnixStream::connect(socket) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut answer = String::new();
    stream.write_all(b"GET /_ping HTTP/1.0\r\nHost: d\r\n\r\n").is_ok()
        && stream.read_to_string(&mut answer).is_ok()
        && answer.split_whitespace().nth(1) == Some("200")
}

/// The client's answer: `OK`, or `ERR CODE` and the message after the first newline.
fn parse(text: &str) -> Observed {
    if text.trim() == "OK" {
        return Observed::Pulled;
    }
    let (first, message) = text.split_once('\n').unwrap_or((text, ""));
    let code = first.strip_prefix("ERR ").unwrap_or_else(|| panic!("runtime client said: {text}"));
    Observed::Failed { code: code.to_owned(), message: message.to_owned() }
}

impl Drop for Runtimes {
    fn drop(&mut self) {
        stop(&mut self.dockerd, Duration::from_secs(15));
        stop(&mut self.containerd, Duration::from_secs(15));
        if std::env::var_os("REGCRED_KEEP_ORACLE_LOGS").is_some() {
            let kept = std::env::temp_dir().join("regcred-oracle-logs");
            let _ = std::fs::create_dir_all(&kept);
            for log in ["containerd.log", "dockerd.log"] {
                let _ = std::fs::copy(self.path(log), kept.join(log));
            }
        }
    }
}
