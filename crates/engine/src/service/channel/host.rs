//! The tray's end of the window channel: each call of the window answered by the service (or
//! the shell), concurrently; overview changes and device codes sent as events.

use std::future::Future;
use std::pin::Pin;

use futures::stream::{FuturesUnordered, StreamExt as _};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncWrite};
use tokio::sync::mpsc;

use super::frame::{self, FrameError};
use super::{FromWindow, ToWindow};
use crate::service::view::{DeviceCodePrompt, ErrorCode, ErrorView};
use crate::service::{Service, ViewResult};

/// The window's commands the service answers; the shell answers the rest itself
/// ([`ShellCommands`]). Anything else is refused.
pub const COMMANDS: &[&str] = &[
    "get_overview",
    "sign_in_user",
    "cancel_sign_in",
    "sign_in_service_principal",
    "sign_in_managed_identity",
    "sign_in_azure_cli",
    "sign_out",
    "add_registry",
    "remove_registry",
    "set_admin_account",
    "refresh_now",
    "discover_registries",
    "check_registry",
    "doctor",
    "doctor_fix",
    "set_general",
    "preview_cloud",
    "set_cloud",
];

/// How many calls may wait for their answer at once; a call beyond that is refused.
pub const MAX_CALLS_IN_FLIGHT: usize = 32;

/// The window's commands that the shell answers itself (opening the log folder in the file
/// manager is the shell's business, not the engine's).
pub trait ShellCommands: Send + Sync {
    /// The commands it answers.
    fn names(&self) -> &[&'static str];
    /// Answers one of them.
    fn call(&self, command: &str, args: &Value) -> ViewResult<Value>;
}

/// No commands of the shell's own.
pub struct NoShellCommands;

impl ShellCommands for NoShellCommands {
    fn names(&self) -> &[&'static str] {
        &[]
    }

    fn call(&self, command: &str, _: &Value) -> ViewResult<Value> {
        Err(unknown(command))
    }
}

type Answer<'a> = Pin<Box<dyn Future<Output = (u64, Result<Value, Value>)> + Send + 'a>>;

/// Answers the window at the other end of `reader` and `writer` until it closes its end
/// (`Ok`), the service stops (`Ok`), or the channel breaks (a frame too long or not
/// understood, a failed read or write: the window process is then to be ended). Every
/// overview change goes out as an `overview` event, a device code as `device-code`, and each
/// of `control`'s show messages as it comes.
pub async fn serve<R, W>(
    service: &Service,
    shell: &dyn ShellCommands,
    reader: R,
    mut writer: W,
    mut control: mpsc::UnboundedReceiver<ToWindow>,
) -> Result<(), FrameError>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut reader = frame::Reader::new(reader);
    let mut overview = service.overview();
    let (codes_to, mut codes) = mpsc::unbounded_channel::<DeviceCodePrompt>();
    let mut calls: FuturesUnordered<Answer<'_>> = FuturesUnordered::new();
    let mut control_open = true;
    loop {
        tokio::select! {
            call = reader.next::<FromWindow>() => {
                let Some(FromWindow::Call { id, command, args }) = call? else {
                    return Ok(());
                };
                if calls.len() >= MAX_CALLS_IN_FLIGHT {
                    let busy = ErrorView {
                        code: ErrorCode::InvalidInput,
                        message: format!("the window asked for more than {MAX_CALLS_IN_FLIGHT} things at once"),
                        hint: Some("wait for an answer, then try again".to_owned()),
                        at: None,
                    };
                    frame::write(&mut writer, &ToWindow::Reply { id, result: Err(to_value(&busy)) }).await?;
                    continue;
                }
                calls.push(answer(service, shell, id, command, args, codes_to.clone()));
            }
            Some((id, result)) = calls.next(), if !calls.is_empty() => {
                frame::write(&mut writer, &ToWindow::Reply { id, result }).await?;
            }
            Some(prompt) = codes.recv() => {
                event(&mut writer, "device-code", &prompt).await?;
            }
            changed = overview.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
                let now = overview.borrow_and_update().clone();
                event(&mut writer, "overview", &now).await?;
            }
            message = control.recv(), if control_open => match message {
                Some(message) => frame::write(&mut writer, &message).await?,
                None => control_open = false,
            },
        }
    }
}

async fn event<T: Serialize, W: AsyncWrite + Unpin>(
    writer: &mut W,
    name: &str,
    payload: &T,
) -> Result<(), FrameError> {
    let payload =
        serde_json::to_value(payload).map_err(|e| FrameError::Malformed(e.to_string()))?;
    frame::write(
        writer,
        &ToWindow::Event {
            name: name.to_owned(),
            payload,
        },
    )
    .await
}

