//! End-to-end tests: the CLI, in-process, against the fake Azure over TLS on loopback.
//! One test binary (faster to link); one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod admin_notify;
mod admin_watch;
mod allow_list;
mod always_on;
mod arm_hosts;
mod audience;
mod authority;
mod child_env;
mod citations;
mod cli;
mod daemon;
mod docker_file;
mod failures;
mod fault_matrix;
#[cfg(unix)]
mod files;
mod helpers;
mod notifications;
mod pipeline;
mod proxy;
mod secret_limits;
mod secret_service;
mod service;
mod signin_app;
mod signin_user;
mod soak;
mod test_support_feature;
mod trust;
