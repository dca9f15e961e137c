//! `regcred test-pull`: exit 0 when the image would pull, 1 when it would not, 2 on usage errors.

use std::process::ExitCode;

use regcred::auth_files::{Env, ServerKey, Sources};
use regcred::image_ref::ImageRef;
use regcred::keychain::Credential;
use regcred::keychain::open_store;
use regcred::registry::{PullOptions, PullReport, Puller};
use regcred::resolve::{FetchError, TestedWith, fetch_credential, test_credential};

/// `regcred test-pull` arguments.
#[derive(Debug, clap::Args)]
pub struct TestPullArgs {
    /// The image, as a Pod would name it.
    pub image: String,
    /// Download and verify every blob (default: check they exist).
    #[arg(long)]
    pub full: bool,
    /// Use the credential of this registry key instead of the image's registry.
    #[arg(long, value_name = "KEY")]
    pub server: Option<String>,
    #[command(flatten)]
    pub pull: super::pull_args::PullArgs,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `regcred test-pull`.
pub fn test_pull(env: &Env, args: &TestPullArgs) -> anyhow::Result<ExitCode> {
    let sources = Sources::discover(env);
    super::warn_unusable(&sources);
    let options = PullOptions { full: args.full, ..args.pull.options(env) };
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
        let report = regcred::registry::credential_failure(
            &args.image,
            &error.to_string(),
            args.pull.runtime.unwrap_or_default(),
        );
        (Err(Box::new(report)), "unavailable".to_owned())
    };
    if let Some(server) = &args.server {
        return match ServerKey::parse(server).map(|key| fetch_credential(sources, &key)) {
            Ok(Ok(found)) => {
                let tested = TestedWith::Saved { home: found.home, kind: found.kind, path: found.path };
                (Ok(Some(found.credential)), tested.describe_with_file())
            }
            // A login named and not there is not an anonymous pull in disguise.
            Ok(Err(FetchError::NotFound(_))) => failed(&format!(
                "--server {server}: no credential file has a login for it (regcred list shows them; leave out --server to use the image's own registry's, or none)"
            )),
            Err(error) => failed(&format!("--server {server}: {error}")),
            Ok(Err(error)) => failed(&error),
        };
    }
    let Ok(image) = ImageRef::parse(&args.image) else { return (Ok(None), TestedWith::Anonymous.describe()) };
    match test_credential(sources, &image, None, &open_store) {
        Ok((credential, tested)) => (Ok(credential), tested.describe_with_file()),
        Err(error) => failed(&error),
    }
}
