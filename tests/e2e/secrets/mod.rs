//! Secrets stay where they belong: the OS keyring, long tokens under Windows' limits, bound to
//! the cloud they were issued by, out of child processes' environments, in private files.

mod authority;
mod child_env;
mod keyring;
mod long_tokens;
#[cfg(unix)]
mod private_files;
