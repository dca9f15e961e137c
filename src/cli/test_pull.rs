//! `regcred test-pull`: exit 0 when the image would pull, 1 when it would not, 2 on usage errors.

use std::path::PathBuf;
use std::process::ExitCode;

use regcred::auth_files::{Env, ServerKey, Sources};
use regcred::image_ref::ImageRef;
use regcred::keychain::Credential;
use regcred::keychain::open_store;
use regcred::registry::{Platform, PullOptions, PullReport, Puller, Runtime};
use regcred::resolve::{FetchError, TestedWith, fetch_credential, test_credential};

/// `regcred test-pull` arguments.
#[derive(Debug, clap::Args)]
pub struct TestPullArgs {
    /// The image, as a Pod would name it.
    pub image: String,
    /// Download and verify every blob (default: check they exist).
    #[arg(long)]
    pub full: bool,
    /// The node's platform.
    #[arg(long, default_value = "linux/amd64", value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Platform,
    /// Use the credential of this registry key instead of the image's registry.
    #[arg(long, value_name = "KEY")]
    pub server: Option<String>,
    /// The registry serves plain HTTP (credentials may be sent over it).
    #[arg(long)]
    pub insecure: bool,
    /// A certs.d-style directory (DIR/HOST[:PORT]/ca.crt), searched before the usual ones.
    #[arg(long, value_name = "DIR")]
    pub ca_dir: Vec<PathBuf>,
    /// Whose words the failure report uses for the kubelet's event: containerd (2.x, the
    /// default), containerd-1.7, cri-o, or docker (Docker Engine through cri-dockerd).
    #[arg(long, default_value = "containerd", value_name = "RUNTIME")]
    pub runtime: Runtime,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `regcred test-pull`.
pub fn test_pull(env: &Env, args: &TestPullArgs) -> anyhow::Result<ExitCode> {
    let sources = Sources::discover(env);
    super::warn_unusable(&sources);
    let mut options = PullOptions::for_user(env.home.as_deref());
    options.ca_dirs.splice(0..0, args.ca_dir.iter().cloned());
    options.full = args.full;
    options.platform = args.platform.clone();
    options.insecure = args.insecure;
    options.runtime = args.runtime;
    let (credential, source) = credential_for(&sources, args);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let report = match credential {
        Ok(credential) => {
            runtime.block_on(Puller::default().pull(&args.image, credential.as_ref(), &source, &options, None, None))
        }
        Err(report) => *report,
    };
    if args.json {
        super::print_json(&report)?;
    } else {
        super::emit(&report.to_text())?;
    }
    Ok(if report.succeeded() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The credential for the image's registry (or `--server`), and words for where it came from.
fn credential_for(sources: &Sources, args: &TestPullArgs) -> (Result<Option<Credential>, Box<PullReport>>, String) {
    let failed = |error: &dyn std::fmt::Display| {
        let report = regcred::registry::credential_failure(&args.image, &error.to_string(), args.runtime);
        (Err(Box::new(report)), "unavailable".to_owned())
    };
    if let Some(server) = &args.server {
        return match ServerKey::parse(server).map(|key| fetch_credential(sources, &key)) {
            Ok(Ok(found)) => {
                let tested = TestedWith::Saved { home: found.home, kind: found.kind, path: found.path };
                (Ok(Some(Credential { username: found.username, secret: found.password })), tested.describe_with_file())
            }
            Ok(Err(FetchError::NotFound(_))) | Err(_) => (Ok(None), TestedWith::Anonymous.describe()),
            Ok(Err(error)) => failed(&error),
        };
    }
    let Ok(image) = ImageRef::parse(&args.image) else { return (Ok(None), TestedWith::Anonymous.describe()) };
    match test_credential(sources, &image, None, &open_store) {
        Ok((credential, tested)) => (Ok(credential), tested.describe_with_file()),
        Err(error) => failed(&error),
    }
}
