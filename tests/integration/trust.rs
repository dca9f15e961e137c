//! Trust as Go and containerd trust: the self-signed registry certificate of Docker's own guide
//! (made with its exact openssl recipe), trusted through certs.d, `--ca-dir` or `$REGCRED_CA_DIR`,
//! for `test-pull`, `login` and the window's options; and a registry that requires a client
//! certificate (Docker's `client.cert` + `client.key`), with and without the files.

use regcred::keychain::Credential;
use regcred::registry::{FailureClass, Outcome, PullOptions, PullReport, Puller, Stage};
use regcred::secret::Secret;

use crate::support::registry::{self, Registry, Setup};
use crate::support::{TempHome, component_available};

const PASSWORD: &str = "trust-canary-2b7e";

fn available() -> bool {
    component_available(
        "docker-registry, skopeo and openssl",
        registry::available() && registry::which("openssl").is_some(),
    )
}

fn alice() -> Credential {
    Credential { username: "alice".into(), secret: Secret::new(PASSWORD) }
}

fn pull(image: &str, options: &PullOptions) -> PullReport {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(Puller::default().pull(image, Some(&alice()), "test", options, None, None))
}

fn class_and_stage(report: &PullReport) -> (FailureClass, Stage) {
    match &report.outcome {
        Outcome::Failure(failure) => (failure.class, failure.stage),
        Outcome::Success(_) => panic!("expected a failure: {}", report.to_text()),
    }
}

#[test]
fn the_self_signed_certificate_of_dockers_guide_is_trusted_where_it_is_put() {
    if !available() {
        return;
    }
    let registry =
        Registry::start_with(&Setup { basic: Some(("alice", PASSWORD)), self_signed: true, ..Setup::default() });
    registry.push_image("team/app", "v1");
    let image = format!("{}/team/app:v1", registry.host);

    let trusted = pull(&image, &PullOptions { ca_dirs: vec![registry.ca_dir()], ..PullOptions::default() });
    assert!(trusted.succeeded(), "{}", trusted.to_text());

    // CRI-O's road: no exemption for a registry on the node itself (containerd and Docker take any
    // certificate there).
    let cri_o = || PullOptions { runtime: regcred::registry::Runtime::CriO, ..PullOptions::default() };
    let untrusted = pull(&image, &cri_o());
    assert_eq!(
        class_and_stage(&untrusted),
        (FailureClass::TlsUnknownAuthority, Stage::Ping),
        "{}",
        untrusted.to_text()
    );

    // The host name is still checked: the certificate names 127.0.0.1 only.
    let by_name = format!("localhost:{}/team/app:v1", registry.host.rsplit(':').next().unwrap());
    let localhost_dir = tempfile::tempdir().unwrap();
    let trust = localhost_dir.path().join(format!("localhost:{}", registry.host.rsplit(':').next().unwrap()));
    std::fs::create_dir_all(&trust).unwrap();
    std::fs::copy(registry.ca_dir().join(&registry.host).join("ca.crt"), trust.join("ca.crt")).unwrap();
    let wrong_name = pull(&by_name, &PullOptions { ca_dirs: vec![localhost_dir.path().to_path_buf()], ..cri_o() });
    let (class, _) = class_and_stage(&wrong_name);
    assert!(matches!(class, FailureClass::TlsFailure), "{}", wrong_name.to_text());

    // The CLI: --ca-dir, $REGCRED_CA_DIR and ~/.docker/certs.d, for test-pull and the login check.
    let home = TempHome::new();
    let ca_dir = registry.ca_dir();
    let ca_dir = ca_dir.to_str().unwrap();
    let test_pull = home.run(&["test-pull", &image, "--ca-dir", ca_dir]);
    assert_eq!(test_pull.status.code(), Some(1), "no credential: but TLS got through");
    assert!(String::from_utf8_lossy(&test_pull.stdout).contains("requires credentials"), "{test_pull:?}");
    let login = home
        .regcred(&["login", &registry.host, "-u", "alice", "--password-stdin", "--store", "file"])
        .env("REGCRED_CA_DIR", ca_dir)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            std::io::Write::write_all(&mut child.stdin.take().unwrap(), PASSWORD.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(login.status.success(), "{}", String::from_utf8_lossy(&login.stderr));
    let docker_certs = home.path().join(".docker/certs.d").join(&registry.host);
    std::fs::create_dir_all(&docker_certs).unwrap();
    std::fs::copy(registry.ca_dir().join(&registry.host).join("ca.crt"), docker_certs.join("ca.crt")).unwrap();
    let with_login = home.run(&["test-pull", &image]);
    assert!(with_login.status.success(), "{}", String::from_utf8_lossy(&with_login.stdout));

    // The window starts from the same options.
    let window_options = PullOptions::for_user(Some(home.path()));
    assert!(pull(&image, &window_options).succeeded());
}

#[test]
fn a_registry_that_requires_a_client_certificate_gets_the_one_in_certs_d() {
    if !available() {
        return;
    }
    let registry = Registry::start_with(&Setup {
        basic: Some(("alice", PASSWORD)),
        tls: true,
        client_certificates: true,
        ..Setup::default()
    });
    registry.push_image("team/app", "v1");
    let image = format!("{}/team/app:v1", registry.host);
    let options = PullOptions { ca_dirs: vec![registry.ca_dir()], ..PullOptions::default() };

    let without = pull(&image, &options);
    let (class, stage) = class_and_stage(&without);
    assert_eq!((class, stage), (FailureClass::TlsClientCertificate, Stage::Ping), "{}", without.to_text());
    let Outcome::Failure(failure) = &without.outcome else { unreachable!() };
    assert!(failure.what_to_do.contains("client.cert"), "{}", failure.what_to_do);

    let (cert, key) = registry.client_identity();
    let host_dir = registry.ca_dir().join(&registry.host);
    std::fs::copy(&cert, host_dir.join("client.cert")).unwrap();
    let half = pull(&image, &options);
    assert_eq!(class_and_stage(&half).0, FailureClass::TlsFailure, "a certificate without its key: {}", half.to_text());
    assert!(half.to_text().contains("client.key"), "{}", half.to_text());
    std::fs::copy(&key, host_dir.join("client.key")).unwrap();
    let with = pull(&image, &options);
    assert!(with.succeeded(), "{}", with.to_text());

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let login = runtime.block_on(Puller::default().verify_login(&registry.host, &alice(), &options));
    assert!(login.is_ok(), "{login:?}");
}
