// The guide's step 2: the registries the new account can see (discover_registries), the ones to
// keep ticked, and any more added by name (an account with only AcrPull or AcrPush is not shown
// registries by Azure Resource Manager, but can use them). An account with several tenants sees
// them grouped by tenant; a tenant that demands a sign-in of its own offers it, then lists again.
import { useEffect, useRef, useState } from "preact/hooks";
import * as api from "../api";
import type { AccountView, DiscoveredRegistry, DiscoveredTenant, Discovery, Overview } from "../bindings";
import { ErrorNote } from "../components/bits";
import { DiscoveredList, DiscoveryNotes, grouped, keepByDefault } from "../components/discovered";
import { announce } from "../store";
import { parseRegistry } from "../validate";
import type { Keep } from "./first-run-done";
import { type EscapeRef, StepActions } from "./first-run-bits";
import { SignInDialog, tenantPreset } from "./sign-in";

type Props = { overview: Overview; account: AccountView; escape: EscapeRef; onBack: () => void; onNext: (keep: Keep[]) => void };

export function RegistriesStep({ overview, account, escape, onBack, onNext }: Props) {
  const [result, setResult] = useState<Discovery | null>(null);
  const [error, setError] = useState<api.UiError | null>(null);
  const [kept, setKept] = useState<ReadonlySet<string>>(new Set());
  /** Registries typed by name, in the order typed (kept unless unticked). */
  const [typed, setTyped] = useState<Keep[]>([]);
  /** A tenant's own sign-in, open. */
  const [signInAt, setSignInAt] = useState<DiscoveredTenant | null>(null);
  escape.current = () => {
    onBack();
    return true;
  };

  async function discover() {
    // Listing again (after a tenant's sign-in) keeps what was ticked or unticked; new ones start ticked.
    const before = new Set((result?.registries ?? []).map((r) => r.loginServer));
    setError(null);
    setResult(null);
    try {
      const found = await api.discoverRegistries(account.id);
      setResult(found);
      setKept((k) => new Set([...[...k].filter((l) => !before.has(l) || found.registries.some((r) => r.loginServer === l)), ...found.registries.filter((r) => !before.has(r.loginServer) && keepByDefault(r)).map((r) => r.loginServer)]));
      announce(found.registries.length === 1 ? "1 registry found." : `${found.registries.length} registries found.`);
    } catch (e) {
      setError(api.asError(e));
    }
  }
  useEffect(() => void discover(), [account.id]);

  const toggle = (loginServer: string, keep: boolean) =>
    setKept((k) => {
      const next = new Set(k);
      if (keep) next.add(loginServer);
      else next.delete(loginServer);
      return next;
    });

  const listed = result?.registries ?? [];
  const keep: Keep[] = [
    ...listed.filter((r) => !r.added && kept.has(r.loginServer)).map((r) => ({ name: r.name, loginServer: r.loginServer })),
    ...typed.filter((t) => kept.has(t.loginServer)),
  ];

  function addTyped(k: Keep) {
    const known = listed.find((r) => r.loginServer === k.loginServer);
    if (known?.added) return `${known.name} is already added.`;
    if (!known && !typed.some((t) => t.loginServer === k.loginServer)) setTyped((t) => [...t, k]);
    toggle(k.loginServer, true);
    announce(`${k.name} will be added.`);
    return null;
  }

  return (
    <div class="panel guide-step">
      <p class="muted">
        The registries <strong>{account.label}</strong> can see in Azure. Ticked ones are added, kept logged in for Docker, and checked in the next step.
      </p>
      {!result && !error && (
        <p class="muted" role="status">
          <span class="spinner" aria-hidden="true" />
          Listing the registries {account.label} can see…
        </p>
      )}
      {error && (
        <>
          <ErrorNote error={error} alert />
          <div>
            <button type="button" onClick={() => void discover()} id="guide-rediscover">
              List again
            </button>
          </div>
        </>
      )}
      {result && <DiscoveryNotes result={result} />}
      {result && listed.length === 0 && (
        <div class="empty" id="guide-none">
          <p>{account.label} can see no registries here.</p>
          <p class="muted">
            Add one by name below, or ask the registry's owner for a role on it (AcrPull to pull, AcrPush to push; on a registry with repository permissions, Container
            Registry Repository Reader or Writer), then list again.
          </p>
        </div>
      )}
      {(listed.length > 0 || grouped(result?.tenants)) && (
        <DiscoveredList
          registries={listed}
          tenants={result?.tenants}
          onSignInTenant={setSignInAt}
          headingLevel={2}
          control={{ kind: "keep", kept, onToggle: (r: DiscoveredRegistry, k) => toggle(r.loginServer, k) }}
        />
      )}
      {signInAt && (
        <SignInDialog preset={tenantPreset(account.label, signInAt)} onClose={() => setSignInAt(null)} onSignedIn={() => void discover()} />
      )}
      {typed.length > 0 && (
        <ul class="pick-list keep-list" aria-label="Added by name">
          {typed.map((t) => (
            <li key={t.loginServer}>
              <label class="pick keep">
                <input type="checkbox" checked={kept.has(t.loginServer)} aria-label={`Keep ${t.name}`} onChange={(e) => toggle(t.loginServer, e.currentTarget.checked)} />
                <span class="pick-main">
                  <strong>{t.name}</strong>
                  <span class="mono muted">{t.loginServer}</span>
                </span>
                <span class="pick-meta muted">Added by name</span>
              </label>
            </li>
          ))}
        </ul>
      )}
      {(result || error) && <ByName suffix={overview.cloud.acrSuffix} onAdd={addTyped} />}
      <StepActions onBack={onBack}>
        {result && listed.length === 0 && (
          <button type="button" onClick={() => void discover()} id="guide-rediscover">
            List again
          </button>
        )}
        <button type="button" class="primary" onClick={() => onNext(keep)} id="guide-next">
          {keep.length === 0 ? "Finish without registries" : keep.length === 1 ? `Add ${keep[0]?.name ?? ""}` : `Add ${keep.length} registries`}
        </button>
      </StepActions>
    </div>
  );
}

