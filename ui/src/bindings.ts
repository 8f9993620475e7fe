// GENERATED from crates/engine/src/service/view.rs by ts-rs: do not edit.
// Regenerate: UPDATE_BINDINGS=1 cargo test -p acr-tray-engine --lib bindings
// Times are RFC 3339 strings in UTC. No type here carries a secret back to the UI.

/**
 * The tray's state at a glance.
 */
export type TrayState = "empty" | "ok" | "refreshing" | "attention" | "signInRequired";

/**
 * Everything the settings window shows; sent whole by `get_overview` and the `overview`
 * event.
 */
export type Overview = { 
/**
 * The engine's clock when this was made (countdowns are computed from it).
 */
now: string, 
/**
 * The state at a glance.
 */
state: TrayState, 
/**
 * One line for the tray tooltip.
 */
summary: string, 
/**
 * The soonest expiry of any Docker credential ACR Tray keeps.
 */
soonestExpiry: string | null, 
/**
 * Every identity.
 */
accounts: Array<AccountView>, 
/**
 * Every registry.
 */
registries: Array<RegistryView>, 
/**
 * Other clients' files the last refresh could not write (each is attention).
 */
clientFiles: Array<ClientFileView>, 
/**
 * The cloud in use.
 */
cloud: CloudView, 
/**
 * Refresh interval, start at login, log level, Helm.
 */
general: GeneralSettings, };

/**
 * What kind of identity.
 */
export type IdentityKindName = "user" | "servicePrincipal" | "servicePrincipalCertificate" | "managedIdentity" | "azureCli" | "workloadIdentity";

/**
 * An identity's session health.
 */
export type AccountHealth = "ok" | "expiringSoon" | "signInRequired";

/**
 * One identity.
 */
export type AccountView = { 
/**
 * The identity id registries refer to.
 */
id: string, 
/**
 * What kind.
 */
kind: IdentityKindName, 
/**
 * The user's sign-in name, or `service principal <client id>`, ...
 */
label: string, 
/**
 * Its tenant, when known.
 */
tenant: string | null, 
/**
 * Session health.
 */
health: AccountHealth, 
/**
 * Why a sign-in is required (when it is).
 */
signInRequired: ErrorView | null, 
/**
 * Whether a person must act to sign in again (browser or device code).
 */
interactive: boolean, 
/**
 * When it last signed in.
 */
lastSignIn: string | null, 
/**
 * When a sign-in-frequency policy is expected to end the session.
 */
expectedSessionEnd: string | null, 
/**
 * How many registries use it.
 */
registryCount: number, 
/**
 * The tenants of a person's account (home first; empty until ARM listed them), each
 * with what it demands. Absent when none are known.
 */
tenants?: Array<TenantView>, };

/**
 * One tenant of an account.
 */
export type TenantView = { 
/**
 * The tenant's GUID.
 */
id: string, 
/**
 * Its display name, else its default domain, else its GUID.
 */
name: string, 
/**
 * Its default domain, when known.
 */
domain: string | null, 
/**
 * The account's home tenant.
 */
home: boolean, 
/**
 * Why this tenant demands a sign-in to it (MFA, Conditional Access), when it does; its
 * registries wait for it, the other tenants keep working.
 */
signInRequired: ErrorView | null, };

/**
 * How a registry signs in.
 */
export type RegistrySignInView = { "kind": "identity", 
/**
 * The identity.
 */
identity: string, } | { "kind": "adminArm", 
/**
 * The identity that reads the password.
 */
identity: string, } | { "kind": "adminPassword", 
/**
 * The admin user name.
 */
username: string, } | { "kind": "acrToken", 
/**
 * The token's name.
 */
token: string, 
/**
 * The identity that reads the token in ARM to watch it (`None`: not watched).
 */
watchedBy: string | null, 
/**
 * Whether the token is enabled, as last read (`None`: not read).
 */
enabled: boolean | null, 
/**
 * The soonest expiry among the watched passwords (`None`: none expires, or not read).
 */
passwordExpiry: string | null, 
/**
 * Which password that is (`password1` or `password2`).
 */
expiringPassword: string | null, 
/**
 * Why the expiry is not watched, and what would watch it (`None` when it is).
 */
notWatched: string | null, };

