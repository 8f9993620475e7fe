// General: refresh interval, start at login, log level, Helm, the cloud, and Docker: which credential
// store each registry lands in and the doctor's findings, with "Fix" (config.json is backed up first).
import { useEffect, useRef, useState } from "preact/hooks";
import * as api from "../api";
import type { AccountView, CloudInput, DoctorView, GeneralSettings, LogLevel, Overview } from "../bindings";
import { Badge, ErrorNote } from "../components/bits";
import { Dialog } from "../components/dialog";
import { announce } from "../store";
import { clockTime } from "../time";

const LEVELS: LogLevel[] = ["error", "warn", "info", "debug", "trace"];
const CLOUDS: Array<[string, string]> = [
  ["AzureCloud", "Azure (global)"],
  ["AzureChinaCloud", "Azure China"],
  ["AzureUSGovernment", "Azure US Government"],
  ["custom", "Custom endpoints (Azure Stack, private cloud)"],
];

export function GeneralView({ overview }: { overview: Overview }) {
  return (
    <section aria-labelledby="general-title">
      <header class="view-head">
        <div>
          <h1 id="general-title">General</h1>
          <p class="muted">How often to refresh, which cloud to use, and how Docker stores the credentials.</p>
        </div>
        <div class="actions">
          <button type="button" onClick={() => api.openLogs().catch((e) => announce(api.asError(e).message))} id="open-logs">
            Open logs
          </button>
        </div>
      </header>
      <GeneralForm general={overview.general} />
      <CloudForm overview={overview} />
      <DockerPanel />
    </section>
  );
}

function GeneralForm({ general }: { general: GeneralSettings }) {
  const [interval, setIntervalText] = useState(String(general.refreshIntervalMinutes));
  const [startAtLogin, setStart] = useState(general.startAtLogin);
  const [level, setLevel] = useState<LogLevel>(general.logLevel);
  const [helm, setHelm] = useState(general.helm);
  const [error, setError] = useState<api.UiError | null>(null);
  const [helmError, setHelmError] = useState<api.UiError | null>(null);
  // What the engine last said is saved: the Helm switch saves at once, with these and not with
  // what is typed in the form above and not saved yet.
  const saved = useRef<GeneralSettings>(general);
  // A fresh overview (from another window or the CLI) that changes these settings replaces what is
  // shown here. Only a change does: effects run after paint, so resetting on mount too would throw
  // away what the user typed in the first moment after the view opened.
  const shown = useRef(general);
  useEffect(() => {
    const was = shown.current;
    shown.current = general;
    if (was.refreshIntervalMinutes === general.refreshIntervalMinutes && was.startAtLogin === general.startAtLogin && was.logLevel === general.logLevel) return;
    setIntervalText(String(general.refreshIntervalMinutes));
    setStart(general.startAtLogin);
    setLevel(general.logLevel);
  }, [general.refreshIntervalMinutes, general.startAtLogin, general.logLevel]);
  // The switch follows a change made elsewhere (another window, config.toml, the CLI); only a
  // change does, as above.
  const shownHelm = useRef(general.helm);
  useEffect(() => {
    saved.current = general;
    if (shownHelm.current === general.helm) return;
    shownHelm.current = general.helm;
    setHelm(general.helm);
  }, [general]);

  const minutes = Number(interval);
  const bad = !/^\d+$/.test(interval.trim()) || minutes < 1 || minutes > 1440;
  const dirty = minutes !== general.refreshIntervalMinutes || startAtLogin !== general.startAtLogin || level !== general.logLevel;

  async function save(e: Event) {
    e.preventDefault();
    if (bad) return;
    setError(null);
    try {
      saved.current = await api.setGeneral({ refreshIntervalMinutes: minutes, startAtLogin, logLevel: level, helm });
      announce("Settings saved.");
    } catch (err) {
      setError(api.asError(err));
    }
  }

  async function switchHelm(on: boolean) {
    setHelm(on);
    setHelmError(null);
    const { refreshIntervalMinutes, startAtLogin, logLevel } = saved.current;
    try {
      saved.current = await api.setGeneral({ refreshIntervalMinutes, startAtLogin, logLevel, helm: on });
      announce(on ? "Helm's registry config is written now, and at every refresh." : "Helm's registry config is no longer written.");
    } catch (err) {
      setHelm(!on);
      setHelmError(api.asError(err));
    }
  }

  return (
    <>
      <form class="panel" onSubmit={save} aria-labelledby="refresh-title">
        <h2 id="refresh-title">Refreshing</h2>
        <div class="field-row">
          <div class="field grow">
            <label for="interval">Refresh every (minutes)</label>
            <input id="interval" inputMode="numeric" class="short" value={interval} aria-invalid={bad || undefined}
              aria-describedby="interval-help" onInput={(e) => setIntervalText(e.currentTarget.value)} />
            <p class={bad ? "field-error" : "field-help"} id="interval-help">
              {bad ? "A whole number of minutes, 1 to 1440." : "Never later than 75 minutes before a token expires, whatever this says."}
            </p>
          </div>
          <div class="field">
            <label for="log-level">Log level</label>
            <select id="log-level" class="short" value={level} onChange={(e) => setLevel(e.currentTarget.value as LogLevel)}>
              {LEVELS.map((l) => <option key={l} value={l}>{l}</option>)}
            </select>
          </div>
        </div>
        <label class="check">
          <input type="checkbox" id="start-at-login" checked={startAtLogin} onChange={(e) => setStart(e.currentTarget.checked)} />
          <span>Start ACR Tray when I log in</span>
        </label>
        {error && <ErrorNote error={error} alert />}
        <div class="panel-actions">
          <button type="submit" class="primary" disabled={bad || !dirty} id="save-general">Save</button>
        </div>
      </form>
      <section class="panel" aria-labelledby="helm-title">
        <h2 id="helm-title">Helm</h2>
        <label class="check">
          <input type="checkbox" role="switch" id="helm" checked={helm} aria-describedby="helm-help"
            onChange={(e) => void switchHelm(e.currentTarget.checked)} />
          <span>Keep Helm logged in too</span>
        </label>
        <p class="field-help" id="helm-help">
          {general.helmRegistryConfig ? (
            <>Helm keeps its own registry logins and, since Helm 3.18, no longer asks Docker's credential helpers.
              When on, each refresh also writes your registries' logins to Helm's registry config,{" "}
              <span class="mono">{general.helmRegistryConfig}</span>. When off, that file is no longer written; logins
              already in it stay until they expire, as Docker's do when a registry is removed.</>
          ) : (
            <>Helm's registry config cannot be found: set HELM_REGISTRY_CONFIG (or HOME) for ACR Tray to name it.</>
          )}
        </p>
        {helmError && <ErrorNote error={helmError} alert />}
      </section>
    </>
  );
}

