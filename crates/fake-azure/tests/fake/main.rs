//! Integration tests of the fake over real HTTPS on loopback (one test binary).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod abac;
mod acr;
mod acr_tokens;
mod arm;
mod arm_admin;
mod assertions;
mod authorize;
mod common;
mod device_code;
mod entra;
mod faults;
mod imds;
mod tenants;
mod upstream;
mod users;
