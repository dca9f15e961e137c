//! Integration tests: the library and the binaries against real files and processes, a real
//! Distribution registry (basic, TLS, token auth), gnome-keyring's Secret Service, Docker's
//! `docker-credential-secretservice`, kubectl, skopeo and podman. One binary, one module per area;
//! `support` holds the fixtures and the rule that a missing component fails in CI and, elsewhere,
//! skips and is named in `scripts/test`'s closing banner.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    clippy::unused_self,
    clippy::format_push_string,
    clippy::format_collect,
    reason = "integration tests fail loudly on the first unexpected value"
)]

mod support;

mod check;
mod check_network;
mod check_offline;
mod cli;
mod cluster;
mod cluster_server;
mod concurrency;
mod crash_safety;
mod files_bad_input;
mod files_round_trip;
mod files_save;
mod files_style;
#[cfg(feature = "gui")]
mod gui;
#[cfg(feature = "gui")]
mod gui_cluster;
mod keychain;
mod kubectl_oracle;
mod kubelet_properties;
mod manifests;
mod manifests_custom;
mod packaging;
mod podman_chain;
mod presets;
mod proptests;
mod pull_secret;
mod runtime_oracles;
mod runtime_words;
mod security;
mod test_pull;
mod test_pull_auth;
mod trust;
