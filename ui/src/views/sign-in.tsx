// The sign-in dialog: you (browser or device code), a service principal (secret or certificate),
// a managed identity or the Azure CLI. A user sign-in stays pending until Entra answers; meanwhile
// a device code arrives as the `device-code` event and is shown large, with copy and the link.
// The form and its state (useSignIn, SignInBody) serve the first-run guide's step 1 as well.
import { useEffect, useRef, useState } from "preact/hooks";
import * as api from "../api";
import type { AccountView, DeviceCodePrompt } from "../bindings";
import { ErrorNote } from "../components/bits";
import { Dialog } from "../components/dialog";
import { announce, useTick } from "../store";
import { duration, engineNow } from "../time";

export type Method = "browser" | "deviceCode" | "servicePrincipal" | "managedIdentity" | "azureCli";
/**
 * Where the sign-in starts. `at`: a sign-in of a signed-in person to one tenant of their account
 * (a guest tenant that demands MFA or a Conditional Access policy): browser or device code only,
 * the tenant fixed, and only that tenant's demand is answered.
 */
export type Preset = { method: Method; tenant: string | null; at?: { name: string; account: string } };

const METHODS: Array<[Method, string, string]> = [
  ["browser", "With the browser", "Your Entra ID account, in your default browser."],
  ["deviceCode", "With a code", "Type a code on another device (no browser here, SSH, kiosk)."],
  ["servicePrincipal", "Service principal", "An app registration with a secret or certificate."],
  ["managedIdentity", "Managed identity", "This Azure VM's identity, from its metadata service."],
  ["azureCli", "Azure CLI", "Reuse the session of “az login” on this machine."],
];

const opt = (s: string) => (s.trim() === "" ? null : s.trim());

export type SignIn = ReturnType<typeof useSignIn>;

/**
 * The sign-in's state and its one submit, shared by the Accounts dialog and the first-run guide:
 * `onSignedIn` gets the new account once the engine has it.
 */
export function useSignIn(preset: Preset, onSignedIn: (acc: AccountView) => void) {
  const [method, setMethod] = useState<Method>(preset.method);
  const [tenant, setTenant] = useState(preset.tenant ?? "");
  const [clientId, setClientId] = useState("");
  const [spCred, setSpCred] = useState<"secret" | "certificate">("secret");
  const [certPath, setCertPath] = useState("");
  const secret = useRef<HTMLInputElement>(null);
  const [waiting, setWaiting] = useState(false);
  const [prompt, setPrompt] = useState<DeviceCodePrompt | null>(null);
  const [error, setError] = useState<api.UiError | null>(null);
  // Listen before any sign-in starts so the device code can't arrive before we do.
  const listening = useRef<Promise<unknown> | null>(null);
  useEffect(() => {
    const un = api.onDeviceCode(setPrompt);
    listening.current = un;
    return () => void un.then((f) => f());
  }, []);

  const isUser = method === "browser" || method === "deviceCode";

  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    let call: Promise<AccountView>;
    if (isUser) {
      await listening.current;
      setPrompt(null);
      setWaiting(true);
      call = api.signInUser({ method, tenant: opt(tenant), clientId: opt(clientId) });
    } else if (method === "servicePrincipal") {
      const value = secret.current?.value ?? "";
      if (!tenant.trim() || !clientId.trim() || (spCred === "secret" ? !value : !certPath.trim())) {
        setError({ code: "invalidInput", message: `Enter the tenant, the client id and the ${spCred === "secret" ? "secret" : "certificate file"}.`, hint: null, at: null });
        return;
      }
      setWaiting(true);
      call = api.signInServicePrincipal({
        tenant: tenant.trim(),
        clientId: clientId.trim(),
        credential: spCred === "secret" ? { kind: "secret", secret: value } : { kind: "certificate", path: certPath.trim() },
      });
      // Sent once; the secret leaves the DOM now, whatever the answer (re-typing beats keeping it).
      if (secret.current) secret.current.value = "";
    } else if (method === "managedIdentity") {
      setWaiting(true);
      call = api.signInManagedIdentity(opt(clientId));
    } else {
      setWaiting(true);
      call = api.signInAzureCli(opt(tenant));
    }
    try {
      const acc = await call;
      announce(`Signed in: ${acc.label}.`);
      setWaiting(false);
      onSignedIn(acc);
    } catch (err) {
      const ev = api.asError(err);
      setWaiting(false);
      setPrompt(null);
      if (ev.code === "cancelled") announce("Sign-in cancelled.");
      else setError(ev);
    }
  }

  /** Escape or "Cancel sign-in" while a browser or device-code sign-in is pending: the pending
   * sign_in_user rejects with `cancelled`, which returns to the form. Returns whether it did. */
  function cancelPending(): boolean {
    if (!(waiting && isUser)) return false;
    api.cancelSignIn().catch(() => undefined);
    return true;
  }

  return {
    preset, method, setMethod, tenant, setTenant, clientId, setClientId, spCred, setSpCred, certPath, setCertPath,
    secret, waiting, prompt, error, setError, isUser, submit, cancelPending,
  };
}

