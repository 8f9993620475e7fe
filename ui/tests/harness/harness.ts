// TEST-ONLY. Injected into the page before the app (Playwright addInitScript), never bundled into
// dist/. Stands in for the Tauri shell: mockIPC answers commands from scriptable replies and
// records every call; event emulation lets tests send `overview`, `device-code` and `navigate`.
import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import type { AccountView, ErrorView, RegistryView } from "../../src/bindings";
import { checkReport, discovery, doctorView, overview } from "./fixtures";

/**
 * How a command answers: a value, a rejection with an ErrorView, or held until the test settles it.
 * Replies are keyed by the command, or by `command:subject` for one registry or identity (the
 * `name` argument, an add's `nameOrLoginServer`, or `identity`), which wins over the command's.
 */
export type Reply = { ok: unknown } | { err: ErrorView } | { hold: true };
type Held = { resolve: (v: unknown) => void; reject: (e: unknown) => void };

const setup = (window as unknown as { __testSetup?: { overview?: unknown; replies?: Record<string, Reply> } }).__testSetup ?? {};
const current = setup.overview ?? overview();
const calls: Array<{ cmd: string; args: unknown }> = [];
const held = new Map<string, Held>();

const account = (label: string): AccountView => ({
  id: "new", kind: "user", label, tenant: null, health: "ok", signInRequired: null, interactive: true,
  lastSignIn: null, expectedSessionEnd: null, registryCount: 0,
});

const replies: Record<string, Reply> = {
  get_overview: { ok: current },
  refresh_now: { ok: [] },
  discover_registries: { ok: discovery() },
  doctor: { ok: doctorView() },
  doctor_fix: { ok: { ...doctorView(), findings: doctorView().findings.slice(1), backup: "/home/dana/.docker/config.json.acr-tray-backup-20260310T100000" } },
  check_registry: { ok: checkReport() },
  remove_registry: { ok: null },
  sign_in_user: { hold: true },
  sign_in_service_principal: { ok: account("service principal 0b1c") },
  sign_in_managed_identity: { ok: account("managed identity") },
  sign_in_azure_cli: { ok: account("Azure CLI") },
  sign_out: { ok: null },
  preview_cloud: { ok: { cloud: { name: "AzureCloud" }, signsOut: [] } },
  set_cloud: { ok: { name: "AzureCloud" } },
  open_logs: { ok: null },
  ...setup.replies,
};

/** add_registry's answer unless a test sets one: the registry it was asked to add. */
function added(args: unknown): RegistryView {
  const asked = String((args as { request?: { nameOrLoginServer?: unknown } }).request?.nameOrLoginServer ?? "");
  const name = asked.split(".")[0]?.toLowerCase() ?? asked;
  return { name, loginServer: asked.includes(".") ? asked : `${name}.azurecr.io` } as RegistryView;
}

/** Whom a call is about: a registry (by name or as added) or an identity. */
function subject(args: unknown): string | null {
  const a = (args ?? {}) as { name?: unknown; identity?: unknown; request?: { nameOrLoginServer?: unknown } };
  const v = a.name ?? a.request?.nameOrLoginServer ?? a.identity;
  return typeof v === "string" ? v : null;
}

mockIPC(
  (cmd, args) => {
    calls.push({ cmd, args: JSON.parse(JSON.stringify(args ?? {})) });
    if (cmd === "cancel_sign_in") {
      held.get("sign_in_user")?.reject({ code: "cancelled", message: "Sign-in cancelled.", hint: null, at: null });
      held.delete("sign_in_user");
      return null;
    }
    const key = subject(args);
    const r = (key !== null ? replies[`${cmd}:${key}`] : undefined) ?? replies[cmd];
    if (!r && cmd === "add_registry") return added(args);
    if (!r && cmd === "set_general") return (args as { general: unknown }).general;
    if (!r) return Promise.reject({ code: "other", message: `harness: no reply for ${cmd}`, hint: null, at: null });
    if ("ok" in r) return structuredClone(r.ok);
    if ("err" in r) return Promise.reject(r.err);
    return new Promise((resolve, reject) => held.set(cmd, { resolve, reject }));
  },
  { shouldMockEvents: true },
);

(window as unknown as { __test: unknown }).__test = {
  calls,
  overview: () => structuredClone(current),
  reply: (cmd: string, r: Reply) => void (replies[cmd] = r),
  resolve: (cmd: string, v: unknown) => { held.get(cmd)?.resolve(v); held.delete(cmd); },
  reject: (cmd: string, e: ErrorView) => { held.get(cmd)?.reject(e); held.delete(cmd); },
  isHeld: (cmd: string) => held.has(cmd),
  emit: (event: string, payload: unknown) => emit(event, payload),
};
