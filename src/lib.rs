//! regcred: container-registry credentials for people who run private images on Kubernetes.
//!
//! The library is the product's core; the `regcred` binary (window and CLI) and
//! `docker-credential-regcred` are thin faces over it.
//!
//! * [`auth_files`] — Docker `config.json`, legacy `.dockercfg`, Podman `auth.json`: model,
//!   parse, edit, save without loss.
//! * [`check`] — `regcred check`: manifests → workloads → each pod's credentials → verdicts.
//! * [`credentials`] — login, logout, migrate, adopt, orphans: files and stores kept consistent.
//! * `gui` (feature `gui`) — the eframe window: panels, background jobs, persisted state.
//! * [`image_ref`] — image reference grammar and Docker's normalization.
//! * [`kubelet`] — the kubelet's view: its credential keyring (glob keys, every match tried).
//! * [`keychain`] — where secrets live outside the files: credential helpers, the OS keychain.
//! * [`presets`] — the big registries' login rules (Docker Hub, GHCR, GitLab, Quay, Harbor, ECR,
//!   GCR/Artifact Registry, ACR), checked offline.
//! * [`expiry`] — when a secret stops working (a JWT's `exp`, an ECR password's expiration).
//! * [`pull_secret`] — Kubernetes pull-secret YAML exactly as kubectl writes it.
//! * [`registry`] — test pulls: the registry protocol as a node walks it, and the failure report.
//! * [`resolve`] — which source answers for an image, as Docker and Podman decide.
//! * [`secret`] — the redacting, zeroizing [`secret::Secret`] type.
//! * [`untrusted`] — text from registries and helpers made inert (no escapes, no echoed secrets).
//! * [`atomic_file`] — crash-safe file replacement.
//! * [`go_json`] — JSON exactly as Go programs (Docker, Podman, kubectl) write it.

#![warn(unreachable_pub)]

pub mod atomic_file;
pub mod auth_files;
pub mod check;
pub mod cluster;
pub mod credentials;
pub mod expiry;
pub mod go_json;
#[cfg(feature = "gui")]
pub mod gui;
pub mod image_ref;
pub mod keychain;
pub mod known_registries;
pub mod kubelet;
pub mod presets;
pub mod pull_secret;
pub mod registry;
pub mod resolve;
pub mod secret;
pub mod untrusted;
