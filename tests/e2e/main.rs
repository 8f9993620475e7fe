//! End-to-end tests: the CLI, in-process, against the fake Azure over TLS on loopback.
//! One test binary (faster to link); one folder per feature, one module per area of it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod snapshot;
mod acr_token;
mod admin;
mod cli;
mod daemon;
mod docker;
mod fault_matrix;
mod network;
mod repository;
mod secrets;
mod service;
mod signin;
mod tenants;
