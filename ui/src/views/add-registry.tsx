// Adding a registry: typed (validated while typing against the cloud's registry suffix) or picked
// from what an identity can list through ARM. The admin password or an ACR token's password, if
// typed, is read from the input once at submit, sent with the one add_registry call, and the
// input is emptied at once.
import { useMemo, useRef, useState } from "preact/hooks";
import * as api from "../api";
import type { DiscoveredRegistry, DiscoveredTenant, Discovery, Overview, RegistrySignInInput, RegistryView } from "../bindings";
import { ErrorNote } from "../components/bits";
import { DiscoveredList, DiscoveryNotes, grouped } from "../components/discovered";
import { Dialog } from "../components/dialog";
import { announce } from "../store";
import { parseRegistry } from "../validate";
import { SignInDialog, tenantPreset } from "./sign-in";

/** `existing`: change how that registry signs in (the same add, which replaces it). */
type Props = { overview: Overview; onClose: () => void; existing?: RegistryView };

/** The sign-in to offer first: the registry's own when it signs in with an account, else an
 * account (the way off the admin account), else the admin password. */
function firstChoice(overview: Overview, existing?: RegistryView): string {
  if (existing?.signIn.kind === "identity") return `identity:${existing.signIn.identity}`;
  if (existing?.signIn.kind === "acrToken") return "acrToken";
  const account = overview.accounts[0];
  return account ? `identity:${account.id}` : "adminPassword";
}

