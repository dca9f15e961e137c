//! `regcred test-pull`: exit 0 when the image would pull, 1 when it would not, 2 on usage errors.

use std::path::PathBuf;
use std::process::ExitCode;

use regcred::auth_files::{Env, ServerKey, Sources};
use regcred::image_ref::ImageRef;
use regcred::keychain::Credential;
use regcred::registry::{Platform, PullOptions, PullReport, Puller, Runtime};
use regcred::resolve::{FetchError, fetch_credential};

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
        print!("{}", report.to_text());
    }
    Ok(if report.succeeded() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The credential for the image's registry (or `--server`), and words for where it came from.
fn credential_for(sources: &Sources, args: &TestPullArgs) -> (Result<Option<Credential>, Box<PullReport>>, String) {
    let key = match &args.server {
        Some(server) => ServerKey::parse(server).ok(),
        None => ImageRef::parse(&args.image).ok().and_then(|image| ServerKey::parse(image.domain()).ok()),
    };
    let Some(key) = key else { return (Ok(None), "none".to_owned()) };
    match fetch_credential(sources, &key) {
        Ok(found) => {
            let source = format!("{} from {} {}", found.home.label(), found.kind, found.path.display());
            (Ok(Some(Credential { username: found.username, secret: found.password })), source)
        }
        Err(FetchError::NotFound(_)) => (Ok(None), "no credential: anonymous".to_owned()),
        Err(error) => {
            let report = regcred::registry::credential_failure(&args.image, &error.to_string(), args.runtime);
            (Err(Box::new(report)), "unavailable".to_owned())
        }
    }
}