/**
 * A registry's health.
 */
export type RegistryHealth = "pending" | "ok" | "refreshing" | "failing" | "signInRequired";

/**
 * One registry.
 */
export type RegistryView = { 
/**
 * Short name.
 */
name: string, 
/**
 * Login server.
 */
loginServer: string, 
/**
 * How it signs in.
 */
signIn: RegistrySignInView, 
/**
 * Health.
 */
health: RegistryHealth, 
/**
 * When Docker's credential was last written.
 */
lastRefresh: string | null, 
/**
 * When the credential in Docker's config runs out (`None` for admin passwords, unknown).
 */
expiresAt: string | null, 
/**
 * When the engine refreshes it next (`None`: it waits for a sign-in, or not scheduled).
 */
nextRefresh: string | null, 
/**
 * The last error, if the last attempt failed.
 */
lastError: ErrorView | null, 
/**
 * `acr` or `arm` once known.
 */
audience: string | null, 
/**
 * The login server is a custom domain the user trusted.
 */
trustedCustomDomain: boolean, 
/**
 * What its identity may do there (from the last ACR token), once known.
 */
role: RegistryRole | null, 
/**
 * The registry uses repository permissions (ABAC): roles are Entra's repository roles,
 * per repository, and AcrPull/AcrPush are not honoured there.
 */
repositoryPermissions: boolean, 
/**
 * The role's name in the registry's terms (Entra's repository role on an ABAC registry),
 * once known.
 */
roleName: string | null, 
/**
 * The admin account, as the watch last saw it.
 */
adminAccount: AdminAccountView | null, 
/**
 * The registry's tenant (display name or domain, else its GUID), where it is worth
 * naming: another tenant than its identity's own, or an account with several tenants.
 * Absent otherwise.
 */
tenant?: string, 
/**
 * That tenant's id (lower case), to find it among its account's tenants (display names
 * repeat: "Default Directory"). Absent when [`Self::tenant`] is.
 */
tenantId?: string, };

/**
 * What a registry's identity may do there, from the ACR refresh token's `permissions` claim,
 * named after the built-in role that grants it (docs/protocol.md#roles).
 */
export type RegistryRole = "AcrPull" | "AcrPush" | "Owner" | "None";

/**
 * The admin-account watch of a registry.
 */
export type AdminAccountView = { 
/**
 * Whether it is enabled (`None`: not read yet, or not readable).
 */
enabled: boolean | null, 
/**
 * Password regeneration is watched too (the identity may read the passwords).
 */
passwordsWatched: boolean, 
/**
 * Why it is not watched, if it is not.
 */
notWatched: string | null, 
/**
 * When it was last read.
 */
checkedAt: string | null, 
/**
 * Why it is worth a warning (enabled: anyone with its password can push and pull).
 */
warning: string | null, };

/**
 * A client's file ACR Tray could not write: Docker's own config was written, this one was
 * left as it was (its client's login runs out with its last token).
 */
export type ClientFileView = { 
/**
 * The file (or the path as configured, when it names no usable file).
 */
file: string, 
/**
 * Whose file it is.
 */
client: Client, 
/**
 * What the file is, in words: "Helm's registry config".
 */
what: string, 
/**
 * Why it was not written.
 */
message: string, 
/**
 * What to do.
 */
hint: string | null, 
/**
 * When it was last tried.
 */
at: string, };

/**
 * A registry client besides Docker whose own credentials file each refresh also writes.
 */
export type Client = "podman" | "helm" | "docker-extra";

/**
 * A closed set of error kinds the UI may switch on.
 */
