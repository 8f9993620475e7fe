// DRAFT contract, written by hand. It will be replaced by a file GENERATED from the Rust types
// (ts-rs) with the same names and shapes; do not rely on formatting, only on the types.
// Times are RFC 3339 strings in UTC. Nothing here ever carries a secret back to the UI.

/** The tray's state at a glance. */
export type TrayState = "empty" | "ok" | "refreshing" | "attention" | "signInRequired";

/** Everything the settings window shows; sent whole by `get_overview` and the `overview` event. */
export type Overview = {
  /** The engine's clock when this was made (countdowns are computed from it). */
  now: string;
  state: TrayState;
  /** One line for the tray tooltip, e.g. "All 3 registries logged in · next expiry 14:05". */
  summary: string;
  /** The soonest expiry of any Docker credential ACR Tray keeps. */
  soonestExpiry: string | null;
  accounts: Array<AccountView>;
  registries: Array<RegistryView>;
  cloud: CloudView;
  general: GeneralSettings;
};

export type IdentityKindName =
  | "user"
  | "servicePrincipal"
  | "servicePrincipalCertificate"
  | "managedIdentity"
  | "azureCli"
  | "workloadIdentity";

export type AccountView = {
  /** The identity id registries refer to. */
  id: string;
  kind: IdentityKindName;
  /** Human label: the user's sign-in name, or "service principal <client id>", ... */
  label: string;
  tenant: string | null;
  health: "ok" | "expiringSoon" | "signInRequired";
  /** Why a sign-in is required (when it is). */
  signInRequired: ErrorView | null;
  /** Whether a person must act to sign in again (browser / device code). */
  interactive: boolean;
  lastSignIn: string | null;
  /** When a sign-in-frequency policy is expected to end the session. */
  expectedSessionEnd: string | null;
  /** How many registries use it. */
  registryCount: number;
};

export type RegistrySignInView =
  | { kind: "identity"; identity: string }
  | { kind: "adminArm"; identity: string }
  | { kind: "adminPassword"; username: string };

export type RegistryHealth = "pending" | "ok" | "refreshing" | "failing" | "signInRequired";

export type RegistryView = {
  name: string;
  loginServer: string;
  signIn: RegistrySignInView;
  health: RegistryHealth;
  lastRefresh: string | null;
  /** When the credential in Docker's config runs out (null for admin passwords / unknown). */
  expiresAt: string | null;
  /** When the engine refreshes it next (null: waits for a sign-in, or not scheduled). */
  nextRefresh: string | null;
  lastError: ErrorView | null;
  /** "acr" or "arm" once known. */
  audience: string | null;
  trustedCustomDomain: boolean;
};

/** A closed set the UI may switch on. */
export type ErrorCode =
  | "signInRequired"
  | "network"
  | "permission"
  | "dockerConfig"
  | "invalidInput"
  | "notFound"
  | "config"
  | "cancelled"
  | "other";

/** An error as the UI shows it: what happened and what to do. Also what every command rejects with. */
export type ErrorView = { code: ErrorCode; message: string; hint: string | null; at: string | null };

export type CloudView = {
  /** "AzureCloud", "AzureChinaCloud", "AzureUSGovernment" or "custom". */
  name: string;
  authority: string;
  arm: string;
  acrSuffix: string;
  acrAudience: string;
  caFile: string | null;
};

export type LogLevel = "error" | "warn" | "info" | "debug" | "trace";

export type GeneralSettings = {
  refreshIntervalMinutes: number;
  startAtLogin: boolean;
  logLevel: LogLevel;
};

/** Shown large while a device-code sign-in waits (event `device-code`). */
export type DeviceCodePrompt = {
  userCode: string;
  verificationUri: string;
  expiresAt: string;
  /** Entra's own sentence. */
  message: string;
};

export type UserSignIn = { method: "browser" | "deviceCode"; tenant: string | null; clientId: string | null };

export type SpCredentialInput = { kind: "secret"; secret: string } | { kind: "certificate"; path: string };

export type ServicePrincipalSignIn = { tenant: string; clientId: string; credential: SpCredentialInput };

export type RegistrySignInInput =
  | { kind: "identity"; identity: string }
  | { kind: "adminArm"; identity: string }
  | { kind: "adminPassword"; username: string; password: string };

export type AddRegistry = { nameOrLoginServer: string; signIn: RegistrySignInInput; trustCustomDomain: boolean };

export type RefreshOutcomeView = { name: string; ok: boolean; error: ErrorView | null };

export type DiscoveredRegistry = {
  name: string;
  loginServer: string;
  subscription: string;
  resourceGroup: string;
  sku: string | null;
  adminUserEnabled: boolean | null;
  /** Already configured in ACR Tray. */
  added: boolean;
};

export type Discovery = {
  registries: Array<DiscoveredRegistry>;
  /** Why the list may be incomplete (e.g. an AcrPull-only identity cannot list through ARM). */
  notice: string | null;
};

export type FindingView = {
  code: string;
  severity: "problem" | "warning";
  registry: string | null;
  message: string;
  /** What "Fix" does about it (null: needs a person). */
  fix: string | null;
};

export type DockerStoreView = {
  name: string;
  loginServer: string;
  /** Where Docker looks: "config.json auths", "docker-credential-desktop (credsStore)", ... */
  store: string;
  present: boolean;
  expiresAt: string | null;
};

export type DoctorView = { configPath: string; registries: Array<DockerStoreView>; findings: Array<FindingView>; backup: string | null };

export type CloudInput =
  | { kind: "AzureCloud" }
  | { kind: "AzureChinaCloud" }
  | { kind: "AzureUSGovernment" }
  | { kind: "custom"; authority: string; arm: string; acrSuffix: string; acrAudience: string | null; caFile: string | null };

/** Where the window should open (event `navigate`; also from a notification or the tray). */
export type Navigate = { view: "registries" | "accounts" | "general"; identity: string | null; signIn: boolean };
