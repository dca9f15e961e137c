//! `regcred apply` and `regcred verify`: the pull Secret into a cluster, and the Kubernetes docs'
//! test Pod run there with the node's Event beside regcred's prediction.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use regcred::auth_files::{Env, Sources};
use regcred::cluster::{ApplyRequest, Cluster, ClusterError, Progress, Target, VerifyOutcome, VerifyRequest};
use regcred::pull_secret::{KubectlStyle, SecretRequest, SecretType};
use regcred::registry::{Platform, Runtime};

/// Exit status for usage errors and a cluster that cannot be used at all.
const INPUT_ERROR: u8 = 2;

/// Exit status after Ctrl+C (128 + SIGINT), as shells report it.
const INTERRUPTED: u8 = 130;

/// Which cluster: kubeconfig and context (the namespace is each command's own `-n`).
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// The kubeconfig file (instead of $KUBECONFIG, or ~/.kube/config; inside a Pod, its
    /// ServiceAccount).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (instead of its current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

impl ClusterArgs {
    /// The target with `namespace`.
    pub fn target(&self, namespace: Option<&str>) -> Target {
        Target {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            namespace: namespace.map(str::to_owned),
        }
    }
}

/// `regcred apply` arguments.
#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// The Secret's name.
    #[arg(long)]
    pub name: String,
    /// The namespace (default: the context's namespace, else default).
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The Secret's type.
    #[arg(long = "type", value_enum, default_value = "dockerconfigjson")]
    pub secret_type: super::yaml::TypeArg,
    /// Also add the Secret to this ServiceAccount's imagePullSecrets (default: default), keeping the
    /// ones it lists.
    #[arg(long, value_name = "ACCOUNT", num_args = 0..=1, default_missing_value = "default")]
    pub service_account: Option<String>,
    /// Only show what would change: the API server checks everything (RBAC, admission, quota) and
    /// writes nothing. The only mode is `server` (for a file, use `regcred yaml`).
    #[arg(long, value_name = "MODE", num_args = 0..=1, require_equals = true, default_missing_value = "server", value_parser = dry_run_mode)]
    pub dry_run: Option<String>,
    /// Take over fields another tool manages (after a conflict).
    #[arg(long)]
    pub force_conflicts: bool,
    /// Print JSON for scripts.
    #[arg(long)]
    pub json: bool,
    /// The registries (as for `regcred yaml`: `quay.io`, `host:5000`, or `KEY=SERVER`).
    #[arg(required = true, value_name = "SERVER")]
    pub servers: Vec<String>,
}

/// `regcred verify` arguments.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The image to pull in the cluster.
    #[arg(required_unless_present = "cleanup", value_name = "IMAGE")]
    pub image: Option<String>,
    /// The pull Secret the test Pod names (none: it names none, and gets its ServiceAccount's, as any
    /// Pod does).
    #[arg(long, value_name = "NAME")]
    pub secret: Option<String>,
    /// The namespace (default: the context's namespace, else default).
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Give up after DURATION (the Pod is deleted): 90s, 5m.
    #[arg(long, value_name = "DURATION", default_value = "3m", value_parser = super::parse_deadline)]
    pub timeout: Duration,
    /// The runtime whose words regcred's prediction uses (default: the node's, from its status).
    #[arg(long, value_name = "RUNTIME")]
    pub runtime: Option<Runtime>,
    /// The platform regcred's prediction pulls for (default: the node's).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<Platform>,
    #[command(flatten)]
    pub connect: super::pull_args::ConnectArgs,
    /// Delete the test Pods earlier runs left (found by their labels, older than ten minutes), and
    /// nothing else.
    #[arg(long, conflicts_with_all = ["image", "secret"])]
    pub cleanup: bool,
    /// Print JSON for scripts.
    #[arg(long)]
    pub json: bool,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?)
}