export type ErrorCode = "signInRequired" | "network" | "permission" | "dockerConfig" | "invalidInput" | "config" | "cancelled";

/**
 * An error as the UI shows it: what happened and what to do. Every command rejects with one.
 */
export type ErrorView = { 
/**
 * What kind.
 */
code: ErrorCode, 
/**
 * What happened.
 */
message: string, 
/**
 * What to do.
 */
hint: string | null, 
/**
 * When it happened (remembered errors).
 */
at: string | null, };

/**
 * The cloud in use.
 */
export type CloudView = { 
/**
 * `AzureCloud`, `AzureChinaCloud`, `AzureUSGovernment` or `custom`.
 */
name: string, 
/**
 * Entra ID authority.
 */
authority: string, 
/**
 * ARM endpoint.
 */
arm: string, 
/**
 * ACR login-server suffix (no leading dot).
 */
acrSuffix: string, 
/**
 * ACR token audience.
 */
acrAudience: string, 
/**
 * Extra CA certificates trusted.
 */
caFile: string | null, };

/**
 * What choosing a cloud would do, asked before it is chosen.
 */
export type CloudChangePreview = { 
/**
 * The cloud it would be (as [`CloudView`] shows it).
 */
cloud: CloudView, 
/**
 * The identities it signs out: they signed in to another cloud, and their credentials are
 * never sent to this one. They stay listed as "sign-in required".
 */
signsOut: Array<AccountView>, };

/**
 * Log verbosity.
 */
export type LogLevel = "error" | "warn" | "info" | "debug" | "trace";

/**
 * The General page.
 */
export type GeneralSettings = { 
/**
 * Minutes between refreshes of a registry.
 */
refreshIntervalMinutes: number, 
/**
 * Start the tray app at login.
 */
startAtLogin: boolean, 
/**
 * Log verbosity.
 */
logLevel: LogLevel, 
/**
 * Also keep Helm's registry config in sync (`[clients] helm`).
 */
helm: boolean, 
/**
 * Helm's registry config as the engine finds it (`HELM_REGISTRY_CONFIG`, else Helm's
 * config folder), where each refresh writes when [`Self::helm`] is on; absent when no
 * home folder is known. Shown only: [`crate::service::Service::set_general`] ignores it.
 */
helmRegistryConfig?: string, };

/**
 * Shown large while a device-code sign-in waits (event `device-code`).
 */
export type DeviceCodePrompt = { 
/**
 * The code to type.
 */
userCode: string, 
/**
 * Where to type it.
 */
verificationUri: string, 
/**
 * When the code stops working.
 */
expiresAt: string, 
/**
 * Entra's own sentence.
 */
message: string, };

/**
 * Browser or device code.
 */
export type SignInMethod = "browser" | "deviceCode";

/**
 * A person signs in.
 */
export type UserSignIn = { 
/**
 * Browser or device code.
 */
method: SignInMethod, 
/**
 * `organizations` when `None`.
 */
tenant: string | null, 
/**
 * The Azure CLI's public client when `None`.
 */
clientId: string | null, };

/**
 * How a service principal proves itself. Deserialise-only: it may carry a secret.
 */
export type SpCredentialInput = { "kind": "secret", 
/**
 * The secret.
 */
secret: string, } | { "kind": "certificate", 
/**
 * The file.
 */
path: string, };

/**
 * A service principal signs in.
 */
export type ServicePrincipalSignIn = { 
/**
 * Tenant GUID or domain.
 */
tenant: string, 
/**
 * Application (client) id.
 */
clientId: string, 
/**
 * Secret or certificate.
 */
credential: SpCredentialInput, };

/**
 * How a new registry signs in. Deserialise-only: it may carry a password.
 */
