//! Soak of the always-on engine on a paused clock: 200 registries in 5 tenants (one service
//! principal each, 40 registries each) for 26 simulated hours by default (`SOAK_HOURS=72` for
//! three days). Every simulated minute every token in Docker's config.json has at least 75
//! minutes left, and the requests the fake saw stay within 10 % of the ideal count.
//! (Figures: docs/benchmarks.md.)

use std::collections::HashMap;
use std::sync::Arc;

use acr_tray_cli::CliWords;
use acr_tray_engine::Event;
use acr_tray_engine::Scheduler;
use acr_tray_tests::sim::{Sim, jwt_exp};
use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use fake_azure::{RegistrySpec, Role, Service, TokenAlgorithm};

const TENANTS: usize = 5;
const PER_TENANT: usize = 40;

/// Reads config.json once per minute, as asked, but decodes a token only when its entry
/// changed since the last read (most minutes change a few entries of 200).
#[derive(Default)]
struct DockerTokens {
    /// `auth` value and the `exp` of the token inside it, per login server.
    seen: HashMap<String, (String, DateTime<Utc>)>,
}

impl DockerTokens {
    /// The earliest `exp` of any entry, and how many entries hold a token.
    fn earliest(&mut self, path: &std::path::Path) -> (DateTime<Utc>, usize) {
        let bytes = std::fs::read(path).unwrap();
        let cfg: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let auths = cfg["auths"].as_object().unwrap();
        for (host, entry) in auths {
            let auth = entry["auth"].as_str().unwrap();
            if self.seen.get(host).is_some_and(|(a, _)| a == auth) {
                continue;
            }
            let raw = base64::engine::general_purpose::STANDARD
                .decode(auth)
                .unwrap();
            let raw = String::from_utf8(raw).unwrap();
            let (_, token) = raw.split_once(':').unwrap();
            let exp = jwt_exp(token).unwrap();
            self.seen.insert(host.clone(), (auth.to_owned(), exp));
        }
        self.seen.retain(|host, _| auths.contains_key(host));
        let earliest = self.seen.values().map(|(_, exp)| *exp).min().unwrap();
        (earliest, self.seen.len())
    }
}