fn answer<'a>(
    service: &'a Service,
    shell: &'a dyn ShellCommands,
    id: u64,
    command: String,
    args: Value,
    codes: mpsc::UnboundedSender<DeviceCodePrompt>,
) -> Answer<'a> {
    Box::pin(async move {
        let result = if shell.names().contains(&command.as_str()) {
            shell.call(&command, &args)
        } else {
            dispatch(service, &command, &args, codes).await
        };
        (id, result.map_err(|e| to_value(&e)))
    })
}

/// One of the service's commands, with the arguments as the page passed them.
async fn dispatch(
    service: &Service,
    command: &str,
    args: &Value,
    codes: mpsc::UnboundedSender<DeviceCodePrompt>,
) -> ViewResult<Value> {
    let a = Args { command, args };
    match command {
        "get_overview" => json(Ok(service.overview().borrow().clone())),
        "sign_in_user" => {
            let on_code = Box::new(move |prompt| {
                let _ = codes.send(prompt);
            });
            json(service.sign_in_user(a.get("request")?, on_code).await)
        }
        "cancel_sign_in" => {
            service.cancel_sign_in();
            json(Ok(()))
        }
        "sign_in_service_principal" => {
            json(service.sign_in_service_principal(a.get("request")?).await)
        }
        "sign_in_managed_identity" => {
            json(service.sign_in_managed_identity(a.get("clientId")?).await)
        }
        "sign_in_azure_cli" => json(service.sign_in_azure_cli(a.get("tenant")?).await),
        "sign_out" => json(service.sign_out(&a.get::<String>("identity")?)),
        "add_registry" => json(service.add_registry(a.get("request")?).await),
        "remove_registry" => json(service.remove_registry(&a.get::<String>("name")?)),
        "set_admin_account" => json(
            service
                .set_admin_account(&a.get::<String>("name")?, a.get("enabled")?)
                .await,
        ),
        "refresh_now" => json(service.refresh_now(a.get("names")?).await),
        "discover_registries" => json(
            service
                .discover_registries(&a.get::<String>("identity")?)
                .await,
        ),
        "check_registry" => json(
            service
                .check_registry(&a.get::<String>("name")?, a.get("repository")?)
                .await,
        ),
        "doctor" => json(service.doctor().await),
        "doctor_fix" => json(service.doctor_fix().await),
        "set_general" => json(service.set_general(a.get("general")?)),
        "preview_cloud" => json(service.preview_cloud(a.get("cloud")?)),
        "set_cloud" => json(service.set_cloud(a.get("cloud")?)),
        other => Err(unknown(other)),
    }
}

/// A call's arguments: an object whose keys are the page's (camelCase) names.
struct Args<'a> {
    command: &'a str,
    args: &'a Value,
}

impl Args<'_> {
    /// The argument `key` (absent or `null` is `None` for an optional one). Its value is never
    /// quoted back: it may be a secret the person typed.
    fn get<T: DeserializeOwned>(&self, key: &str) -> ViewResult<T> {
        let value = match self.args {
            Value::Object(map) => map.get(key).cloned().unwrap_or(Value::Null),
            Value::Null => Value::Null,
            _ => {
                return Err(invalid(format!(
                    "{}'s arguments are not an object",
                    self.command
                )));
            }
        };
        serde_json::from_value(value).map_err(|_| {
            invalid(format!(
                "{} was given a `{key}` it cannot take",
                self.command
            ))
        })
    }
}

fn json<T: Serialize>(result: ViewResult<T>) -> ViewResult<Value> {
    result.and_then(|value| {
        serde_json::to_value(value)
            .map_err(|e| invalid(format!("an answer could not be sent: {e}")))
    })
}

fn to_value(error: &ErrorView) -> Value {
    serde_json::to_value(error).unwrap_or(Value::Null)
}

fn invalid(message: String) -> ErrorView {
    ErrorView {
        code: ErrorCode::InvalidInput,
        message,
        hint: Some("this is a fault of ACR Tray's window: close it and open it again".to_owned()),
        at: None,
    }
}

/// A command that is not one of the window's. Its name is shown cut short and printable only.
fn unknown(command: &str) -> ErrorView {
    let shown: String = command
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(40)
        .collect();
    invalid(format!(
        "the window asked for `{shown}`, which is not one of its commands"
    ))
}
