//! Rows where Entra ID or one registry answers badly for a while: all transient, retried with
//! backoff (15 s doubling to 2 min, or what `Retry-After` asks), quiet while Docker's
//! credential has time left, and logged in again within minutes of the fault clearing.

use acr_tray_engine::ErrorKind;
use chrono::TimeDelta;
use fake_azure::{Fault, FaultAction, FaultTarget, LoggedRequest, Service};

use super::{Checks, Reach, Rig, Who};

/// The target identity's token requests (its tenant's token endpoint; the bystander's tenant
/// is another).
fn entra(rig: &Rig) -> FaultTarget {
    FaultTarget::service(Service::Entra).path_prefix(format!("/{}/oauth2/", rig.target_tenant))
}

/// The target registry's token exchange.
fn exchange(rig: &Rig) -> FaultTarget {
    let host = rig.target_host();
    FaultTarget::service(Service::Acr)
        .host(host)
        .path_prefix("/oauth2/exchange")
}

/// The target registry's token exchange requests so far.
fn exchange_calls(rig: &Rig) -> Vec<LoggedRequest> {
    let host = rig.target_host();
    rig.sim
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.host == host && r.path == "/oauth2/exchange")
        .collect()
}

fn status(status: u16, retry_after: Option<u64>) -> FaultAction {
    FaultAction::Status {
        status,
        body: None,
        retry_after,
    }
}

/// Two hours of the fault (the hourly refresh meets it), then cleared: the target is logged
/// in again within `recover_within`. Returns the rig (still running) for row-specific checks.
async fn transient_row(
    target: fn(&Rig) -> FaultTarget,
    action: FaultAction,
    says: &str,
    recover_within: TimeDelta,
) -> Rig {
    let rig = Rig::start(Who::ServicePrincipal).await;
    rig.sim.fake.add_fault(Fault::new(target(&rig), action));
    rig.live(TimeDelta::minutes(120), Checks::one()).await;
    let failures = rig.failures(Reach::One, ErrorKind::Transient);
    assert!(
        failures.iter().all(|(m, _)| m.contains(says)),
        "the cause is named ({says}): {} failures, the first {:?}",
        failures.len(),
        failures.first()
    );
    // Quiet: Docker's credential still had more than 30 minutes the whole time.
    assert!(
        rig.incident_notes().is_empty(),
        "{:#?}",
        rig.incident_notes()
    );
    rig.sim.fake.clear_faults();
    rig.recovers_within(recover_within, Checks::one()).await;
    rig
}

/// Transient backoff tops out at 2 min ± 20 %, plus the minute the check steps by.
const TRANSIENT_RECOVERY: TimeDelta = TimeDelta::minutes(4);

/// Rows that are a whole [`transient_row`] recovering within [`TRANSIENT_RECOVERY`], with no
/// checks of their own: `name: (target, action, what the failures say)`.
macro_rules! transient_rows {
    ($($(#[$doc:meta])* $name:ident: ($target:expr, $action:expr, $says:expr),)*) => {$(
        $(#[$doc])*
        #[tokio::test(start_paused = true)]
        async fn $name() {
            transient_row($target, $action, $says, TRANSIENT_RECOVERY)
                .await
                .finish(Reach::One)
                .await;
        }
    )*};
}

transient_rows! {
    entra_500: (entra, status(500, None), "AADSTS90033"),
    entra_503: (entra, status(503, None), "AADSTS90033"),
    connection_reset: (entra, FaultAction::ResetConnection, "token request"),
    hanging_request_times_out: (exchange, FaultAction::Hang, "timed out"),
    malformed_json: (entra, FaultAction::MalformedBody, "token request"),
    wrong_content_type: (exchange, FaultAction::WrongContentType, "not JSON (a captive portal"),
    acr_5xx: (exchange, status(503, None), "503"),
    /// A body over the 1 MiB limit, announced (see [`oversized_body_from_entra`]).
    oversized_body_from_the_registry: (
        exchange,
        FaultAction::OversizedBody { bytes: 2 * 1024 * 1024, chunked: false },
        "is larger than 1024 KiB"
    ),
}

#[tokio::test(start_paused = true)]
async fn throttled_429_honours_retry_after() {
    let retry_after = 900;
    let rig = transient_row(
        exchange,
        status(429, Some(retry_after)),
        "429",
        TimeDelta::seconds(retry_after as i64) + TRANSIENT_RECOVERY,
    )
    .await;
    // After each 429 the registry was left alone for the time asked.
    let calls = exchange_calls(&rig);
    let throttled = calls.iter().filter(|r| r.status == 429).count();
    assert!(throttled >= 2, "{calls:?}");
    for pair in calls.windows(2) {
        if pair[0].status == 429 {
            assert!(
                pair[1].at - pair[0].at >= TimeDelta::seconds(retry_after as i64),
                "Retry-After honoured: {pair:?}"
            );
        }
    }
    rig.finish(Reach::One).await;
}

/// A body over the 1 MiB limit: a chunked one from Entra ID, an announced one from the
/// registry. Neither is read past the limit, and the error says so, naming the host.
#[tokio::test(start_paused = true)]
async fn oversized_body_from_entra() {
    let rig = transient_row(
        entra,
        FaultAction::OversizedBody {
            bytes: 2 * 1024 * 1024,
            chunked: true,
        },
        "is larger than 1024 KiB",
        TRANSIENT_RECOVERY,
    )
    .await;
    let failures = rig.failures(Reach::One, ErrorKind::Transient);
    assert!(
        failures
            .iter()
            .all(|(m, _)| m.contains("the answer from login.")),
        "{failures:?}"
    );
    rig.finish(Reach::One).await;
}

/// A `Retry-After` no scheduler could add to a date (10^17 s): honoured as the longest wait,
/// one hour, not a panic or an overflow.
#[tokio::test(start_paused = true)]
async fn absurd_retry_after_waits_the_cap() {
    let retry_after = 100_000_000_000_000_000;
    let cap = TimeDelta::hours(1);
    let rig = transient_row(
        exchange,
        status(429, Some(retry_after)),
        "429",
        cap + TRANSIENT_RECOVERY,
    )
    .await;
    let calls = exchange_calls(&rig);
    assert!(
        calls.iter().filter(|r| r.status == 429).count() >= 2,
        "{calls:?}"
    );
    for pair in calls.windows(2) {
        if pair[0].status == 429 {
            let gap = pair[1].at - pair[0].at;
            assert!(gap >= cap, "the cap was waited: {pair:?}");
            assert!(gap <= cap + TimeDelta::minutes(2), "not more: {pair:?}");
        }
    }
    rig.finish(Reach::One).await;
}
