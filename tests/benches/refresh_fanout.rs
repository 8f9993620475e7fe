//! Refresh fan-out benchmark: one tenant, 1, 10 and 100 registries, 50 ms of latency injected
//! into every response of the fake. Prints each wall time and the ratio to one registry.
//! Target: 100 registries take at most 1.5x the time of one.
//!
//! Run: `cargo bench -p acr-tray-tests --bench refresh_fanout`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use acr_tray_tests::World;
use fake_azure::Role;

const RUNS: usize = 5;

fn main() {
    // BENCH_LATENCY_MS changes the injected latency (0 shows the pure CPU cost).
    let latency = Duration::from_millis(
        std::env::var("BENCH_LATENCY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(50),
    );
    // `cargo bench` passes `--bench`; ignore arguments.
    println!(
        "refresh fan-out, one tenant, {} ms injected latency per request, median of {RUNS} runs",
        latency.as_millis()
    );
    println!(
        "{:>10}  {:>10}  {:>12}  {:>8}",
        "registries", "wall (ms)", "requests/run", "ratio"
    );
    let mut base = None;
    for n in [1usize, 10, 100] {
        let (wall, requests) = measure(n, latency);
        let base_ms = *base.get_or_insert(wall.as_secs_f64());
        println!(
            "{n:>10}  {:>10.0}  {requests:>12}  {:>8.2}",
            wall.as_secs_f64() * 1000.0,
            wall.as_secs_f64() / base_ms
        );
    }
}

fn measure(n: usize, latency: Duration) -> (Duration, usize) {
    // ES256 ACR tokens: with RS256 the fake's own RSA signing (about a millisecond each on these
    // 2-core machines, sharing the CPU with the client) would dominate what is measured.
    let w = World::with_fake(|b| b.acr_token_algorithm(fake_azure::TokenAlgorithm::Es256));
    let sp = w.service_principal();
    w.login(&sp).expect_code(0);
    for i in 0..n {
        let name = format!("bench{i:05}");
        w.registry(&name, &sp, Role::AcrPush);
        w.cli(&["registry", "add", &name]).expect_code(0);
    }
    w.fake.set_latency(latency);
    let mut walls = Vec::new();
    let mut requests = 0;
    for _ in 0..RUNS {
        w.fake.clear_requests();
        let start = Instant::now();
        // Each run is a fresh process-equivalent: new engine, no cached Entra token.
        w.cli(&["refresh"]).expect_code(0);
        walls.push(start.elapsed());
        requests = w.fake.requests().len();
    }
    walls.sort();
    (walls[RUNS / 2], requests)
}