function CloudForm({ overview }: { overview: Overview }) {
  const c = overview.cloud;
  const [name, setName] = useState(c.name);
  const [authority, setAuthority] = useState(c.name === "custom" ? c.authority : "");
  const [arm, setArm] = useState(c.name === "custom" ? c.arm : "");
  const [suffix, setSuffix] = useState(c.name === "custom" ? c.acrSuffix : "");
  const [audience, setAudience] = useState(c.name === "custom" ? c.acrAudience : "");
  const [caFile, setCaFile] = useState(c.caFile ?? "");
  const [error, setError] = useState<api.UiError | null>(null);
  // The cloud asked for and the identities it signs out, while the user decides.
  const [pending, setPending] = useState<{ input: CloudInput; signsOut: AccountView[] } | null>(null);
  const custom = name === "custom";

  async function apply(input: CloudInput) {
    setPending(null);
    try {
      const v = await api.setCloud(input);
      announce(`Cloud set to ${v.name}.`);
    } catch (err) {
      setError(api.asError(err));
    }
  }

  async function save(e: Event) {
    e.preventDefault();
    setError(null);
    const t = (s: string) => (s.trim() ? s.trim() : null);
    const input: CloudInput = custom
      ? { kind: "custom", authority: authority.trim(), arm: arm.trim(), acrSuffix: suffix.trim(), acrAudience: t(audience), caFile: t(caFile) }
      : ({ kind: name } as CloudInput);
    if (input.kind === "custom" && (!input.authority || !input.arm || !input.acrSuffix)) {
      setError({ code: "invalidInput", message: "A custom cloud needs the authority, ARM endpoint and registry suffix.", hint: null, at: null });
      return;
    }
    // Credentials are bound to the cloud they were given for: ask before signing anyone out.
    try {
      const preview = await api.previewCloud(input);
      if (preview.signsOut.length > 0) {
        setPending({ input, signsOut: preview.signsOut });
        return;
      }
    } catch (err) {
      setError(api.asError(err));
      return;
    }
    await apply(input);
  }

  return (
    <form class="panel" onSubmit={save} aria-labelledby="cloud-title">
      <h2 id="cloud-title">Cloud</h2>
      <div class="field">
        <label for="cloud">Azure cloud</label>
        <select id="cloud" value={name} onChange={(e) => setName(e.currentTarget.value)}>
          {CLOUDS.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
        </select>
      </div>
      {custom ? (
        <div class="grid-2">
          <Text id="authority" label="Authority (Entra ID)" value={authority} set={setAuthority} placeholder="https://login.example.com" />
          <Text id="arm" label="Resource Manager" value={arm} set={setArm} placeholder="https://management.example.com/" />
          <Text id="acr-suffix" label="Registry suffix" value={suffix} set={setSuffix} placeholder="azurecr.example.com" />
          <Text id="acr-audience" label="Registry audience (optional)" value={audience} set={setAudience} placeholder="https://containerregistry.example.com" />
          <Text id="ca-file" label="CA certificate file (optional, PEM)" value={caFile} set={setCaFile} placeholder="/etc/ssl/private-ca.pem" />
        </div>
      ) : (
        <dl class="facts compact">
          <div><dt>Sign-in</dt><dd class="mono">{c.authority}</dd></div>
          <div><dt>Registries</dt><dd class="mono">*.{c.acrSuffix}</dd></div>
          {c.caFile && <div><dt>CA file</dt><dd class="mono">{c.caFile}</dd></div>}
        </dl>
      )}
      {error && <ErrorNote error={error} alert />}
      <div class="panel-actions">
        <button type="submit" class="primary" id="save-cloud" disabled={!custom && name === c.name}>Use this cloud</button>
      </div>
      {pending && (
        <Dialog title="Sign out to change the cloud?" onClose={() => setPending(null)} id="cloud-confirm">
          <div class="dialog-body">
            <p>
              {pending.signsOut.length === 1 ? "This identity signed in" : "These identities signed in"} to the current
              cloud. Their secrets and sessions are never sent to another cloud, so changing it signs them out; they
              will need to sign in again for the new cloud.
            </p>
            <ul aria-label="Identities signed out">
              {pending.signsOut.map((a) => (
                <li key={a.id}>
                  <strong>{a.label}</strong>
                  {a.registryCount > 0 && <span class="muted"> · {a.registryCount === 1 ? "1 registry" : `${a.registryCount} registries`}</span>}
                </li>
              ))}
            </ul>
          </div>
          <div class="dialog-actions">
            <button type="button" autofocus onClick={() => setPending(null)}>
              Cancel
            </button>
            <button type="button" class="danger" onClick={() => apply(pending.input)}>
              Sign out and change
            </button>
          </div>
        </Dialog>
      )}
    </form>
  );
}

function Text({ id, label, value, set, placeholder }: { id: string; label: string; value: string; set: (v: string) => void; placeholder: string }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} class="mono" value={value} placeholder={placeholder} autocomplete="off" spellcheck={false} onInput={(e) => set(e.currentTarget.value)} />
    </div>
  );
}