export function AddRegistryDialog({ overview, onClose, existing }: Props) {
  const { accounts, cloud } = overview;
  const [mode, setMode] = useState<"type" | "discover">("type");
  const [input, setInput] = useState(existing?.loginServer ?? "");
  const [touched, setTouched] = useState(false);
  const [trust, setTrust] = useState(existing?.trustedCustomDomain ?? false);
  const [signIn, setSignIn] = useState(firstChoice(overview, existing));
  const [username, setUsername] = useState("");
  const password = useRef<HTMLInputElement>(null);
  const [tokenName, setTokenName] = useState(existing?.signIn.kind === "acrToken" ? existing.signIn.token : "");
  const [watcher, setWatcher] = useState(existing?.signIn.kind === "acrToken" ? (existing.signIn.watchedBy ?? "") : (accounts[0]?.id ?? ""));
  const tokenPassword = useRef<HTMLInputElement>(null);
  const nameRef = useRef<HTMLInputElement>(null);
  const [serverError, setServerError] = useState<api.UiError | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);

  const parsed = parseRegistry(input, cloud.acrSuffix);
  const fieldError = parsed.kind === "error" && (touched || !parsed.later) ? parsed.message : null;

  function pick(r: DiscoveredRegistry, identity: string) {
    setInput(r.loginServer);
    setSignIn(`identity:${identity}`);
    setServerError(null);
    setMode("type");
    setTimeout(() => nameRef.current?.focus(), 0);
  }

  async function submit(e: Event) {
    e.preventDefault();
    setTouched(true);
    setFormError(null);
    if (parsed.kind === "empty" || parsed.kind === "error") {
      nameRef.current?.focus();
      return;
    }
    if (parsed.kind === "custom" && !trust) {
      setFormError(`Tick “Trust ${parsed.host}” to send it Azure tokens, or use a registry inside ${cloud.acrSuffix}.`);
      return;
    }
    let choice: RegistrySignInInput;
    if (signIn === "adminPassword") {
      const pw = password.current?.value ?? "";
      if (!username.trim() || !pw) {
        setFormError("Enter the admin username and password.");
        return;
      }
      choice = { kind: "adminPassword", username: username.trim(), password: pw };
    } else if (signIn === "acrToken") {
      const pw = tokenPassword.current?.value ?? "";
      const name = tokenName.trim();
      if (!/^[A-Za-z0-9-]{5,50}$/.test(name)) {
        setFormError("A token name is 5–50 letters, digits and hyphens.");
        return;
      }
      if (!pw) {
        setFormError("Enter one of the token's passwords.");
        return;
      }
      choice = { kind: "acrToken", token: name, password: pw, watchedBy: watcher || null };
    } else {
      const [kind, identity] = splitChoice(signIn);
      choice = { kind, identity };
    }
    setSending(true);
    setServerError(null);
    const call = api.addRegistry({ nameOrLoginServer: input.trim(), signIn: choice, trustCustomDomain: parsed.kind === "custom" && trust });
    // The password has been handed over: it leaves the DOM now, whatever the answer.
    if (password.current) password.current.value = "";
    if (tokenPassword.current) tokenPassword.current.value = "";
    try {
      const reg = await call;
      announce(existing ? `${reg.name}: sign-in changed.` : `${reg.name} added.`);
      onClose();
    } catch (err) {
      setServerError(api.asError(err));
      setSending(false);
    }
  }

  const describedBy = [fieldError || serverError ? "name-error" : "", "name-help"].filter(Boolean).join(" ");
  return (
    <Dialog title={existing ? `Change how ${existing.name} signs in` : "Add a registry"} onClose={onClose} wide id="add-dialog">
      {!existing && (
        <div class="segmented" role="group" aria-label="How to add">
          <button type="button" aria-pressed={mode === "type"} onClick={() => setMode("type")} id="mode-type">
            Enter a name
          </button>
          <button type="button" aria-pressed={mode === "discover"} onClick={() => setMode("discover")} id="mode-discover" disabled={accounts.length === 0}>
            Find in Azure
          </button>
        </div>
      )}
      {mode === "discover" ? (
        <DiscoverPanel overview={overview} onPick={pick} />
      ) : (
        <form class="form" onSubmit={submit} noValidate>
          <div class="field">
            <label for="reg-name">Registry name or login server</label>
            <input
              id="reg-name"
              ref={nameRef}
              autofocus={!existing}
              readOnly={existing !== undefined}
              autocomplete="off"
              spellcheck={false}
              value={input}
              placeholder={`myregistry or myregistry.${cloud.acrSuffix}`}
              aria-invalid={fieldError ? true : undefined}
              aria-describedby={describedBy}
              onInput={(e) => {
                setInput(e.currentTarget.value);
                setServerError(null);
                setFormError(null);
              }}
              onBlur={() => input && setTouched(true)}
            />
            {fieldError && (
              <p class="field-error" id="name-error">
                {fieldError}
              </p>
            )}
            {!fieldError && serverError && <ErrorNote error={serverError} id="name-error" alert />}
            <p class="field-help" id="name-help">
              {help(parsed, cloud.acrSuffix)}
            </p>
          </div>
          {parsed.kind === "custom" && (
            <div class={parsed.lookalike ? "trust-box warn" : "trust-box"}>
              {parsed.lookalike && (
                <p class="field-error" id="lookalike">
                  {parsed.host} is not an Azure registry: it only contains “{cloud.acrSuffix}” and belongs to another domain.
                </p>
              )}
              <label class="check">
                <input type="checkbox" id="trust" checked={trust} onChange={(e) => setTrust(e.currentTarget.checked)} />
                <span>
                  Trust {parsed.host}: send it my Azure tokens. Only for a registry you know is yours (a custom domain in front of ACR).
                </span>
              </label>
            </div>
          )}
          <div class="field">
            <label for="reg-signin">Sign in with</label>
            <select id="reg-signin" value={signIn} onChange={(e) => setSignIn(e.currentTarget.value)} autofocus={existing !== undefined}>
              {accounts.length > 0 && (
                <optgroup label="Accounts">
                  {accounts.map((a) => (
                    <option key={a.id} value={`identity:${a.id}`}>
                      {a.label}
                    </option>
                  ))}
                </optgroup>
              )}
              <optgroup label="The registry's admin account">
                {accounts.map((a) => (
                  <option key={a.id} value={`adminArm:${a.id}`}>
                    Admin account, password read through Azure with {a.label}
                  </option>
                ))}
                <option value="adminPassword">Admin account, username and password</option>
              </optgroup>
              <optgroup label="A token of the registry (scope map)">
                <option value="acrToken">ACR token, name and password</option>
              </optgroup>
            </select>
          </div>
          {signIn === "adminPassword" && (
            <div class="field-row">
              <div class="field">
                <label for="admin-user">Username</label>
                <input id="admin-user" autocomplete="off" value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
              </div>
              <div class="field">
                <label for="admin-password">Password</label>
                {/* Uncontrolled on purpose: the password never enters component state. */}
                <input id="admin-password" type="password" ref={password} autocomplete="off" />
              </div>
            </div>
          )}
          {signIn === "acrToken" && (
            <>
              <div class="field-row">
                <div class="field">
                  <label for="acr-token-name">Token name</label>
                  <input id="acr-token-name" autocomplete="off" spellcheck={false} value={tokenName} onInput={(e) => setTokenName(e.currentTarget.value)} />
                </div>
                <div class="field">
                  <label for="acr-token-password">Token password</label>
                  {/* Uncontrolled on purpose: the password never enters component state. */}
                  <input id="acr-token-password" type="password" ref={tokenPassword} autocomplete="off" />
                </div>
              </div>
              <div class="field">
                <label for="acr-token-watcher">Warn before its password expires, reading it with</label>
                <select id="acr-token-watcher" value={watcher} onChange={(e) => setWatcher(e.currentTarget.value)} aria-describedby="acr-token-help">
                  {accounts.map((a) => (
                    <option key={a.id} value={a.id}>
                      {a.label}
                    </option>
                  ))}
                  <option value="">Nobody: do not watch its expiry</option>
                </select>
                <p class="field-help" id="acr-token-help">
                  The account needs Reader on the registry to read the token in Azure. ACR Tray warns 14 days and 1 day before its password expires, and when the token is disabled.
                </p>
              </div>
            </>
          )}
          {formError && (
            <p class="field-error" role="alert" id="form-error">
              {formError}
            </p>
          )}
          <div class="dialog-actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" class="primary" disabled={sending} id="add-submit">
              {existing ? (sending ? "Saving…" : "Save") : sending ? "Adding…" : "Add registry"}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

function splitChoice(v: string): ["identity" | "adminArm", string] {
  const i = v.indexOf(":");
  return [v.slice(0, i) === "adminArm" ? "adminArm" : "identity", v.slice(i + 1)];
}

function help(p: ReturnType<typeof parseRegistry>, suffix: string): string {
  switch (p.kind) {
    case "name":
      return `Login server: ${p.loginServer}`;
    case "loginServer":
      return `Inside ${suffix}.`;
    case "custom":
      return `Outside ${suffix}: a custom domain.`;
    default:
      return `5–50 letters and digits, or a login server ending in .${suffix}.`;
  }
}

function DiscoverPanel({ overview, onPick }: { overview: Overview; onPick: (r: DiscoveredRegistry, identity: string) => void }) {
  const [identity, setIdentity] = useState(overview.accounts[0]?.id ?? "");
  const [result, setResult] = useState<Discovery | null>(null);
  const [error, setError] = useState<api.UiError | null>(null);
  const [loading, setLoading] = useState(false);
  const [query, setQuery] = useState("");
  /** A tenant's own sign-in, open. */
  const [signInAt, setSignInAt] = useState<DiscoveredTenant | null>(null);
  const label = overview.accounts.find((a) => a.id === identity)?.label ?? identity;

  async function list(e?: Event) {
    e?.preventDefault();
    setLoading(true);
    setError(null);
    setResult(null);
    try {
      setResult(await api.discoverRegistries(identity));
    } catch (err) {
      setError(api.asError(err));
    } finally {
      setLoading(false);
    }
  }

  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    const all = result?.registries ?? [];
    return q ? all.filter((r) => [r.name, r.loginServer, r.resourceGroup, r.subscription].some((s) => s.toLowerCase().includes(q))) : all;
  }, [result, query]);

  return (
    <div class="form">
      <form class="field-row align-end" onSubmit={list}>
        <div class="field grow">
          <label for="disc-identity">List the registries this account can see</label>
          <select id="disc-identity" value={identity} onChange={(e) => setIdentity(e.currentTarget.value)}>
            {overview.accounts.map((a) => (
              <option key={a.id} value={a.id}>
                {a.label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" disabled={loading || !identity} id="disc-list">
          {loading ? "Listing…" : "List registries"}
        </button>
      </form>
      {error && <ErrorNote error={error} alert />}
      {result && <DiscoveryNotes result={result} />}
      {result && (
        <>
          <div class="field">
            <label for="disc-search">Search</label>
            <input id="disc-search" type="search" value={query} onInput={(e) => setQuery(e.currentTarget.value)} placeholder="Name, resource group or subscription" />
          </div>
          <p class="sr-only" aria-live="polite">
            {shown.length} of {result.registries.length} registries shown
          </p>
          {shown.length === 0 && !grouped(result.tenants) ? (
            <p class="muted">{result.registries.length === 0 ? "This account can list no registries." : "No registry matches."}</p>
          ) : (
            <DiscoveredList registries={shown} tenants={result.tenants} onSignInTenant={setSignInAt} control={{ kind: "pick", onPick: (r) => onPick(r, identity) }} />
          )}
          {signInAt && <SignInDialog preset={tenantPreset(label, signInAt)} onClose={() => setSignInAt(null)} onSignedIn={() => void list()} />}
        </>
      )}
    </div>
  );
}
