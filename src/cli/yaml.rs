//! `regcred yaml`: the pull Secret (and Pod, ServiceAccount patch, node recipe) for registries
//! whose secrets live anywhere regcred can read.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use regcred::auth_files::{Sources, parse_server};
use regcred::pull_secret::{
    KubectlStyle, NodeFileFormat, PodRequest, PullPolicy, RegistryAuth, SecretRequest, SecretType, pod_check_commands,
    render_node_recipe, render_pod, render_secret, render_service_account_patch,
};
use regcred::resolve::registry_auth;

/// `--type`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum TypeArg {
    /// `kubernetes.io/dockerconfigjson`
    Dockerconfigjson,
    /// `kubernetes.io/dockercfg`
    Dockercfg,
}

/// `-o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// YAML documents separated by `---`, guidance as `#` comments.
    Yaml,
    /// JSON objects, guidance on stderr.
    Json,
}

/// The arguments of `regcred yaml`.
#[derive(Debug, clap::Args)]
pub struct YamlArgs {
    /// The Secret's name.
    #[arg(long)]
    pub name: String,
    /// The namespace (written only when given).
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// The Secret's type.
    #[arg(long = "type", value_enum, default_value = "dockerconfigjson")]
    pub secret_type: TypeArg,
    /// Also render the verification Pod that pulls IMAGE with the Secret.
    #[arg(long, value_name = "IMAGE")]
    pub pod: Option<String>,
    /// The Pod's imagePullPolicy (Always, IfNotPresent, Never).
    #[arg(long, default_value = "Always", requires = "pod")]
    pub pull_policy: PullPolicy,
    /// Also render the patch that attaches the Secret to this ServiceAccount.
    #[arg(long, value_name = "ACCOUNT", num_args = 0..=1, default_missing_value = "default")]
    pub service_account: Option<String>,
    /// Also print the per-node config.json recipe.
    #[arg(long)]
    pub nodes: bool,
    /// Output format.
    #[arg(short = 'o', long = "output-format", value_enum, default_value = "yaml")]
    pub format: FormatArg,
    /// Write to FILE (atomically, mode 0600) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite FILE if it exists.
    #[arg(long, requires = "output")]
    pub force: bool,
    /// Match kubectl 1.34 and later, which no longer print `creationTimestamp: null`.
    #[arg(long)]
    pub no_creation_timestamp: bool,
    /// The registries (as in your files: `quay.io`, `https://index.docker.io/v1/`, `host:5000`),
    /// or `KEY=SERVER` to put SERVER's credential under a key the kubelet matches
    /// (`'*.example.com=registry.example.com'`, `registry.io:8080/team=registry.io:8080`).
    #[arg(required = true, value_name = "SERVER")]
    pub servers: Vec<String>,
}

