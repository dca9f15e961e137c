//! A real Distribution registry (`docker-registry`, Debian's package) on loopback, with basic
//! auth, and images pushed into it by skopeo from OCI layouts written here.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

/// Whether the registry and skopeo are installed.
pub fn available() -> bool {
    ["docker-registry", "skopeo", "htpasswd", "tar", "gzip"].iter().all(|tool| which(tool).is_some())
}

/// The path of a command on `PATH`.
pub fn which(tool: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(tool)).find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// A running registry; stopped on drop.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// Its storage, config and password file.
    pub dir: tempfile::TempDir,
    /// The basic-auth user and password, if any.
    pub credentials: Option<(String, String)>,
}

/// What kind of registry to start.
#[derive(Default)]
pub struct Setup<'a> {
    /// htpasswd basic auth with this user and password.
    pub basic: Option<(&'a str, &'a str)>,
    /// Serve TLS with a certificate from a private CA (see [`Registry::ca_dir`]).
    pub tls: bool,
    /// Token auth: the realm URL, service and the PEM certificate bundle that signs tokens.
    pub token: Option<(String, String, PathBuf)>,
    /// A fixed port (below the ephemeral range), for snapshot images that show the host;
    /// otherwise a free one.
    pub port: Option<u16>,
    /// Serve TLS with one self-signed certificate made exactly as Docker's "deploy a registry"
    /// guide makes it (OpenSSL 3 marks it `CA:TRUE`); `certs.d/HOST/ca.crt` is that certificate.
    pub self_signed: bool,
    /// With `tls`: require a client certificate signed by the test CA (`http.tls.clientcas`);
    /// [`Registry::client_identity`] holds one.
    pub client_certificates: bool,
}

impl Registry {
    /// Starts a plain-HTTP registry on loopback, with htpasswd basic auth when `credentials` is set.
    pub fn start(credentials: Option<(&str, &str)>) -> Self {
        Self::start_with(&Setup { basic: credentials, ..Setup::default() })
    }

    /// A certs.d-style directory trusting this registry's CA (`DIR/HOST/ca.crt`), for TLS setups.
    pub fn ca_dir(&self) -> PathBuf {
        self.dir.path().join("certs.d")
    }

    /// Starts a registry as `setup` describes.
    pub fn start_with(setup: &Setup<'_>) -> Self {
        let credentials = setup.basic;
        let dir = tempfile::tempdir().expect("temp dir");
        let port = setup.port.unwrap_or_else(free_port);
        let host = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
            dir.path().join("storage").display()
        );
        if setup.tls || setup.self_signed {
            let (cert, key) =
                if setup.self_signed { make_self_signed(dir.path(), &host) } else { make_tls(dir.path(), &host) };
            config.push_str(&format!("  tls:\n    certificate: {}\n    key: {}\n", cert.display(), key.display()));
            if setup.client_certificates {
                make_client_identity(dir.path());
                config.push_str(&format!("    clientcas:\n      - {}\n", dir.path().join("ca.crt").display()));
            }
        }
        if let Some((user, password)) = credentials {
            let htpasswd = Command::new("htpasswd").args(["-Bbn", user, password]).output().expect("htpasswd");
            std::fs::write(dir.path().join("htpasswd"), &htpasswd.stdout).expect("write htpasswd");
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: regcred-test\n    path: {}\n",
                dir.path().join("htpasswd").display()
            ));
        }
        if let Some((realm, service, bundle)) = &setup.token {
            config.push_str(&format!(
                "auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: regcred-test-issuer\n    rootcertbundle: {}\n",
                bundle.display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).expect("write config");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .env_remove("REGISTRY_AUTH_FILE")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start docker-registry");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(&host).is_err() {
            assert!(Instant::now() < deadline, "the registry did not start listening on {host}");
            std::thread::sleep(Duration::from_millis(20));
        }
        let credentials = credentials.map(|(u, p)| (u.to_owned(), p.to_owned()));
        Self { child, host, dir, credentials }
    }

    /// Pushes a small single-platform image as `repo:tag` with skopeo.
    pub fn push_image(&self, repo: &str, tag: &str) {
        let layout = self.dir.path().join(format!("layout-{}", repo.replace('/', "-")));
        write_oci_layout(&layout, tag, b"hello from regcred tests\n");
        self.push_layout(&layout, repo, tag, false);
    }

    /// Pushes an OCI layout (`--all` for an index) as `repo:tag`.
    pub fn push_layout(&self, layout: &Path, repo: &str, tag: &str, all: bool) {
        let mut command = Command::new("skopeo");
        command.args(["copy", "--quiet", "--dest-tls-verify=false"]);
        if all {
            command.arg("--all");
        }
        let client = self.dir.path().join("client");
        if client.exists() {
            command.arg(format!("--dest-cert-dir={}", client.display()));
        }
        if let Some((user, password)) = &self.credentials {
            command.arg(format!("--dest-creds={user}:{password}"));
        }
        let status = command
            .arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!("docker://{}/{repo}:{tag}", self.host))
            .env("REGISTRY_AUTH_FILE", self.dir.path().join("skopeo-auth.json"))
            .status()
            .expect("skopeo copy");
        assert!(status.success(), "skopeo could not push {repo}:{tag}");
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Lower-case hex SHA-256 of `bytes` (a digest is `sha256:` and this).
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn write_blob(layout: &Path, bytes: &[u8]) -> String {
    let digest = sha256_hex(bytes);
    std::fs::write(layout.join("blobs/sha256").join(&digest), bytes).expect("write blob");
    format!("sha256:{digest}")
}

/// Runs `openssl ARGS` in `dir`, failing the test on an error.
pub fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl");
    assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// Makes a CA and a server certificate for 127.0.0.1/localhost/registry.test signed by it, and
