//! When to refresh: the pure policy ([`policy`]), the forecast of a session's end
//! ([`forecast`]). The loop that runs refreshes on time is [`crate::refresh::scheduler`].

pub mod forecast;
pub mod policy;
