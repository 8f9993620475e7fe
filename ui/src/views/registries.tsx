// Registries: each one's health, when it was refreshed, when Docker's credential runs out and when
// the engine will refresh it next; refresh one or all; remove; add (dialog in add-registry.tsx);
// check the credential Docker holds, and what it may do on a repository.
import { useEffect, useRef, useState } from "preact/hooks";
import * as api from "../api";
import type { AccountView, AdminAccountView, CheckReport, CredentialSource, Overview, RegistryRole, RegistrySignInView, RegistryView } from "../bindings";
import { Badge, ErrorNote, registryHealth } from "../components/bits";
import { ClientFilesNote } from "../components/client-files";
import { Confirm } from "../components/dialog";
import { announce, useTick } from "../store";
import { clockTime, duration, engineNow, relative } from "../time";
import { AddRegistryDialog } from "./add-registry";

/** `onSignIn`: open the sign-in (for that identity, at that tenant of it; null: a new one). */
export function RegistriesView({ overview, onSignIn }: { overview: Overview; onSignIn: (identity: string | null, tenant?: string) => void }) {
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<string | null>(null);
  const [disablingAdmin, setDisablingAdmin] = useState<string | null>(null);
  const [changing, setChanging] = useState<RegistryView | null>(null);
  const [busy, setBusy] = useState<Set<string>>(new Set());
  useTick(1000);

  async function refresh(names: string[]) {
    const all = names.length === 0;
    const keys = all ? overview.registries.map((r) => r.name) : names;
    setBusy((b) => new Set([...b, ...keys]));
    announce(all ? "Refreshing all registries…" : `Refreshing ${names.join(", ")}…`);
    try {
      const out = await api.refreshNow(names);
      const failed = out.filter((o) => !o.ok);
      if (failed.length === 0) announce(all ? "All registries refreshed." : `${names.join(", ")} refreshed.`);
      else announce(`Could not refresh ${failed.map((f) => f.name).join(", ")}: ${failed[0]?.error?.message ?? "failed"}`);
    } catch (e) {
      announce(`Refresh failed: ${api.asError(e).message}`);
    } finally {
      setBusy((b) => new Set([...b].filter((n) => !keys.includes(n))));
    }
  }

  async function remove(name: string) {
    setRemoving(null);
    try {
      await api.removeRegistry(name);
      announce(`${name} removed. Its credential stays in Docker until it expires.`);
    } catch (e) {
      announce(`Could not remove ${name}: ${api.asError(e).message}`);
    }
  }

  async function disableAdmin(name: string) {
    setDisablingAdmin(null);
    announce(`Disabling the admin account of ${name}…`);
    try {
      await api.setAdminAccount(name, false);
      announce(`The admin account of ${name} is disabled.`);
    } catch (e) {
      const err = api.asError(e);
      announce(`Could not disable the admin account of ${name}: ${err.message}${err.hint ? ` ${err.hint}` : ""}`);
    }
  }

  const regs = overview.registries;
  return (
    <section aria-labelledby="registries-title">
      <header class="view-head">
        <div>
          <h1 id="registries-title">Registries</h1>
          <p class="muted">Docker stays logged in to these. Each is refreshed well before its token runs out.</p>
        </div>
        <div class="actions">
          {regs.length > 0 && (
            <button type="button" onClick={() => busy.size > 0 || refresh([])} aria-disabled={busy.size > 0} id="refresh-all">
              Refresh all
            </button>
          )}
          <button type="button" class="primary" onClick={() => setAdding(true)} id="add-registry">
            Add registry
          </button>
        </div>
      </header>
      <ClientFilesNote files={overview.clientFiles} />
      {regs.length === 0 ? (
        <EmptyRegistries accounts={overview.accounts} onSignIn={() => onSignIn(null)} />
      ) : (
        <ul class="cards" aria-label="Registries">
          {regs.map((r) => (
            <RegistryCard
              key={r.name}
              reg={r}
              accounts={overview.accounts}
              busy={busy.has(r.name)}
              onRefresh={() => refresh([r.name])}
              onSignIn={onSignIn}
              onRemove={() => setRemoving(r.name)}
              onDisableAdmin={() => setDisablingAdmin(r.name)}
              onChangeSignIn={() => setChanging(r)}
            />
          ))}
        </ul>
      )}
      {adding && <AddRegistryDialog overview={overview} onClose={() => setAdding(false)} />}
      {changing && <AddRegistryDialog overview={overview} existing={changing} onClose={() => setChanging(null)} />}
      {disablingAdmin && (
        <Confirm
          title={`Disable the admin account of ${disablingAdmin}?`}
          message="Its passwords stop working for everyone who uses them. Docker keeps signing in to this registry with your account."
          confirm="Disable"
          onConfirm={() => disableAdmin(disablingAdmin)}
          onCancel={() => setDisablingAdmin(null)}
        />
      )}
      {removing && (
        <Confirm
          title={`Remove ${removing}?`}
          message="ACR Tray stops refreshing it. The credential already in Docker's config stays until it expires."
          confirm="Remove"
          onConfirm={() => remove(removing)}
          onCancel={() => setRemoving(null)}
        />
      )}
    </section>
  );
}

