// Typed wrapper over the Tauri IPC described in IPC.md: one function per command, one per event.
// Views call only these, so the command names and argument keys live in exactly one place.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type {
  AccountView,
  AddRegistry,
  CheckReport,
  CloudChangePreview,
  CloudInput,
  CloudView,
  DeviceCodePrompt,
  Discovery,
  DoctorView,
  ErrorView,
  GeneralSettings,
  Navigate,
  Overview,
  RefreshOutcomeView,
  RegistryView,
  ServicePrincipalSignIn,
  UserSignIn,
} from "./bindings";

export const getOverview = () => invoke<Overview>("get_overview");
export const signInUser = (request: UserSignIn) => invoke<AccountView>("sign_in_user", { request });
export const cancelSignIn = () => invoke<null>("cancel_sign_in");
export const signInServicePrincipal = (request: ServicePrincipalSignIn) =>
  invoke<AccountView>("sign_in_service_principal", { request });
export const signInManagedIdentity = (clientId: string | null) =>
  invoke<AccountView>("sign_in_managed_identity", { clientId });
export const signInAzureCli = (tenant: string | null) => invoke<AccountView>("sign_in_azure_cli", { tenant });
export const signOut = (identity: string) => invoke<null>("sign_out", { identity });
export const addRegistry = (request: AddRegistry) => invoke<RegistryView>("add_registry", { request });
export const removeRegistry = (name: string) => invoke<null>("remove_registry", { name });
export const setAdminAccount = (name: string, enabled: boolean) => invoke<null>("set_admin_account", { name, enabled });
export const refreshNow = (names: string[]) => invoke<RefreshOutcomeView[]>("refresh_now", { names });
export const discoverRegistries = (identity: string) => invoke<Discovery>("discover_registries", { identity });
export const checkRegistry = (name: string, repository: string | null) =>
  invoke<CheckReport>("check_registry", { name, repository });
export const doctor = () => invoke<DoctorView>("doctor");
export const doctorFix = () => invoke<DoctorView>("doctor_fix");
export const setGeneral = (general: GeneralSettings) => invoke<GeneralSettings>("set_general", { general });
export const previewCloud = (cloud: CloudInput) => invoke<CloudChangePreview>("preview_cloud", { cloud });
export const setCloud = (cloud: CloudInput) => invoke<CloudView>("set_cloud", { cloud });
export const openLogs = () => invoke<null>("open_logs");

export const onOverview = (f: (o: Overview) => void): Promise<UnlistenFn> =>
  listen<Overview>("overview", (e) => f(e.payload));
export const onDeviceCode = (f: (p: DeviceCodePrompt) => void): Promise<UnlistenFn> =>
  listen<DeviceCodePrompt>("device-code", (e) => f(e.payload));
export const onNavigate = (f: (n: Navigate) => void): Promise<UnlistenFn> =>
  listen<Navigate>("navigate", (e) => f(e.payload));

/**
 * Where a new window was asked to open: the shell puts it in the page's fragment
 * (`#view=accounts&identity=ID&signIn=1`), read once as the page starts and then cleared, so a
 * reload opens where the user is.
 */
export function startNavigation(): Navigate | null {
  const params = new URLSearchParams(window.location.hash.slice(1));
  const view = params.get("view");
  if (view !== "registries" && view !== "accounts" && view !== "general") return null;
  history.replaceState(null, "", window.location.pathname + window.location.search);
  return { view, identity: params.get("identity"), signIn: params.get("signIn") === "1" };
}

/** An ErrorView, or something the engine never sends (a UI bug, a shell without that command). */
export type UiError = Omit<ErrorView, "code"> & { code: ErrorView["code"] | "unexpected" };

/**
 * Every command rejects with an ErrorView; anything else is folded into the same shape (with a
 * code outside ErrorCode) so views have a single error to render.
 */
export function asError(e: unknown): UiError {
  if (e && typeof e === "object" && "code" in e && "message" in e) return e as ErrorView;
  return { code: "unexpected", message: String(e instanceof Error ? e.message : e), hint: null, at: null };
}
