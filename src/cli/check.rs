//! `regcred check`: will these pods pull? Every image of a set of Kubernetes manifests, with the
//! credentials the kubelet would use.

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use regcred::auth_files::{Env, Sources};
use regcred::check::{CheckOptions, CheckReport, CheckResult, UsedCredential, Verdict, verdicts};
use regcred::check::{MAX_MANIFEST_BYTES, read_inputs};
use regcred::kubelet::{ConfigFormat, CredentialOrigin, Keyring};

/// Exit status for usage and input errors.
const INPUT_ERROR: u8 = 2;

/// `regcred check` arguments.
#[derive(Debug, clap::Args)]
#[allow(clippy::struct_excessive_bools, reason = "each is a command-line switch")]
// Manifests (with -f or without) or --cluster: the usage error names all three.
#[command(group(clap::ArgGroup::new("input").required(true).multiple(true).args(["files", "paths", "cluster"])))]
pub struct CheckArgs {
    /// Manifests: a file, a directory (its .yaml, .yml and .json files, recursively), or - for
    /// standard input. Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub files: Vec<String>,
    /// The same, without -f (`regcred check app.yaml k8s/`), as people type it.
    #[arg(value_name = "PATH", conflicts_with = "cluster")]
    pub paths: Vec<String>,
    /// The namespace of objects that name none (as kubectl's --namespace; default: default). With
    /// --cluster: the namespace to check (default: the context's).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Check a cluster instead of files: the Pods that cannot pull now, each with the kubelet's
    /// Event, and every workload's template, with the pull Secrets read through the API (your local
    /// credentials when reading Secrets is forbidden).
    #[arg(long, conflicts_with = "files")]
    pub cluster: bool,
    /// With --cluster: every namespace.
    #[arg(short = 'A', long, requires = "cluster")]
    pub all_namespaces: bool,
    #[command(flatten)]
    pub kube: super::cluster::ClusterArgs,
    /// The node's own Docker config, as the kubelet reads it (/var/lib/kubelet/config.json).
    #[arg(long, value_name = "FILE")]
    pub node_config: Option<PathBuf>,
    /// Check pull Secrets that are not in the manifests with your local credentials instead.
    #[arg(long)]
    pub local: bool,
    #[command(flatten)]
    pub pull: super::pull_args::PullArgs,
    /// Print JSON for scripts.
    #[arg(long)]
    pub json: bool,
    /// Also write a `JUnit` XML report to FILE (for CI systems).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// End the run after DURATION (counted from the start of the process: 90s, 5m, 1h): pulls not
    /// finished by then are reported as not finished within the deadline, and the exit status is 1.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = super::parse_deadline)]
    pub timeout: std::time::Duration,
}

/// Runs `regcred check`: exit 0 when everything pulls, 1 when anything would fail, 2 for input
/// errors (a path that cannot be read, a document that cannot be parsed, no workloads).
pub fn run(env: &Env, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    if args.cluster {
        return run_cluster(env, args);
    }
    if args.kube.kubeconfig.is_some() || args.kube.context.is_some() {
        eprintln!("error: --kubeconfig and --context are for --cluster");
        return Ok(ExitCode::from(INPUT_ERROR));
    }
    let namespace = args.namespace.as_deref().unwrap_or("default");
    // A path that cannot be read is an input error like a broken document: said, and the rest
    // still checked (the same reading as the window's).
    let (stdin, paths): (Vec<&String>, Vec<&String>) =
        args.files.iter().chain(&args.paths).partition(|path| *path == "-");
    let mut texts = Vec::new();
    let mut unreadable = Vec::new();
    if !stdin.is_empty() {
        match read_stdin() {
            Ok(text) => texts.push(text),
            Err(error) => unreadable.push(format!("{error:#}")),
        }
    }
    let named: Vec<(&str, &str)> = texts.iter().map(|text| ("<stdin>", text.as_str())).collect();
    let paths: Vec<&Path> = paths.iter().map(|path| Path::new(path.as_str())).collect();
    let mut inputs = read_inputs(&named, &paths, namespace);
    inputs.unreadable.splice(0..0, unreadable);
    let mut options = CheckOptions {
        pull: args.pull.options(env),
        started: Some(super::started()),
        deadline: Some(args.timeout),
        ..CheckOptions::default()
    };
    if let Some(path) = &args.node_config {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read the node config {}", path.display()))?;
        let mut node = Keyring::new();
        let origin = CredentialOrigin::NodeConfig { path: format!("node config {}", path.display()) };
        node.add_docker_config(&bytes, ConfigFormat::DockerConfigJson, &origin)
            .with_context(|| format!("the node config {} cannot be read as the kubelet reads it", path.display()))?;
        options.node = Some(node);
    }
    if args.local {
        options.local = Some(local_credentials(env)?);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    // Each container's result is made when it is written, never all of them at once: a check of
    // 100,000 containers holds one small plan per container, not 100,000 reports.
    let verdicts = runtime.block_on(verdicts(&inputs, &options));
    // A lookup the deadline gave up on may still hold a thread in the system resolver: the
    // report is complete, so it is not waited for.
    runtime.shutdown_background();
    // Text from the manifests, credential files and registries is shown inert on the terminal and
    // in the JUnit file; --json keeps the exact strings (JSON escaping is the boundary there).
    let head = verdicts.inert_head();
    // Input errors go to stderr (and into --json and the JUnit file): the report on stdout is
    // what pulls and what does not.
    for error in &head.errors {
        eprintln!("error: {error}");
    }
    for warning in &head.warnings {
        eprintln!("warning: {warning}");
    }
    if args.json {
        super::emit_with(|out| {
            serde_json::to_writer_pretty(&mut *out, &verdicts)?;
            out.write_all(b"\n")
        })?;
    } else {
        super::emit_with(|out| write_text(out, verdicts.len(), |index| verdicts.result(index).inert(), &head))?;
    }
    let status = if !verdicts.errors.is_empty() {
        ExitCode::from(INPUT_ERROR)
    } else if verdicts.all_pull() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    };
    // Written after the report is out: a JUnit path that cannot be written loses nothing else. Its
    // directory must exist (a mistyped path is an error, not a new directory).
    if let Some(path) = &args.junit
        && let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty() && !parent.is_dir())
    {
        eprintln!(
            "error: cannot write the JUnit report {}: the directory {} does not exist",
            path.display(),
            parent.display()
        );
        return Ok(ExitCode::from(INPUT_ERROR));
    }
    if let Some(path) = &args.junit
        && let Err(error) = regcred::atomic_file::write_atomic(path, junit(&verdicts.into_report().inert()).as_bytes())
    {
        eprintln!("error: cannot write the JUnit report {}: {error}", path.display());
        return Ok(ExitCode::from(INPUT_ERROR));
    }
    Ok(status)
}

