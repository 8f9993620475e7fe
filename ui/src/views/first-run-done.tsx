// The guide's step 3: each kept registry is added with the new account (add_registry), Docker's
// credential for it written (refresh_now), and proven by the check Docker's own login would do
// (check_registry without a repository: the registry issues a token for the credential Docker
// holds, and accepts it). A line per registry: ✓ authenticated, or the error, its hint and Retry.
import { useEffect, useRef, useState } from "preact/hooks";
import * as api from "../api";
import type { AccountView } from "../bindings";
import { ErrorNote } from "../components/bits";
import { announce } from "../store";
import { type EscapeRef, StepActions } from "./first-run-bits";

/** A registry to add: its name and login server (as ARM reports it, or as typed). */
export type Keep = { name: string; loginServer: string };

type Phase = "waiting" | "adding" | "refreshing" | "checking" | "ok" | "failed";
/** `name`: the engine's name for it once added (retries then skip the add); `retried`: it failed
 * once, so its Retry button stays while it is tried again (keyboard focus stays on it). */
type Row = { keep: Keep; phase: Phase; name: string | null; error: api.UiError | null; retried: boolean };

const PHASE_TEXT: Record<Phase, string> = {
  waiting: "Waiting…",
  adding: "Adding…",
  refreshing: "Logging Docker in…",
  checking: "Checking Docker's credential…",
  ok: "✓ Authenticated: Docker's credential signs in.",
  failed: "Not working yet",
};

export function DoneStep({ account, keep, escape, onFinish }: { account: AccountView; keep: Keep[]; escape: EscapeRef; onFinish: () => void }) {
  const [rows, setRows] = useState<Row[]>(keep.map((k) => ({ keep: k, phase: "waiting", name: null, error: null, retried: false })));
  const finish = useRef<HTMLButtonElement>(null);
  escape.current = () => false;
  const update = (i: number, patch: Partial<Row>) => setRows((rs) => rs.map((r, j) => (j === i ? { ...r, ...patch } : r)));

  /** Add (unless added already), refresh, check; the row says where it got to. */
  async function prove(i: number, addedAs: string | null): Promise<boolean> {
    const k = keep[i];
    if (!k) return false;
    let name = addedAs;
    try {
      if (name === null) {
        update(i, { phase: "adding", error: null });
        const reg = await api.addRegistry({ nameOrLoginServer: k.loginServer, signIn: { kind: "identity", identity: account.id }, trustCustomDomain: false });
        name = reg.name;
        update(i, { name });
      }
      update(i, { phase: "refreshing", error: null });
      const out = (await api.refreshNow([name])).find((o) => o.name === name);
      if (out && !out.ok) throw out.error ?? { code: "unexpected", message: `Docker's credential for ${name} could not be written.`, hint: null, at: null };
      update(i, { phase: "checking" });
      const report = await api.checkRegistry(name, null);
      if (!report.authenticated) throw { code: "permission", message: `${report.loginServer} did not accept Docker's credential.`, hint: report.hint, at: null };
      update(i, { phase: "ok" });
      return true;
    } catch (e) {
      update(i, { phase: "failed", error: api.asError(e), retried: true });
      return false;
    }
  }

  // One after the other: the engine refreshes and checks each with the same account.
  useEffect(() => {
    void (async () => {
      let ok = 0;
      for (let i = 0; i < keep.length; i++) if (await prove(i, null)) ok++;
      announce(ok === keep.length ? `All ${keep.length === 1 ? "" : `${keep.length} `}set: Docker is logged in.` : `${ok} of ${keep.length} registries work; see what to do for the others.`);
    })();
  }, []);

  async function retry(i: number) {
    const row = rows[i];
    if (!row || row.phase !== "failed") return;
    update(i, { phase: row.name === null ? "adding" : "refreshing" });
    const name = row.keep.name;
    announce(`Trying ${name} again…`);
    if (await prove(i, row.name)) {
      announce(`${name} works now.`);
      finish.current?.focus();
    } else announce(`${name} still does not work.`);
  }

  const busy = rows.some((r) => r.phase !== "ok" && r.phase !== "failed");
  const ok = rows.filter((r) => r.phase === "ok").length;
  return (
    <div class="panel guide-step">
      <p class="muted" id="guide-summary">
        {busy
          ? `Adding and checking ${keep.length === 1 ? "the registry" : `${keep.length} registries`} with ${account.label}…`
          : ok === rows.length
            ? `Docker is logged in to ${ok === 1 ? "it" : `all ${ok}`}: docker pull and push work as your roles allow. ACR Tray keeps the credentials fresh from now on.`
            : `${ok} of ${rows.length} work. The others say what to do; Retry once it is done, or finish and fix them from Registries.`}
      </p>
      <ul class="results" aria-label="Registries set up">
        {rows.map((r, i) => (
          <li key={r.keep.loginServer} class={`result ${r.phase}`} data-result={r.keep.name}>
            <div class="result-head">
              <span>
                <strong>{r.name ?? r.keep.name}</strong> <span class="mono muted">{r.keep.loginServer}</span>
              </span>
              <span class="result-side">
                <span class={r.phase === "ok" ? "result-state ok-text" : r.phase === "failed" ? "result-state bad-text" : "result-state muted"}>
                  {r.phase !== "ok" && r.phase !== "failed" && <span class="spinner" aria-hidden="true" />}
                  {PHASE_TEXT[r.phase]}
                </span>
                {r.retried && r.phase !== "ok" && (
                  /* aria-disabled, not disabled: a disabled button drops keyboard focus mid-retry. */
                  <button type="button" onClick={() => void retry(i)} aria-disabled={r.phase !== "failed"} aria-label={`Retry ${r.keep.name}`}>
                    {r.phase === "failed" ? "Retry" : "Retrying…"}
                  </button>
                )}
              </span>
            </div>
            {r.error && <ErrorNote error={r.error} />}
          </li>
        ))}
      </ul>
      <StepActions>
        <button type="button" class="primary" onClick={onFinish} ref={finish} id="guide-finish">
          Finish
        </button>
      </StepActions>
    </div>
  );
}
