//! The Docker credential-helper protocol, as a client: `docker-credential-NAME get|store|erase|list`
//! with JSON on stdin/stdout and errors on stdout with exit status 1.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{Credential, KeychainError, SecretStore};
use crate::secret::Secret;

/// What a helper prints when it has no credential for a server.
pub(crate) const NOT_FOUND: &str = "credentials not found in native keychain";
/// How long a helper may take (it may be waiting for the user to unlock a keychain).
const HELPER_TIMEOUT: Duration = Duration::from_mins(1);
/// Largest answer read from a helper.
const MAX_OUTPUT: u64 = 16 * 1024 * 1024;

/// `docker-credential-NAME` on `PATH`.
pub fn find_helper(name: &str) -> Option<PathBuf> {
    let file_name = format!("docker-credential-{name}{}", std::env::consts::EXE_SUFFIX);
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(&file_name)).find(|p| p.is_file())
}

/// A credential helper, found on `PATH`.
#[derive(Debug, Clone)]
pub(crate) struct HelperStore {
    name: String,
    program: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct WireCredential {
    #[serde(rename = "ServerURL", default)]
    server_url: String,
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

impl Drop for WireCredential {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret);
    }
}

impl HelperStore {
    /// The helper `docker-credential-NAME`; an error naming it when it is not installed.
    pub(crate) fn new(name: &str) -> Result<Self, KeychainError> {
        let program = find_helper(name).ok_or_else(|| KeychainError::HelperMissing { name: name.to_owned() })?;
        Ok(Self { name: name.to_owned(), program })
    }

    /// Runs `action` with `input` on stdin; returns (success, stdout).
    fn run(&self, action: &'static str, input: &[u8]) -> Result<(bool, Zeroizing<Vec<u8>>), KeychainError> {
        let io_error = |source| KeychainError::HelperIo { name: self.name.clone(), source };
        let mut child = Command::new(&self.program)
            .arg(action)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(io_error)?;
        if let Some(mut stdin) = child.stdin.take() {
            // A helper that exits without reading stdin makes this fail; its exit status tells.
            let _ = stdin.write_all(input);
        }
        let stdout = child.stdout.take();
        let reader = std::thread::Builder::new()
            .name(format!("docker-credential-{}-{action}", self.name))
            .spawn(move || {
                let mut bytes = Zeroizing::new(Vec::new());
                if let Some(stdout) = stdout {
                    let _ = stdout.take(MAX_OUTPUT).read_to_end(&mut bytes);
                }
                bytes
            })
            .map_err(io_error)?;
        let deadline = Instant::now() + HELPER_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().map_err(io_error)? {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(KeychainError::HelperTimeout {
                    name: self.name.clone(),
                    action,
                    seconds: HELPER_TIMEOUT.as_secs(),
                });
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let output = reader.join().unwrap_or_default();
        Ok((status.success(), output))
    }

    fn failure(&self, action: &'static str, output: &[u8]) -> KeychainError {
        let message = crate::untrusted::inert(String::from_utf8_lossy(output).trim(), 300);
        let message =
            if message.is_empty() { "it exited with an error and printed nothing".to_owned() } else { message };
        KeychainError::HelperFailed { name: self.name.clone(), action, message }
    }
}

impl SecretStore for HelperStore {
    fn label(&self) -> String {
        format!("docker-credential-{}", self.name)
    }

    fn get(&self, server: &str) -> Result<Option<Credential>, KeychainError> {
        let (ok, output) = self.run("get", server.as_bytes())?;
        if !ok {
            if String::from_utf8_lossy(&output).trim() == NOT_FOUND {
                return Ok(None);
            }
            return Err(self.failure("get", &output));
        }
        let wire: WireCredential = serde_json::from_slice(&output)
            .map_err(|_| KeychainError::HelperProtocol { name: self.name.clone(), action: "get" })?;
        Ok(Some(Credential { username: wire.username.clone(), secret: Secret::new(wire.secret.as_str()) }))
    }

    fn store(&self, server: &str, credential: &Credential) -> Result<(), KeychainError> {
        let wire = WireCredential {
            server_url: server.to_owned(),
            username: credential.username.clone(),
            secret: credential.secret.expose().to_owned(),
        };
        let input = Zeroizing::new(serde_json::to_vec(&wire).unwrap_or_default());
        let (ok, output) = self.run("store", &input)?;
        if ok { Ok(()) } else { Err(self.failure("store", &output)) }
    }

    fn erase(&self, server: &str) -> Result<(), KeychainError> {
        let (ok, output) = self.run("erase", server.as_bytes())?;
        if ok || String::from_utf8_lossy(&output).trim() == NOT_FOUND {
            Ok(())
        } else {
            Err(self.failure("erase", &output))
        }
    }

    fn list(&self) -> Result<BTreeMap<String, String>, KeychainError> {
        let (ok, output) = self.run("list", b"")?;
        if !ok {
            return Err(self.failure("list", &output));
        }
        serde_json::from_slice(&output)
            .map_err(|_| KeychainError::HelperProtocol { name: self.name.clone(), action: "list" })
    }
}
