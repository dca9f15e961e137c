//! `regcred check`: will these pods pull? Kubernetes manifests → workloads and their pull Secrets
//! (`manifests`) → each pod's credentials as the kubelet's keyring has them
//! ([`crate::kubelet`]) → a test pull per distinct image and credential list → the verdict
//! matrix.

mod display;
pub(crate) mod manifests;
pub(crate) mod run;

pub use display::NAME_CAP;
pub use manifests::{
    Container, ContainerList, Inputs, MAX_MANIFEST_BYTES, ManifestError, Manifests, PullPolicy, SecretsFrom, Workload,
    WorkloadKind, read_documents, read_inputs,
};

pub use run::{
    Attempt, CheckOptions, CheckReport, CheckResult, Origin, Summary, UNFINISHED, UsedCredential, Verdict, Verdicts,
    check, local_keyring, verdicts,
};
