//! Test fixtures and helpers shared by the integration tests.

#![allow(dead_code, reason = "each test module uses a different part of the support code")]

pub mod dns;
pub mod kube_api;
pub mod registry;
pub mod runtimes;
pub mod tiny_http;
pub mod token_server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `regcred` binary under test.
pub fn regcred_bin() -> &'static str {
    env!("CARGO_BIN_EXE_regcred")
}

/// `docker-credential-regcred` under test.
pub fn helper_bin() -> &'static str {
    env!("CARGO_BIN_EXE_docker-credential-regcred")
}

/// `PATH` with the directory of the binaries under test first, so Docker tools find
/// `docker-credential-regcred`.
pub fn path_with_helper() -> std::ffi::OsString {
    let dir = Path::new(helper_bin()).parent().map(Path::to_path_buf).unwrap_or_default();
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(dir).chain(std::env::split_paths(&rest))).unwrap_or(rest)
}

/// regcred's keychain when a Secret Service is reachable and unlocked; in CI its absence fails.
pub fn keychain() -> Option<regcred::keychain::KeyringStore> {
    let available = regcred::keychain::KeyringStore::state() == regcred::keychain::KeychainState::Available;
    if !component_available("an unlocked Secret Service (run the tests through ./scripts/test)", available) {
        return None;
    }
    regcred::keychain::KeyringStore::open().ok()
}

/// The tests that touch the real keychain share one keyring; listing while another test deletes
/// an item makes the Go helper fail, so they take turns.
pub fn keychain_turn() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A server name no other test uses, so tests can share one keyring.
pub fn unique_server(label: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{label}-{}-{n}.regcred-test.example", std::process::id())
}

/// A fixture file's bytes from `tests/fixtures`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// Whether tests must use real components rather than skip (`CI` or `REGCRED_REQUIRE_REAL=1`).
pub fn require_real() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
        || std::env::var_os("REGCRED_REQUIRE_REAL").is_some_and(|v| v == "1")
}

/// Decides what a test does when `component` is absent: in CI it fails, elsewhere it skips
/// loudly. Returns whether the test may go on.
pub fn component_available(component: &str, available: bool) -> bool {
    if available {
        return true;
    }
    assert!(!require_real(), "{component} is required (CI or REGCRED_REQUIRE_REAL=1) but is not available");
    eprintln!("\n*** SKIPPED: {component} is not available on this machine; run ./scripts/test to install it ***\n");
    note_skipped(component);
    false
}

/// Adds `component` to the list of what this run skipped (`$REGCRED_SKIPPED_FILE`, which
/// `scripts/test` reads back into one banner at the end: a passing run that skipped real
/// components says so, instead of passing silently).
fn note_skipped(component: &str) {
    use std::io::Write as _;
    let Some(path) = std::env::var_os("REGCRED_SKIPPED_FILE") else { return };
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(file, "{component}");
    }
}

/// A throwaway home directory with the environment regcred reads pointed into it.
pub struct TempHome {
    pub dir: tempfile::TempDir,
}

impl TempHome {
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn docker_config(&self) -> PathBuf {
        self.path().join(".docker/config.json")
    }

    pub fn dockercfg(&self) -> PathBuf {
        self.path().join(".dockercfg")
    }

    pub fn podman_auth(&self) -> PathBuf {
        self.path().join("run/containers/auth.json")
    }

    /// Writes `bytes` to `path`, creating parents.
    pub fn write(&self, path: &Path, bytes: &[u8]) {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write");
    }

    /// A `regcred` command whose environment points only into this home.
    pub fn regcred(&self, args: &[&str]) -> Command {
        let mut command = Command::new(regcred_bin());
        command
            .args(args)
            .env_clear()
            .env("HOME", self.path())
            .env("XDG_RUNTIME_DIR", self.path().join("run"))
            .env("XDG_CONFIG_HOME", self.path().join(".config"))
            .env("PATH", path_with_helper());
        if let Some(bus) = std::env::var_os("DBUS_SESSION_BUS_ADDRESS") {
            command.env("DBUS_SESSION_BUS_ADDRESS", bus);
        }
        command
    }

    /// Runs `regcred` and returns its output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.regcred(args).output().expect("run regcred")
    }
}

/// Runs a prepared command with `input` on its standard input; returns its output.
pub fn with_stdin(mut command: Command, input: &[u8]) -> Output {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    // A command that refuses its arguments exits before it reads: its stdin is then closed.
    match child.stdin.take().expect("stdin").write_all(input) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.expect("write stdin"),
    }
    child.wait_with_output().expect("wait")
}

/// Asserts that a process said nothing that looks like a panic or a backtrace.
pub fn assert_no_panic(output: &Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked") && !stderr.contains("stack backtrace"), "panic output: {stderr}");
}

/// A child process of this same test binary that runs one `#[test]` function as a worker,
/// with `vars` in its environment (see `is_worker`).
pub fn worker(test_name: &str, vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("current exe"));
    command.args(["--exact", test_name, "--nocapture", "--test-threads", "1"]);
    command.env("REGCRED_TEST_WORKER", test_name);
    for (name, value) in vars {
        command.env(name, value);
    }
    command
}

/// Runs a prepared command through `sh -c "PREFIX; exec CMD"`, e.g. to set a `ulimit` first.
pub trait UnderShell {
    fn under_shell(&self, prefix: &str) -> Command;
}

impl UnderShell for Command {
    fn under_shell(&self, prefix: &str) -> Command {
        let mut shell = Command::new("sh");
        shell.arg("-c").arg(format!("{prefix}; exec \"$0\" \"$@\"")).arg(self.get_program()).args(self.get_args());
        for (name, value) in self.get_envs() {
            match value {
                Some(value) => shell.env(name, value),
                None => shell.env_remove(name),
            };
        }
        shell
    }
}

/// Whether this process was started by [`worker`] to run `test_name`.
pub fn is_worker(test_name: &str) -> bool {
    std::env::var("REGCRED_TEST_WORKER").is_ok_and(|v| v == test_name)
}

/// A small deterministic pseudo-random sequence (xorshift), for kill timings and cases.
pub struct Xorshift(pub u64);

impl Xorshift {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    /// An index into a collection of `len` items.
    pub fn index(&mut self, len: usize) -> usize {
        usize::try_from(self.below(len as u64)).unwrap_or(0)
    }
}
