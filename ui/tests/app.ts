// Shared test fixture: serves dist/ under the CSP the Tauri shell uses, injects the IPC mock before
// the app's script runs, and fails the test on any CSP violation or uncaught page error.
import { test as base, expect, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { extname, join } from "node:path";
import type { ErrorView } from "../src/bindings";
import type { Reply } from "./harness/harness";

export const ORIGIN = "http://acr-tray.localhost";
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src ipc: http://ipc.localhost";
const DIST = join(__dirname, "..", "dist");
const HARNESS = join(__dirname, "..", "test-build", "harness.js");
const TYPES: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };
export const SHOTS = join(__dirname, "..", "..", "docs", "screenshots");

/** `fragment`: what the shell puts after `index.html#` when a window opens at a given place. */
export type Setup = { overview?: unknown; replies?: Record<string, Reply>; fragment?: string };

type Fixtures = { open: (setup?: Setup) => Promise<Page>; problems: string[] };

export const test = base.extend<Fixtures>({
  problems: async ({}, use) => {
    const problems: string[] = [];
    await use(problems);
    expect(problems, "CSP violations or page errors").toEqual([]);
  },
  open: async ({ page, problems }, use) => {
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    await page.route(`${ORIGIN}/**`, (route) => {
      const path = new URL(route.request().url()).pathname;
      const file = join(DIST, path === "/" ? "index.html" : path);
      try {
        const body = readFileSync(file);
        return route.fulfill({ body, headers: { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "content-security-policy": CSP } });
      } catch {
        return route.fulfill({ status: 404, body: "not found" });
      }
    });
    await use(async (setup: Setup = {}) => {
      await page.addInitScript((s) => {
        (window as unknown as { __testSetup: unknown }).__testSetup = s;
        document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP: ${e.violatedDirective} ${e.blockedURI}`));
      }, setup);
      await page.addInitScript({ path: HARNESS });
      await page.goto(`${ORIGIN}/index.html${setup.fragment ? `#${setup.fragment}` : ""}`);
      await expect(page.locator(".shell")).toBeVisible();
      return page;
    });
  },
});

export { expect };

/**
 * Holds the page's clock still (it was installed with `page.clock.install` at `o.now` before
 * `open()`, and has run since) and sends `o` as a fresh overview: the engine's time on screen is
 * then exactly `o.now`, and moves only with `page.clock.runFor`, however long this machine takes
 * between steps.
 */
export async function holdClock(page: Page, o: { now: string }) {
  // Any time ahead of where the page's clock has run to; the new overview sets what is shown.
  await page.clock.pauseAt(new Date(Date.parse(o.now) + 3600_000));
  await emit(page, "overview", o);
}

/** Everything the mock received, in order. */
export const calls = (page: Page) =>
  page.evaluate(() => (window as unknown as { __test: { calls: Array<{ cmd: string; args: unknown }> } }).__test.calls);

export const emit = (page: Page, event: string, payload: unknown) =>
  page.evaluate(([e, p]) => (window as unknown as { __test: { emit: (e: string, p: unknown) => Promise<void> } }).__test.emit(e as string, p), [event, payload] as const);

export const reply = (page: Page, cmd: string, r: Reply) =>
  page.evaluate(([c, rr]) => (window as unknown as { __test: { reply: (c: string, r: unknown) => void } }).__test.reply(c as string, rr), [cmd, r] as const);

export const settle = (page: Page, cmd: string, how: { ok: unknown } | { err: ErrorView }) =>
  page.evaluate(
    ([c, h]) => {
      const t = (window as unknown as { __test: { resolve: (c: string, v: unknown) => void; reject: (c: string, e: unknown) => void } }).__test;
      if ("ok" in (h as object)) t.resolve(c as string, (h as { ok: unknown }).ok);
      else t.reject(c as string, (h as { err: unknown }).err);
    },
    [cmd, how] as const,
  );

/** What has keyboard focus, by its aria-label, else its id, else its text. */
export const focused = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return el ? (el.getAttribute("aria-label") ?? el.id ?? "") || (el.textContent ?? "").trim() : "";
  });

/** Presses Tab until the focused element matches, failing after `max` presses. */
export async function tabTo(page: Page, name: string, max = 30) {
  for (let i = 0; i < max; i++) {
    if ((await focused(page)) === name) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached ${name}; last was ${await focused(page)}`);
}
