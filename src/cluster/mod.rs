//! The cluster loop: put the pull Secret into a cluster (`apply`), prove it with the Kubernetes
//! docs' test Pod (`verify`), and explain the Pods that cannot pull now (`check --cluster`).
//!
//! Everything goes through the user's kubeconfig (or the in-cluster ServiceAccount) with `kube`;
//! the API's refusals are kept in the API's words ([`Refusal`]) with what to do. Nothing here
//! prints a secret: plans and reports name keys and registries, never values.

mod apply;
mod connect;
mod live;
mod local;
mod nodes;
mod refusal;
mod verify;
mod words;

pub use apply::{ApplyPlan, ApplyRequest, KeyChange, SecretChange, ServiceAccountChange, apply};
pub use connect::{Cluster, Contexts, Target, connect, contexts};
pub use live::{FailingPod, LiveCheck, LiveOptions, SecretsRead, check_cluster};
pub use local::LocalCredentials;
pub use nodes::{kubelet_event_as_node_shows, runtime_of};
pub use refusal::{ClusterError, Refusal};
pub use verify::{
    CLEANUP_SELECTOR, Cleanup, LEFTOVER_AGE, Progress, VerifyOutcome, VerifyReport, VerifyRequest, cleanup,
    leftover_pods, verify,
};