export type RegistrySignInInput = { "kind": "identity", 
/**
 * The identity.
 */
identity: string, } | { "kind": "adminArm", 
/**
 * The identity.
 */
identity: string, } | { "kind": "adminPassword", 
/**
 * The admin user name.
 */
username: string, 
/**
 * The password.
 */
password: string, } | { "kind": "acrToken", 
/**
 * The token's name.
 */
token: string, 
/**
 * The password.
 */
password: string, 
/**
 * The identity that reads the token in Azure to watch its expiry and status (none:
 * not watched).
 */
watchedBy: string | null, };

/**
 * Add a registry.
 */
export type AddRegistry = { 
/**
 * `myregistry` or `myregistry.azurecr.io` (or a trusted custom domain).
 */
nameOrLoginServer: string, 
/**
 * How it signs in.
 */
signIn: RegistrySignInInput, 
/**
 * The host is outside the cloud's suffix and the user trusts it.
 */
trustCustomDomain: boolean, };

/**
 * One registry's result of "refresh now".
 */
export type RefreshOutcomeView = { 
/**
 * Short name.
 */
name: string, 
/**
 * Whether Docker's credential was written.
 */
ok: boolean, 
/**
 * Why not.
 */
error: ErrorView | null, };

/**
 * A registry found through ARM.
 */
export type DiscoveredRegistry = { 
/**
 * Short name.
 */
name: string, 
/**
 * `properties.loginServer` (always read from ARM, never built from the name).
 */
loginServer: string, 
/**
 * Subscription id.
 */
subscription: string, 
/**
 * Resource group.
 */
resourceGroup: string, 
/**
 * SKU name.
 */
sku: string | null, 
/**
 * Whether the admin account is enabled, where readable.
 */
adminUserEnabled: boolean | null, 
/**
 * Whether the registry takes ARM-audience Entra tokens (`azureADAuthenticationAsArmPolicy`),
 * where readable.
 */
armAudienceAccepted: boolean | null, 
/**
 * Already configured in ACR Tray.
 */
added: boolean, 
/**
 * The registry uses repository permissions (ABAC, `roleAssignmentMode`
 * `AbacRepositoryPermissions`): AcrPull and AcrPush are not honoured there; absent for
 * legacy registry permissions.
 */
repositoryPermissions?: boolean, 
/**
 * The tenant (GUID) it was listed in, when the account has several (see
 * [`Discovery::tenants`]); absent otherwise.
 */
tenant?: string, };

/**
 * One tenant of the account as discovery saw it: listed (its registries name it), or why not
 * and what to do.
 */
export type DiscoveredTenant = { 
/**
 * The tenant's GUID.
 */
id: string, 
/**
 * Its display name, else its default domain, else its GUID.
 */
name: string, 
/**
 * Its default domain, when known.
 */
domain: string | null, 
/**
 * The account's home tenant.
 */
home: boolean, 
/**
 * Why its registries could not be listed (it demands a sign-in to it, ARM refused, ...),
 * and what to do; the other tenants are listed all the same.
 */
error: ErrorView | null, 
/**
 * The tenant demands a sign-in to it (MFA, Conditional Access).
 */
signInRequired: boolean, };

/**
 * A configured registry that discovery does not list, and why.
 */
export type UnlistedRegistry = { 
/**
 * Short name.
 */
name: string, 
/**
 * Login server.
 */
loginServer: string, 
/**
 * Why it is not listed, and that it keeps working.
 */
reason: string, };

/**
 * What discovery found, as the window shows it: the engine's
 * [`Discovery`](crate::engine::discovery::Discovery) with each tenant's error an
 * [`ErrorView`] (its hint in the app's words). The CLI serializes the engine's own.
 */
export type Discovery = { 
/**
 * The identity that looked.
 */
identity: string, 
/**
 * The registries the identity can read, by name (each naming its tenant when the
 * account has several).
 */
registries: Array<DiscoveredRegistry>, 
/**
 * The tenants of a person's account, home first, each listed or with why not; empty for
 * an identity of one tenant.
 */
tenants?: Array<DiscoveredTenant>, 
/**
 * Registries configured for this identity that ARM does not show it.
 */
unlisted: Array<UnlistedRegistry>, 
/**
 * Why the list may be incomplete.
 */
notice: string | null, };

