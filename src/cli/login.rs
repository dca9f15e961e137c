//! `regcred login`, `logout`, `migrate`, `adopt`, `orphans`.

use std::io::{IsTerminal as _, Read as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use regcred::auth_files::{AuthFile, Env, FileKind, Sources, parse_server};
use regcred::credentials::{self, StoreChoice};
use regcred::keychain::{KeyringStore, open_store};
use regcred::presets::{self, Preset, PresetId, Severity};
use regcred::secret::Secret;

/// Which file to change.
#[derive(Debug, Clone, clap::Args)]
pub struct FileArgs {
    /// The credential file to change (default: Docker's config.json). `config.json` is Docker's
    /// format, a name ending in `.dockercfg` the legacy one, `auth.json` Podman's; any other name
    /// by its content (Docker's own settings such as `credsStore`, registries at the top level),
    /// else Podman's `auth.json` — as the window decides.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
}

impl FileArgs {
    fn load(&self, env: &Env) -> anyhow::Result<AuthFile> {
        let path = match &self.file {
            Some(path) => path.clone(),
            None => env.docker_config_path().context("cannot find Docker's config.json: HOME is not set")?,
        };
        let kind = FileKind::detect(&path);
        Ok(AuthFile::load(path, kind)?)
    }
}

/// `regcred login` arguments.
#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// The registry (`quay.io`, `registry.example.com:5000`, `docker.io`); with a preset of a
    /// single public host (dockerhub, ghcr, quay) it may be left out.
    #[arg(required_unless_present = "preset")]
    pub server: Option<String>,
    /// The registry's login rules: dockerhub, ghcr, gitlab, quay, harbor, ecr, gcr
    /// (artifact-registry) or acr. Fills in the server key and a fixed user name (ECR's `AWS`) and
    /// checks the user name and token offline before anything is stored.
    #[arg(long, value_name = "NAME")]
    pub preset: Option<PresetId>,
    /// The user name (with `--preset ecr` it is `AWS` and may be left out).
    #[arg(short = 'u', long)]
    pub username: Option<String>,
    /// Read the password (or token) from standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// Where the secret goes: `keychain` (default, unless the file already routes the registry
    /// to a helper), `helper:NAME`, or `file` (plaintext, only when asked for).
    #[arg(long, value_name = "STORE")]
    pub store: Option<StoreChoice>,
    /// Skip the registry check (`GET /v2/` with the credential, as `docker login` does).
    #[arg(long)]
    pub no_verify: bool,
    /// How the check reaches the registry.
    #[command(flatten)]
    pub connect: super::pull_args::ConnectArgs,
    #[command(flatten)]
    pub file: FileArgs,
}

/// Checks the credential against the registry; prints the verdict when it is refused.
fn verify(
    env: &Env,
    server: &regcred::auth_files::ServerKey,
    credential: &regcred::keychain::Credential,
    args: &LoginArgs,
) -> anyhow::Result<bool> {
    let host = server.endpoint_host();
    let options = args.connect.options(env);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    match runtime.block_on(regcred::registry::Puller::default().verify_login(host, credential, &options)) {
        Ok(()) => Ok(true),
        Err(failure) => {
            eprintln!("error: the login check failed: {}", failure.verdict);
            eprintln!("  detail: {}", failure.detail);
            eprintln!("  what to do: {}", failure.what_to_do);
            eprintln!("Nothing was stored. Use --no-verify to store it anyway.");
            Ok(false)
        }
    }
}

fn read_password(from_stdin: bool) -> anyhow::Result<Secret> {
    let password = if from_stdin {
        let mut text = zeroize::Zeroizing::new(String::new());
        std::io::stdin().take(1024 * 1024).read_to_string(&mut text).context("cannot read the password from stdin")?;
        Secret::new(text.trim_end_matches(['\n', '\r']))
    } else if std::io::stdin().is_terminal() {
        Secret::new(rpassword::prompt_password("Password: ").context("cannot read the password")?)
    } else {
        bail!("no password: pass it on standard input with --password-stdin (never as an argument)");
    };
    if password.is_empty() {
        bail!("the password is empty");
    }
    Ok(password)
}

