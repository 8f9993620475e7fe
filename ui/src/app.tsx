// The window: a sidebar with the three views, the current view, and one live region that
// announces what just happened (refreshed, signed in, saved) to screen readers and sighted users.
import { useEffect, useRef, useState } from "preact/hooks";
import * as api from "./api";
import type { Navigate, TrayState } from "./bindings";
import type { Tone } from "./components/bits";
import { onAnnounce, setOverview, useOverview } from "./store";
import { AccountsView, type SignInFor } from "./views/accounts";
import { FirstRun, isFirstRun } from "./views/first-run";
import { GeneralView } from "./views/general";
import { RegistriesView } from "./views/registries";

type View = Navigate["view"];
const VIEWS: Array<[View, string]> = [
  ["registries", "Registries"],
  ["accounts", "Accounts"],
  ["general", "General"],
];

const trayTone: Record<TrayState, Tone> = {
  empty: "idle",
  ok: "ok",
  refreshing: "busy",
  attention: "bad",
  signInRequired: "warn",
};

export function App() {
  const overview = useOverview();
  const [view, setView] = useState<View>("registries");
  /** Set by the `navigate` event or a registry card: open the sign-in for this identity (at one
   * of its tenants) once the Accounts view shows. */
  const [signInFor, setSignInFor] = useState<SignInFor | null>(null);
  const [status, setStatus] = useState("");
  const [loadError, setLoadError] = useState<api.UiError | null>(null);
  /**
   * The first-run guide: decided once, from the first overview (no account, no registry), and
   * kept until it is left, so the account it signs in doesn't end it halfway. A window opened at
   * a given place (the tray, a notification) goes there instead.
   */
  const firstRun = useRef<boolean | null>(null);
  if (firstRun.current === null && overview) firstRun.current = isFirstRun(overview);
  const [guideLeft, setGuideLeft] = useState(false);
  const guide = firstRun.current === true && !guideLeft;
  const go = (v: View) => {
    setGuideLeft(true);
    setView(v);
  };

  useEffect(() => {
    // Announcements fade after a while so an old "Saved." doesn't read as news on another view.
    let timer: ReturnType<typeof setTimeout> | undefined;
    onAnnounce((msg) => {
      setStatus(msg);
      clearTimeout(timer);
      timer = setTimeout(() => setStatus(""), 12_000);
    });
    const navigate = (n: Navigate) => {
      setGuideLeft(true);
      setView(n.view);
      if (n.signIn) setSignInFor({ identity: n.identity });
    };
    const unlisten = [api.onOverview(setOverview), api.onNavigate(navigate)];
    const start = api.startNavigation();
    if (start) navigate(start);
    api
      .getOverview()
      .then(setOverview)
      .catch((e) => setLoadError(api.asError(e)));
    return () => unlisten.forEach((p) => p.then((f) => f()));
  }, []);

  return (
    <div class="shell">
      <nav class="sidebar" aria-label="Settings">
        <div class="brand">
          <span class="brand-mark" aria-hidden="true" />
          ACR Tray
        </div>
        <ul>
          {VIEWS.map(([id, label]) => (
            <li key={id}>
              <button
                type="button"
                class={!guide && view === id ? "nav-item current" : "nav-item"}
                aria-current={!guide && view === id ? "page" : undefined}
                onClick={() => go(id)}
                id={`nav-${id}`}
              >
                {label}
              </button>
            </li>
          ))}
        </ul>
        {overview && (
          <p class={`sidebar-foot ${trayTone[overview.state]}`} id="summary">
            <span class="dot" aria-hidden="true" />
            <span>{overview.summary}</span>
          </p>
        )}
      </nav>
      <main class="content" id="main">
        {loadError && (
          <div class="error-note" role="alert">
            <p class="error-message">Could not load the settings: {loadError.message}</p>
            {loadError.hint && <p class="error-hint">{loadError.hint}</p>}
          </div>
        )}
        {!overview && !loadError && <p class="muted">Loading…</p>}
        {overview && guide && <FirstRun overview={overview} onLeave={() => go("registries")} />}
        {overview && !guide && view === "registries" && (
          <RegistriesView
            overview={overview}
            onSignIn={(identity, tenant) => {
              setView("accounts");
              setSignInFor({ identity, tenant });
            }}
          />
        )}
        {overview && !guide && view === "accounts" && (
          <AccountsView overview={overview} signInFor={signInFor} onSignInHandled={() => setSignInFor(null)} />
        )}
        {overview && !guide && view === "general" && <GeneralView overview={overview} />}
      </main>
      <div class="status-line" role="status" aria-live="polite" id="status">
        {status}
      </div>
    </div>
  );
}