/** `onSignedIn`: told once the engine has the account (before the dialog closes). */
export function SignInDialog({ preset, onClose, onSignedIn }: { preset: Preset; onClose: () => void; onSignedIn?: (acc: AccountView) => void }) {
  const s = useSignIn(preset, (acc) => {
    onSignedIn?.(acc);
    onClose();
  });
  function cancel() {
    if (!s.cancelPending() && !s.waiting) onClose();
  }
  const title = s.prompt ? "Enter the code" : preset.at ? `Sign in to tenant ${preset.at.name}` : "Sign in";
  return (
    <Dialog title={title} onClose={cancel} wide id="sign-in-dialog">
      <SignInBody s={s} onCancel={onClose} />
    </Dialog>
  );
}

/**
 * The methods and their fields, or, while a user sign-in is pending, the wait (with the device
 * code). `onCancel`: a Cancel button beside the submit (the dialog has one; the guide has Skip).
 */
export function SignInBody({ s, onCancel, submitLabel }: { s: SignIn; onCancel?: () => void; submitLabel?: string }) {
  const { method, setMethod, tenant, setTenant, clientId, setClientId, spCred, setSpCred, certPath, setCertPath, secret, waiting, error, setError, isUser } = s;
  if (waiting && isUser) return <Waiting method={method} prompt={s.prompt} onCancel={s.cancelPending} />;
  const at = s.preset.at;
  // A sign-in to one tenant of a signed-in person is that person's: browser or device code.
  const methods = at ? METHODS.filter(([m]) => m === "browser" || m === "deviceCode") : METHODS;
  return (
    <form class="form" onSubmit={s.submit} noValidate>
      {at && (
        <p class="muted" id="si-at-tenant">
          Sign in as <strong>{at.account}</strong> to the tenant <strong>{at.name}</strong> (<span class="mono">{s.preset.tenant}</span>), to answer what it asks
          (multi-factor authentication or a policy). Your other tenants keep working meanwhile.
        </p>
      )}
      <fieldset class="methods">
        <legend>How</legend>
        {methods.map(([m, label, note]) => (
          <label key={m} class={method === m ? "method checked" : "method"}>
            <input type="radio" name="method" value={m} checked={method === m} autofocus={m === s.preset.method} onChange={() => { setMethod(m); setError(null); }} />
            <span>
              <strong>{label}</strong>
              <span class="muted">{note}</span>
            </span>
          </label>
        ))}
      </fieldset>
      {!at && (isUser || method === "servicePrincipal" || method === "azureCli") && (
        <div class="field">
          <label for="si-tenant">Tenant{method === "servicePrincipal" ? "" : " (optional)"}</label>
          <input id="si-tenant" value={tenant} autocomplete="off" spellcheck={false}
            placeholder={method === "servicePrincipal" ? "contoso.onmicrosoft.com or tenant id" : "organizations"}
            onInput={(e) => setTenant(e.currentTarget.value)} />
        </div>
      )}
      {!at && (method === "servicePrincipal" || method === "managedIdentity" || isUser) && (
        <div class="field">
          <label for="si-client">Client id{method === "servicePrincipal" ? "" : " (optional)"}</label>
          <input id="si-client" value={clientId} autocomplete="off" spellcheck={false}
            placeholder={isUser ? "Azure CLI's app (default)" : method === "managedIdentity" ? "System-assigned (default)" : "00000000-0000-0000-0000-000000000000"}
            onInput={(e) => setClientId(e.currentTarget.value)} />
        </div>
      )}
      {method === "servicePrincipal" && (
        <>
          <div class="segmented" role="radiogroup" aria-label="Credential">
            <label class="seg"><input type="radio" name="cred" checked={spCred === "secret"} onChange={() => setSpCred("secret")} /> Secret</label>
            <label class="seg"><input type="radio" name="cred" checked={spCred === "certificate"} onChange={() => setSpCred("certificate")} /> Certificate</label>
          </div>
          {spCred === "secret" ? (
            <div class="field">
              <label for="si-secret">Client secret</label>
              {/* Uncontrolled on purpose: the secret never enters component state. */}
              <input id="si-secret" type="password" ref={secret} autocomplete="off" />
              <p class="field-help">Kept in the system keyring, never in the settings file.</p>
            </div>
          ) : (
            <div class="field">
              <label for="si-cert">Certificate file (PEM with the private key)</label>
              <input id="si-cert" value={certPath} autocomplete="off" spellcheck={false} class="mono"
                placeholder="/home/me/.config/sp.pem" onInput={(e) => setCertPath(e.currentTarget.value)} />
            </div>
          )}
        </>
      )}
      {error && <ErrorNote error={error} alert id="sign-in-error" />}
      <div class="dialog-actions">
        {onCancel && <button type="button" onClick={onCancel} disabled={waiting}>Cancel</button>}
        <button type="submit" class="primary" disabled={waiting} id="sign-in-submit">
          {waiting ? "Signing in…" : submitLabel ?? (method === "browser" ? "Open the browser" : method === "deviceCode" ? "Get a code" : "Sign in")}
        </button>
      </div>
    </form>
  );
}

