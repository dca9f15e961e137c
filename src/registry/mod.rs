//! Test pulls: the distribution protocol walked the way a node's runtime walks it, with every
//! stage, request, status and registry error recorded for the report.
//!
//! The layers, bottom up (each imports only those below it):
//!
//! * `node`, `report`, `facts`, `challenge`, `document` — the data: the node stood in
//!   for (platform, runtime), the report, the facts of a failure, parsed challenges, the registry's
//!   documents (index, manifest, descriptors) read into typed values.
//! * `authorizer` — the rule for where a credential may go, challenges, token requests as
//!   containerd makes them, the token cache. No I/O.
//! * `lookup` — host names looked up once per run (or pull), within the connect timeout, failures
//!   in Go's resolver words.
//! * `trust` — TLS as Go trusts: system roots, certs.d CAs, pool members, client certificates.
//! * `transport` — one request at a time (`transport::RequestSpec`): redirects, caps, timeouts,
//!   records.
//! * `session` — one pull's requests with the authorizer's credential, token fetching, one retry
//!   through the authorizer on a 401, and the `session::Stop` a failure is recorded as.
//! * `stages` — ping, login check, manifest, platform, blobs.
//! * `explain`, `runtime_words`, `failure` — the report of a failure as a pure function of
//!   what was recorded, in the chosen runtime's words.
//! * [`Puller`] — the pull on top.

pub(crate) mod authorizer;
pub(crate) mod challenge;
pub(crate) mod document;
pub(crate) mod explain;
pub(crate) mod facts;
pub(crate) mod failure;
pub(crate) mod limits;
pub(crate) mod lookup;
pub(crate) mod node;
mod pull;
pub(crate) mod report;
pub(crate) mod runtime_words;
pub(crate) mod session;
pub(crate) mod stages;
pub(crate) mod transport;
pub(crate) mod trust;

pub use lookup::nameserver;
pub use node::{Platform, Runtime};
pub use pull::{PullOptions, Puller, credential_failure};
pub use report::{Failure, FailureClass, Outcome, PullReport, RateLimit, RequestRecord, Stage, Success, pod_status};
pub use stages::BlobProgress;
pub use transport::Timeouts;