/**
 * How bad a doctor's finding is.
 */
export type FindingSeverity = "problem" | "warning";

/**
 * One finding of the doctor.
 */
export type FindingView = { 
/**
 * A stable code (`missing-helper`, ...).
 */
code: string, 
/**
 * How bad.
 */
severity: FindingSeverity, 
/**
 * The registry concerned.
 */
registry: string | null, 
/**
 * What is wrong.
 */
message: string, 
/**
 * What "Fix" does about it (`None`: it needs a person).
 */
fix: string | null, };

/**
 * Where Docker finds one registry's credentials.
 */
export type DockerStoreView = { 
/**
 * Short name.
 */
name: string, 
/**
 * Login server.
 */
loginServer: string, 
/**
 * `config.json auths`, `docker-credential-desktop (credsStore)`, ...
 */
store: string, 
/**
 * Whether Docker has credentials for it.
 */
present: boolean, 
/**
 * When they run out.
 */
expiresAt: string | null, };

/**
 * The doctor's report.
 */
export type DoctorView = { 
/**
 * Docker's config.json.
 */
configPath: string, 
/**
 * Per registry.
 */
registries: Array<DockerStoreView>, 
/**
 * What is wrong.
 */
findings: Array<FindingView>, 
/**
 * The backup `Fix` made.
 */
backup: string | null, };

/**
 * Where Docker finds the credential that was checked.
 */
export type CredentialSource = { "kind": "config-file" } | { "kind": "helper", 
/**
 * The helper's name.
 */
helper: string, 
/**
 * What chose it: `credHelpers`, `credsStore` or `default`.
 */
key: string, } | { "kind": "acr-tray", 
/**
 * What chose it: `credHelpers` or `credsStore`.
 */
key: string, };

/**
 * An action on a repository.
 */
export type RepositoryAction = "pull" | "push" | "delete";

/**
 * What a check found: Docker's credential authenticates at the registry, and (with a
 * repository) what it may do there.
 */
export type CheckReport = { 
/**
 * The registry's short name.
 */
name: string, 
/**
 * Its login server.
 */
loginServer: string, 
/**
 * Where Docker found the credential.
 */
source: CredentialSource, 
/**
 * The credential's user name (the zero GUID for an ACR token; an admin or token user
 * otherwise). Never the secret.
 */
username: string, 
/**
 * The registry accepted the credential.
 */
authenticated: boolean, 
/**
 * The repository asked about, if any.
 */
repository: string | null, 
/**
 * What the registry granted on it (of pull, push and delete); empty without a repository.
 */
granted: Array<RepositoryAction>, 
/**
 * When the credential runs out (`None`: a password that does not, or a token whose
 * expiry is not readable).
 */
expiresAt: string | null, 
/**
 * What to do about what was not granted, in the app's words (filled by the view layer
 * from [`CheckReport::advice`]).
 */
hint: string | null, };

/**
 * Choose a cloud.
 */
export type CloudInput = { "kind": "AzureCloud" } | { "kind": "AzureChinaCloud" } | { "kind": "AzureUSGovernment" } | { "kind": "custom", 
/**
 * Entra ID authority.
 */
authority: string, 
/**
 * ARM endpoint.
 */
arm: string, 
/**
 * ACR login-server suffix.
 */
acrSuffix: string, 
/**
 * ACR token audience.
 */
acrAudience: string | null, 
/**
 * Extra CA certificates.
 */
caFile: string | null, };

/**
 * Which page of the settings window.
 */
export type View = "registries" | "accounts" | "general";

/**
 * Where the window should open (event `navigate`: the tray, a notification).
 */
export type Navigate = { 
/**
 * The page.
 */
view: View, 
/**
 * The identity concerned.
 */
identity: string | null, 
/**
 * Open its sign-in.
 */
signIn: boolean, };
