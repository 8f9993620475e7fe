// Small shared pieces: health badges (text + colour, never colour alone) and error notes.
import type { UiError } from "../api";
import type { RegistryHealth } from "../bindings";

export type Tone = "ok" | "busy" | "warn" | "bad" | "idle";

export function Badge({ tone, label }: { tone: Tone; label: string }) {
  return (
    <span class={`badge ${tone}`}>
      <span class="dot" aria-hidden="true" />
      {label}
    </span>
  );
}

export const registryHealth: Record<RegistryHealth, [Tone, string]> = {
  ok: ["ok", "Logged in"],
  refreshing: ["busy", "Refreshing"],
  pending: ["idle", "Pending"],
  failing: ["bad", "Failing"],
  signInRequired: ["warn", "Sign-in required"],
};

export const accountHealth: Record<"ok" | "expiringSoon" | "signInRequired", [Tone, string]> = {
  ok: ["ok", "Signed in"],
  expiringSoon: ["warn", "Session ending soon"],
  signInRequired: ["bad", "Sign-in required"],
};

/** What went wrong and what to do, as the engine phrased it. */
export function ErrorNote({ error, id, alert }: { error: UiError; id?: string; alert?: boolean }) {
  // role=alert only for errors that answer what the user just did; standing errors in a list stay quiet.
  return (
    <div class="error-note" role={alert ? "alert" : undefined} id={id}>
      <p class="error-message">{error.message}</p>
      {error.hint && <p class="error-hint">{error.hint}</p>}
    </div>
  );
}
