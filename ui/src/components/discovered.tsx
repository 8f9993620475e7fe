// What discovery found, rendered once for both places that show it: the Add dialog's "Find in
// Azure" (pick one registry) and the first-run guide (tick the ones to keep). Grouping or new
// facts about a discovered registry land here, in one place.
import type { DiscoveredRegistry, Discovery } from "../bindings";

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

export function DiscoveredList({ registries, control }: { registries: DiscoveredRegistry[]; control: DiscoveredControl }) {
  return (
    <ul class={control.kind === "keep" ? "pick-list keep-list" : "pick-list"} aria-label="Registries found">
      {registries.map((r) => (
        <li key={r.loginServer}>
          {control.kind === "pick" ? (
            <button type="button" class="pick" disabled={r.added} onClick={() => control.onPick(r)} aria-label={r.added ? `${r.name}, already added` : `Choose ${r.name}`}>
              <Facts r={r} />
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

function Facts({ r }: { r: DiscoveredRegistry }) {
  return (
    <>
      <span class="pick-main">
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
