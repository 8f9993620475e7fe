//! Integration tests of the fake over real HTTPS on loopback (one test binary).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod acr;
mod arm;
mod common;
mod entra;
mod faults;
