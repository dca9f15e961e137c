//! Test pulls: the distribution protocol walked the way a node's runtime walks it, with every
//! stage, request, status and registry error recorded for the report.
//!
//! * [`Puller`] runs pulls (quick: manifests and blob checks; full: every blob downloaded and
//!   verified) and caches bearer tokens.
//! * [`PullReport`] is the one typed result; failures carry the verdict, the kubelet's words and
//!   what to do ([`explain`]).
//! * Security: credentials only over HTTPS (or to loopback / registries marked insecure), never
//!   on a redirect to another origin, never to a plain-HTTP token realm of an HTTPS registry;
//!   bodies capped; every stage timed out; cancellable.

pub mod challenge;
pub mod client;
pub mod explain;
mod pull;
pub mod report;
pub mod trust;

pub use client::{Timeouts, default_ca_dirs};
pub use pull::{BlobProgress, IDENTITY_TOKEN_USER, Platform, PullOptions, Puller, credential_failure, is_loopback};
pub use report::{Failure, FailureClass, Outcome, PullReport, RequestRecord, Stage, Success};
