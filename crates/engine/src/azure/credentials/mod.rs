//! Credentials other than a client secret: certificates and federated tokens (client
//! assertions), managed identity (IMDS), and the Azure CLI.

pub mod azure_cli;
pub mod certificate;
pub mod imds;
