//! A stand-in for the user's browser in sign-in tests, started through `$BROWSER`:
//! `test-browser --ca CA.pem [--mode normal|tamper-state|intercept|ipv6|ignore] [--log FILE] URL`.
//!
//! It opens the authorize URL at the fake Entra ID (trusting the fake's CA, resolving
//! `*.localhost` to loopback), reads the redirect, and follows it to the app's loopback
//! listener, as a browser would. `tamper-state` first sends the redirect with its `state`
//! changed (a forged redirect, e.g. from another page) and logs the answer, then the real one;
//! `intercept` first tries to redeem the code itself with a wrong PKCE verifier, as an attacker
//! who stole the redirect would, and logs the answer; `ipv6` follows the redirect to `[::1]`
//! (a browser that resolves `localhost` to the IPv6 loopback); `ignore` never completes the
//! sign-in (a user who closed the tab).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut ca, mut mode, mut log, mut url) = (None, "normal".to_owned(), None, None);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--ca" => ca = args.next(),
            "--mode" => mode = args.next().unwrap(),
            "--log" => log = args.next(),
            other => url = Some(other.to_owned()),
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = rt.block_on(browse(ca.expect("--ca"), &mode, url.expect("URL")));
    if let Some(log) = log {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        writeln!(f, "{outcome}").unwrap();
    }
}

async fn browse(ca: String, mode: &str, url: String) -> String {
    if mode == "ignore" {
        return "ignored".to_owned();
    }
    let pem = std::fs::read(ca).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(acr_tray_tests::LoopbackResolver)
        .no_proxy()
        .build()
        .unwrap();
    let resp = client.get(&url).send().await.unwrap();
    let location = resp
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no redirect: HTTP {}", resp.status()));
    let mut redirect = url::Url::parse(&location).unwrap();
    let mut outcome = String::from("redirected");
    // The loopback redirect is plain HTTP to this machine.
    let plain = reqwest::Client::builder()
        .no_proxy()
        .dns_resolver(acr_tray_tests::LoopbackResolver)
        .build()
        .unwrap();
    if mode == "tamper-state" {
        let mut forged = redirect.clone();
        let pairs: Vec<(String, String)> = redirect
            .query_pairs()
            .map(|(k, v)| {
                let value = if k == "state" {
                    "forged".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), value)
            })
            .collect();
        forged.query_pairs_mut().clear().extend_pairs(pairs);
        let page = plain.get(forged.as_str()).send().await.unwrap();
        outcome = format!("forged: HTTP {}", page.status().as_u16());
    }
    if mode == "ipv6" {
        redirect
            .set_ip_host(std::net::Ipv6Addr::LOCALHOST.into())
            .unwrap();
        outcome = format!("redirected to {}", redirect.host_str().unwrap());
    }
    if mode == "intercept" {
        let authorize = url::Url::parse(&url).unwrap();
        let get = |u: &url::Url, k: &str| {
            u.query_pairs()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.into_owned())
                .unwrap()
        };
        let token_url = authorize
            .as_str()
            .split('?')
            .next()
            .unwrap()
            .replace("/authorize", "/token");
        let answer = client
            .post(token_url)
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", &get(&authorize, "client_id")),
                ("code", &get(&redirect, "code")),
                ("redirect_uri", &get(&authorize, "redirect_uri")),
                (
                    "code_verifier",
                    "an-attacker-does-not-know-the-verifier-0123456789abcdef",
                ),
                ("scope", &get(&authorize, "scope")),
            ])
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        let body: serde_json::Value = answer.json().await.unwrap_or_default();
        outcome = format!(
            "intercepted: HTTP {status} {} {}",
            body["error"], body["error_codes"]
        );
    }
    let page = plain.get(redirect.as_str()).send().await.unwrap();
    format!("{outcome}; app answered HTTP {}", page.status().as_u16())
}
