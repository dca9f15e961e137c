//! regcred: container-registry credentials for people who run private images on Kubernetes.
//!
//! The library is the product's core; the `regcred` binary (window and CLI) and
//! `docker-credential-regcred` are thin faces over it.
//!
//! * [`auth_files`] — Docker `config.json`, legacy `.dockercfg`, Podman `auth.json`: model,
//!   parse, edit, save without loss.
//! * [`image_ref`] — image reference grammar and Docker's normalization.
//! * [`resolve`] — which source answers for an image, as Docker and Podman decide.
//! * [`secret`] — the redacting, zeroizing [`secret::Secret`] type.
//! * [`atomic_file`] — crash-safe file replacement.

pub mod atomic_file;
pub mod auth_files;
pub mod image_ref;
pub mod resolve;
pub mod secret;