/** A registry by name (validated as the Add dialog does); a custom domain needs that dialog's explicit trust. */
function ByName({ suffix, onAdd }: { suffix: string; onAdd: (k: Keep) => string | null }) {
  const [input, setInput] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const field = useRef<HTMLInputElement>(null);
  function submit(e: Event) {
    e.preventDefault();
    const p = parseRegistry(input, suffix);
    let problem: string | null;
    if (p.kind === "name") problem = onAdd({ name: p.name, loginServer: p.loginServer });
    else if (p.kind === "loginServer") problem = onAdd({ name: p.loginServer.split(".")[0] ?? p.loginServer, loginServer: p.loginServer });
    else if (p.kind === "custom") problem = `${p.host} is outside ${suffix}: add it from Registries → Add registry, where you can choose to trust it.`;
    else if (p.kind === "empty") problem = "Enter a registry name.";
    else problem = p.message;
    setMessage(problem);
    if (problem) field.current?.focus();
    else setInput("");
  }
  return (
    <form class="field" onSubmit={submit} noValidate>
      <label for="guide-by-name">Add a registry by name</label>
      <div class="check-row">
        <input
          id="guide-by-name"
          ref={field}
          value={input}
          autocomplete="off"
          spellcheck={false}
          placeholder={`myregistry or myregistry.${suffix}`}
          aria-invalid={message ? true : undefined}
          aria-describedby={message ? "guide-by-name-error" : "guide-by-name-help"}
          onInput={(e) => {
            setInput(e.currentTarget.value);
            setMessage(null);
          }}
        />
        <button type="submit" id="guide-by-name-add">
          Add to the list
        </button>
      </div>
      {message ? (
        <p class="field-error" id="guide-by-name-error" role="alert">
          {message}
        </p>
      ) : (
        <p class="field-help" id="guide-by-name-help">
          For a registry Azure doesn't list for this account: with only AcrPull or AcrPush on it, it works but isn't shown.
        </p>
      )}
    </form>
  );
}
