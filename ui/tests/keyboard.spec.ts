// Keyboard only: every main control is reachable with Tab, operable with Enter/Space, and
// dialogs close with Escape and give focus back.
import { calls, expect, focused, tabTo, test } from "./app";

test("registries by keyboard: tab order, add with Enter, Escape closes, focus is visible", async ({ page, open }) => {
  await open();
  await page.keyboard.press("Tab");
  expect(await focused(page)).toBe("nav-registries");
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle);
  expect(outline).not.toBe("none");
  await page.keyboard.press("Tab");
  expect(await focused(page)).toBe("nav-accounts");
  await page.keyboard.press("Tab");
  expect(await focused(page)).toBe("nav-general");
  await page.keyboard.press("Tab");
  expect(await focused(page)).toBe("refresh-all");
  await page.keyboard.press("Tab");
  expect(await focused(page)).toBe("add-registry");

  // Enter opens the dialog with the name field focused; Escape closes it and focus returns.
  await page.keyboard.press("Enter");
  await expect(page.getByLabel("Registry name or login server")).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(page.locator("#add-dialog")).toHaveCount(0);
  await expect(page.locator("#add-registry")).toBeFocused();

  // Type a name, pick the sign-in with arrows, Enter submits.
  await page.keyboard.press("Enter");
  await page.keyboard.type("kbdregistry");
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Sign in with")).toBeFocused();
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.press("Enter");
  await expect(page.locator("#add-dialog")).toHaveCount(0);
  expect((await calls(page)).find((c) => c.cmd === "add_registry")?.args).toMatchObject({ request: { nameOrLoginServer: "kbdregistry" } });

  // Per-registry buttons: Refresh with Enter, Check next, Remove with a confirm whose safe
  // choice has focus.
  await tabTo(page, "Refresh contosoprod");
  await page.keyboard.press("Enter");
  await expect.poll(async () => (await calls(page)).some((c) => c.cmd === "refresh_now")).toBe(true);
  await page.keyboard.press("Tab");
  expect(await focused(page)).toBe("Check contosoprod");
  await page.keyboard.press("Tab");
  expect(await focused(page)).toBe("Remove contosoprod");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("dialog", { name: "Remove contosoprod?" })).toBeVisible();
  expect(await focused(page)).toBe("Cancel");
  await page.keyboard.press("Escape");
  await expect(page.getByRole("dialog")).toHaveCount(0);
  expect(await focused(page)).toBe("Remove contosoprod");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("dialog", { name: "Remove contosoprod?" })).toBeVisible();
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  await expect(page.locator("#status")).toContainText("contosoprod removed.");
});

test("accounts and general by keyboard", async ({ page, open }) => {
  await open();
  await tabTo(page, "nav-accounts");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "Accounts" })).toBeVisible();
  await tabTo(page, "sign-in");
  await page.keyboard.press("Enter");
  // Arrow keys move through the sign-in methods (a radio group); Enter submits the form.
  await expect(page.getByRole("radio", { name: /^With the browser/ })).toBeFocused();
  await page.keyboard.press("ArrowDown");
  await expect(page.getByRole("radio", { name: /^With a code/ })).toBeChecked();
  await page.keyboard.press("Enter");
  await expect(page.getByText("Asking Entra ID for a code…")).toBeVisible();
  await expect(page.locator("#cancel-sign-in")).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("button", { name: "Get a code" })).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(page.locator("#sign-in-dialog")).toHaveCount(0);

  await tabTo(page, "nav-general");
  await page.keyboard.press("Enter");
  await tabTo(page, "interval");
  await page.keyboard.press("Control+A");
  await page.keyboard.type("30");
  await page.keyboard.press("Enter");
  await expect(page.locator("#status")).toHaveText("Settings saved.");
  expect((await calls(page)).find((c) => c.cmd === "set_general")?.args).toEqual({
    general: { refreshIntervalMinutes: 30, startAtLogin: true, logLevel: "info", helm: false },
  });
  // The Helm switch is next in the tab order; Space turns it on and saves it.
  await tabTo(page, "helm");
  await page.keyboard.press("Space");
  await expect(page.getByRole("switch", { name: "Keep Helm logged in too" })).toBeChecked();
  expect((await calls(page)).filter((c) => c.cmd === "set_general").at(-1)?.args).toEqual({
    general: { refreshIntervalMinutes: 30, startAtLogin: true, logLevel: "info", helm: true },
  });
});