/** No registry yet: what can be done in this state (picking from an account needs one signed in). */
function EmptyRegistries({ accounts, onSignIn }: { accounts: AccountView[]; onSignIn: () => void }) {
  const who = accounts.length === 1 && accounts[0] ? accounts[0].label : "your accounts";
  return (
    <div class="empty" id="no-registries">
      <p>No registries yet.</p>
      {accounts.length === 0 ? (
        <>
          <p class="muted">
            Sign in to pick from the registries your account can see, or add one by name with its admin account. No account is signed in yet.
          </p>
          <p>
            <button type="button" class="primary" onClick={onSignIn} id="empty-sign-in">
              Sign in…
            </button>
          </p>
        </>
      ) : (
        <>
          <p class="muted">Add one by name (e.g. “myregistry”), or pick it from those {who} can see: Add registry, then Find in Azure.</p>
        </>
      )}
    </div>
  );
}

type CardProps = {
  reg: RegistryView;
  accounts: AccountView[];
  busy: boolean;
  onRefresh: () => void;
  onRemove: () => void;
  onSignIn: (identity: string, tenant?: string) => void;
  onDisableAdmin: () => void;
  onChangeSignIn: () => void;
};

function RegistryCard({ reg, accounts, busy, onRefresh, onRemove, onSignIn, onDisableAdmin, onChangeSignIn }: CardProps) {
  // A registry waiting for a person to sign in: offer that, not a Refresh that can only fail.
  const identity = reg.signIn.kind === "identity" || reg.signIn.kind === "adminArm" ? reg.signIn.identity : null;
  const account = accounts.find((a) => a.id === identity);
  const needsSignIn = reg.health === "signInRequired" && identity !== null && account?.interactive === true;
  // Its tenant demands a sign-in of its own (the person's session is fine): that is the sign-in to offer.
  const tenant =
    needsSignIn && account?.health !== "signInRequired" && reg.tenantId
      ? account?.tenants?.find((t) => t.signInRequired && t.id.toLowerCase() === reg.tenantId)
      : undefined;
  const [tone, label] = busy ? (["busy", "Refreshing"] as const) : registryHealth[reg.health];
  const now = engineNow();
  const headId = `reg-${reg.name}`;
  const [checking, setChecking] = useState(false);
  return (
    <li class="card" aria-labelledby={headId} data-registry={reg.name}>
      <div class="card-head">
        <div class="card-title">
          <h2 id={headId}>{reg.name}</h2>
          <span class="mono muted">
            {reg.loginServer}
            {reg.trustedCustomDomain && <span class="chip">Trusted custom domain</span>}
          </span>
        </div>
        <div class="card-side">
          <Badge tone={tone} label={label} />
          {needsSignIn && identity && tenant ? (
            <button type="button" class="primary" onClick={() => onSignIn(identity, tenant.id)} aria-label={`Sign in to tenant ${tenant.name} for ${reg.name}`}>
              Sign in to tenant {tenant.name}…
            </button>
          ) : needsSignIn && identity ? (
            <button type="button" class="primary" onClick={() => onSignIn(identity)} aria-label={`Sign in again for ${reg.name}`}>
              Sign in again…
            </button>
          ) : (
            /* aria-disabled, not disabled: a disabled button drops keyboard focus mid-refresh. */
            <button type="button" onClick={() => busy || onRefresh()} aria-disabled={busy} aria-label={`Refresh ${reg.name}`}>
              {busy ? "Refreshing…" : "Refresh"}
            </button>
          )}
          <button
            type="button"
            class="quiet"
            onClick={() => setChecking((c) => !c)}
            aria-expanded={checking}
            aria-controls={`check-${reg.name}`}
            aria-label={`Check ${reg.name}`}
          >
            Check
          </button>
          <button type="button" class="quiet danger-text" onClick={onRemove} aria-label={`Remove ${reg.name}`}>
            Remove
          </button>
        </div>
      </div>
      <dl class="facts">
        <div>
          <dt>Signs in with</dt>
          <dd>
            {signInLabel(reg.signIn, accounts)}
            <button type="button" class="link" onClick={onChangeSignIn} aria-label={`Change how ${reg.name} signs in`}>
              Change…
            </button>
          </dd>
        </div>
        {reg.tenant && (
          <div>
            <dt>Tenant</dt>
            <dd class="tenant" title={reg.tenantId}>
              {reg.tenant}
            </dd>
          </div>
        )}
        <div>
          <dt>Last refresh</dt>
          <dd class="last-refresh">{reg.lastRefresh ? `${clockTime(reg.lastRefresh, now)} · ${relative(reg.lastRefresh, now)}` : "Not yet"}</dd>
        </div>
        <div>
          <dt>Docker credential</dt>
          <dd class={expiryClass(reg.expiresAt, now)}>{expiryText(reg.expiresAt, now)}</dd>
        </div>
        <div>
          <dt>Next refresh</dt>
          <dd class="next-refresh">{nextText(reg, now)}</dd>
        </div>
        {reg.role && (
          <div>
            <dt>Can</dt>
            <dd class="role">{reg.repositoryPermissions ? repositoryRoleText(reg.role, reg.roleName) : roleText(reg.role)}</dd>
          </div>
        )}
        {reg.adminAccount && (
          <div>
            <dt>Admin account</dt>
            <dd class={reg.adminAccount.enabled ? "admin-account warn-text" : "admin-account"} title={reg.adminAccount.notWatched ?? reg.adminAccount.warning ?? undefined}>
              {adminText(reg.adminAccount)}
              {reg.adminAccount.enabled && reg.signIn.kind === "identity" && (
                <button type="button" class="link" onClick={onDisableAdmin} aria-label={`Disable the admin account of ${reg.name}`}>
                  Disable…
                </button>
              )}
            </dd>
          </div>
        )}
      </dl>
      {reg.lastError && <ErrorNote error={reg.lastError} />}
      {checking && <CheckPanel name={reg.name} />}
    </li>
  );
}

