//! ARM's list of the tenants of the token's account (docs/protocol.md#arm-tenants): a person's
//! home tenant and each tenant where they are a guest.

use serde::Deserialize;

use super::{Arm, SUBSCRIPTIONS_API};
use crate::azure::resource_id::is_tenant_id;
use crate::error::Result;
use crate::text;

/// The most tenants kept of one answer (a hostile server cannot make the list, the state file
/// or the work per refresh unbounded).
const MAX_TENANTS: usize = 200;

/// One tenant as ARM lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArmTenant {
    /// The tenant's GUID.
    pub tenant_id: String,
    /// Its display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Its default domain.
    #[serde(default)]
    pub default_domain: Option<String>,
}

impl Arm<'_> {
    /// `GET /tenants`: the tenants of the token's account. A tenant whose id is not a GUID (it
    /// would go into token URLs) is left out; names are cleaned for display.
    pub async fn list_tenants(&self) -> Result<Vec<ArmTenant>> {
        let listed: Vec<ArmTenant> = self
            .list(format!("tenants?api-version={SUBSCRIPTIONS_API}"))
            .await?;
        Ok(listed
            .into_iter()
            .filter(|t| {
                let ok = is_tenant_id(&t.tenant_id);
                if !ok {
                    tracing::warn!("ARM listed a tenant whose id is not a GUID; left out");
                }
                ok
            })
            .take(MAX_TENANTS)
            .map(|t| ArmTenant {
                tenant_id: t.tenant_id.to_ascii_lowercase(),
                display_name: clean(t.display_name),
                default_domain: clean(t.default_domain),
            })
            .collect())
    }
}

fn clean(name: Option<String>) -> Option<String> {
    name.map(|n| text::server_text(&n).chars().take(120).collect::<String>())
        .filter(|n| !n.is_empty())
}
