//! Azure: the clouds and their endpoints, Entra ID, the other ways an identity gets a token
//! (certificates, federated tokens, managed identity, the Azure CLI), ARM, and the registries'
//! own token endpoints and login servers.

pub mod acr;
pub mod arm;
pub mod cloud;
pub mod credentials;
pub mod entra;
pub mod jwt;
pub mod login_server;
pub mod resource_id;
pub mod scope_map;
