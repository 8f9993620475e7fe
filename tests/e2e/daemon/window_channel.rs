//! The settings window's channel to the tray (`acr_tray_engine::service::channel`), over an
//! in-memory pipe on a paused clock: the window's commands reach the service and come back,
//! events reach the window, anything else is refused, and no secret comes back.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use acr_tray_engine::service::Service;
use acr_tray_engine::service::channel::host::NoShellCommands;
use acr_tray_engine::service::channel::{
    FrameError, Link, MAX_FRAME, ToWindow, TrayMessage, serve,
};
use acr_tray_engine::service::view::TrayState;
use acr_tray_tests::sim::Sim;
use fake_azure::Role;
use serde_json::{Value, json};
use tokio::io::{AsyncWrite, BufReader, DuplexStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::tray_service::{principal_and_service, until};

/// The tray's writer, keeping a copy of every byte it sends.
struct Recorded {
    inner: DuplexStream,
    sent: Arc<Mutex<Vec<u8>>>,
}

impl AsyncWrite for Recorded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &poll {
            self.sent.lock().unwrap().extend_from_slice(&buf[..*n]);
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The tray serving one window over in-memory pipes.
struct Channel {
    service: Arc<Service>,
    served: JoinHandle<Result<(), FrameError>>,
    control: mpsc::UnboundedSender<ToWindow>,
    /// Everything the tray sent to the window.
    sent: Arc<Mutex<Vec<u8>>>,
}

/// The tray serving `service` to whatever writes into `tray_in`, answering on `writer`.
fn serve_in_background<W: AsyncWrite + Unpin + Send + 'static>(
    service: &Arc<Service>,
    tray_in: DuplexStream,
    writer: W,
    control: mpsc::UnboundedReceiver<ToWindow>,
) -> JoinHandle<Result<(), FrameError>> {
    let host = service.clone();
    tokio::spawn(async move {
        serve(
            &host,
            &NoShellCommands,
            BufReader::new(tray_in),
            writer,
            control,
        )
        .await
    })
}

impl Channel {
    /// Serves `service` to a window whose end is returned.
    fn open(service: Service) -> (Self, Link, mpsc::UnboundedReceiver<TrayMessage>) {
        let service = Arc::new(service);
        let (window_out, tray_in) = tokio::io::duplex(64 * 1024);
        let (tray_out, window_in) = tokio::io::duplex(64 * 1024);
        let sent = Arc::new(Mutex::new(Vec::new()));
        let writer = Recorded {
            inner: tray_out,
            sent: sent.clone(),
        };
        let (control, control_rx) = mpsc::unbounded_channel();
        let served = serve_in_background(&service, tray_in, writer, control_rx);
        let (link, messages) = Link::start(BufReader::new(window_in), window_out);
        (
            Self {
                service,
                served,
                control,
                sent,
            },
            link,
            messages,
        )
    }

    fn sent_text(&self) -> String {
        String::from_utf8_lossy(&self.sent.lock().unwrap()).into_owned()
    }
}

/// The next event named `name` (others are skipped).
async fn next_event(messages: &mut mpsc::UnboundedReceiver<TrayMessage>, name: &str) -> Value {
    loop {
        match messages.recv().await {
            Some(TrayMessage::Event { name: n, payload }) if n == name => return payload,
            Some(_) => {}
            None => panic!("the channel closed before a {name} event"),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn the_windows_commands_reach_the_service_and_no_secret_comes_back() {
    let sim = Sim::start().await;
    let (sp, service) = principal_and_service(&sim);
    let (channel, link, mut messages) = Channel::open(service);

    let overview = link.call("get_overview", Value::Null).await.unwrap();
    assert_eq!(overview["state"], "empty", "{overview:#}");

    // A secret typed into the window goes to the tray (and into the keyring), never back.
    let account = link
        .call(
            "sign_in_service_principal",
            json!({"request": {
                "tenant": sp.tenant,
                "clientId": sp.client_id,
                "credential": {"kind": "secret", "secret": sp.secret},
            }}),
        )
        .await
        .unwrap();
    let identity = account["id"].as_str().unwrap().to_owned();
    sim.fake
        .add_registry(fake_azure::RegistrySpec::new("chan1"));
    sim.fake.assign_role("chan1", &sp.object_id, Role::AcrPull);
    let added = link
        .call(
            "add_registry",
            json!({"request": {
                "nameOrLoginServer": "chan1",
                "signIn": {"kind": "identity", "identity": identity},
                "trustCustomDomain": false,
            }}),
        )
        .await
        .unwrap();
    assert_eq!(added["name"], "chan1");
    // The window hears of it as the tray does.
    let mut shown = next_event(&mut messages, "overview").await;
    while shown["state"] != "ok" {
        shown = next_event(&mut messages, "overview").await;
    }
    assert_eq!(shown["registries"][0]["name"], "chan1");
    until(&channel.service, "logs chan1 in", |o| {
        o.state == TrayState::Ok
    })
    .await;

    // Results come back as the service gives them.
    let outcomes = link
        .call("refresh_now", json!({"names": ["chan1"]}))
        .await
        .unwrap();
    assert_eq!(outcomes[0]["ok"], true, "{outcomes:#}");
    let doctor = link.call("doctor", json!({})).await.unwrap();
    assert!(doctor.is_object(), "{doctor:#}");

    let sent = channel.sent_text();
    assert!(sent.contains("chan1"), "the tray did answer");
    assert!(
        !sent.contains(&sp.secret),
        "the client secret came back to the window"
    );
    let (_, token) =
        acr_tray_tests::config_auth(&sim.docker_config(), &sim.fake.login_server("chan1"));
    assert!(!sent.contains(&token), "a token reached the window");
}

#[tokio::test(start_paused = true)]
async fn anything_but_the_windows_commands_is_refused_and_the_channel_goes_on() {
    let sim = Sim::start().await;
    let (_, service) = principal_and_service(&sim);
    let (channel, link, _messages) = Channel::open(service);

    for command in ["open_logs", "stop", "get_overview\u{1b}[31m"] {
        let refused = link.call(command, Value::Null).await.unwrap_err();
        assert_eq!(refused["code"], "invalidInput", "{refused:#}");
        let message = refused["message"].as_str().unwrap();
        assert!(message.contains("not one of its commands"), "{message}");
        assert!(!message.contains('\u{1b}'), "{message}");
    }
    // A wrong argument is refused without being quoted back (it may be a secret).
    let wrong = link
        .call(
            "sign_in_service_principal",
            json!({"request": "S3CRET-typed-in-the-wrong-place"}),
        )
        .await
        .unwrap_err();
    assert_eq!(wrong["code"], "invalidInput", "{wrong:#}");
    assert!(!wrong.to_string().contains("S3CRET"), "{wrong:#}");
    let wrong = link.call("set_general", json!([1, 2])).await.unwrap_err();
    assert!(
        wrong["message"].as_str().unwrap().contains("not an object"),
        "{wrong:#}"
    );
    // Still answering.
    let overview = link.call("get_overview", json!({})).await.unwrap();
    assert_eq!(overview["state"], "empty");
    assert!(!channel.served.is_finished());
}

#[tokio::test(start_paused = true)]
async fn a_device_code_reaches_the_window_while_its_sign_in_waits_and_cancel_ends_it() {
    let sim = Sim::start().await;
    sim.fake.set_device_code_timing(600, 1);
    let (_, service) = principal_and_service(&sim);
    let (_channel, link, mut messages) = Channel::open(service);
    let link = Arc::new(link);
    let signing_in = {
        let link = link.clone();
        tokio::spawn(async move {
            link.call(
                "sign_in_user",
                json!({"request": {"method": "deviceCode", "tenant": null, "clientId": null}}),
            )
            .await
        })
    };
    let prompt = next_event(&mut messages, "device-code").await;
    assert_eq!(
        prompt["userCode"],
        sim.fake.last_device_code().unwrap().user_code.as_str(),
        "{prompt:#}"
    );
    // The sign-in waits; another call is answered meanwhile, and cancels it.
    link.call("cancel_sign_in", Value::Null).await.unwrap();
    let cancelled = signing_in.await.unwrap().unwrap_err();
    assert_eq!(cancelled["code"], "cancelled", "{cancelled:#}");
}

#[tokio::test(start_paused = true)]
async fn show_reaches_the_window_and_either_end_closing_ends_the_channel() {
    let sim = Sim::start().await;
    let (_, service) = principal_and_service(&sim);
    let (channel, link, mut messages) = Channel::open(service);
    let at = json!({"view": "accounts", "identity": null, "signIn": false});
    channel
        .control
        .send(ToWindow::Show {
            at: Some(at.clone()),
        })
        .unwrap();
    assert_eq!(
        messages.recv().await,
        Some(TrayMessage::Show { at: Some(at) })
    );
    // The window process ends: its end closes, and the tray stops serving it...
    drop(link);
    channel.served.await.unwrap().unwrap();
    // ...and a window whose tray is gone (it quit, or died) is told to close.
    assert_eq!(messages.recv().await, Some(TrayMessage::Close));
}

#[tokio::test(start_paused = true)]
async fn a_frame_over_the_limit_or_not_understood_ends_the_channel() {
    use tokio::io::AsyncWriteExt as _;
    let sim = Sim::start().await;
    let (_, service) = principal_and_service(&sim);
    let service = Arc::new(service);
    for (bytes, why) in [
        (vec![b'x'; MAX_FRAME + 2], "too long"),
        (
            b"{\"type\":\"call\",\"id\":1,\"command\":\"doctor\",\"extra\":1}\n".to_vec(),
            "malformed",
        ),
        (b"[1,2,3]\n".to_vec(), "malformed"),
    ] {
        let (mut window_out, tray_in) = tokio::io::duplex(64 * 1024);
        let (tray_out, _window_in) = tokio::io::duplex(64 * 1024);
        let (_control, control_rx) = mpsc::unbounded_channel();
        let served = serve_in_background(&service, tray_in, tray_out, control_rx);
        // The tray may give up (and close its end) before the last bytes are written: what
        // counts is why it ended.
        let _ = window_out.write_all(&bytes).await;
        let ended = served.await.unwrap();
        match (why, ended) {
            ("too long", Err(FrameError::TooLong))
            | ("malformed", Err(FrameError::Malformed(_))) => {}
            (_, other) => panic!("{why}: {other:?}"),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn every_command_the_channel_lists_is_one_it_answers() {
    let sim = Sim::start().await;
    let (_, service) = principal_and_service(&sim);
    let (_channel, link, _messages) = Channel::open(service);
    for command in acr_tray_engine::service::channel::COMMANDS {
        // No arguments: most are refused for a missing one, which is an answer all the same.
        if let Err(refused) = link.call(command, json!({})).await {
            let message = refused["message"].as_str().unwrap_or_default();
            assert!(
                !message.contains("not one of its commands"),
                "{command} is listed but not answered: {refused:#}"
            );
        }
    }
}
