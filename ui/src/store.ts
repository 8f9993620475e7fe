// The whole UI renders from one Overview, replaced wholesale by get_overview and every `overview`
// event, plus a once-a-second tick so countdowns move. Tiny signal-free store: Preact hooks suffice.
import { useEffect, useState } from "preact/hooks";
import type { Overview } from "./bindings";
import { syncClock } from "./time";

type Listener = () => void;
let current: Overview | null = null;
const listeners = new Set<Listener>();

export function setOverview(o: Overview): void {
  // get_overview and the `overview` event can cross: never let an older snapshot replace a newer one.
  if (current && Date.parse(o.now) < Date.parse(current.now)) return;
  syncClock(o.now);
  current = o;
  listeners.forEach((l) => l());
}

export function useOverview(): Overview | null {
  const [, bump] = useState(0);
  useEffect(() => {
    const l = () => bump((n) => n + 1);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return current;
}

/** Re-renders the caller every `ms` (countdowns). */
export function useTick(ms = 1000): void {
  const [, bump] = useState(0);
  useEffect(() => {
    const id = setInterval(() => bump((n) => n + 1), ms);
    return () => clearInterval(id);
  }, [ms]);
}

/** Polite announcements for screen readers and the status line (aria-live region in the shell). */
let announceListener: ((msg: string) => void) | null = null;
export function onAnnounce(f: (msg: string) => void): void {
  announceListener = f;
}
export function announce(msg: string): void {
  announceListener?.(msg);
}
