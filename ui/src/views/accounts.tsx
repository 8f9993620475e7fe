// Accounts: the identities registries sign in with, how healthy each session is and when a
// sign-in-frequency policy is expected to end it, with "Sign in again" and "Sign out".
import { useEffect, useState } from "preact/hooks";
import * as api from "../api";
import type { AccountView, IdentityKindName, Overview } from "../bindings";
import { accountHealth, Badge, ErrorNote } from "../components/bits";
import { Confirm } from "../components/dialog";
import { announce, useTick } from "../store";
import { clockTime, engineNow, relative } from "../time";
import { type Preset, SignInDialog } from "./sign-in";

export const kindLabel: Record<IdentityKindName, string> = {
  user: "Your account",
  servicePrincipal: "Service principal (secret)",
  servicePrincipalCertificate: "Service principal (certificate)",
  managedIdentity: "Managed identity",
  azureCli: "Azure CLI",
  workloadIdentity: "Workload identity",
};

type Props = { overview: Overview; signInFor: { identity: string | null } | null; onSignInHandled: () => void };

export function AccountsView({ overview, signInFor, onSignInHandled }: Props) {
  const [signIn, setSignIn] = useState<Preset | null>(null);
  const [signingOut, setSigningOut] = useState<AccountView | null>(null);
  useTick(15_000);

  // The tray or a notification asked for a sign-in (`navigate` with signIn): open it once.
  useEffect(() => {
    if (!signInFor) return;
    const acc = overview.accounts.find((a) => a.id === signInFor.identity);
    setSignIn(acc ? presetFor(acc) : { method: "browser", tenant: null });
    onSignInHandled();
  }, [signInFor]);

  async function signOut(acc: AccountView) {
    setSigningOut(null);
    try {
      await api.signOut(acc.id);
      announce(`Signed out ${acc.label}.`);
    } catch (e) {
      announce(`Could not sign out ${acc.label}: ${api.asError(e).message}`);
    }
  }

  const now = engineNow();
  return (
    <section aria-labelledby="accounts-title">
      <header class="view-head">
        <div>
          <h1 id="accounts-title">Accounts</h1>
          <p class="muted">The identities your registries sign in with. Secrets stay in the system keyring.</p>
        </div>
        <div class="actions">
          <button type="button" class="primary" onClick={() => setSignIn({ method: "browser", tenant: null })} id="sign-in">
            Sign in…
          </button>
        </div>
      </header>
      {overview.accounts.length === 0 ? (
        <div class="empty">
          <p>Not signed in.</p>
          <p class="muted">Sign in with your Azure account, a service principal, a managed identity or the Azure CLI.</p>
        </div>
      ) : (
        <ul class="cards" aria-label="Accounts">
          {overview.accounts.map((a) => {
            const [tone, label] = accountHealth[a.health];
            const headId = `acc-${a.id}`;
            return (
              <li class="card" key={a.id} aria-labelledby={headId} data-account={a.id}>
                <div class="card-head">
                  <div class="card-title">
                    <h3 id={headId}>{a.label}</h3>
                    <span class="muted">
                      {kindLabel[a.kind]}
                      {a.tenant ? ` · tenant ${a.tenant}` : ""}
                    </span>
                  </div>
                  <div class="card-side">
                    <Badge tone={tone} label={label} />
                    {a.interactive && a.health !== "ok" && (
                      <button type="button" class="primary" onClick={() => setSignIn(presetFor(a))} aria-label={`Sign in again as ${a.label}`}>
                        Sign in again
                      </button>
                    )}
                    <button type="button" class="quiet danger-text" onClick={() => setSigningOut(a)} aria-label={`Sign out ${a.label}`}>
                      Sign out
                    </button>
                  </div>
                </div>
                <dl class="facts accounts">
                  <div>
                    <dt>Last sign-in</dt>
                    <dd>{a.lastSignIn ? `${clockTime(a.lastSignIn, now)} · ${relative(a.lastSignIn, now)}` : "—"}</dd>
                  </div>
                  <div>
                    <dt>Session</dt>
                    <dd class="session-end">{sessionText(a, now)}</dd>
                  </div>
                  <div>
                    <dt>Used by</dt>
                    <dd>{a.registryCount === 1 ? "1 registry" : `${a.registryCount} registries`}</dd>
                  </div>
                </dl>
                {a.signInRequired && <ErrorNote error={a.signInRequired} />}
              </li>
            );
          })}
        </ul>
      )}
      {signIn && <SignInDialog preset={signIn} onClose={() => setSignIn(null)} />}
      {signingOut && (
        <Confirm
          title={`Sign out ${signingOut.label}?`}
          message={
            signingOut.registryCount > 0
              ? `${signingOut.registryCount === 1 ? "1 registry uses" : `${signingOut.registryCount} registries use`} it and will stop being refreshed. Its saved secret or session is removed from the keyring.`
              : "Its saved secret or session is removed from the keyring."
          }
          confirm="Sign out"
          onConfirm={() => signOut(signingOut)}
          onCancel={() => setSigningOut(null)}
        />
      )}
    </section>
  );
}

function presetFor(a: AccountView): Preset {
  if (a.kind === "azureCli") return { method: "azureCli", tenant: a.tenant };
  if (a.kind === "managedIdentity") return { method: "managedIdentity", tenant: null };
  if (a.kind === "servicePrincipal" || a.kind === "servicePrincipalCertificate") return { method: "servicePrincipal", tenant: a.tenant };
  return { method: "browser", tenant: a.tenant };
}

function sessionText(a: AccountView, now: number): string {
  if (a.health === "signInRequired") return "Ended: sign in again";
  if (a.expectedSessionEnd) return `A sign-in will be needed around ${clockTime(a.expectedSessionEnd, now)}`;
  return a.interactive ? "No end expected" : "Renewed automatically";
}
