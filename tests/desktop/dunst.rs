//! The notification daemon (dunst, started by scripts/desktop-tests.sh on the session bus),
//! asked with `dunstctl` what it was sent.

use std::process::Command;
use std::time::Instant;

fn dunstctl(args: &[&str]) -> String {
    let out = Command::new("dunstctl")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run dunstctl: {e}"));
    assert!(
        out.status.success(),
        "dunstctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits until the daemon answers on the bus (it may still be starting when the test does).
pub fn wait_ready() {
    let deadline = Instant::now() + crate::ui::PATIENCE;
    loop {
        let answered = Command::new("dunstctl")
            .args(["count", "displayed"])
            .output()
            .is_ok_and(|out| out.status.success());
        if answered {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "dunst does not answer on the session bus"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Notifications on screen, waiting to be shown, and closed (history).
pub fn counts() -> (u32, u32, u32) {
    let count = |what| dunstctl(&["count", what]).trim().parse::<u32>().unwrap();
    (count("displayed"), count("waiting"), count("history"))
}

/// Every notification ever received: the daemon's history only holds closed ones, so every
/// shown one is closed first.
pub fn all() -> Vec<Received> {
    dunstctl(&["close-all"]);
    let text = dunstctl(&["history"]);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let field = |n: &serde_json::Value, k: &str| n[k]["data"].as_str().unwrap_or("").to_owned();
    json["data"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|page| page.as_array().into_iter().flatten())
        .map(|n| Received {
            id: n["id"]["data"].as_i64().unwrap_or(0),
            app: field(n, "appname"),
            summary: field(n, "summary"),
            body: field(n, "body"),
        })
        .collect()
}

/// One notification as the daemon got it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The daemon's id (increasing).
    pub id: i64,
    pub app: String,
    pub summary: String,
    pub body: String,
}
