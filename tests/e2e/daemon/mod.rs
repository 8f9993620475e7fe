//! The always-on engine: the scheduler on a paused clock, its notifications, its soak, the
//! engine as the tray app runs it, and `acr-tray-cli run` as a process.

mod client_files;
mod notifications;
pub(crate) mod process;
mod scheduler;
mod soak;
mod tray_service;
mod window_channel;
