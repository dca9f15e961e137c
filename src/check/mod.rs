//! `regcred check`: will these pods pull? Kubernetes manifests → workloads and their pull Secrets
//! ([`manifests`]) → each pod's credentials as the kubelet's keyring has them
//! ([`crate::kubelet`]) → a test pull per distinct image and credential list → the verdict
//! matrix.

mod display;
pub mod manifests;
pub mod run;

pub use display::NAME_CAP;

pub use run::{
    Attempt, CheckOptions, CheckReport, CheckResult, Summary, UsedCredential, Verdict, check, local_keyring,
};
