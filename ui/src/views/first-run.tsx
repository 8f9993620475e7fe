// The first run: a short guide in place of the empty window. 1 Sign in (the sign-in dialog's
// methods) → 2 the registries that account can see, the ones to keep ticked → 3 Done: each kept
// registry added, refreshed and proven by a check of the credential Docker now holds.
// It shows only when the window opens to an engine with no account and no registry; once it is
// left (Skip, Finish, the sidebar, a `navigate`) the window is the normal one, and the next
// window opens to an engine that has an account or a registry, so no flag needs storing.
import { useEffect, useRef, useState } from "preact/hooks";
import type { AccountView, Overview } from "../bindings";
import { type EscapeRef } from "./first-run-bits";
import { DoneStep, type Keep } from "./first-run-done";
import { RegistriesStep } from "./first-run-registries";
import { SignInBody, useSignIn } from "./sign-in";

/** The rule that opens the guide: nothing to keep logged in, and nobody to do it with. */
export const isFirstRun = (o: Overview): boolean => o.accounts.length === 0 && o.registries.length === 0;

type Step = { n: 1 } | { n: 2 } | { n: 3; keep: Keep[] };
const TITLES = ["Sign in", "Your registries", "Done"] as const;

export function FirstRun({ overview, onLeave }: { overview: Overview; onLeave: () => void }) {
  const [step, setStep] = useState<Step>({ n: 1 });
  /** Who signed in during this guide: step 2 lists what it can see, step 3 adds with it. */
  const [account, setAccount] = useState<AccountView | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  /** What Escape does on the current step (cancel a pending sign-in, go back). */
  const escape = useRef<() => boolean>(() => false);

  // Each step starts at its heading, which says where the user is ("Step 2 of 3: …").
  useEffect(() => heading.current?.focus(), [step.n]);

  const title = `Step ${step.n} of 3: ${TITLES[step.n - 1]}`;
  return (
    <section
      class="guide"
      id="first-run"
      aria-labelledby="guide-title"
      onKeyDown={(e) => {
        if (e.key === "Escape" && escape.current()) e.preventDefault();
      }}
    >
      <header class="view-head">
        <div>
          <p class="muted eyebrow">Set up ACR Tray</p>
          <h1 id="guide-title" tabIndex={-1} ref={heading}>
            {title}
          </h1>
        </div>
        <div class="actions">
          <button type="button" class="quiet" onClick={onLeave} id="guide-skip">
            Skip
          </button>
        </div>
      </header>
      <ol class="steps" aria-label="Progress">
        {TITLES.map((t, i) => (
          <li key={t} class={i + 1 === step.n ? "current" : i + 1 < step.n ? "past" : undefined} aria-current={i + 1 === step.n ? "step" : undefined}>
            <span class="step-n" aria-hidden="true">
              {i + 1 < step.n ? "✓" : i + 1}
            </span>
            {t}
          </li>
        ))}
      </ol>
      {step.n === 1 && (
        <SignInStep
          account={account}
          escape={escape}
          onSignedIn={(acc) => {
            setAccount(acc);
            setStep({ n: 2 });
          }}
          onContinue={() => setStep({ n: 2 })}
        />
      )}
      {step.n === 2 && account && (
        <RegistriesStep overview={overview} account={account} escape={escape} onBack={() => setStep({ n: 1 })} onNext={(keep) => (keep.length > 0 ? setStep({ n: 3, keep }) : onLeave())} />
      )}
      {step.n === 3 && account && <DoneStep account={account} keep={step.keep} escape={escape} onFinish={onLeave} />}
    </section>
  );
}

function SignInStep({ account, escape, onSignedIn, onContinue }: { account: AccountView | null; escape: EscapeRef; onSignedIn: (a: AccountView) => void; onContinue: () => void }) {
  const s = useSignIn({ method: "browser", tenant: null }, onSignedIn);
  escape.current = s.cancelPending;
  return (
    <div class="panel guide-step">
      {account && !s.waiting && (
        <div class="guide-again">
          <p>
            Signed in as <strong>{account.label}</strong>.
          </p>
          <button type="button" class="primary" onClick={onContinue} id="guide-continue">
            Continue as {account.label}
          </button>
          <p class="muted">Or sign in another way:</p>
        </div>
      )}
      {!s.waiting && (
        <p class="muted">
          Sign in with your Entra ID account in the browser, or with a code where no browser opens here. A service principal, this machine's managed identity or
          the Azure CLI's session work too. The session or secret is kept in the system keyring.
        </p>
      )}
      <SignInBody s={s} />
    </div>
  );
}