/// puts the CA in `DIR/certs.d/HOST/ca.crt`. Returns the certificate and key paths.
pub fn make_tls(dir: &Path, host: &str) -> (PathBuf, PathBuf) {
    let run = |args: &[&str]| openssl(dir, args);
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=regcred test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=registry.test",
    ]);
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:registry.test\n").expect("san");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
    for name in [host.to_owned(), host.replace("127.0.0.1", "registry.test")] {
        let trust = dir.join("certs.d").join(name);
        std::fs::create_dir_all(&trust).expect("certs.d");
        std::fs::copy(dir.join("ca.crt"), trust.join("ca.crt")).expect("copy ca");
    }
    (dir.join("server.crt"), dir.join("server.key"))
}

/// The self-signed certificate of Docker's "deploy a registry server" guide, made with its exact
/// recipe, and trusted through `DIR/certs.d/HOST/ca.crt` (the certificate itself).
pub fn make_self_signed(dir: &Path, host: &str) -> (PathBuf, PathBuf) {
    let san = "subjectAltName=IP:127.0.0.1";
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:4096",
            "-nodes",
            "-keyout",
            "domain.key",
            "-out",
            "domain.crt",
            "-subj",
            &format!("/CN={host}"),
            "-addext",
            san,
        ],
    );
    let trust = dir.join("certs.d").join(host);
    std::fs::create_dir_all(&trust).expect("certs.d");
    std::fs::copy(dir.join("domain.crt"), trust.join("ca.crt")).expect("copy certificate");
    (dir.join("domain.crt"), dir.join("domain.key"))
}

/// A client certificate and key signed by the test CA (`DIR/ca.crt`), as `DIR/client/client.cert`
/// and `client.key` — the names Docker's certs.d convention uses.
fn make_client_identity(dir: &Path) {
    let client = dir.join("client");
    std::fs::create_dir_all(&client).expect("client dir");
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "client/client.key",
            "-out",
            "client.csr",
            "-subj",
            "/CN=regcred test client",
        ],
    );
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").expect("client ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "client.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "client/client.cert",
            "-days",
            "2",
            "-extfile",
            "client.ext",
        ],
    );
}

impl Registry {
    /// The client certificate and key a registry started with `client_certificates` accepts.
    pub fn client_identity(&self) -> (PathBuf, PathBuf) {
        let client = self.dir.path().join("client");
        (client.join("client.cert"), client.join("client.key"))
    }
}

/// Writes an OCI image layout holding one linux/amd64 image with one layer containing `content`.
pub fn write_oci_layout(layout: &Path, tag: &str, content: &[u8]) {
    let manifest = write_image(layout, "amd64", content);
    write_index(layout, tag, &[manifest], false);
}

/// Writes a multi-platform image (an OCI index) with one image per architecture.
pub fn write_oci_index_layout(layout: &Path, tag: &str, architectures: &[&str]) {
    let manifests: Vec<serde_json::Value> =
        architectures.iter().map(|arch| write_image(layout, arch, format!("built for {arch}\n").as_bytes())).collect();
    write_index(layout, tag, &manifests, true);
}

/// Writes one image's blobs and manifest; returns its descriptor (with platform).
fn write_image(layout: &Path, architecture: &str, content: &[u8]) -> serde_json::Value {
    std::fs::create_dir_all(layout.join("blobs/sha256")).expect("mkdir layout");
    let rootfs = layout.join(format!("rootfs-{architecture}"));
    std::fs::create_dir_all(&rootfs).expect("mkdir rootfs");
    std::fs::write(rootfs.join("hello.txt"), content).expect("write content");
    let tar = Command::new("tar")
        .args(["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-C"])
        .arg(&rootfs)
        .args(["-cf", "-", "hello.txt"])
        .output()
        .expect("tar");
    let mut gzip = Command::new("gzip")
        .args(["-n", "-1", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip");
    let mut stdin = gzip.stdin.take().expect("stdin");
    let tar_bytes = tar.stdout.clone();
    let feeder = std::thread::Builder::new()
        .name("gzip-feed".into())
        .spawn(move || std::io::Write::write_all(&mut stdin, &tar_bytes))
        .expect("feeder");
    let layer = gzip.wait_with_output().expect("gzip").stdout;
    feeder.join().expect("join").expect("feed gzip");
    let diff_id = format!("sha256:{}", sha256_hex(&tar.stdout));
    let layer_digest = write_blob(layout, &layer);
    let config = serde_json::json!({
        "architecture": architecture, "os": "linux",
        "config": {"Cmd": ["/hello"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    });
    let config_bytes = serde_json::to_vec(&config).expect("config");
    let config_digest = write_blob(layout, &config_bytes);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_bytes.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer.len()}],
    });
    let manifest_bytes = serde_json::to_vec(&manifest).expect("manifest");
    let manifest_digest = write_blob(layout, &manifest_bytes);
    serde_json::json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": manifest_digest, "size": manifest_bytes.len(),
        "platform": {"architecture": architecture, "os": "linux"},
    })
}

fn write_index(layout: &Path, tag: &str, manifests: &[serde_json::Value], nested: bool) {
    let annotations = serde_json::json!({"org.opencontainers.image.ref.name": tag});
    let top = if nested {
        let index = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
        let bytes = serde_json::to_vec(&index).expect("index");
        let digest = write_blob(layout, &bytes);
        serde_json::json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest, "size": bytes.len(), "annotations": annotations})
    } else {
        let mut manifest = manifests[0].clone();
        manifest["annotations"] = annotations;
        manifest
    };
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [top]});
    std::fs::write(layout.join("index.json"), serde_json::to_vec(&index).expect("index")).expect("write index");
    std::fs::write(layout.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).expect("write oci-layout");
}
