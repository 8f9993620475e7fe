// Accounts: the identities registries sign in with, how healthy each session is and when a
// sign-in-frequency policy is expected to end it, with "Sign in again" and "Sign out". A person's
// account with several tenants (home and guest) lists them, each with what it demands and
// "Sign in to tenant …" for one that asks for a sign-in of its own.
import { useEffect, useState } from "preact/hooks";
import * as api from "../api";
import type { AccountView, IdentityKindName, Overview, TenantView } from "../bindings";
import { accountHealth, Badge, ErrorNote } from "../components/bits";
import { Confirm } from "../components/dialog";
import { announce, useTick } from "../store";
import { clockTime, engineNow, relative } from "../time";
import { type Preset, SignInDialog, tenantPreset } from "./sign-in";

export const kindLabel: Record<IdentityKindName, string> = {
  user: "Your account",
  servicePrincipal: "Service principal (secret)",
  servicePrincipalCertificate: "Service principal (certificate)",
  managedIdentity: "Managed identity",
  azureCli: "Azure CLI",
  workloadIdentity: "Workload identity",
};

/** Open a sign-in: for an identity (null: a new one), and to one tenant of it when `tenant` is set. */
export type SignInFor = { identity: string | null; tenant?: string | null };

type Props = { overview: Overview; signInFor: SignInFor | null; onSignInHandled: () => void };

export function AccountsView({ overview, signInFor, onSignInHandled }: Props) {
  const [signIn, setSignIn] = useState<Preset | null>(null);
  const [signingOut, setSigningOut] = useState<AccountView | null>(null);
  useTick(15_000);

  // The tray, a notification (`navigate` with signIn) or a registry card asked for a sign-in: open
  // it once. A person whose session is fine but one of whose tenants demands a sign-in is asked
  // for that tenant's (the one the card named, else the first that demands one).
  useEffect(() => {
    if (!signInFor) return;
    const acc = overview.accounts.find((a) => a.id === signInFor.identity);
    const tenant = acc && acc.health !== "signInRequired" ? demandingTenant(acc, signInFor.tenant ?? null) : undefined;
    setSignIn(acc ? (tenant ? tenantPreset(acc.label, tenant) : presetFor(acc)) : { method: "browser", tenant: null });
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
                    <h2 id={headId}>{a.label}</h2>
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
                {a.tenants && a.tenants.length > 1 && <Tenants account={a} onSignIn={(t) => setSignIn(tenantPreset(a.label, t))} />}
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

/**
 * The tenants of a person's account: home marked, each named with its domain and id, and for one
 * that demands a sign-in of its own, why and the button the engine's hint names.
 */
function Tenants({ account, onSignIn }: { account: AccountView; onSignIn: (t: TenantView) => void }) {
  const tenants = [...(account.tenants ?? [])].sort((x, y) => Number(y.home) - Number(x.home));
  const headId = `acc-${account.id}-tenants`;
  return (
    <div class="tenants">
      <h3 id={headId}>Tenants</h3>
      <ul aria-labelledby={headId}>
        {tenants.map((t) => (
          <li key={t.id} class="tenant" data-tenant={t.id}>
            <div class="tenant-row">
              <span class="tenant-who">
                <span class="tenant-name">
                  <strong>{t.name}</strong>
                  {t.home ? <span class="chip">Home</span> : <span class="chip">Guest</span>}
                </span>
                <span class="mono muted tenant-id">
                  {t.domain && t.domain !== t.name ? `${t.domain} · ` : ""}
                  {t.id}
                </span>
              </span>
              {t.signInRequired ? (
                <span class="tenant-side">
                  <Badge tone="warn" label="Sign-in required" />
                  {account.interactive && (
                    <button type="button" class="primary" onClick={() => onSignIn(t)} aria-label={`Sign in to tenant ${t.name} as ${account.label}`}>
                      Sign in to tenant {t.name}…
                    </button>
                  )}
                </span>
              ) : (
                <span class="tenant-side">
                  <Badge tone={account.health === "signInRequired" ? "idle" : "ok"} label={account.health === "signInRequired" ? "Waits for your sign-in" : "Works"} />
                </span>
              )}
            </div>
            {t.signInRequired && <ErrorNote error={t.signInRequired} />}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The tenant of `acc` that demands a sign-in: `id` if it does, else the first that does. */
function demandingTenant(acc: AccountView, id: string | null): TenantView | undefined {
  const demanding = (acc.tenants ?? []).filter((t) => t.signInRequired);
  return demanding.find((t) => id !== null && t.id.toLowerCase() === id.toLowerCase()) ?? (id === null ? demanding[0] : undefined);
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
