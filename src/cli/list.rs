//! `regcred sources` and `regcred list`.

use std::fmt::Write as _;
use std::process::ExitCode;

use serde::Serialize;

use regcred::auth_files::{AuthFile, FileKind, ServerKey, SourceStatus, Sources};
use regcred::keychain::{REGCRED_HELPER, SecretStore, open_store};
use regcred::resolve::{PodmanShadows, SecretHome, SecretHomes};

use super::print_json;

/// Text from a credential file (keys, user names, helper names) as the terminal shows it.
fn shown(text: &str) -> String {
    regcred::untrusted::inert(text, regcred::check::NAME_CAP)
}

#[derive(Serialize)]
struct FileRow<'a> {
    kind: FileKind,
    path: &'a std::path::Path,
    status: &'static str,
    error: Option<String>,
    entries: usize,
    problems: usize,
    creds_store: Option<&'a str>,
    cred_helpers: usize,
    /// Its place (1: first) in the order Podman and skopeo read their files, if they read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    podman_reads: Option<usize>,
}

#[derive(Serialize)]
struct EntryRow {
    kind: FileKind,
    file: std::path::PathBuf,
    key: String,
    registry: Option<String>,
    username: Option<String>,
    secret: SecretHome,
    /// Where the secret lives, in the words of the text output (`keychain`, `helper NAME`,
    /// `plaintext`, `missing`).
    stored_in: String,
    /// An earlier file of Podman's chain that Podman and skopeo take this registry's
    /// credential from instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    shadowed_for_podman_by: Option<std::path::PathBuf>,
    problems: Vec<String>,
    /// When the secret stops working (RFC 3339), when it says so itself (a JWT's `exp`, an ECR
    /// password's `expiration`) or its registry's rule does (`oauth2accesstoken`: about 1 hour).
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
    /// `expires_at` is the registry's usual lifetime counted from now (no date in the secret).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    expires_estimated: bool,
    #[serde(skip)]
    expiry: Option<regcred::expiry::Expiry>,
}

#[derive(Serialize)]
struct FailedFile<'a> {
    kind: FileKind,
    path: &'a std::path::Path,
    error: String,
}

/// Entries whose secret is behind a credential helper are stubs: their user names are in the
/// helper's `list` (and, for regcred's keychain, the expiry of their secrets in the secret).
fn fill_from_stores(rows: &mut [EntryRow], now: std::time::SystemTime) {
    let helpers: std::collections::BTreeSet<String> = rows
        .iter()
        .filter_map(|row| match &row.secret {
            SecretHome::Helper { helper, .. } => Some(helper.clone()),
            _ => None,
        })
        .collect();
    for helper in helpers {
        let store = match open_store(&helper).and_then(|store| Ok((store.list()?, store))) {
            Ok(opened) => opened,
            Err(error) => {
                let message = format!("the user names in {} are not shown: {error}", store_name(&helper));
                eprintln!("warning: {}", super::inert_message(&message));
                continue;
            }
        };
        fill_from_store(rows, &helper, &store.0, &*store.1, now);
    }
}

fn store_name(helper: &str) -> String {
    if helper == REGCRED_HELPER { "the keychain".to_owned() } else { format!("docker-credential-{helper}") }
}

/// Fills the rows behind `helper` from its listing (server → user name).
fn fill_from_store(
    rows: &mut [EntryRow],
    helper: &str,
    listing: &std::collections::BTreeMap<String, String>,
    store: &dyn SecretStore,
    now: std::time::SystemTime,
) {
    // Indexed once by exact key and by registry, so the lookup stays linear in the rows.
    let mut by_target = std::collections::HashMap::new();
    for server in listing.keys() {
        if let Ok(key) = ServerKey::parse(server) {
            by_target.entry((key.registry().to_owned(), key.scope().to_owned())).or_insert(server);
        }
    }
    let behind = |row: &EntryRow| matches!(&row.secret, SecretHome::Helper { helper: h, .. } if h == helper);
    for row in rows.iter_mut().filter(|row| behind(row)) {
        let by_registry = || {
            let key = ServerKey::parse(row.registry.as_deref()?).ok()?;
            by_target.get(&(key.registry().to_owned(), key.scope().to_owned())).copied()
        };
        let Some(item) = listing.get_key_value(&row.key).map(|(k, _)| k).or_else(by_registry).cloned() else {
            continue;
        };
        if row.username.is_none() {
            row.username = listing.get(&item).cloned();
        }
        // regcred's own secret only for its expiry (never shown; another helper is not asked
        // for secrets just to list); a failure leaves it unknown.
        if helper == REGCRED_HELPER
            && let Ok(Some(credential)) = store.get(&item)
        {
            row.expiry = regcred::expiry::expiry_of(&credential.username, &credential.secret, &row.key, now);
        }
    }
}

