// TEST-ONLY. Injected into the page before the app (Playwright addInitScript), never bundled into
// dist/. Stands in for the Tauri shell: mockIPC answers commands from scriptable replies and
// records every call; event emulation lets tests send `overview`, `device-code` and `navigate`.
import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import type { AccountView, ErrorView, RegistryView } from "../../src/bindings";
import { discovery, doctorView, overview } from "./fixtures";

/** How a command answers: a value, a rejection with an ErrorView, or held until the test settles it. */
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
  add_registry: { ok: { name: "newregistry", loginServer: "newregistry.azurecr.io" } as RegistryView },
  remove_registry: { ok: null },
  sign_in_user: { hold: true },
  sign_in_service_principal: { ok: account("service principal 0b1c") },
  sign_in_managed_identity: { ok: account("managed identity") },
  sign_in_azure_cli: { ok: account("Azure CLI") },
  sign_out: { ok: null },
  set_general: { ok: null },
  preview_cloud: { ok: { cloud: { name: "AzureCloud" }, signsOut: [] } },
  set_cloud: { ok: { name: "AzureCloud" } },
  open_logs: { ok: null },
  ...setup.replies,
};

mockIPC(
  (cmd, args) => {
    calls.push({ cmd, args: JSON.parse(JSON.stringify(args ?? {})) });
    if (cmd === "cancel_sign_in") {
      held.get("sign_in_user")?.reject({ code: "cancelled", message: "Sign-in cancelled.", hint: null, at: null });
      held.delete("sign_in_user");
      return null;
    }
    if (cmd === "set_general") return (args as { general: unknown }).general;
    const r = replies[cmd];
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