/// The server and user name a login uses: as given, or the preset's.
fn login_names(args: &LoginArgs, preset: Option<&Preset>) -> anyhow::Result<(String, String)> {
    let server = match (&args.server, preset) {
        (Some(server), _) => server.clone(),
        (None, Some(preset)) => {
            let Some(server) = preset.default_server else {
                let why = format!("--preset {} needs the registry: {}", preset.cli_names[0], preset.server_hint);
                return Err(super::Usage(why).into());
            };
            server.to_owned()
        }
        (None, None) => return Err(super::Usage("the registry is missing".to_owned()).into()),
    };
    let username = match (&args.username, preset.and_then(|p| p.fixed_username)) {
        (Some(username), _) => username.clone(),
        (None, Some(fixed)) => fixed.to_owned(),
        (None, None) => match preset {
            Some(preset) => {
                return Err(
                    super::Usage(format!("-u is missing: {} takes {}", preset.name, preset.username_hint)).into()
                );
            }
            None => return Err(super::Usage("-u USER is missing".to_owned()).into()),
        },
    };
    Ok((server, username))
}

/// The preset's offline checks, printed on stderr. An explicit `--preset` refuses a login with
/// errors; a preset only recognised from the server warns. Returns the secret to store.
fn check_preset(args: &LoginArgs, server: &str, username: &str, password: Secret) -> anyhow::Result<Secret> {
    let (preset, explicit) = match args.preset {
        Some(id) => (id.preset(), true),
        None => match presets::detect(server) {
            Some(preset) => (preset, false),
            None => return Ok(password),
        },
    };
    let checked = presets::check_login(preset, server, username, &password);
    for finding in &checked.findings {
        let severity = match finding.severity {
            Severity::Error if explicit => "error",
            Severity::Error | Severity::Warning => "warning",
            Severity::Info => "note",
        };
        eprintln!("{severity}: {}", super::inert_message(&finding.message));
    }
    if explicit && checked.has_errors() {
        bail!("nothing was stored: the login does not follow {}'s rules (above)", preset.name);
    }
    Ok(checked.normalized.unwrap_or(password))
}

/// `regcred login`.
pub fn login(env: &Env, args: &LoginArgs) -> anyhow::Result<ExitCode> {
    let preset = args.preset.map(PresetId::preset);
    let (server_text, username) = login_names(args, preset)?;
    let server = parse_server(&server_text)?;
    let password = read_password(args.password_stdin)?;
    let password = check_preset(args, &server_text, &username, password)?;
    let mut file = args.file.load(env)?;
    let credential = credentials::credential(&username, password);
    if !args.no_verify && !verify(env, &server, &credential, args)? {
        return Ok(ExitCode::FAILURE);
    }
    let report = credentials::login(&mut file, &server, &credential, args.store.clone(), &open_store)?;
    if let Some(warning) = &report.warning {
        eprintln!("warning: {}", super::inert_message(warning));
    }
    outln!("Login saved for {} ({}) in {}", report.key, report.home.label(), file.path().display());
    super::print_save_notes(&report.save);
    Ok(ExitCode::SUCCESS)
}

/// `regcred logout`: from `--file`, else from the one file that holds the registry's login.
pub fn logout(env: &Env, server: &str, file_args: &FileArgs) -> anyhow::Result<ExitCode> {
    let server = parse_server(server)?;
    let mut file = if file_args.file.is_some() {
        file_args.load(env)?
    } else {
        match file_holding(env, &server)? {
            Some(file) => file,
            None => return Ok(ExitCode::SUCCESS),
        }
    };
    let report = credentials::logout(&mut file, &server, &open_store)?;
    if report.found {
        outln!("Removed the login for {server} from {}", file.path().display());
    } else {
        outln!("Not logged in to {server} in {}", file.path().display());
    }
    for warning in &report.warnings {
        eprintln!("warning: {}", super::inert_message(warning));
    }
    super::print_save_notes(&report.save);
    Ok(ExitCode::SUCCESS)
}

