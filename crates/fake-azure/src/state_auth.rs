//! State of the interactive flows and of the non-secret credentials: device codes,
//! authorization codes, the browser stand-in, public clients, guests, session expiry,
//! certificates, federated credentials, managed identities and ARM long-running operations.
//! Lives inside [`crate::state::Directory`] (one mutex).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, TimeDelta, Utc};

use crate::entra::TenantPath;
use crate::state::User;

/// The Azure CLI's public client ID, known to every tenant of the fake (as in Entra).
pub const AZURE_CLI_CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

/// A device code as a test sees it ([`crate::FakeAzure::last_device_code`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCodeInfo {
    /// The code the user would type at `verification_uri` (pass it to `approve_device_code`).
    pub user_code: String,
    /// The client that asked for it.
    pub client_id: String,
    /// The `scope` as requested.
    pub scope: String,
    /// The `{tenant}` path segment it was requested under.
    pub tenant: String,
    /// When it expires (fake clock).
    pub expires_at: DateTime<Utc>,
    /// The polling interval announced (seconds).
    pub interval: u64,
}

/// A certificate credential of a service principal (it is a fake: the private key is handed out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateCredential {
    /// The self-signed certificate (PEM).
    pub cert_pem: String,
    /// The RSA-2048 private key, PKCS#8 PEM (`BEGIN PRIVATE KEY`).
    pub key_pem: String,
    /// `cert_pem` followed by `key_pem` in one file (what `az login --certificate` takes).
    pub combined_pem: String,
    /// SHA-1 of the certificate DER, upper-case hex (what the portal shows; `x5t` source).
    pub thumbprint_sha1_hex: String,
    /// SHA-256 of the certificate DER, upper-case hex (`x5t#S256` source).
    pub thumbprint_sha256_hex: String,
}

/// A managed identity (user-assigned unless made the system-assigned one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedIdentity {
    /// Tenant GUID.
    pub tenant: String,
    /// Client (application) ID.
    pub client_id: String,
    /// Object (principal) ID: the `oid` in its tokens; assign roles to it.
    pub object_id: String,
    /// ARM resource ID (`msi_res_id`).
    pub resource_id: String,
}

/// A pending or finished device-code flow.
#[derive(Debug, Clone)]
pub(crate) enum DeviceState {
    Pending,
    Approved(User),
    Declined,
    Redeemed,
}

#[derive(Debug, Clone)]
pub(crate) struct DeviceCodeRec {
    pub(crate) device_code: String,
    pub(crate) info: DeviceCodeInfo,
    pub(crate) tenant: TenantPath,
    pub(crate) state: DeviceState,
    pub(crate) polls: u32,
}

/// An issued authorization code.
#[derive(Debug, Clone)]
pub(crate) struct AuthCodeRec {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    /// The home user.
    pub(crate) user: User,
    pub(crate) tenant: TenantPath,
    pub(crate) scope: String,
    pub(crate) code_challenge: Option<String>,
    pub(crate) nonce: Option<String>,
    pub(crate) issued: DateTime<Utc>,
    pub(crate) redeemed: bool,
}

/// A user's guest account in another tenant.
#[derive(Debug, Clone)]
pub(crate) struct GuestRec {
    pub(crate) home_oid: String,
    pub(crate) tenant: String,
    pub(crate) guest_oid: String,
}

/// A registered certificate (public part).
#[derive(Debug, Clone)]
pub(crate) struct CertRec {
    pub(crate) client_id: String,
    pub(crate) sha1: Vec<u8>,
    pub(crate) sha256: Vec<u8>,
    /// RSA modulus and exponent (big-endian, no leading zeros).
    pub(crate) n: Vec<u8>,
    pub(crate) e: Vec<u8>,
}

/// A federated identity credential of an app.
#[derive(Debug, Clone)]
pub(crate) struct FederatedRec {
    pub(crate) client_id: String,
    pub(crate) issuer: String,
    pub(crate) subject: String,
}