type CheckState = { busy: boolean; report: CheckReport | null; error: api.UiError | null };

/**
 * The card's "Check" (opening it checks at once): asks the engine to use the credential Docker holds as Docker would — that
 * it authenticates, and (with a repository) which of pull, push and delete it is granted there.
 */
function CheckPanel({ name }: { name: string }) {
  const [repo, setRepo] = useState("");
  const [state, setState] = useState<CheckState>({ busy: false, report: null, error: null });
  const id = `check-${name}`;
  const field = useRef<HTMLInputElement>(null);

  async function run(repository: string | null) {
    if (state.busy) return;
    setState({ busy: true, report: null, error: null });
    try {
      const report = await api.checkRegistry(name, repository);
      setState({ busy: false, report, error: null });
    } catch (e) {
      setState({ busy: false, report: null, error: api.asError(e) });
    }
  }

  // Opening the panel checks that the credential signs in, and leaves the keyboard in the
  // repository field for the next question.
  useEffect(() => {
    field.current?.focus();
    void run(null);
  }, []);

  return (
    <form
      class="check"
      id={id}
      aria-label={`Check ${name}`}
      onSubmit={(e) => {
        e.preventDefault();
        void run(repo.trim() === "" ? null : repo.trim());
      }}
    >
      <div class="field">
        <label for={`${id}-repo`}>Repository (optional)</label>
        <div class="check-row">
          <input
            id={`${id}-repo`}
            ref={field}
            value={repo}
            onInput={(e) => setRepo((e.target as HTMLInputElement).value)}
            placeholder="team/app"
            autocomplete="off"
            spellcheck={false}
            aria-describedby={`${id}-help`}
          />
          {/* aria-disabled, not disabled: a disabled button drops keyboard focus mid-check. */}
          <button type="submit" aria-disabled={state.busy}>
            {state.busy ? "Checking…" : "Check"}
          </button>
        </div>
        <p class="muted" id={`${id}-help`}>
          Uses the credential Docker holds. Empty: proves it signs in, as docker login would; a repository: asks for pull, push and delete there.
        </p>
      </div>
      <div role="status" class="check-result">
        {state.report && <CheckResult report={state.report} />}
      </div>
      {state.error && <ErrorNote error={state.error} alert />}
    </form>
  );
}

const ACTIONS = ["pull", "push", "delete"] as const;