/// The one file that holds `server`'s login; `None` (said) when no file does; an error naming
/// them when several do.
fn file_holding(env: &Env, server: &regcred::auth_files::ServerKey) -> anyhow::Result<Option<AuthFile>> {
    let sources = Sources::discover(env);
    super::warn_unusable(&sources);
    let holders = credentials::files_holding(&sources, server);
    match holders.as_slice() {
        [] => {
            let looked: Vec<String> = sources.files.iter().map(|source| source.path.display().to_string()).collect();
            outln!("Not logged in to {server} (no credential file has it: {})", looked.join(", "));
            Ok(None)
        }
        [only] => Ok(Some(AuthFile::load(&only.path, only.kind)?)),
        several => {
            let paths: Vec<String> = several.iter().map(|source| source.path.display().to_string()).collect();
            bail!(
                "{server} has a login in {} files: {}; say which with --file PATH (`regcred resolve {server}/IMAGE` shows which one each tool uses)",
                several.len(),
                paths.join(", ")
            );
        }
    }
}

/// `regcred migrate` arguments.
#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// Where the secrets go: `keychain` or `helper:NAME`.
    #[arg(long, default_value = "keychain", value_name = "STORE")]
    pub to: StoreChoice,
    /// Only these registries (default: every plaintext entry).
    pub servers: Vec<String>,
    #[command(flatten)]
    pub file: FileArgs,
}

/// `regcred migrate`.
pub fn migrate(env: &Env, args: &MigrateArgs) -> anyhow::Result<ExitCode> {
    if args.to == StoreChoice::File {
        bail!("migrate moves secrets out of the file: use --to keychain or --to helper:NAME");
    }
    let selection = args.servers.iter().map(|s| parse_server(s)).collect::<Result<Vec<_>, _>>()?;
    let mut file = args.file.load(env)?;
    for (key, reason) in credentials::migration_plan(&file, &selection).staying {
        eprintln!("note: {}", super::inert_message(&format!("{key} stays in the file: {reason}")));
    }
    let report = credentials::migrate(&mut file, &selection, &args.to, &open_store)?;
    outln!(
        "Moved {} entr{} to {}: {}",
        report.moved.len(),
        if report.moved.len() == 1 { "y" } else { "ies" },
        report.store,
        report.moved.join(", ")
    );
    super::print_save_notes(&report.save);
    Ok(ExitCode::SUCCESS)
}

/// `regcred adopt`.
pub fn adopt(env: &Env, server: &str, file_args: &FileArgs) -> anyhow::Result<ExitCode> {
    let server = parse_server(server)?;
    let mut file = file_args.load(env)?;
    let save = credentials::adopt(&mut file, &server)?;
    outln!("{} now uses the keychain item for {server}", file.path().display());
    super::print_save_notes(&save);
    Ok(ExitCode::SUCCESS)
}

/// `regcred orphans`: exit 1 when there are any.
pub fn orphans(sources: &Sources) -> anyhow::Result<ExitCode> {
    super::warn_unusable(sources);
    let keychain = match KeyringStore::open() {
        Ok(store) => Some(store),
        Err(error) => {
            eprintln!("note: {error}; keychain items were not checked");
            None
        }
    };
    let found = credentials::orphans(sources, &open_store, keychain.as_ref())?;
    if found.is_empty() {
        outln!("No orphans: every entry has its secret and every keychain item has an entry.");
        return Ok(ExitCode::SUCCESS);
    }
    for orphan in &found {
        outln!("{}: {}", orphan.subject(), orphan.problem());
        outln!("    fix: {}", orphan.fix());
    }
    Ok(ExitCode::FAILURE)
}
