//! Test pulls: the distribution protocol walked the way a node's runtime walks it, with every
//! stage, request, status and registry error recorded for the report.
//!
//! The layers, bottom up (each imports only those below it):
//!
//! * [`node`], [`report`], [`facts`], [`challenge`], [`document`] — the data: the node stood in
//!   for (platform, runtime), the report, the facts of a failure, parsed challenges, the registry's
//!   documents (index, manifest, descriptors) read into typed values.
//! * [`authorizer`] — the rule for where a credential may go, challenges, token requests as
//!   containerd makes them, the token cache. No I/O.
//! * [`lookup`] — host names looked up once per run (or pull), within the connect timeout, failures
//!   in Go's resolver words.
//! * [`trust`] — TLS as Go trusts: system roots, certs.d CAs, pool members, client certificates.
//! * [`transport`] — one request at a time ([`transport::RequestSpec`]): redirects, caps, timeouts,
//!   records.
//! * [`session`] — one pull's requests with the authorizer's credential, token fetching, one retry
//!   through the authorizer on a 401, and the [`session::Stop`] a failure is recorded as.
//! * [`stages`] — ping, login check, manifest, platform, blobs.
//! * [`explain`], [`runtime_words`], [`failure`] — the report of a failure as a pure function of
//!   what was recorded, in the chosen runtime's words.
//! * [`Puller`] — the pull on top.

pub mod authorizer;
pub mod challenge;
pub mod document;
pub mod explain;
pub mod facts;
pub mod failure;
pub mod limits;
pub mod lookup;
pub mod node;
mod pull;
pub mod report;
pub mod runtime_words;
pub mod session;
pub mod stages;
pub mod transport;
pub mod trust;

pub use authorizer::{IDENTITY_TOKEN_USER, is_loopback};
pub use node::{Platform, Runtime};
pub use pull::{PullOptions, Puller, credential_failure};
pub use report::{Failure, FailureClass, Outcome, PullReport, RateLimit, RequestRecord, Stage, Success};
pub use stages::BlobProgress;
pub use transport::{Timeouts, default_ca_dirs};
