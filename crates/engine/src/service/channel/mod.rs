//! The settings window's channel to the tray process, for a window that runs in a process of
//! its own: the window's commands go to the tray's [`Service`](super::Service) and its answers
//! and events come back, over a byte stream the tray hands the window process when it starts
//! it (its stdin and stdout), never a listening socket, so only that one process can use it.
//!
//! Each frame is one JSON value on one line, at most [`MAX_FRAME`] bytes: the window sends
//! [`FromWindow`], the tray sends [`ToWindow`]. The calls are the window's commands with the
//! arguments as the page passed them (an object with camelCase keys, as Tauri hands them to a
//! command); the tray answers each call once, in any order (a sign-in may wait minutes while
//! other calls are answered). The contract is the one the page already has: the same command
//! names, the same argument and result types (the generated TypeScript bindings).
//!
//! - [`host`]: the tray's end; it answers only the window's own commands ([`COMMANDS`] and
//!   the shell's own), with the service's results.
//! - [`window`]: the window process's end: calls, and the tray's messages as they come.
//!
//! What crosses is what crosses the window's IPC today: a secret the person types (a client
//! secret) goes from the window to the tray, and nothing secret ever comes back.

mod frame;
pub mod host;
pub mod window;

pub use frame::{FrameError, MAX_FRAME};
pub use host::{COMMANDS, ShellCommands, serve};
pub use window::{Link, TrayMessage};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the window process sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum FromWindow {
    /// One of the window's commands.
    Call {
        /// Names the answer.
        id: u64,
        /// The command, as the page names it (`add_registry`).
        command: String,
        /// Its arguments as the page passed them: an object (absent or `null`: none).
        #[serde(default)]
        args: Value,
    },
}

/// What the tray sends to the window process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ToWindow {
    /// The answer to a call: `Ok` with the command's result, `Err` with an
    /// [`ErrorView`](super::view::ErrorView).
    Reply {
        /// The call's id.
        id: u64,
        /// Its result.
        result: Result<Value, Value>,
    },
    /// An event for the page (`overview`, `device-code`, `navigate`).
    Event {
        /// Its name, as the page listens for it.
        name: String,
        /// Its payload.
        payload: Value,
    },
    /// Show the window (unminimised, focused), at a place when given (a
    /// [`Navigate`](super::view::Navigate)).
    Show {
        /// Where.
        #[serde(default)]
        at: Option<Value>,
    },
}
