//! Test controls for users and the interactive flows: public clients, the browser stand-in,
//! device codes, guests and session expiry (all sync, `&self`).

use uuid::Uuid;

use crate::state_auth::{DeviceCodeInfo, GuestRec, InteractionDemand};
use crate::{FakeAzure, Tenant, User, device_code, lock};

impl FakeAzure {
    /// Registers a public client ID (multi-tenant, like the Azure CLI's
    /// [`crate::AZURE_CLI_CLIENT_ID`], which is known from the start).
    pub fn add_public_client(&self, client_id: &str) {
        lock(&self.inner.shared.dir)
            .auth
            .public_clients
            .insert(client_id.to_ascii_lowercase());
    }

    /// The user signed in to the "browser" that `/authorize` and the `/device` page see; `None` =
    /// nobody (authorize redirects with `access_denied`).
    pub fn set_browser_user(&self, user: Option<User>) {
        lock(&self.inner.shared.dir).auth.browser_user = user;
    }

    /// The browser user declines (authorize redirects with `access_denied`).
    pub fn set_browser_decline(&self, decline: bool) {
        lock(&self.inner.shared.dir).auth.browser_decline = decline;
    }

    /// Signs `user` in for a pending device code; false when no such pending code.
    pub fn approve_device_code(&self, user_code: &str, user: &User) -> bool {
        device_code::decide(&self.inner.shared, user_code, Some(user.clone()))
    }

    /// Declines a pending device code (polls answer `authorization_declined`).
    pub fn decline_device_code(&self, user_code: &str) -> bool {
        device_code::decide(&self.inner.shared, user_code, None)
    }

    /// Approves every pending device code as `user` once it has been polled `after_polls`
    /// times (0 = the first poll succeeds); `None` turns this off.
    pub fn set_device_code_auto_approve(&self, auto: Option<(User, u32)>) {
        lock(&self.inner.shared.dir).auth.device_auto_approve = auto;
    }

    /// `expires_in` and `interval` of new device codes (defaults 900 and 5).
    pub fn set_device_code_timing(&self, expires_in_secs: u64, interval_secs: u64) {
        lock(&self.inner.shared.dir).auth.device_timing = (expires_in_secs, interval_secs);
    }

    /// The next `n` device-code polls answer `slow_down`.
    pub fn set_device_code_slow_down(&self, n: u32) {
        lock(&self.inner.shared.dir).auth.device_slow_down = n;
    }

    /// The most recently issued device code.
    pub fn last_device_code(&self) -> Option<DeviceCodeInfo> {
        lock(&self.inner.shared.dir)
            .auth
            .device_codes
            .last()
            .map(|d| d.info.clone())
    }

    /// Invites `user` into `tenant` as a guest and returns the guest account: same UPN, the
    /// other tenant, its own object ID (assign roles there to this object ID). The user's refresh
    /// tokens then also mint tokens for `tenant`.
    pub fn add_guest(&self, user: &User, tenant: &Tenant) -> User {
        let mut dir = lock(&self.inner.shared.dir);
        let home = dir
            .home_user(&user.object_id)
            .cloned()
            .unwrap_or_else(|| user.clone());
        if let Some(existing) = dir.auth.guest(&home.object_id, &tenant.id) {
            return User {
                tenant: existing.tenant.clone(),
                object_id: existing.guest_oid.clone(),
                upn: home.upn,
            };
        }
        let guest = User {
            tenant: tenant.id.clone(),
            object_id: Uuid::new_v4().to_string(),
            upn: home.upn.clone(),
        };
        dir.auth.guests.push(GuestRec {
            home_oid: home.object_id,
            tenant: tenant.id.clone(),
            guest_oid: guest.object_id.clone(),
        });
        guest
    }

    /// Ends the user's sessions: every refresh token issued so far fails with `aadsts`
    /// (700082, 70008, 50173, 70043, 65001, 50132, 50089, 53003 ... -> `invalid_grant`;
    /// 50076, 50079, 50078 -> `invalid_grant` + `suberror: basic_action`, as Entra answers a
    /// refresh-token redemption); tokens issued later (a new sign-in)
    /// work. `object_id` may be the home or a guest object ID.
    pub fn expire_sessions(&self, object_id: &str, aadsts: u32) {
        let now = self.inner.shared.now();
        let mut dir = lock(&self.inner.shared.dir);
        let home = dir
            .auth
            .home_of_guest(object_id)
            .unwrap_or(object_id)
            .to_owned();
        dir.auth.expired_sessions.insert(home, (aadsts, now));
    }

    /// A Conditional-Access sign-in-frequency policy in `tenant_id` (`None` removes it): once
    /// more than `limit` has passed (fake clock) since the interactive sign-in (authorization
    /// code, device code, [`Self::issue_user_refresh_token`]) that began a refresh token's
    /// chain, the `refresh_token` grant for a user in that tenant fails with `invalid_grant`
    /// AADSTS70043, naming the limit in whole seconds ("...the maximum allowed lifetime for this
    /// request is 3600."). Rotated refresh tokens keep their chain's sign-in time; a new sign-in
    /// starts a new chain. The tenant is the one the token is for (a guest's resource tenant;
    /// the home tenant for `organizations`/`common`).
    pub fn set_sign_in_frequency(&self, tenant_id: &str, limit: Option<std::time::Duration>) {
        let key = tenant_id.to_ascii_lowercase();
        let mut dir = lock(&self.inner.shared.dir);
        match limit {
            Some(limit) => {
                let limit = chrono::TimeDelta::from_std(limit).unwrap_or(chrono::TimeDelta::MAX);
                dir.auth.sign_in_frequency.insert(key, limit);
            }
            None => {
                dir.auth.sign_in_frequency.remove(&key);
            }
        }
    }

    /// Makes `tenant_id` demand an interactive sign-in from `user` (home or guest account; `None`
    /// lifts it): redeeming any of the user's refresh tokens for that tenant (its GUID in the
    /// token endpoint's path, or `organizations`/`common` when it is the home tenant) answers
    /// `invalid_grant` AADSTS`aadsts` with a `suberror` — 50076 (MFA required) and 50079 (MFA
    /// registration required) `basic_action`, 53003 (blocked by Conditional Access)
    /// `message_only` — while the other tenants keep issuing tokens. An interactive sign-in
    /// at that tenant made after this call (authorization code or device code with the tenant
    /// in the path) meets the demand: its refresh tokens work there again.
    pub fn require_interaction_in_tenant(&self, user: &User, tenant_id: &str, aadsts: Option<u32>) {
        let mut dir = lock(&self.inner.shared.dir);
        let home = dir
            .auth
            .home_of_guest(&user.object_id)
            .unwrap_or(&user.object_id)
            .to_owned();
        let key = (home, tenant_id.to_ascii_lowercase());
        match aadsts {
            Some(code) => {
                let since = dir.sign_ins;
                dir.auth
                    .tenant_interaction
                    .insert(key, InteractionDemand { code, since });
            }
            None => {
                dir.auth.tenant_interaction.remove(&key);
            }
        }
    }
}
