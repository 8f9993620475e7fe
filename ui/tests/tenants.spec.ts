// One sign-in for every tenant of a person's account (home and guest tenants): Accounts lists the
// tenants, a tenant that demands MFA says why and offers its own sign-in; registry cards name their
// tenant and lead to that sign-in; discovery (the Add dialog and the first-run guide) is grouped by
// tenant, a tenant that could not be listed says why and offers the sign-in. Axe on each state.
import type { Page } from "@playwright/test";
import type { Discovery } from "../src/bindings";
import { calls, emit, expect, focused, type Setup, settle, tabTo, test } from "./app";
import { expectAccessible } from "./axe";
import { firstStart, newAccount, NOW, TENANTS, tenantsDiscovery, tenantsOverview } from "./harness/fixtures";

const commands = async (page: Page, cmd: string) => (await calls(page)).filter((c) => c.cmd === cmd).map((c) => c.args);
const account = (page: Page, id: string) => page.locator(`[data-account="${id}"]`);
const card = (page: Page, name: string) => page.locator(`[data-registry="${name}"]`);
const group = (page: Page, id: string) => page.locator(`#disc-tenants [data-tenant="${id}"]`);
const dialog = (page: Page) => page.locator("#sign-in-dialog");
const NORTHWIND_SIGN_IN = { request: { method: "browser", tenant: TENANTS.northwind.id, clientId: null } };

async function openTenants(page: Page, open: (s?: Setup) => Promise<Page>, replies: Setup["replies"] = {}) {
  await page.clock.install({ time: new Date(NOW) });
  return open({ overview: tenantsOverview(), replies: { discover_registries: { ok: tenantsDiscovery() }, ...replies } });
}

/** The tenant sign-in dialog is open for Northwind: its words, only a person's methods, then the browser. */
async function signsInToNorthwind(page: Page) {
  await expect(dialog(page).getByRole("heading", { name: "Sign in to tenant Northwind Traders" })).toBeVisible();
  await expect(dialog(page).locator("#si-at-tenant")).toContainText("Sign in as dana@contoso.com to the tenant Northwind Traders");
  await expect(dialog(page).getByRole("radio")).toHaveCount(2);
  await expect(dialog(page).getByRole("radio", { name: /^With the browser/ })).toBeChecked();
  await expect(dialog(page).getByLabel("Tenant (optional)")).toHaveCount(0);
  await dialog(page).getByRole("button", { name: "Open the browser" }).click();
  await expect.poll(() => commands(page, "sign_in_user")).toEqual([NORTHWIND_SIGN_IN]);
}

test("Accounts: one account with its tenants, home marked; the tenant that demands MFA says why and signs in to it alone", async ({ page, open }) => {
  await openTenants(page, open);
  await page.getByRole("button", { name: "Accounts" }).click();
  const dana = account(page, "user-dana");
  const tenants = dana.getByRole("list", { name: "Tenants" }).getByRole("listitem");
  await expect(tenants).toHaveCount(3);
  await expect(tenants.nth(0)).toContainText("ContosoHome");
  await expect(tenants.nth(0)).toContainText(`contoso.onmicrosoft.com · ${TENANTS.home.id}`);
  await expect(tenants.nth(1)).toContainText("Fabrikam PartnersGuest");
  await expect(tenants.nth(1).locator(".badge")).toHaveText("Works");
  const northwind = dana.locator(`[data-tenant="${TENANTS.northwind.id}"]`);
  await expect(northwind.locator(".badge")).toHaveText("Sign-in required");
  await expect(northwind.locator(".error-message")).toContainText("AADSTS50076");
  await expect(northwind.locator(".error-hint")).toContainText(`“Sign in to tenant ${TENANTS.northwind.name}…” under Accounts`);
  // The account itself is fine: no "Sign in again"; a one-tenant account looks as before.
  await expect(dana.locator(".card-head .badge")).toHaveText("Signed in");
  await expect(dana.getByRole("button", { name: /Sign in again/ })).toHaveCount(0);
  await expect(account(page, "sp-ci").locator(".tenants")).toHaveCount(0);
  await expectAccessible(page, "accounts with tenants");

  // Keyboard: Tab reaches the tenant's sign-in; Enter opens it.
  await page.locator("#sign-in").focus();
  await tabTo(page, "Sign in to tenant Northwind Traders as dana@contoso.com");
  await page.keyboard.press("Enter");
  await expectAccessible(page, "the tenant sign-in dialog");
  await signsInToNorthwind(page);
  await settle(page, "sign_in_user", { ok: tenantsOverview().accounts[0] });
  await expect(dialog(page)).toHaveCount(0);
  expect(await focused(page)).toBe("Sign in to tenant Northwind Traders as dana@contoso.com");
});

