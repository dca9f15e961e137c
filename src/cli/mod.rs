//! The command line: every action of the app, for scripts and CI. Each command is a thin call
//! into the library; this module only parses arguments and prints.

/// `println!` through [`emit`]: returns the error from the enclosing function. (Defined before
/// the modules that use it.)
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::emit(&(format!($($arg)*) + "\n"))?
    };
}

mod check;
mod cluster;
mod list;
mod login;
mod presets;
mod pull_args;
mod resolve;
mod test_pull;
mod yaml;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use regcred::auth_files::{Env, Sources};

/// Container-registry credentials for Kubernetes.
#[derive(Debug, Parser)]
#[command(name = "regcred", version, about, long_about = None, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; with none, the desktop window opens.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Without a subcommand: a credential file for the window to show (`config.json`, `.dockercfg`
    /// or an `auth.json`), as a file manager's "Open with" passes it.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show which credential files exist, how many entries each has, and their problems.
    Sources {
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// List registries: user name, where the secret lives, problems.
    List {
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// The registries whose login rules regcred knows (`login --preset NAME`), with an example each.
    Presets {
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Show which source answers for an image in each file, as Docker and Podman decide.
    Resolve {
        /// The image, e.g. `registry.example.com/team/app:1.0` or `nginx`.
        image: String,
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Store a registry login: the secret in the keychain (or a helper, or the file), a stub and
    /// a route in the file.
    Login(login::LoginArgs),
    /// Remove a login: the secret wherever it lives, and its entry.
    Logout {
        /// The registry.
        server: String,
        #[command(flatten)]
        file: login::FileArgs,
    },
    /// Move plaintext secrets from the file into the keychain or a credential helper.
    Migrate(login::MigrateArgs),
    /// List entries without a secret and keychain items without an entry, each with its fix.
    Orphans,
    /// Add an entry that uses an existing keychain item.
    Adopt {
        /// The registry of the keychain item.
        server: String,
        #[command(flatten)]
        file: login::FileArgs,
    },
    /// Pull an image the way a node would (without keeping it) and report success or the exact failure.
    TestPull(test_pull::TestPullArgs),
    /// Will these pods pull? Every image of a set of Kubernetes manifests, test-pulled with the
    /// credentials the kubelet would use. Exit 0: all pull; 1: some would fail; 2: input errors (with
    /// --cluster: also a cluster that cannot be read).
    Check(check::CheckArgs),
    /// Print the Kubernetes pull Secret (and optionally a Pod, ServiceAccount patch, node recipe).
    Yaml(yaml::YamlArgs),
    /// Put the pull Secret into a cluster (server-side apply; optionally add it to a ServiceAccount),
    /// saying first what will change.
    Apply(cluster::ApplyArgs),
    /// Run the Kubernetes docs' test Pod in the cluster and show the node's Event beside regcred's
    /// prediction. Exit 0 only when the image was pulled.
    Verify(cluster::VerifyArgs),
}

/// When the process started (as near as `main` can tell): `regcred check`'s time and deadline
/// count from it.
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Notes the process's start; the first thing `main` does.
pub fn mark_started() {
    STARTED.get_or_init(std::time::Instant::now);
}

/// When the process started.
pub fn started() -> std::time::Instant {
    *STARTED.get_or_init(std::time::Instant::now)
}

/// Runs a parsed command.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    let env = Env::from_process();
    match command {
        Command::Sources { json } => list::sources(&Sources::discover(&env), json),
        Command::List { json } => list::list(&Sources::discover(&env), json),
        Command::Presets { json } => presets::presets(json),
        Command::Resolve { image, json } => resolve::resolve(&Sources::discover(&env), &image, json),
        Command::Yaml(args) => yaml::yaml(&Sources::discover(&env), &args),
        Command::Login(args) => login::login(&env, &args),
        Command::TestPull(args) => test_pull::test_pull(&env, &args),
        Command::Check(args) => check::run(&env, &args),
        Command::Apply(args) => cluster::apply(&Sources::discover(&env), &args),
        Command::Verify(args) => cluster::verify(&env, &args),
        Command::Logout { server, file } => login::logout(&env, &server, &file),
        Command::Migrate(args) => login::migrate(&env, &args),
        Command::Orphans => login::orphans(&Sources::discover(&env)),
        Command::Adopt { server, file } => login::adopt(&env, &server, &file),
    }
}

/// Tells on stderr about every file that exists but could not be used.
fn warn_unusable(sources: &Sources) {
    for source in &sources.files {
        if let regcred::auth_files::SourceStatus::Failed(error) = &source.status {
            eprintln!("warning: {}", inert_message(&format!("{error:#}")));
        }
    }
}

/// The longest message line shown on the terminal, in characters.
pub const MESSAGE_CAP: usize = 2_000;

/// A message that may quote a credential file (helper names, keys, user names) as the terminal
/// shows it: controls and escape sequences as escapes, length capped.
pub fn inert_message(text: &str) -> String {
    regcred::untrusted::inert(text, MESSAGE_CAP)
}

/// Tells what a save changed besides the content.
fn print_save_notes(save: &regcred::auth_files::SaveReport) {
    if let Some(mode) = save.notes.tightened_from {
        eprintln!("note: the file was readable by others (mode {mode:o}); it is now 0600");
    }
    if let Some(backup) = &save.backup {
        eprintln!("note: the previous content is kept in {}", backup.display());
    }
    if let Some(removed) = &save.backup_removed {
        eprintln!(
            "note: removed the backup {}: it still held the secret just taken off the file (so the file's earlier content is no longer kept)",
            removed.display()
        );
    }
    if save.merged_from_disk {
        eprintln!("note: another program had changed the file; its changes were kept");
    }
    if save.replaced_after_save > 0 {
        eprintln!(
            "note: another program replaced the file right after regcred saved it; regcred merged again, and both changes are in the file"
        );
    }
}

/// Prints a value as pretty JSON on stdout.
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    emit(&(serde_json::to_string_pretty(value)? + "\n"))
}

/// A command line that lacks what the command needs (exit 2, as clap's own usage errors).
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// Standard output went away (`regcred list | head`): the command stops quietly, as Unix tools do.
#[derive(Debug)]
pub struct OutputClosed;

impl std::fmt::Display for OutputClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("standard output was closed")
    }
}

impl std::error::Error for OutputClosed {}

/// Writes to standard output through a buffer (a report of thousands of lines is a few large
/// writes, not one per line, and is never held whole). A closed pipe is [`OutputClosed`]; any
/// other failure (a full disk behind a redirection) is an error that says so.
pub fn emit_with(write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    match write(&mut stdout).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Err(OutputClosed.into()),
        Err(error) => Err(anyhow::Error::new(error).context("cannot write to standard output")),
    }
}

/// Writes `text` to standard output in one go (see [`emit_with`]).
pub fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Err(OutputClosed.into()),
        Err(error) => Err(anyhow::Error::new(error).context("cannot write to standard output")),
    }
}

/// A deadline as people write durations (`90s`, `5m`, `1h 30m`); more than zero.
fn parse_deadline(text: &str) -> Result<std::time::Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|error| format!("{error} (write it as 90s, 5m or 1h)"))?;
    if duration.is_zero() {
        return Err("the deadline must be longer than zero".to_owned());
    }
    Ok(duration)
}