fn file_row<'a>(kind: FileKind, path: &'a std::path::Path, status: &'a SourceStatus) -> FileRow<'a> {
    let (status_word, error, file) = match status {
        SourceStatus::Missing => ("missing", None, None),
        SourceStatus::Loaded(file) => ("loaded", None, Some(file.as_ref())),
        SourceStatus::Failed(error) => ("failed", Some(format!("{error:#}")), None),
    };
    let entries = file.map(AuthFile::entries).unwrap_or_default();
    FileRow {
        kind,
        path,
        status: status_word,
        error,
        entries: entries.len(),
        problems: entries.iter().filter(|e| !e.problems.is_empty()).count(),
        creds_store: file.and_then(AuthFile::creds_store),
        cred_helpers: file.map_or(0, |f| f.cred_helpers().len()),
        podman_reads: None,
    }
}

/// `regcred sources`: exit 1 when a file exists but cannot be used.
pub fn sources(sources: &Sources, json: bool) -> anyhow::Result<ExitCode> {
    let mut rows: Vec<FileRow> = sources.files.iter().map(|s| file_row(s.kind, &s.path, &s.status)).collect();
    for row in &mut rows {
        row.podman_reads = sources.podman.paths.iter().position(|(_, path)| path == row.path).map(|place| place + 1);
    }
    let failed = rows.iter().any(|r| r.error.is_some());
    if json {
        print_json(&rows)?;
    } else {
        for row in &rows {
            outln!("{:<22} {}", row.kind.to_string(), row.path.display());
            match (&row.error, row.status) {
                (Some(error), _) => {
                    outln!("    error: {}", regcred::untrusted::inert(error, regcred::untrusted::TEXT_CAP));
                }
                (None, "missing") => outln!("    not present"),
                _ => {
                    let entries =
                        if row.entries == 1 { "1 entry".to_owned() } else { format!("{} entries", row.entries) };
                    outln!("    {entries}, {} with problems", row.problems);
                    if let Some(store) = row.creds_store {
                        outln!(
                            "    credsStore: {}",
                            regcred::untrusted::inert(store, regcred::resolve::HELPER_NAME_CAP)
                        );
                    }
                    if row.cred_helpers > 0 {
                        outln!("    credHelpers: {} registries", row.cred_helpers);
                    }
                }
            }
        }
        outln!("Podman and skopeo read, in order (the first with a credential for the image answers):");
        for (place, (kind, path)) in sources.podman.paths.iter().enumerate() {
            let present = if path.exists() { "" } else { "  (not present)" };
            outln!("  {}. {kind} — {}{present}", place + 1, path.display());
            if place == 0 && sources.podman.override_ends {
                outln!("     ($REGISTRY_AUTH_FILE: Podman 4.4+ and skopeo 1.11+ read only this file)");
            }
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// `regcred list`: one row per registry entry of every loaded file.
pub fn list(sources: &Sources, json: bool) -> anyhow::Result<ExitCode> {
    let mut rows = Vec::new();
    // One moment for every row: an estimate ("about 1 h") reads the same where it is computed
    // and where it is printed.
    let now = std::time::SystemTime::now();
    // A file that cannot be used makes `list` fail (exit 1): said as an error, not a warning.
    for source in &sources.files {
        if let SourceStatus::Failed(error) = &source.status {
            eprintln!("error: {error:#}");
        }
    }
    let shadows = PodmanShadows::new(sources);
    for source in &sources.files {
        let Some(file) = source.file() else { continue };
        let homes = SecretHomes::new(file);
        for entry in file.entries() {
            let secret = entry.password.as_ref().or(entry.identity_token.as_ref());
            let expiry = secret.and_then(|secret| {
                regcred::expiry::expiry_of(entry.username.as_deref().unwrap_or(""), secret, &entry.key, now)
            });
            rows.push(EntryRow {
                expires_at: None,
                expires_estimated: false,
                expiry,
                kind: source.kind,
                file: source.path.clone(),
                secret: homes.of(&entry),
                stored_in: String::new(),
                shadowed_for_podman_by: entry
                    .server
                    .as_ref()
                    .and_then(|server| shadows.shadowed_by(&source.path, server))
                    .map(std::path::Path::to_path_buf),
                registry: entry.server.as_ref().map(regcred::auth_files::ServerKey::podman_key),
                username: entry.username,
                problems: entry.problems.iter().map(ToString::to_string).collect(),
                key: entry.key,
            });
        }
    }
    fill_from_stores(&mut rows, now);
    for row in &mut rows {
        row.stored_in = match &row.secret {
            // Docker asks the helper; the copy in the file is still readable by anyone, and is what
            // Podman (which reads no credsStore) uses.
            SecretHome::Helper { plaintext_ignored: true, .. } => {
                format!("{} + plaintext in the file", row.secret.label())
            }
            home => home.label(),
        };
        row.expires_at = row.expiry.map(|e| regcred::expiry::rfc3339(e.at));
        row.expires_estimated = row.expiry.is_some_and(|e| e.approximate);
    }
    let unusable: Vec<FailedFile> = sources
        .files
        .iter()
        .filter_map(|source| match &source.status {
            SourceStatus::Failed(error) => {
                Some(FailedFile { kind: source.kind, path: &source.path, error: format!("{error:#}") })
            }
            _ => None,
        })
        .collect();
    if json && !unusable.is_empty() {
        // Scripts see the failure as JSON too: what failed, and what could still be listed.
        let error = format!("{} credential file(s) cannot be used", unusable.len());
        print_json(&serde_json::json!({ "error": error, "files": unusable, "entries": rows }))?;
        return Ok(ExitCode::FAILURE);
    }
    if json {
        print_json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() && !unusable.is_empty() {
        outln!("No usable registry credentials: {} file(s) cannot be used (see above).", unusable.len());
        return Ok(ExitCode::FAILURE);
    }
    if rows.is_empty() {
        outln!("No registry credentials found. Files looked at:");
        for source in &sources.files {
            outln!("  {} {}", source.kind, source.path.display());
        }
        return Ok(if unusable.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE });
    }
    let text = render(&rows, now);
    // One write for the whole list: thousands of entries are not thousands of writes.
    super::emit(&text)?;
    Ok(if unusable.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The list as text: one block per file, one line per entry (and one per note about it).
fn render(rows: &[EntryRow], now: std::time::SystemTime) -> String {
    let key_width = rows.iter().map(|r| shown(&r.key).chars().count()).max().unwrap_or(8).clamp(8, 48);
    let mut text = String::new();
    let mut current_file = None;
    for row in rows {
        if current_file != Some(&row.file) {
            let _ = writeln!(text, "{} — {}", row.kind, row.file.display());
            current_file = Some(&row.file);
        }
        let user = row.username.as_deref().map_or_else(|| "-".to_owned(), shown);
        let warning = if exposed(&row.secret) { " \u{26a0}" } else { "" };
        let expiry = row.expiry.map_or_else(String::new, |e| {
            let mark = if regcred::expiry::within(&e, now, std::time::Duration::ZERO) { " \u{26a0}" } else { "" };
            format!("  ({}, {}){mark}", regcred::expiry::describe(&e, now), regcred::expiry::rfc3339(e.at))
        });
        let _ = writeln!(text, "  {:<key_width$}  {:<20}  {}{warning}{expiry}", shown(&row.key), user, row.stored_in);
        if let Some(earlier) = &row.shadowed_for_podman_by {
            let _ = writeln!(
                text,
                "  {:<key_width$}  shadowed for Podman/skopeo: they take this registry's login from {}",
                "",
                earlier.display()
            );
        }
        for problem in &row.problems {
            let _ = writeln!(
                text,
                "  {:<key_width$}  \u{26a0} {}",
                "",
                regcred::untrusted::inert(problem, regcred::untrusted::TEXT_CAP)
            );
        }
    }
    if rows.iter().any(|row| exposed(&row.secret)) {
        let _ = writeln!(
            text,
            "\u{26a0} plaintext: the password is in the file itself (base64 is not encryption); `regcred migrate` moves it to the keychain"
        );
    }
    text
}

/// Whether a readable copy of the secret is in the file (alone, or beside a helper).
fn exposed(home: &SecretHome) -> bool {
    home.is_plaintext() || matches!(home, SecretHome::Helper { plaintext_ignored: true, .. })
}
