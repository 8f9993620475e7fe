//! Where requests go and whom they trust: registry and ARM hosts, proxies, certificate
//! authorities.

mod allow_list;
mod arm_hosts;
mod ca_trust;
mod proxy;
