//! Real clients nobody here wrote accept what ACR Tray writes, through a real registry:
//! distribution 2.8 (`docker-registry`) behind the fake ACR, `skopeo`, the `docker` CLI with a
//! Docker daemon of the test's own, podman and buildah. Not part of a plain `cargo test` (the target has `test = false`): run
//! `cargo test -p acr-tray-tests --test real` with the tools of `scripts/install-deps.sh --test`.
//! Harness: `tests/support/real.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod acr_token;
mod common;
mod docker_cli;
mod engines;
mod guest;
mod helm;
mod helper;
mod push_pull;
mod stress;
