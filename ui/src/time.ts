// Times on screen. The engine's clock (Overview.now) is the reference, advanced by the local
// monotonic clock since the overview arrived, so countdowns stay right even when this machine's
// wall clock is off or jumps (a laptop waking up).

let base = { engineMs: Date.now(), localMs: performance.now() };

export function syncClock(engineNow: string): void {
  const ms = Date.parse(engineNow);
  if (!Number.isNaN(ms)) base = { engineMs: ms, localMs: performance.now() };
}

export function engineNow(): number {
  return base.engineMs + (performance.now() - base.localMs);
}

// 24-hour, as the tray menu, the window's summary line and the notifications (the engine's
// words) say it: one window must not show "01:21 AM" next to "04:21".
const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const dayClock = new Intl.DateTimeFormat(undefined, { weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

/** "14:05", or "Tue 14:05" when not within the next/last 20 hours. */
export function clockTime(iso: string, now = engineNow()): string {
  const t = Date.parse(iso);
  return Math.abs(t - now) < 20 * 3600_000 ? clock.format(t) : dayClock.format(t);
}

/** "2 h 13 min", "4 min 05 s", "40 s": coarse when far, to the second when close. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h} h ${m} min`;
  if (m >= 10) return `${m} min`;
  if (m > 0) return `${m} min ${String(sec).padStart(2, "0")} s`;
  return `${sec} s`;
}

/** "in 2 h 13 min" or "3 min ago": the past only to the minute, it doesn't need to tick. */
export function relative(iso: string, now = engineNow()): string {
  const d = Date.parse(iso) - now;
  if (d >= 0) return `in ${duration(d)}`;
  if (d > -60_000) return "just now";
  const min = Math.floor(-d / 60_000);
  return min < 60 ? `${min} min ago` : `${Math.floor(min / 60)} h ${min % 60} min ago`;
}