// 26 hours hold every hourly pattern (refresh interval, token lifetimes, jitter) 26 times and
// the daily one (the admin watch's listing for identities that cannot read their registries)
// twice, in about 45 s of real time in a debug build on the 2-core development machines (each
// simulated hour costs the same; 72 hours take about two minutes). The clock is held
// (`Sim::hold_clock`) and moved a minute at a time: with hundreds of loopback requests in
// flight, tokio would otherwise move an idle paused clock on to the next timer mid-request.
#[tokio::test(start_paused = true)]
async fn two_hundred_registries_in_five_tenants_for_a_day_and_more() {
    let hours: i64 = std::env::var("SOAK_HOURS")
        .ok()
        .and_then(|h| h.parse().ok())
        .unwrap_or(26);
    let real = std::time::Instant::now();
    // ES256 ACR tokens: the fake's RSA signing would otherwise dominate the real time (see
    // docs/benchmarks.md, refresh fan-out).
    let sim = Sim::start_with(|b| b.acr_token_algorithm(TokenAlgorithm::Es256)).await;
    for t in 0..TENANTS {
        let tenant = sim.fake.add_tenant();
        let subscription = sim.fake.default_subscription(&tenant);
        let sp = sim.signed_in_principal_in(&tenant).await;
        for r in 0..PER_TENANT {
            let name = format!("soak{t}x{r:02}");
            let spec = RegistrySpec::new(&name).subscription(&subscription.id);
            sim.fake.add_registry(spec);
            sim.fake.assign_role(&name, &sp.object_id, Role::AcrPull);
            sim.cli(&["registry", "add", &name, "--identity", &sp.client_id])
                .await
                .expect_code(0);
        }
    }
    let set_up = real.elapsed();
    // Sign-ins and `registry add` checks during set-up are not the soak's.
    let set_up_requests = sim.fake.requests().len();
    // Many loopback requests in flight on a paused clock: time moves only when the test says.
    let hold = sim.hold_clock();
    let scheduler = Scheduler::start(
        sim.options(),
        "soak",
        sim.notifier.clone(),
        Arc::new(CliWords),
    )
    .unwrap();
    let start = sim.now();
    scheduler.settled(start).await;

    let path = sim.home.docker_dir().join("config.json");
    let mut tokens = DockerTokens::default();
    let registries = TENANTS * PER_TENANT;
    for minute in 1..=hours * 60 {
        sim.advance(TimeDelta::minutes(1)).await;
        let now = sim.now();
        scheduler.settled(now).await;
        let (earliest, count) = tokens.earliest(&path);
        assert_eq!(count, registries, "minute {minute}");
        assert!(
            earliest - now >= TimeDelta::minutes(75),
            "minute {minute}: a token has only {} min left",
            (earliest - now).num_minutes()
        );
    }
    scheduler.stop().await;
    drop(hold);

    let requests = sim.fake.requests();
    let count = |pick: &dyn Fn(&fake_azure::LoggedRequest) -> bool| {
        requests.iter().filter(|r| pick(r)).count()
    };
    let exchanges = count(&|r| r.path == "/oauth2/exchange");
    let entra = count(&|r| r.service == Service::Entra && r.path.ends_with("/oauth2/v2.0/token"));
    let challenges = count(&|r| r.path == "/v2/");
    let arm = count(&|r| r.service == Service::Arm);
    let failed = count(&|r| r.status != 200 && r.path != "/v2/");
    // The ideal: every registry exchanged once at the start, then once per refresh interval
    // (60 min): 200 × (1 + 26) = 5,400. Jitter brings each refresh up to 3 minutes early
    // (1.5 on average), so about 200 × (1 + 26 × 60 / 58.5) ≈ 5,530 are expected (+2.4 %).
    let ideal_exchanges = registries * (1 + hours as usize);
    // Entra: per identity one token at sign-in (a sign-in is checked with a real token), one
    // at the start; a token lives 3599 s and is renewed when less than 5 minutes are left,
    // i.e. once an hour at its identity's next refresh: 5 × (2 + 26) = 140.
    // The admin watch: these AcrPull-only identities cannot read their registries in ARM, so
    // each lists them once a day (subscriptions, then one page of registries) with an ARM
    // token, and leaves them alone until the next day: 5 × 2 × (1 Entra + 2 ARM) in 26 h.
    let watch_days = 1 + (hours as usize - 1) / 24;
    let ideal_entra = TENANTS * (2 + hours as usize) + TENANTS * watch_days;
    let ideal_arm = 2 * TENANTS * watch_days;
    let within = |got: usize, ideal: usize| got.abs_diff(ideal) * 10 <= ideal;
    let failures = sim.events_where(|e| matches!(e, Event::RefreshFailed { .. }));
    println!(
        "soak: {registries} registries, {hours} h simulated in {:.1} s real ({:.1} s set-up); \
         exchanges {exchanges} (ideal {ideal_exchanges}), Entra token requests {entra} \
         (ideal {ideal_entra}), ARM requests {arm} (ideal {ideal_arm}), /v2/ challenges \
         {challenges}, all requests after set-up {}, failed requests {failed}",
        real.elapsed().as_secs_f64(),
        set_up.as_secs_f64(),
        requests.len() - set_up_requests,
    );
    assert!(
        within(exchanges, ideal_exchanges),
        "{exchanges} exchanges, ideal {ideal_exchanges}"
    );
    assert!(
        within(entra, ideal_entra),
        "{entra} Entra requests, ideal {ideal_entra}"
    );
    assert!(
        within(arm, ideal_arm),
        "{arm} ARM requests, ideal {ideal_arm}"
    );
    assert!(
        failures.is_empty(),
        "{:?}",
        &failures[..failures.len().min(3)]
    );
    assert_eq!(failed, 0);
}