/// A line on standard error that never stops the command: a closed stderr (`2>&1 | head`) must
/// not leave a test Pod behind, as a panic in `eprintln!` would.
pub fn say(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Prints a cluster error with what to do; the exit status for it.
pub fn report_error(error: &ClusterError) -> ExitCode {
    say(&format!("error: {error}"));
    if let Some(what) = error.what_to_do() {
        say(&format!("what to do: {what}"));
    }
    match error {
        ClusterError::Config(_) => ExitCode::from(INPUT_ERROR),
        _ => ExitCode::FAILURE,
    }
}

/// Connects, or says why not.
pub async fn connect(target: &Target) -> Result<Cluster, ExitCode> {
    regcred::cluster::connect(target).await.map_err(|error| report_error(&error))
}

/// Runs `regcred apply`.
pub fn apply(sources: &Sources, args: &ApplyArgs) -> anyhow::Result<ExitCode> {
    super::warn_unusable(sources);
    let registries =
        args.servers.iter().map(|arg| super::yaml::secret_entry(sources, arg)).collect::<anyhow::Result<Vec<_>>>()?;
    super::yaml::warn_about(&registries);
    let request = ApplyRequest {
        secret: SecretRequest {
            name: args.name.clone(),
            namespace: None,
            secret_type: match args.secret_type {
                super::yaml::TypeArg::Dockerconfigjson => SecretType::DockerConfigJson,
                super::yaml::TypeArg::Dockercfg => SecretType::DockerCfg,
            },
            registries,
            style: KubectlStyle::WithoutCreationTimestamp,
        },
        service_account: args.service_account.clone(),
        dry_run: args.dry_run.is_some(),
        force_conflicts: args.force_conflicts,
    };
    let runtime = runtime()?;
    let result = runtime.block_on(async {
        let cluster = connect(&args.cluster.target(args.namespace.as_deref())).await?;
        // The plan first (the server's dry run): nothing is written before it is shown.
        let mut plan = regcred::cluster::apply(&cluster, &ApplyRequest { dry_run: true, ..request.clone() })
            .await
            .map_err(|error| {
                say(&format!("Cluster: {}", cluster.describe()));
                let code = report_error(&error);
                say("Nothing was written.");
                code
            })?;
        if !args.json {
            print_lines(&plan.lines());
        }
        if request.dry_run || !plan.changes_anything() {
            plan.dry_run = request.dry_run;
            return Ok(plan);
        }
        regcred::cluster::apply(&cluster, &request).await.map_err(|error| report_error(&error))
    });
    let plan = match result {
        Ok(plan) => plan,
        Err(code) => return Ok(code),
    };
    if args.json {
        super::print_json(&plan)?;
        return Ok(ExitCode::SUCCESS);
    }
    super::emit(&format!("{}{}\n", if plan.dry_run { "" } else { "✔ " }, plan.outcome_words()))?;
    Ok(ExitCode::SUCCESS)
}

/// Lines on standard output as they are known (the plan before the apply's outcome).
fn print_lines(lines: &[String]) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}

/// `--dry-run=MODE`: only `server` (a client-side dry run needs no cluster: `regcred yaml`).
fn dry_run_mode(mode: &str) -> Result<String, String> {
    if mode == "server" {
        Ok(mode.to_owned())
    } else {
        Err("only --dry-run=server is known (the API server checks everything and writes nothing); for the \
             Secret without a cluster, use `regcred yaml`"
            .to_owned())
    }
}