/// `regcred check --cluster`: the Pods failing now and the live workloads' templates.
fn run_cluster(env: &Env, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let check = CheckOptions {
        pull: args.pull.options(env),
        started: Some(super::started()),
        deadline: Some(args.timeout),
        ..CheckOptions::default()
    };
    // Your own credentials stand in for the Secrets only when reading them is forbidden.
    let sources_env = env.clone();
    let local = Some(regcred::cluster::LocalCredentials::new(move || local_credentials(&sources_env).ok()));
    let options = regcred::cluster::LiveOptions {
        all_namespaces: args.all_namespaces,
        check,
        local,
        runtime_from_nodes: args.pull.runtime.is_none(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let target = args.kube.target(args.namespace.as_deref());
    let live = runtime.block_on(async {
        // A cluster that cannot be read is an input error (2), never "some would fail" (1).
        let cluster = super::cluster::connect(&target).await.map_err(|_| ExitCode::from(INPUT_ERROR))?;
        regcred::cluster::check_cluster(&cluster, options).await.map_err(|error| {
            super::cluster::say(&format!("Cluster: {}", cluster.describe()));
            super::cluster::report_error(&error);
            ExitCode::from(INPUT_ERROR)
        })
    });
    runtime.shutdown_background();
    let live = match live {
        Ok(live) => live,
        Err(code) => return Ok(code),
    };
    // Shown inert (terminal, JUnit); --json keeps the exact strings.
    let shown = live.inert();
    let report = &shown.report;
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    for note in shown.notes.iter().cloned().chain(shown.not_listed_words()) {
        eprintln!("note: {note}");
    }
    if args.json {
        super::print_json(&live)?;
    } else {
        super::emit_with(|out| {
            out.write_all(live_text(&shown).as_bytes())?;
            write_text(out, report.results.len(), |index| report.results[index].clone(), report)
        })?;
    }
    if let Some(path) = &args.junit
        && let Err(error) = regcred::atomic_file::write_atomic(path, junit(report).as_bytes())
    {
        eprintln!("error: cannot write the JUnit report {}: {error}", path.display());
        return Ok(ExitCode::from(INPUT_ERROR));
    }
    Ok(if live.failing.is_empty() && report.all_pull() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The head of `check --cluster`'s text: the cluster, where credentials came from, the Pods failing
/// now.
fn live_text(live: &regcred::cluster::LiveCheck) -> String {
    let inert = |text: &str| regcred::untrusted::inert(text, super::MESSAGE_CAP);
    let mut out = format!("Cluster: {}\n", live.cluster);
    let _ = writeln!(out, "Credentials: {}", live.secrets.words(inert));
    if live.failing.is_empty() {
        out.push_str("No Pod is failing to pull now.\n\n");
        return out;
    }
    let count = live.failing.len();
    let _ = writeln!(out, "Failing to pull now ({count} container{}):", if count == 1 { "" } else { "s" });
    for pod in &live.failing {
        let node = pod.node.as_ref().map(|node| format!(", node {node}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "  {}/{}  {}  {}  ({}{node})",
            pod.namespace,
            pod.pod,
            pod.container,
            inert(&pod.image),
            pod.reason
        );
        if let Some(event) = &pod.node_event {
            let _ = writeln!(out, "    node says:    {}", inert(event));
        }
        if let Some(event) = &pod.predicted_event {
            let _ = writeln!(out, "    regcred says: {}", inert(event));
        }
        match pod.matches {
            Some(true) => out.push_str("    ✔ the same text\n"),
            Some(false) => out.push_str("    ✘ not the same: see the diagnosis below\n"),
            None => {}
        }
        let _ = writeln!(out, "    {}", pod.secrets_words());
        for note in &pod.notes {
            let _ = writeln!(out, "    note: {}", inert(note));
        }
    }
    out.push('\n');
    out
}

/// Standard input, for `-f -`.
fn read_stdin() -> anyhow::Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .take(MAX_MANIFEST_BYTES)
        .read_to_string(&mut text)
        .context("cannot read the manifests from stdin")?;
    Ok(text)
}

/// The user's own credentials as a keyring (warnings for entries that could not be read).
fn local_credentials(env: &Env) -> anyhow::Result<Keyring> {
    let sources = Sources::discover(env);
    super::warn_unusable(&sources);
    let (keyring, warnings) = regcred::check::local_keyring(&sources, &regcred::keychain::open_store)?;
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    Ok(keyring)
}

/// The report as text: failures first, grouped by workload; then the summary. `result` gives
/// each of the `count` results made inert ([`CheckResult::inert`]), `head` the report's
/// [`CheckReport::inert`] copy (its results are not read). Each result is made, written and
/// dropped in turn.
pub fn write_text(
    out: &mut dyn std::io::Write,
    count: usize,
    result: impl Fn(usize) -> CheckResult,
    head: &CheckReport,
) -> std::io::Result<()> {
    let rank = |verdict: Verdict| match verdict {
        Verdict::Fails => 0u8,
        Verdict::Unfinished => 1,
        Verdict::Skipped => 2,
        Verdict::Pulls => 3,
    };
    // Each result's workload as one key, `namespace NUL workload` (inert text holds no NUL, so
    // the key sorts as the pair does), its rank, and the worst rank of its workload.
    let mut order: Vec<(Box<str>, u8, u8, usize)> = (0..count)
        .map(|index| {
            let r = result(index);
            (format!("{}\0{}", r.namespace, r.workload).into_boxed_str(), rank(r.verdict), 3, index)
        })
        .collect();
    // Sorted by workload (stable: reading order within one), each workload's worst rank found,
    // then sorted by worst rank, workload and rank, still stable: failures first.
    order.sort_by(|a, b| a.0.cmp(&b.0));
    let mut start = 0;
    while start < order.len() {
        let end = start + order[start..].iter().take_while(|entry| entry.0 == order[start].0).count();
        let worst = order[start..end].iter().map(|entry| entry.1).min().unwrap_or(3);
        order[start..end].iter_mut().for_each(|entry| entry.2 = worst);
        start = end;
    }
    order.sort_by(|a, b| (a.2, &a.0, a.1).cmp(&(b.2, &b.0, b.1)));
    let mut current: Option<&str> = None;
    for (key, _, _, index) in &order {
        let result = result(*index);
        if current != Some(&**key) {
            writeln!(out, "{}/{}", result.namespace, result.workload)?;
            current = Some(key);
        }
        let mark = match result.verdict {
            Verdict::Pulls => "pulls",
            Verdict::Fails => "FAILS",
            Verdict::Skipped => "skipped",
            Verdict::Unfinished => "UNFINISHED",
        };
        writeln!(out, "  {mark:<7}  {}  {}", result.container, result.image)?;
        match result.verdict {
            Verdict::Pulls => {
                let with = UsedCredential::describe_used(result.credential.as_ref());
                writeln!(out, "           with {with}")?;
            }
            Verdict::Fails => {
                if let Some(cause) = &result.cause {
                    writeln!(out, "           {cause}")?;
                }
                if let [only] = result.tried.as_slice() {
                    let with = UsedCredential::describe_used(only.credential.as_ref());
                    writeln!(out, "           with {with}")?;
                }
                if let Some(kubelet) = &result.kubelet {
                    let reason = result.reason.as_deref().unwrap_or("ErrImagePull");
                    writeln!(out, "           kubelet: {kubelet} ({})", regcred::registry::pod_status(reason))?;
                }
                if let Some(what) = &result.what_to_do {
                    writeln!(out, "           what to do: {what}")?;
                }
            }
            Verdict::Unfinished => {
                for line in result.cause.iter().chain(&result.what_to_do) {
                    writeln!(out, "           {line}")?;
                }
            }
            Verdict::Skipped => {}
        }
        for attempt in result.tried.iter().filter(|_| result.tried.len() > 1 || result.verdict == Verdict::Pulls) {
            let with = UsedCredential::describe_used(attempt.credential.as_ref());
            writeln!(out, "           tried {with}: {}", attempt.error)?;
        }
        for note in &result.notes {
            writeln!(out, "           note: {note}")?;
        }
    }
    let mut end = String::new();
    summary_text(&mut end, head);
    out.write_all(end.as_bytes())
}

/// The end of the text report: each host no pull could reach, the counts, the input errors.
fn summary_text(out: &mut String, report: &CheckReport) {
    let s = &report.summary;
    unreachable_text(out, report);
    let requests: Vec<String> = s.requests.iter().map(|(host, n)| format!("{host} {n}")).collect();
    let unfinished = if s.unfinished == 0 { String::new() } else { format!(", {} unfinished", s.unfinished) };
    let _ = writeln!(
        out,
        "{} container{} in {} workload{}: {} pull, {} fail, {} skipped{unfinished} ({} distinct pull{} in {:.1} s; requests: {})",
        s.containers,
        if s.containers == 1 { "" } else { "s" },
        s.workloads,
        if s.workloads == 1 { "" } else { "s" },
        s.pulls,
        s.fails,
        s.skipped,
        s.pulls_made,
        if s.pulls_made == 1 { "" } else { "s" },
        s.seconds,
        if requests.is_empty() { "none".to_owned() } else { requests.join(", ") }
    );
    if let Some(words) = s.not_read_words() {
        let _ = writeln!(out, "{words}");
    }
    if !report.errors.is_empty() {
        let count = report.errors.len();
        let _ = writeln!(out, "{count} input error{} (on stderr): exit 2", if count == 1 { "" } else { "s" });
    }
}

/// Each registry host no pull could reach, once, with the failure all its pulls share.
fn unreachable_text(out: &mut String, report: &CheckReport) {
    for host in &report.summary.unreachable {
        let pulls = if host.pulls == 1 { "1 pull ends".to_owned() } else { format!("{} pulls end", host.pulls) };
        let _ =
            writeln!(out, "{}: every pull to it fails before the image ({pulls} with it): {}", host.host, host.cause);
        let _ = writeln!(out, "  {}", host.detail);
        let _ = writeln!(out, "  what to do: {}", host.what_to_do);
    }
}

/// The report as `JUnit` XML: one test case per container, its workload as the class. Give it the
/// report's [`CheckReport::inert`] copy.
pub fn junit(report: &CheckReport) -> String {
    let escape = |text: &str| {
        text.chars()
            .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
            .collect::<String>()
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let s = &report.summary;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"regcred check\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
        s.containers + report.errors.len(),
        s.fails,
        report.errors.len() + s.unfinished,
        s.skipped,
        s.seconds
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"image pulls\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"{}\">",
        s.containers + report.errors.len(),
        s.fails,
        s.skipped,
        report.errors.len() + s.unfinished
    );
    for result in &report.results {
        let class = escape(&format!("{}/{}", result.namespace, result.workload));
        let name = escape(&format!("{} {}", result.container, result.image));
        let _ = write!(out, "    <testcase classname=\"{class}\" name=\"{name}\"");
        match result.verdict {
            Verdict::Pulls => {
                let _ = writeln!(out, "/>");
            }
            Verdict::Skipped => {
                let why = escape(&result.notes.join("; "));
                let _ = writeln!(out, ">\n      <skipped message=\"{why}\"/>\n    </testcase>");
            }
            Verdict::Unfinished => {
                let message = escape(result.cause.as_deref().unwrap_or(regcred::check::UNFINISHED));
                let _ = writeln!(out, ">\n      <error message=\"{message}\" type=\"Unfinished\"/>\n    </testcase>");
            }
            Verdict::Fails => {
                let message = escape(result.cause.as_deref().unwrap_or("would not pull"));
                let body = escape(&format!(
                    "{}\nwhat to do: {}",
                    result.kubelet.as_deref().unwrap_or_default(),
                    result.what_to_do.as_deref().unwrap_or_default()
                ));
                let reason = escape(result.reason.as_deref().unwrap_or("ErrImagePull"));
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"{message}\" type=\"{reason}\">{body}</failure>\n    </testcase>"
                );
            }
        }
    }
    for error in &report.errors {
        let _ = writeln!(
            out,
            "    <testcase classname=\"manifests\" name=\"{}\">\n      <error message=\"{}\"/>\n    </testcase>",
            escape(error),
            escape(error)
        );
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
