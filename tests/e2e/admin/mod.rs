//! The registries' admin accounts: read or typed and written to Docker's config, watched through
//! ARM, and the notifications their changes raise.

mod abac;
mod account;
mod notifications;
mod watch;