/// Runs `regcred verify`: exit 0 only when the node pulled the image.
pub fn verify(env: &Env, args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let runtime = runtime()?;
    let target = args.cluster.target(args.namespace.as_deref());
    if args.cleanup {
        return runtime.block_on(async {
            let cluster = match connect(&target).await {
                Ok(cluster) => cluster,
                Err(code) => return Ok(code),
            };
            let ns = &cluster.namespace;
            match regcred::cluster::cleanup(&cluster).await {
                Ok(cleanup) => {
                    say(&if cleanup.deleted.is_empty() {
                        format!("No test Pods left by earlier runs in namespace {ns}.")
                    } else {
                        format!(
                            "Deleted {} test Pod(s) in namespace {ns}: {}",
                            cleanup.deleted.len(),
                            regcred::untrusted::inert(&cleanup.deleted.join(", "), 2000)
                        )
                    });
                    if !cleanup.spared.is_empty() {
                        say(&format!(
                            "Left alone {} test Pod(s) younger than {} minutes (a run may still be using them): {}",
                            cleanup.spared.len(),
                            regcred::cluster::LEFTOVER_AGE.as_secs() / 60,
                            regcred::untrusted::inert(&cleanup.spared.join(", "), 2000)
                        ));
                    }
                }
                Err(error) => return Ok(report_error(&error)),
            }
            Ok(ExitCode::SUCCESS)
        });
    }
    let Some(image) = args.image.clone() else { return Ok(ExitCode::from(INPUT_ERROR)) };
    // Read only if the Secret cannot be (a keychain may be slow or stopped).
    let sources_env = env.clone();
    let local = Some(regcred::cluster::LocalCredentials::new(move || {
        regcred::check::local_keyring(&Sources::discover(&sources_env), &regcred::keychain::open_store)
            .ok()
            .map(|(keyring, _)| keyring)
    }));
    let request = VerifyRequest {
        image,
        secret: args.secret.clone(),
        timeout: args.timeout,
        pull: args.connect.options(env),
        runtime: args.runtime,
        platform: args.platform.clone(),
        local,
    };
    let json = args.json;
    let outcome = runtime.block_on(async {
        let cluster = match connect(&target).await {
            Ok(cluster) => cluster,
            Err(code) => return Err(code),
        };
        say(&format!("Cluster: {}", cluster.describe()));
        if let Ok(left) = regcred::cluster::leftover_pods(&cluster).await
            && !left.is_empty()
        {
            say(&format!(
                "note: {} test Pod(s) from earlier runs are still in namespace {}: {} (delete them with `regcred verify --cleanup`)",
                left.len(),
                cluster.namespace,
                regcred::untrusted::inert(&left.join(", "), 2000)
            ));
        }
        let progress = |step: Progress| print_progress(&step);
        let cancel = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        Box::pin(regcred::cluster::verify(&cluster, &request, &progress, cancel)).await.map_err(|error| report_error(&error))
    });
    let report = match outcome {
        Ok(report) => report,
        Err(code) => return Ok(code),
    };
    if json {
        super::print_json(&report)?;
    } else {
        super::emit(&verify_text(&report))?;
    }
    Ok(match report.outcome {
        VerifyOutcome::Pulled => ExitCode::SUCCESS,
        VerifyOutcome::Cancelled => ExitCode::from(INTERRUPTED),
        VerifyOutcome::Failed | VerifyOutcome::TimedOut => ExitCode::FAILURE,
    })
}

fn print_progress(step: &Progress) {
    match step {
        Progress::Scheduled(_) | Progress::Event(..) => say(&format!("  {}", step.words())),
        _ => say(&step.words()),
    }
}

/// The verification's result for people.
pub fn verify_text(report: &regcred::cluster::VerifyReport) -> String {
    let mut lines = Vec::new();
    lines.push(match report.outcome {
        VerifyOutcome::Pulled => format!("✔ {}", report.headline()),
        VerifyOutcome::Failed | VerifyOutcome::TimedOut => format!("✘ {}", report.headline()),
        VerifyOutcome::Cancelled => report.headline(),
    });
    if let Some(log) = &report.log {
        lines.push(format!("  the container printed: {log}"));
    }
    if let Some(event) = report.node_words() {
        lines.push(format!("  node says:    {event}"));
    }
    if let Some(predicted) = report.predicted_words() {
        lines.push(format!("  regcred says: {predicted}"));
        lines.push(format!("  (regcred's words: {})", report.runtime));
    }
    if let Some(agreement) = report.agreement() {
        lines.push(format!("  {} {agreement}", if report.matches == Some(true) { "✔" } else { "✘" }));
    }
    if let Some(prediction) = report.prediction.as_ref().filter(|_| report.outcome == VerifyOutcome::Failed) {
        if let Some(cause) = &prediction.cause {
            lines.push(format!("  cause: {cause}"));
        }
        if let Some(what) = &prediction.what_to_do {
            lines.push(format!("  what to do: {what}"));
        }
    }
    for note in &report.notes {
        lines.push(format!("  note: {note}"));
    }
    lines.push(format!("  {}", report.deleted_words()));
    let mut text = lines.join("\n");
    text.push('\n');
    text
}