test("the tenant sign-in by device code: the code is shown, the tenant kept", async ({ page, open }) => {
  await openTenants(page, open);
  await page.getByRole("button", { name: "Accounts" }).click();
  await page.getByRole("button", { name: "Sign in to tenant Northwind Traders as dana@contoso.com" }).click();
  await dialog(page).getByRole("radio", { name: /^With a code/ }).check();
  await dialog(page).getByRole("button", { name: "Get a code" }).click();
  await emit(page, "device-code", { userCode: "N7W4-QX2D", verificationUri: "https://microsoft.com/devicelogin", expiresAt: "2026-03-10T10:15:00Z", message: "Enter N7W4-QX2D." });
  await expect(page.locator("#device-code")).toHaveText("N7W4-QX2D");
  expect(await commands(page, "sign_in_user")).toEqual([{ request: { method: "deviceCode", tenant: TENANTS.northwind.id, clientId: null } }]);
});

test("registry cards name their tenant; the one waiting for Northwind leads to that tenant's sign-in", async ({ page, open }) => {
  await openTenants(page, open);
  await expect(card(page, "contosoprod").locator("dd.tenant")).toHaveText("Contoso");
  await expect(card(page, "fabrikamshared").locator("dd.tenant")).toHaveText("Fabrikam Partners");
  await expect(card(page, "northwindimages").locator("dd.tenant")).toHaveText("Northwind Traders");
  await expect(card(page, "northwindimages").locator(".badge")).toHaveText("Sign-in required");
  await expect(card(page, "northwindimages").getByRole("button", { name: /Sign in again/ })).toHaveCount(0);
  await expectAccessible(page, "registries in several tenants");

  await tabTo(page, "Sign in to tenant Northwind Traders for northwindimages", 60);
  await page.keyboard.press("Enter");
  await expect(page.locator("#nav-accounts")).toHaveAttribute("aria-current", "page");
  await signsInToNorthwind(page);
});

test("a one-tenant account's card and sign-in look as before (no tenant line, Sign in again)", async ({ page, open }) => {
  await page.clock.install({ time: new Date(NOW) });
  await open();
  await expect(page.locator("dd.tenant")).toHaveCount(0);
  await card(page, "partnerregistry").getByRole("button", { name: "Sign in again for partnerregistry" }).click();
  await expect(dialog(page).getByRole("heading", { name: "Sign in" })).toBeVisible();
  await expect(dialog(page).getByRole("radio")).toHaveCount(5);
});

test("a notification's sign-in for a person whose session is fine opens the sign-in of the tenant that demands it", async ({ page, open }) => {
  await openTenants(page, open);
  await emit(page, "navigate", { view: "accounts", identity: "user-dana", signIn: true });
  await signsInToNorthwind(page);
});

