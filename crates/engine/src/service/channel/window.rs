//! The window process's end of the channel: [`Link::call`] sends a command and waits for its
//! answer; the tray's events and requests arrive as [`TrayMessage`]s.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};

use super::frame;
use super::{FromWindow, ToWindow};
use crate::service::view::{ErrorCode, ErrorView};

/// What the tray asks of the window, besides answers.
#[derive(Debug, Clone, PartialEq)]
pub enum TrayMessage {
    /// An event for the page.
    Event {
        /// Its name (`overview`, `device-code`, `navigate`).
        name: String,
        /// Its payload.
        payload: Value,
    },
    /// Show the window, at a place when given.
    Show {
        /// A `Navigate`, as JSON.
        at: Option<Value>,
    },
    /// The tray's end is gone (it quit or died) or sent something not understood: the
    /// window process ends.
    Close,
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Value, Value>>>>>;

/// The window's end of the channel.
pub struct Link {
    outgoing: mpsc::UnboundedSender<FromWindow>,
    pending: Pending,
    next: AtomicU64,
}

impl Link {
    /// Starts the channel over `reader` and `writer` (the window process's stdin and stdout)
    /// on the current tokio runtime; the tray's messages come out of the receiver.
    pub fn start<R, W>(reader: R, writer: W) -> (Self, mpsc::UnboundedReceiver<TrayMessage>)
    where
        R: AsyncBufRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (outgoing, mut to_send) = mpsc::unbounded_channel::<FromWindow>();
        let (messages, received) = mpsc::unbounded_channel();
        let pending: Pending = Arc::default();
        tokio::spawn(async move {
            let mut writer = writer;
            while let Some(call) = to_send.recv().await {
                if let Err(e) = frame::write(&mut writer, &call).await {
                    tracing::warn!(error = %e, "the tray cannot be reached");
                    return;
                }
            }
        });
        let answers = pending.clone();
        tokio::spawn(async move {
            let mut reader = frame::Reader::new(reader);
            let why = loop {
                match reader.next::<ToWindow>().await {
                    Ok(Some(ToWindow::Reply { id, result })) => {
                        let waiting = answers.lock().ok().and_then(|mut p| p.remove(&id));
                        if let Some(waiting) = waiting {
                            let _ = waiting.send(result);
                        }
                    }
                    Ok(Some(ToWindow::Event { name, payload })) => {
                        let _ = messages.send(TrayMessage::Event { name, payload });
                    }
                    Ok(Some(ToWindow::Show { at })) => {
                        let _ = messages.send(TrayMessage::Show { at });
                    }
                    Ok(None) => break None,
                    Err(e) => break Some(e),
                }
            };
            if let Some(e) = why {
                tracing::warn!(error = %e, "the tray's end of the window channel broke");
            }
            // Whoever still waits learns the tray is gone (dropping their senders says so).
            if let Ok(mut waiting) = answers.lock() {
                waiting.clear();
            }
            let _ = messages.send(TrayMessage::Close);
        });
        (
            Self {
                outgoing,
                pending,
                next: AtomicU64::new(1),
            },
            received,
        )
    }

    /// Sends `command` with `args` (as the page passed them) and waits for the answer: the
    /// command's result, or the error the page shows (an `ErrorView`, as JSON).
    pub async fn call(&self, command: &str, args: Value) -> Result<Value, Value> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (answer, answered) = oneshot::channel();
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(id, answer);
        }
        let call = FromWindow::Call {
            id,
            command: command.to_owned(),
            args,
        };
        if self.outgoing.send(call).is_err() {
            self.forget(id);
            return Err(gone());
        }
        answered.await.map_err(|_| gone())?
    }

    fn forget(&self, id: u64) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.remove(&id);
        }
    }
}

/// The error every call gets once the tray's end is gone.
fn gone() -> Value {
    let error = ErrorView {
        code: ErrorCode::Config,
        message: "ACR Tray's tray process is gone".to_owned(),
        hint: Some("start ACR Tray again".to_owned()),
        at: None,
    };
    serde_json::to_value(error).unwrap_or(Value::Null)
}