function DockerPanel() {
  const [doc, setDoc] = useState<DoctorView | null>(null);
  const [error, setError] = useState<api.UiError | null>(null);
  const [fixing, setFixing] = useState(false);

  async function run(fix: boolean) {
    setError(null);
    if (fix) setFixing(true);
    try {
      const d = await (fix ? api.doctorFix() : api.doctor());
      setDoc(d);
      if (fix) announce(d.backup ? `Fixed. The previous config.json, with its credentials, was saved to ${d.backup}.` : "Fixed.");
    } catch (err) {
      setError(api.asError(err));
    } finally {
      setFixing(false);
    }
  }
  useEffect(() => void run(false), []);

  const fixable = doc?.findings.some((f) => f.fix) ?? false;
  return (
    <section class="panel" aria-labelledby="docker-title">
      <h2 id="docker-title">Docker</h2>
      {error && <ErrorNote error={error} alert />}
      {!doc && !error && <p class="muted">Checking Docker's configuration…</p>}
      {doc && (
        <>
          <p class="muted">
            Docker's configuration: <span class="mono">{doc.configPath}</span>
          </p>
          {doc.registries.length > 0 && (
            <table class="table">
              <thead>
                <tr><th scope="col">Registry</th><th scope="col">Docker reads it from</th><th scope="col">Credential</th></tr>
              </thead>
              <tbody>
                {doc.registries.map((r) => (
                  <tr key={r.loginServer}>
                    <td><strong>{r.name}</strong> <span class="mono muted">{r.loginServer}</span></td>
                    <td>{r.store}</td>
                    <td>{r.present ? (r.expiresAt ? `Present · until ${clockTime(r.expiresAt)}` : "Present") : <span class="bad-text">Missing</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3 class="subhead">Findings</h3>
          {doc.findings.length === 0 ? (
            <p><Badge tone="ok" label="No problems found" /></p>
          ) : (
            <ul class="findings" aria-label="Findings">
              {doc.findings.map((f, i) => (
                <li key={`${f.code}-${i}`} class={`finding ${f.severity}`}>
                  <Badge tone={f.severity === "problem" ? "bad" : "warn"} label={f.severity === "problem" ? "Problem" : "Warning"} />
                  <div>
                    <p>{f.registry && <strong>{f.registry}: </strong>}{f.message}</p>
                    <p class="muted small">{f.fix ? `Fix: ${f.fix}` : "Needs you: ACR Tray can't fix this one."}</p>
                  </div>
                </li>
              ))}
            </ul>
          )}
          {doc.backup && (
            <p class="notice" id="doctor-backup">
              The previous config.json was saved to <span class="mono">{doc.backup}</span>. It holds the
              same credentials, so only you can read it, and ACR Tray keeps only the newest three backups.
            </p>
          )}
          <div class="panel-actions">
            <button type="button" onClick={() => run(false)} id="doctor-recheck">Check again</button>
            {fixable && <button type="button" class="primary" onClick={() => run(true)} disabled={fixing} id="doctor-fix">{fixing ? "Fixing…" : "Fix"}</button>}
          </div>
        </>
      )}
    </section>
  );
}
