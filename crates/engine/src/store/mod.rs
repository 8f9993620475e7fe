//! What the engine keeps on this machine: the settings file, remembered state, secrets in the
//! OS keyring, cached tokens, its folders and logs, and the private-file helpers they share.

pub mod config;
pub mod config_edit;
pub mod instance;
pub mod logfile;
pub mod paths;
pub mod secrets;
pub mod state;
pub mod token_cache;
pub mod token_store;