/// Flow and credential state.
#[derive(Debug, Default)]
pub(crate) struct AuthState {
    /// Lower-case client IDs of public clients (multi-tenant, like the Azure CLI).
    pub(crate) public_clients: BTreeSet<String>,
    pub(crate) device_codes: Vec<DeviceCodeRec>,
    /// (expires_in, interval) for new device codes.
    pub(crate) device_timing: (u64, u64),
    pub(crate) device_slow_down: u32,
    pub(crate) device_auto_approve: Option<(User, u32)>,
    pub(crate) auth_codes: HashMap<String, AuthCodeRec>,
    pub(crate) browser_user: Option<User>,
    pub(crate) browser_decline: bool,
    pub(crate) guests: Vec<GuestRec>,
    /// Home object ID -> (AADSTS code, refresh tokens issued up to then fail).
    pub(crate) expired_sessions: HashMap<String, (u32, DateTime<Utc>)>,
    /// Lower-case tenant ID -> Conditional-Access sign-in frequency: refresh tokens whose
    /// chain began with an interactive sign-in longer ago than this fail with AADSTS70043.
    pub(crate) sign_in_frequency: HashMap<String, TimeDelta>,
    /// (home object ID, lower-case tenant ID) -> that tenant demands an interactive sign-in
    /// there from this user (see `FakeAzure::require_interaction_in_tenant`).
    pub(crate) tenant_interaction: HashMap<(String, String), InteractionDemand>,
    pub(crate) certificates: Vec<CertRec>,
    pub(crate) federated: Vec<FederatedRec>,
    /// User-assigned identities attached to the "VM".
    pub(crate) managed_identities: Vec<ManagedIdentity>,
    pub(crate) system_identity: Option<ManagedIdentity>,
    /// Managed identities ever created (also usable with federated credentials).
    pub(crate) all_identities: Vec<ManagedIdentity>,
    pub(crate) arm_patch_async: bool,
    /// Where ARM's `nextLink` and `Azure-AsyncOperation` URLs point instead of ARM itself.
    pub(crate) arm_link_base: Option<String>,
    /// ARM operation ID -> status polls so far.
    pub(crate) arm_operations: HashMap<String, ArmOperation>,
}

/// A tenant's demand for an interactive sign-in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InteractionDemand {
    /// The AADSTS code refresh-token redemptions there answer.
    pub(crate) code: u32,
    /// Sign-ins numbered up to this one do not meet it.
    pub(crate) since: u64,
}

/// A pending ARM long-running operation (PATCH with `set_arm_patch_async(true)`).
#[derive(Debug, Clone)]
pub(crate) struct ArmOperation {
    /// Lower-case registry name.
    pub(crate) registry: String,
    pub(crate) started: DateTime<Utc>,
    pub(crate) polls: u32,
}

impl AuthState {
    pub(crate) fn new() -> Self {
        Self {
            public_clients: BTreeSet::from([AZURE_CLI_CLIENT_ID.to_owned()]),
            device_timing: (900, 5),
            ..Self::default()
        }
    }

    pub(crate) fn is_public_client(&self, client_id: &str) -> bool {
        self.public_clients
            .contains(&client_id.to_ascii_lowercase())
    }

    /// The guest account of a home user in `tenant`.
    pub(crate) fn guest(&self, home_oid: &str, tenant: &str) -> Option<&GuestRec> {
        self.guests
            .iter()
            .find(|g| g.home_oid == home_oid && g.tenant.eq_ignore_ascii_case(tenant))
    }

    /// The home object ID behind a guest object ID.
    pub(crate) fn home_of_guest(&self, guest_oid: &str) -> Option<&str> {
        self.guests
            .iter()
            .find(|g| g.guest_oid == guest_oid)
            .map(|g| g.home_oid.as_str())
    }

    pub(crate) fn identity_by_client_id(&self, client_id: &str) -> Option<&ManagedIdentity> {
        self.all_identities
            .iter()
            .find(|m| m.client_id.eq_ignore_ascii_case(client_id))
    }
}