function CheckResult({ report }: { report: CheckReport }) {
  const from = `${report.username === ZERO_GUID ? "An ACR token" : `User “${report.username}”`} from ${sourceText(report.source)}`;
  if (report.repository === null) {
    return (
      <p class="check-ok">
        Signs in: the registry issued a token and accepted it. <span class="muted">{from}.</span>
      </p>
    );
  }
  const granted = ACTIONS.filter((a) => report.granted.includes(a));
  const denied = ACTIONS.filter((a) => !report.granted.includes(a));
  if (granted.length === 0) {
    return (
      <p class="check-denied bad-text">
        {report.repository}: nothing granted (asked for pull, push and delete). <span class="muted">{from}.</span>
        {report.hint && <span class="check-hint"> {report.hint}</span>}
      </p>
    );
  }
  return (
    <p class="check-granted">
      {report.repository}: {granted.join(", ")} granted{denied.length > 0 ? `; ${denied.join(", ")} not granted` : ""}.{" "}
      <span class="muted">{from}.</span>
      {report.hint && <span class="check-hint"> {report.hint}</span>}
    </p>
  );
}

const ZERO_GUID = "00000000-0000-0000-0000-000000000000";

function sourceText(s: CredentialSource): string {
  switch (s.kind) {
    case "config-file":
      return "Docker's config.json";
    case "helper":
      return `docker-credential-${s.helper} (${s.key})`;
    case "acr-tray":
      return "ACR Tray's credential helper";
  }
}

export function signInLabel(s: RegistrySignInView, accounts: AccountView[]): string {
  const who = (id: string) => accounts.find((a) => a.id === id)?.label ?? id;
  switch (s.kind) {
    case "identity":
      return who(s.identity);
    case "adminArm":
      return `Admin account, read with ${who(s.identity)}`;
    case "adminPassword":
      return `Admin account “${s.username}”`;
    case "acrToken": {
      // The day as the engine gives it (UTC), the same in every locale.
      const expiry = s.passwordExpiry ? `, ${s.expiringPassword ?? "password"} expires ${s.passwordExpiry.slice(0, 10)}` : "";
      const status = s.enabled === false ? ", disabled" : "";
      const watched = s.notWatched ? ", expiry not watched" : "";
      return `ACR token “${s.token}”${status}${expiry}${watched}`;
    }
  }
}

/** What the identity may do, named after the role (docs/protocol.md#roles). */
export function roleText(role: RegistryRole): string {
  switch (role) {
    case "AcrPull":
      return "Pull (AcrPull)";
    case "AcrPush":
      return "Pull and push (AcrPush)";
    case "Owner":
      return "Everything (Owner)";
    case "None":
      return "Nothing: no role";
  }
}

/**
 * What the identity may do on a registry with repository permissions (ABAC), named after the
 * Entra repository role the engine names (AcrPull and AcrPush are not honoured there).
 */
export function repositoryRoleText(role: RegistryRole, roleName: string | null): string {
  const name = roleName ?? "repository role";
  switch (role) {
    case "AcrPull":
      return `Pull (${name}), per repository`;
    case "AcrPush":
      return `Pull and push (${name}), per repository`;
    case "Owner":
      return `Everything (${name}), per repository`;
    case "None":
      return "Nothing: no repository role (AcrPull and AcrPush are not honoured here)";
  }
}

function adminText(a: AdminAccountView): string {
  if (a.notWatched) return "Not watched: needs Reader";
  if (a.enabled === null) return "Not read yet";
  if (!a.enabled) return "Disabled";
  return a.passwordsWatched ? "Enabled, passwords watched" : "Enabled";
}

function expiryText(at: string | null, now: number): string {
  if (!at) return "No expiry known";
  const left = Date.parse(at) - now;
  return left > 0 ? `Expires in ${duration(left)}` : `Expired ${duration(-left)} ago`;
}

function expiryClass(at: string | null, now: number): string {
  if (!at) return "expiry";
  const left = Date.parse(at) - now;
  return left <= 0 ? "expiry bad-text" : left < 30 * 60_000 ? "expiry warn-text" : "expiry";
}

function nextText(reg: RegistryView, now: number): string {
  if (reg.nextRefresh) {
    const t = Date.parse(reg.nextRefresh);
    return t <= now ? "Due now" : `${clockTime(reg.nextRefresh, now)} · in ${duration(t - now)}`;
  }
  return reg.health === "signInRequired" ? "Waiting for a sign-in" : "Not scheduled";
}