function Waiting({ method, prompt, onCancel }: { method: Method; prompt: DeviceCodePrompt | null; onCancel: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const copyBtn = useRef<HTMLButtonElement>(null);
  const cancelBtn = useRef<HTMLButtonElement>(null);
  useTick(1000);
  // The form (and the focused submit button) just went away: put focus where the next action is.
  useEffect(() => (prompt ? copyBtn : cancelBtn).current?.focus(), [prompt !== null]);
  async function copy() {
    if (!prompt) return;
    try {
      await navigator.clipboard.writeText(prompt.userCode);
      setCopied("Copied");
      announce("Code copied.");
    } catch {
      // No clipboard access: select the code so Ctrl+C works.
      const el = document.getElementById("device-code");
      if (el) window.getSelection()?.selectAllChildren(el);
      setCopied("Press Ctrl+C to copy");
    }
  }
  return (
    <div class="waiting">
      {prompt ? (
        <>
          <p>
            On any device, open{" "}
            <a href={prompt.verificationUri} target="_blank" rel="noreferrer" id="device-link">{prompt.verificationUri}</a>{" "}
            and enter this code:
          </p>
          <div class="code-row">
            <output id="device-code" class="device-code" aria-label="Sign-in code">{prompt.userCode}</output>
            <button type="button" onClick={copy} id="copy-code" ref={copyBtn}>{copied ?? "Copy code"}</button>
          </div>
          <p class="muted" id="device-expiry">{expiresText(prompt.expiresAt)} · Waiting for you to finish…</p>
          <p class="muted small">{prompt.message}</p>
        </>
      ) : (
        <p class="muted" aria-live="polite">
          <span class="spinner" aria-hidden="true" />
          {method === "browser" ? "Finish signing in in your browser…" : "Asking Entra ID for a code…"}
        </p>
      )}
      <div class="dialog-actions">
        <button type="button" onClick={onCancel} id="cancel-sign-in" ref={cancelBtn}>Cancel sign-in</button>
      </div>
    </div>
  );
}

function expiresText(at: string): string {
  const left = Date.parse(at) - engineNow();
  return left > 0 ? `The code expires in ${duration(left)}` : "The code has expired";
}

/** The sign-in of a signed-in person (`account`, their label) to one tenant of theirs that demands it. */
export const tenantPreset = (account: string, tenant: { id: string; name: string }): Preset => ({
  method: "browser",
  tenant: tenant.id,
  at: { name: tenant.name, account },
});
