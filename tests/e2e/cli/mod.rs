//! The command line itself: its commands and listings, the whole pipeline it drives, and how it
//! reports failures.

mod commands;
mod exec;
mod failures;
mod pipeline;
