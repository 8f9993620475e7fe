//! Proxies from the usual environment variables: requests go through `HTTPS_PROXY` with
//! CONNECT (the proxy resolves the names), and `NO_PROXY` exempts hosts.

use std::sync::{Arc, Mutex};

use acr_tray_tests::{World, assert_contains};
use fake_azure::Role;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A minimal HTTP CONNECT proxy that sends every tunnel to the fake and records the targets.
async fn start_proxy(fake_port: u16, seen: Arc<Mutex<Vec<String>>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut client = BufReader::new(client);
                let mut request_line = String::new();
                client.read_line(&mut request_line).await.unwrap();
                loop {
                    let mut header = String::new();
                    client.read_line(&mut header).await.unwrap();
                    if header == "\r\n" || header.is_empty() {
                        break;
                    }
                }
                let target = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                seen.lock().unwrap().push(target);
                let mut upstream = TcpStream::connect(("127.0.0.1", fake_port)).await.unwrap();
                let mut client = client.into_inner();
                client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .unwrap();
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    port
}

#[test]
fn https_proxy_carries_every_request_and_no_proxy_exempts() {
    // Names outside .localhost: only the proxy can reach them.
    let mut w = World::with_fake(|b| b.base_domain("fake.test"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let proxy_port = w.rt.block_on(start_proxy(w.fake.port(), seen.clone()));
    w.extra_env.push((
        "https_proxy".into(),
        format!("http://127.0.0.1:{proxy_port}"),
    ));
    w.signed_in_registry("whiskey1", Role::AcrPull);
    w.cli(&["refresh"]).expect_code(0);
    let port = w.fake.port();
    let targets = seen.lock().unwrap().clone();
    assert!(
        targets.contains(&format!("login.fake.test:{port}")),
        "{targets:?}"
    );
    assert!(
        targets.contains(&format!("whiskey1.azurecr.fake.test:{port}")),
        "{targets:?}"
    );

    // NO_PROXY sends registry requests direct, where these names do not resolve.
    w.extra_env
        .push(("NO_PROXY".into(), ".azurecr.fake.test".into()));
    seen.lock().unwrap().clear();
    let out = w.cli(&["refresh"]).expect_code(1);
    assert_contains(&out.stdout, "whiskey1");
    assert!(
        !seen.lock().unwrap().iter().any(|t| t.contains("azurecr")),
        "{:?}",
        seen.lock().unwrap()
    );
}
