// Screenshots of the main views, light and dark, for docs/screenshots (committed).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "@playwright/test";
import { emit, expect, settle, SHOTS, test } from "./app";
import { firstStart, newAccount, tenantsDiscovery, tenantsOverview } from "./harness/fixtures";
import { writeIfChanged } from "./png";

test.beforeAll(() => mkdirSync(SHOTS, { recursive: true }));
const shot = async (page: Page, path: string) => writeIfChanged(path, await page.screenshot({ animations: "disabled", caret: "hide" }));

for (const scheme of ["light", "dark"] as const) {
  const sfx = scheme === "dark" ? "-dark" : "";
  test(`screenshots (${scheme})`, async ({ page, open }) => {
    await page.emulateMedia({ colorScheme: scheme });
    await page.clock.install({ time: new Date("2026-03-10T10:00:00Z") });
    await open();
    // Tall enough that every card shows: the content column scrolls, so fullPage wouldn't help.
    await page.setViewportSize({ width: 1000, height: 1010 });
    await expect(page.locator("[data-registry]")).toHaveCount(4);
    await shot(page, join(SHOTS, `ui-registries${sfx}.png`));

    await page.setViewportSize({ width: 1000, height: 1400 });
    await page.getByRole("button", { name: "General" }).click();
    await expect(page.locator(".finding")).toHaveCount(2);
    await shot(page, join(SHOTS, `ui-general${sfx}.png`));

    await page.setViewportSize({ width: 1000, height: 720 });
    await page.getByRole("button", { name: "Accounts" }).click();
    await expect(page.locator("[data-account]")).toHaveCount(3);
    await shot(page, join(SHOTS, `ui-accounts${sfx}.png`));

    await page.getByRole("button", { name: "Sign in…" }).click();
    await page.getByRole("radio", { name: /^Service principal/ }).check();
    await shot(page, join(SHOTS, `ui-sign-in${sfx}.png`));
    await page.getByRole("radio", { name: /^With a code/ }).check();
    await page.getByRole("button", { name: "Get a code" }).click();
    await emit(page, "device-code", {
      userCode: "F7K2-QW9P", verificationUri: "https://microsoft.com/devicelogin", expiresAt: "2026-03-10T10:15:00Z",
      message: "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code F7K2-QW9P to authenticate.",
    });
    await expect(page.locator("#device-code")).toHaveText("F7K2-QW9P");
    await shot(page, join(SHOTS, `ui-device-code${sfx}.png`));
    await page.keyboard.press("Escape");
    await expect(page.locator("#sign-in-dialog form")).toBeVisible();
    await page.keyboard.press("Escape");

    await page.getByRole("button", { name: "Registries" }).click();
    await page.getByRole("button", { name: "Add registry" }).click();
    await page.getByLabel("Registry name or login server").fill("contoso.azurecr.io.attacker.com");
    await shot(page, join(SHOTS, `ui-add-registry${sfx}.png`));
    await page.getByRole("button", { name: "Find in Azure" }).click();
    await page.getByRole("button", { name: "List registries" }).click();
    await expect(page.getByRole("list", { name: "Registries found" }).getByRole("button")).toHaveCount(4);
    await shot(page, join(SHOTS, `ui-discover${sfx}.png`));
  });
}

