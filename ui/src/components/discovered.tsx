// What discovery found, rendered once for both places that show it: the Add dialog's "Find in
// Azure" (pick one registry) and the first-run guide (tick the ones to keep). Grouping or new
// facts about a discovered registry land here, in one place. An account with several tenants
// (home and guest) is shown a group per tenant, home first; a tenant that could not be listed is
// a group that says why and what to do, and offers the sign-in to it when it demands one.
import type { DiscoveredRegistry, DiscoveredTenant, Discovery } from "../bindings";
import { ErrorNote } from "./bits";

/** Pick one (a button per registry), or keep several (a checkbox per registry, keyed by login server). */
export type DiscoveredControl =
  | { kind: "pick"; onPick: (r: DiscoveredRegistry) => void }
  | { kind: "keep"; kept: ReadonlySet<string>; onToggle: (r: DiscoveredRegistry, keep: boolean) => void };

/**
 * Whether the guide ticks a discovered registry at first. Discovery lists what Azure Resource
 * Manager shows the account, and ARM shows a registry only to an account that holds a role on it
 * (Reader or more, on it, its group or its subscription), so every listed registry is one the
 * account has a role on; an already-added one is shown as added instead.
 */
export function keepByDefault(r: DiscoveredRegistry): boolean {
  return !r.added;
}

/** Why the list may be incomplete, and the configured registries it does not show. */
export function DiscoveryNotes({ result }: { result: Discovery }) {
  return (
    <>
      {result.notice && (
        <p class="notice" role="note" id="disc-notice">
          {result.notice}
        </p>
      )}
      {result.unlisted.length > 0 && (
        <ul class="notice unlisted" role="note" aria-label="Registries not listed" id="disc-unlisted">
          {result.unlisted.map((u) => (
            <li key={u.loginServer}>
              <strong>{u.name}</strong> is not listed: {u.reason}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

type ListProps = {
  registries: DiscoveredRegistry[];
  control: DiscoveredControl;
  /** The account's tenants as discovery saw them (`Discovery.tenants`): grouped when more than one. */
  tenants?: DiscoveredTenant[] | undefined;
  /** Sign in to a tenant that demands it (then list again); no button without it. */
  onSignInTenant?: (t: DiscoveredTenant) => void;
  /** The level of the tenants' headings (under the page's or the dialog's title). */
  headingLevel?: 2 | 3;
};

/** Whether discovery's registries are shown per tenant. */
export const grouped = (tenants: DiscoveredTenant[] | undefined): tenants is DiscoveredTenant[] => (tenants?.length ?? 0) > 1;

export function DiscoveredList({ registries, control, tenants, onSignInTenant, headingLevel = 3 }: ListProps) {
  if (!grouped(tenants)) return <Items registries={registries} control={control} label="Registries found" />;
  const ordered = [...tenants].sort((x, y) => Number(y.home) - Number(x.home));
  const home = ordered[0]?.id;
  const H = headingLevel === 2 ? "h2" : "h3";
  // A registry naming no listed tenant is shown with the home tenant's (it was listed with the
  // account's own token).
  const of = (t: DiscoveredTenant) =>
    registries.filter((r) => (r.tenant && ordered.some((o) => o.id === r.tenant) ? r.tenant === t.id : t.id === home));
  return (
    <div class="tenant-groups" id="disc-tenants">
      {ordered.map((t) => {
        const regs = of(t);
        const headId = `disc-tenant-${t.id}`;
        return (
          <section key={t.id} class="tenant-group" aria-labelledby={headId} data-tenant={t.id}>
            <H id={headId} class="tenant-head">
              {t.name}
              <span class="chip">{t.home ? "Home" : "Guest"}</span>
              {t.domain && t.domain !== t.name && <span class="mono muted small">{t.domain}</span>}
            </H>
            {t.error ? (
              <>
                <ErrorNote error={t.error} />
                {t.signInRequired && onSignInTenant && (
                  <p>
                    <button type="button" class="primary" onClick={() => onSignInTenant(t)} aria-label={`Sign in to tenant ${t.name}`}>
                      Sign in to tenant {t.name}…
                    </button>
                  </p>
                )}
              </>
            ) : regs.length === 0 ? (
              <p class="muted">No registries to show in {t.name}.</p>
            ) : (
              <Items registries={regs} control={control} label={`Registries found in ${t.name}`} />
            )}
          </section>
        );
      })}
    </div>
  );
}

function Items({ registries, control, label }: { registries: DiscoveredRegistry[]; control: DiscoveredControl; label: string }) {
  return (
    <ul class={control.kind === "keep" ? "pick-list keep-list" : "pick-list"} aria-label={label}>
      {registries.map((r) => (
        <li key={r.loginServer}>
          {control.kind === "pick" ? (
            // Named by its content (what is seen is what a screen reader says), "Choose" first.
            <button type="button" class="pick" disabled={r.added} onClick={() => control.onPick(r)}>
              <Facts r={r} pick />
            </button>
          ) : (
            <label class={r.added ? "pick keep added" : "pick keep"}>
              <input
                type="checkbox"
                checked={r.added || control.kept.has(r.loginServer)}
                disabled={r.added}
                aria-label={r.added ? `${r.name}, already added` : `Keep ${r.name}`}
                onChange={(e) => control.onToggle(r, e.currentTarget.checked)}
              />
              <Facts r={r} />
            </label>
          )}
        </li>
      ))}
    </ul>
  );
}

function Facts({ r, pick }: { r: DiscoveredRegistry; pick?: boolean }) {
  return (
    <>
      <span class="pick-main">
        {pick && <span class="sr-only">{r.added ? "Already added: " : "Choose "}</span>}
        <strong>{r.name}</strong>
        <span class="mono muted">{r.loginServer}</span>
      </span>
      <span class="pick-meta muted">
        {r.resourceGroup} · {r.subscription}
        {r.sku ? ` · ${r.sku}` : ""}
      </span>
      <span class="pick-chips">
        {r.adminUserEnabled && (
          <span class="chip warn" title="Anyone with its password can push and pull; Azure recommends keeping it disabled.">
            Admin account on
          </span>
        )}
        {r.armAudienceAccepted === false && (
          <span class="chip" title="This registry takes only ACR-audience tokens (authentication-as-arm disabled).">
            ACR tokens only
          </span>
        )}
        {r.repositoryPermissions && (
          <span class="chip" title="Roles are Entra's repository roles (Container Registry Repository Reader, Writer…); AcrPull and AcrPush are not honoured here.">
            Repository permissions (ABAC)
          </span>
        )}
        {r.added && <span class="chip">Added</span>}
      </span>
    </>
  );
}
