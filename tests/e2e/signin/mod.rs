//! Signing in: a person (browser, device code), identities without a person (certificate,
//! managed identity, the Azure CLI, workload federation), and the audience of their tokens.

mod audience;
mod person;
mod unattended;