/// Runs `regcred yaml`.
pub fn yaml(sources: &Sources, args: &YamlArgs) -> anyhow::Result<ExitCode> {
    super::warn_unusable(sources);
    let registries = args.servers.iter().map(|arg| secret_entry(sources, arg)).collect::<anyhow::Result<Vec<_>>>()?;
    warn_about(&registries);
    let request = SecretRequest {
        name: args.name.clone(),
        namespace: args.namespace.clone(),
        secret_type: match args.secret_type {
            TypeArg::Dockerconfigjson => SecretType::DockerConfigJson,
            TypeArg::Dockercfg => SecretType::DockerCfg,
        },
        registries,
        style: if args.no_creation_timestamp {
            KubectlStyle::WithoutCreationTimestamp
        } else {
            KubectlStyle::WithCreationTimestamp
        },
    };
    let file_name = args
        .output
        .as_ref()
        .and_then(|p| p.file_name())
        .map_or_else(|| "regcred.yaml".to_owned(), |n| n.to_string_lossy().into_owned());
    let json = args.format == FormatArg::Json;
    let mut documents = vec![pick(json, render_secret(&request)?)];
    let mut guidance = Vec::new();
    if let Some(image) = &args.pod {
        let pod = PodRequest {
            namespace: args.namespace.clone(),
            pull_policy: args.pull_policy,
            ..PodRequest::verification(image, &args.name)
        };
        let rendered = render_pod(&pod)?;
        let mut lines = vec!["Check that nodes can pull the image with the Secret:".to_owned()];
        lines.extend(pod_check_commands(&pod, &file_name).into_iter().map(|c| format!("  {c}")));
        documents.push(with_comments(json, &lines, pick(json, rendered)));
        guidance.extend(lines);
    }
    if let Some(account) = &args.service_account {
        // A patch is not an object `kubectl apply -f` accepts, so it stays in comments here.
        let patch = render_service_account_patch(account, args.namespace.as_deref(), &args.name)?;
        let mut lines = vec![
            format!("Make every Pod of ServiceAccount {account} use the Secret (replaces its imagePullSecrets):"),
            format!("  {}", patch.command),
            "or append to an existing imagePullSecrets list:".to_owned(),
            format!("  {}", patch.append_command),
            "The strategic-merge patch:".to_owned(),
        ];
        lines.extend(pick(json, patch.patch).lines().map(|l| format!("  {l}")));
        if !json {
            documents.push(with_comments(false, &lines, String::new()));
        }
        guidance.extend(lines);
    }
    if args.nodes {
        let recipe = render_node_recipe(&request.registries, NodeFileFormat::ConfigJson)?;
        if json {
            guidance.extend(recipe.to_commented_text().lines().map(|l| l.trim_start_matches("# ").to_owned()));
        } else {
            documents.push(recipe.to_commented_text());
        }
    }
    let output = match (json, documents.len()) {
        (true, 1) => documents.concat(),
        // Several objects are one `v1` `List`, as kubectl prints them.
        (true, _) => json_list(&documents)?,
        (false, _) => documents.join("---\n"),
    };
    if json {
        for line in &guidance {
            eprintln!("{line}");
        }
    }
    match &args.output {
        Some(path) => write_output(path, output.as_bytes(), args.force)?,
        None => super::emit(&output)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// One `SERVER` or `KEY=SERVER` argument: the credential stored for SERVER, under SERVER's own key
/// or under KEY — a Kubernetes-style key the kubelet matches (`*.example.com`, `*.*.example.com`,
/// `prefix.*.io`, `registry.io:8080/path`) that Docker's and Podman's files cannot hold.
pub(super) fn secret_entry(sources: &Sources, arg: &str) -> anyhow::Result<RegistryAuth> {
    let (key, server) = match arg.split_once('=') {
        Some((key, server)) => (Some(key), server),
        None => (None, arg),
    };
    if let Some(key) = key {
        regcred::kubelet::check_key(key)
            .map_err(|why| anyhow::anyhow!("the kubelet cannot use the key {key:?}: {why}"))?;
    }
    let found = registry_auth(sources, &parse_server(server)?, &regcred::keychain::open_store)
        .with_context(|| format!("cannot read the secret for {server}"))?;
    Ok(RegistryAuth { server: key.map_or(found.server, str::to_owned), ..found })
}

/// Several JSON objects as kubectl prints them together: a `v1` `List`.
fn json_list(documents: &[String]) -> anyhow::Result<String> {
    let items = documents
        .iter()
        .map(|document| serde_json::from_str::<serde_json::Value>(document))
        .collect::<Result<Vec<_>, _>>()
        .context("a rendered object is not JSON")?;
    let list = serde_json::json!({
        "apiVersion": "v1",
        "items": items,
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    });
    let mut text = String::from_utf8_lossy(&regcred::go_json::to_vec_indented(&list, b"    ")).into_owned();
    text.push('\n');
    Ok(text)
}

fn pick(json: bool, rendered: regcred::pull_secret::Rendered) -> String {
    if json { rendered.json } else { rendered.yaml }
}

fn with_comments(json: bool, lines: &[String], document: String) -> String {
    if json {
        return document;
    }
    let comments: String = lines.iter().map(|l| ["# ", l, "\n"].concat()).collect();
    comments + &document
}

fn write_output(path: &std::path::Path, bytes: &[u8], force: bool) -> anyhow::Result<()> {
    use regcred::atomic_file::{Overwrite, PrivateWriteError, write_private};
    let overwrite = if force { Overwrite::Replace } else { Overwrite::Refuse };
    let home = regcred::auth_files::Env::from_process().home;
    match write_private(path, bytes, overwrite, home.as_deref()) {
        Ok(written) => {
            eprintln!("wrote {} (mode 0600: it holds credentials)", written.display());
            Ok(())
        }
        Err(PrivateWriteError::Exists { path }) => {
            bail!("the file exists; add --force to overwrite it: {}", path.display())
        }
        Err(error) => Err(error.into()),
    }
}

/// Warns on stderr about what the Secret's credentials will do ([`regcred::pull_secret::warnings`]).
pub(super) fn warn_about(registries: &[RegistryAuth]) {
    let registries: Vec<&RegistryAuth> = registries.iter().collect();
    for warning in regcred::pull_secret::warnings(&registries, std::time::SystemTime::now()) {
        eprintln!("warning: {warning}");
    }
}
