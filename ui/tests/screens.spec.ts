// Screenshots of the main views, light and dark, for docs/screenshots (committed).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "@playwright/test";
import { emit, expect, SHOTS, test } from "./app";
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

    await page.setViewportSize({ width: 1000, height: 1200 });
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