// The first-run guide, each step: sign in, the account's registries, done (one check failing).
for (const scheme of ["light", "dark"] as const) {
  const sfx = scheme === "dark" ? "-dark" : "";
  test(`first-run screenshots (${scheme})`, async ({ page, open }) => {
    await page.emulateMedia({ colorScheme: scheme });
    await page.clock.install({ time: new Date("2026-03-10T10:00:00Z") });
    await open({
      overview: firstStart(),
      replies: {
        "check_registry:contosoml": {
          err: {
            code: "permission", at: null,
            message: "contosoml.azurecr.io refused Docker's credential (401 from the token endpoint).",
            hint: "Ask for AcrPull (or a repository role) on contosoml, then retry.",
          },
        },
      },
    });
    await page.setViewportSize({ width: 1000, height: 760 });
    await expect(page.locator("#guide-title")).toHaveText("Step 1 of 3: Sign in");
    await shot(page, join(SHOTS, `ui-first-run-sign-in${sfx}.png`));
    await page.getByRole("button", { name: "Open the browser" }).click();
    await settle(page, "sign_in_user", { ok: newAccount("user", "dana@contoso.com", "user-new") });
    await expect(page.getByRole("checkbox", { name: "Keep contosoml" })).toBeChecked();
    await page.getByRole("checkbox", { name: "Keep edgecache" }).uncheck();
    await shot(page, join(SHOTS, `ui-first-run-registries${sfx}.png`));
    await page.getByRole("button", { name: "Add 2 registries" }).click();
    await expect(page.locator('[data-result="contosoml"] .error-hint')).toBeVisible();
    await expect(page.locator('[data-result="contosostaging"]')).toContainText("✓ Authenticated");
    await page.locator("#guide-title").focus();
    await shot(page, join(SHOTS, `ui-first-run-done${sfx}.png`));
  });
}

// A guest's one sign-in across tenants: Accounts with the tenants (one demanding MFA), and
// discovery grouped by tenant in the Add dialog and the first-run guide.
for (const scheme of ["light", "dark"] as const) {
  const sfx = scheme === "dark" ? "-dark" : "";
  test(`tenant screenshots (${scheme})`, async ({ page, open }) => {
    await page.emulateMedia({ colorScheme: scheme });
    await page.clock.install({ time: new Date("2026-03-10T10:00:00Z") });
    await open({ overview: tenantsOverview(), replies: { discover_registries: { ok: tenantsDiscovery() } } });
    await page.setViewportSize({ width: 1000, height: 760 });
    await page.getByRole("button", { name: "Accounts" }).click();
    await expect(page.locator(".tenant")).toHaveCount(3);
    await shot(page, join(SHOTS, `ui-tenants-accounts${sfx}.png`));

    await page.setViewportSize({ width: 1000, height: 1010 });
    await page.getByRole("button", { name: "Registries" }).click();
    await expect(page.locator("dd.tenant")).toHaveCount(4);
    await page.locator('[data-registry="northwindimages"]').scrollIntoViewIfNeeded();
    await shot(page, join(SHOTS, `ui-tenants-registries${sfx}.png`));

    await page.setViewportSize({ width: 1000, height: 900 });
    await page.getByRole("button", { name: "Add registry" }).click();
    await page.getByRole("button", { name: "Find in Azure" }).click();
    await page.getByRole("button", { name: "List registries" }).click();
    // The tenant that could not be listed, in view: why, and its sign-in.
    await page.getByRole("button", { name: "Sign in to tenant Northwind Traders", exact: true }).scrollIntoViewIfNeeded();
    await shot(page, join(SHOTS, `ui-tenants-discover${sfx}.png`));
  });

  test(`first-run tenant screenshot (${scheme})`, async ({ page, open }) => {
    await page.emulateMedia({ colorScheme: scheme });
    await page.clock.install({ time: new Date("2026-03-10T10:00:00Z") });
    const found = tenantsDiscovery();
    found.registries = found.registries.map((r) => ({ ...r, added: false }));
    await open({ overview: firstStart(), replies: { sign_in_user: { ok: newAccount("user", "dana@contoso.com", "user-dana") }, discover_registries: { ok: found } } });
    await page.setViewportSize({ width: 1000, height: 900 });
    await page.getByRole("button", { name: "Open the browser" }).click();
    await expect(page.getByRole("checkbox", { name: "Keep fabrikamshared" })).toBeChecked();
    await page.locator("#guide-title").focus();
    await shot(page, join(SHOTS, `ui-first-run-tenants${sfx}.png`));
  });
}