test("Add registry → Find in Azure: grouped by tenant, home first; Northwind says why and signs in, then lists again", async ({ page, open }) => {
  // Whatever order the tenants come in, home is first.
  const found = tenantsDiscovery();
  found.tenants = [...(found.tenants ?? [])].reverse();
  await openTenants(page, open, { discover_registries: { ok: found } });
  await page.getByRole("button", { name: "Add registry" }).click();
  await page.getByRole("button", { name: "Find in Azure" }).click();
  await page.getByRole("button", { name: "List registries" }).click();
  const heads = page.locator("#disc-tenants .tenant-head");
  await expect(heads).toHaveCount(3);
  await expect(heads.nth(0)).toContainText("ContosoHome");
  await expect(heads.nth(1)).toContainText("Northwind TradersGuest");
  await expect(heads.nth(2)).toContainText("Fabrikam PartnersGuest");
  await expect(page.getByRole("list", { name: "Registries found in Contoso" }).getByRole("button")).toHaveCount(2);
  await expect(page.getByRole("list", { name: "Registries found in Fabrikam Partners" }).getByRole("button")).toHaveCount(1);
  const northwind = group(page, TENANTS.northwind.id);
  await expect(northwind.locator(".error-message")).toContainText("AADSTS50076");
  await expect(northwind.locator(".error-hint")).toContainText("the account's other tenants keep working");
  await expect(northwind.getByRole("list")).toHaveCount(0);
  await expectAccessible(page, "the Add dialog's discovery across tenants");

  // Search keeps the groups; a pick in a guest tenant fills the form.
  await page.getByLabel("Search").fill("fabrikam");
  await expect(page.getByRole("list", { name: "Registries found in Contoso" })).toHaveCount(0);
  await expect(group(page, TENANTS.home.id)).toContainText("No registries to show in Contoso.");
  await page.getByLabel("Search").fill("");

  // Northwind's sign-in, by keyboard, in front of the dialog; once signed in, listed again.
  await tabTo(page, "Sign in to tenant Northwind Traders", 40);
  await page.keyboard.press("Enter");
  await expectAccessible(page, "the tenant sign-in over the Add dialog");
  await signsInToNorthwind(page);
  const listed = tenantsDiscovery();
  listed.tenants = (listed.tenants ?? []).map((t) => ({ ...t, error: null, signInRequired: false }));
  listed.registries.push({ ...listed.registries[2]!, name: "northwindimages", loginServer: "northwindimages.azurecr.io", tenant: TENANTS.northwind.id });
  await page.evaluate((r) => (window as unknown as { __test: { reply: (c: string, r: unknown) => void } }).__test.reply("discover_registries", r), { ok: listed });
  await settle(page, "sign_in_user", { ok: tenantsOverview().accounts[0] });
  await expect(page.getByRole("list", { name: "Registries found in Northwind Traders" }).getByRole("button")).toHaveCount(1);
  expect(await commands(page, "discover_registries")).toEqual([{ identity: "user-dana" }, { identity: "user-dana" }]);
  await page.getByRole("button", { name: "Choose fabrikamshared" }).click();
  await expect(page.getByLabel("Registry name or login server")).toHaveValue("fabrikamshared.azurecr.io");
  await expect(page.getByLabel("Sign in with")).toHaveValue("identity:user-dana");
});

test("first run, step 2: the account's registries grouped by tenant, ticked to keep; Northwind offers its sign-in", async ({ open }) => {
  const dana = { ...newAccount("user", "dana@contoso.com", "user-dana"), tenants: tenantsOverview().accounts[0]?.tenants ?? [] };
  const found: Discovery = { ...tenantsDiscovery(), registries: tenantsDiscovery().registries.map((r) => ({ ...r, added: false })) };
  const page = await open({ overview: firstStart(), replies: { sign_in_user: { ok: dana }, discover_registries: { ok: found } } });
  await page.getByRole("button", { name: "Open the browser" }).click();
  await expect(page.locator("#guide-title")).toHaveText("Step 2 of 3: Your registries");
  await expect(page.getByRole("heading", { level: 2, name: /^Contoso/ })).toBeVisible();
  for (const name of ["contosoprod", "contosostaging", "fabrikamshared"]) await expect(page.getByRole("checkbox", { name: `Keep ${name}` })).toBeChecked();
  await expect(page.getByRole("list", { name: "Registries found in Fabrikam Partners" }).getByRole("checkbox")).toHaveCount(1);
  await expect(group(page, TENANTS.northwind.id).locator(".error-message")).toContainText("AADSTS50076");
  await expectAccessible(page, "step 2 across tenants");

  // By keyboard: untick one in a guest tenant, reach Northwind's sign-in.
  await tabTo(page, "Keep fabrikamshared");
  await page.keyboard.press("Space");
  await expect(page.locator("#guide-next")).toHaveText("Add 2 registries");
  await tabTo(page, "Sign in to tenant Northwind Traders");
  await page.keyboard.press("Enter");
  await expect(dialog(page).getByRole("heading", { name: "Sign in to tenant Northwind Traders" })).toBeVisible();
  await dialog(page).getByRole("button", { name: "Open the browser" }).click();
  await expect.poll(async () => (await commands(page, "sign_in_user")).at(-1)).toEqual(NORTHWIND_SIGN_IN);
  // Signed in there (the reply is immediate): listed again, the choices made so far kept.
  await expect.poll(() => commands(page, "discover_registries")).toEqual([{ identity: "user-dana" }, { identity: "user-dana" }]);
  await expect(page.getByRole("checkbox", { name: "Keep fabrikamshared" })).not.toBeChecked();
  await expect(page.getByRole("checkbox", { name: "Keep contosostaging" })).toBeChecked();
});
