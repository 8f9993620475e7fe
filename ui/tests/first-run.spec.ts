// The first run: a window opened to an engine with no account and no registry shows a guide —
// sign in → the registries that account can see → each kept one added, refreshed and checked.
// Every path, axe on every step (light and dark), one path by keyboard alone.
import type { Page } from "@playwright/test";
import type { Discovery, ErrorView } from "../src/bindings";
import { calls, emit, expect, focused, reply, type Setup, settle, tabTo, test } from "./app";
import { expectAccessible } from "./axe";
import { checkReport, discovery, firstStart, newAccount, overview } from "./harness/fixtures";

const PROMPT = {
  userCode: "F7K2-QW9P",
  verificationUri: "https://microsoft.com/devicelogin",
  expiresAt: "2026-03-10T10:15:00Z",
  message: "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code F7K2-QW9P to authenticate.",
};
const DANA = newAccount("user", "dana@contoso.com", "user-new");
const heading = (page: Page) => page.locator("#guide-title");
const row = (page: Page, name: string) => page.locator(`[data-result="${name}"]`);
const commands = async (page: Page, cmd: string) => (await calls(page)).filter((c) => c.cmd === cmd).map((c) => c.args);

/** Opens the window on a first start and checks the guide's first step is there, focused. */
async function start(open: (s?: Setup) => Promise<Page>, replies: Setup["replies"] = {}) {
  const page = await open({ overview: firstStart(), replies });
  await expect(heading(page)).toHaveText("Step 1 of 3: Sign in");
  await expect(heading(page)).toBeFocused();
  await expect(page.getByRole("list", { name: "Progress" }).locator('[aria-current="step"]')).toHaveText("1Sign in");
  return page;
}

/** Step 2 is on screen, its heading focused, listing what `identity` can see. */
async function atRegistries(page: Page, identity: string) {
  await expect(heading(page)).toHaveText("Step 2 of 3: Your registries");
  await expect(heading(page)).toBeFocused();
  await expect.poll(() => commands(page, "discover_registries")).toEqual([{ identity }]);
}

/** Step 3 proved every one of `names` with the identity. */
async function allProved(page: Page, identity: string, names: string[]) {
  await expect(heading(page)).toHaveText("Step 3 of 3: Done");
  for (const name of names) await expect(row(page, name)).toContainText("✓ Authenticated");
  expect(await commands(page, "add_registry")).toEqual(
    names.map((n) => ({ request: { nameOrLoginServer: `${n}.azurecr.io`, signIn: { kind: "identity", identity }, trustCustomDomain: false } })),
  );
  expect(await commands(page, "refresh_now")).toEqual(names.map((n) => ({ names: [n] })));
  expect(await commands(page, "check_registry")).toEqual(names.map((name) => ({ name, repository: null })));
  await expect(page.locator("#status")).toHaveText(names.length === 1 ? "All set: Docker is logged in." : `All ${names.length} set: Docker is logged in.`);
}

test("browser sign-in: the account's registries, the ones with a role ticked, each added and proven; axe on every step", async ({ open }) => {
  const page = await start(open);
  await expectAccessible(page, "step 1");
  await page.getByRole("button", { name: "Open the browser" }).click();
  await expect(page.getByText("Finish signing in in your browser…")).toBeVisible();
  expect(await commands(page, "sign_in_user")).toEqual([{ request: { method: "browser", tenant: null, clientId: null } }]);
  await expectAccessible(page, "step 1, waiting for the browser");
  await settle(page, "sign_in_user", { ok: DANA });

  await atRegistries(page, "user-new");
  const list = page.getByRole("list", { name: "Registries found" });
  await expect(list.getByRole("checkbox")).toHaveCount(4);
  // Listed by ARM = a role there: ticked; the one already configured is shown as added.
  await expect(page.getByRole("checkbox", { name: "contosoprod, already added" })).toBeDisabled();
  for (const name of ["contosostaging", "contosoml", "edgecache"]) await expect(page.getByRole("checkbox", { name: `Keep ${name}` })).toBeChecked();
  await expect(page.getByRole("button", { name: "Add 3 registries" })).toBeVisible();
  await expectAccessible(page, "step 2");
  await page.getByRole("checkbox", { name: "Keep edgecache" }).uncheck();
  await page.getByRole("button", { name: "Add 2 registries" }).click();

  await allProved(page, "user-new", ["contosostaging", "contosoml"]);
  await expect(page.locator("#guide-summary")).toContainText("Docker is logged in to all 2");
  await expectAccessible(page, "step 3");
  await page.getByRole("button", { name: "Finish" }).click();
  await expect(page.getByRole("heading", { name: "Registries", exact: true })).toBeVisible();
  await expect(page.locator("#first-run")).toHaveCount(0);
});

test("device code, keyboard only through the whole guide", async ({ open }) => {
  const page = await start(open);
  // From the heading: Skip, then the methods (a radio group: arrows choose), the fields, the submit.
  await page.keyboard.press("Tab");
  expect(await focused(page)).toBe("guide-skip");
  await page.keyboard.press("Tab");
  await expect(page.getByRole("radio", { name: /^With the browser/ })).toBeFocused();
  await page.keyboard.press("ArrowDown");
  await expect(page.getByRole("radio", { name: /^With a code/ })).toBeChecked();
  await page.keyboard.press("Enter");
  await expect(page.locator("#cancel-sign-in")).toBeFocused();
  await emit(page, "device-code", PROMPT);
  await expect(page.locator("#device-code")).toHaveText("F7K2-QW9P");
  await expect(page.locator("#copy-code")).toBeFocused();
  await expectAccessible(page, "step 1, the device code");
  await settle(page, "sign_in_user", { ok: DANA });

  await atRegistries(page, "user-new");
  expect((await commands(page, "sign_in_user"))[0]).toEqual({ request: { method: "deviceCode", tenant: null, clientId: null } });
  // Space unticks one; Enter on the button goes on.
  await tabTo(page, "Keep contosoml");
  await page.keyboard.press("Space");
  await expect(page.getByRole("checkbox", { name: "Keep contosoml" })).not.toBeChecked();
  await tabTo(page, "guide-next");
  await expect(page.locator("#guide-next")).toHaveText("Add 2 registries");
  await page.keyboard.press("Enter");

  await expect(heading(page)).toBeFocused();
  await allProved(page, "user-new", ["contosostaging", "edgecache"]);
  await tabTo(page, "guide-finish");
  await page.keyboard.press("Enter");
  await expect(page.locator("#nav-registries")).toHaveAttribute("aria-current", "page");
});

test("a service principal gets the same guide, its secret gone from the page once sent", async ({ open }) => {
  const SP = newAccount("servicePrincipal", "service principal ci-deployer", "sp-new");
  const page = await start(open, { sign_in_service_principal: { ok: SP }, "check_registry:contosoml": { ok: checkReport("contosoml") } });
  await page.getByRole("radio", { name: /^Service principal/ }).check();
  await page.getByLabel("Tenant", { exact: true }).fill("contoso.onmicrosoft.com");
  await page.getByLabel("Client id", { exact: true }).fill("0b1c2d3e-0000-4000-8000-000000000001");
  await page.getByLabel("Client secret", { exact: true }).fill("s3cr3t-value");
  await expectAccessible(page, "step 1, service principal");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await atRegistries(page, "sp-new");
  expect(await commands(page, "sign_in_service_principal")).toEqual([
    { request: { tenant: "contoso.onmicrosoft.com", clientId: "0b1c2d3e-0000-4000-8000-000000000001", credential: { kind: "secret", secret: "s3cr3t-value" } } },
  ]);
  expect(await page.content()).not.toContain("s3cr3t-value");
  await page.getByRole("checkbox", { name: "Keep contosostaging" }).uncheck();
  await page.getByRole("checkbox", { name: "Keep edgecache" }).uncheck();
  await page.getByRole("button", { name: "Add contosoml" }).click();
  await allProved(page, "sp-new", ["contosoml"]);
});

test("a managed identity gets the same guide", async ({ open }) => {
  const MI = newAccount("managedIdentity", "managed identity", "mi-new");
  const page = await start(open, { sign_in_managed_identity: { ok: MI } });
  await page.getByRole("radio", { name: /^Managed identity/ }).check();
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await atRegistries(page, "mi-new");
  expect(await commands(page, "sign_in_managed_identity")).toEqual([{ clientId: null }]);
  await page.getByRole("button", { name: "Add 3 registries" }).click();
  await allProved(page, "mi-new", ["contosostaging", "contosoml", "edgecache"]);
});

test("a discovery that finds nothing says what to do and adds by name", async ({ open }) => {
  const none: Discovery = {
    identity: "user-new", registries: [], unlisted: [],
    notice: "dana@contoso.com can list no registries through Azure Resource Manager. An identity with only AcrPull or AcrPush can still use a registry: add it by name.",
  };
  const page = await start(open, { sign_in_user: { ok: DANA }, discover_registries: { ok: none } });
  await page.getByRole("button", { name: "Open the browser" }).click();
  await atRegistries(page, "user-new");
  await expect(page.locator("#guide-none")).toContainText("dana@contoso.com can see no registries here.");
  await expect(page.locator("#guide-none")).toContainText("ask the registry's owner for a role");
  await expect(page.locator("#disc-notice")).toContainText("add it by name");
  await expect(page.locator("#guide-next")).toHaveText("Finish without registries");
  await expectAccessible(page, "step 2, nothing found");

  // Typed names are checked as the Add dialog checks them; a custom domain is sent there (it needs trust).
  const byName = page.getByLabel("Add a registry by name");
  await byName.fill("registry.example.com");
  await byName.press("Enter");
  await expect(page.locator("#guide-by-name-error")).toContainText("add it from Registries → Add registry");
  await byName.fill("a");
  await byName.press("Enter");
  await expect(page.locator("#guide-by-name-error")).toBeVisible();
  await byName.fill("teamregistry");
  await byName.press("Enter");
  await expect(page.getByRole("checkbox", { name: "Keep teamregistry" })).toBeChecked();
  await expect(byName).toHaveValue("");
  await expectAccessible(page, "step 2, one added by name");
  await page.getByRole("button", { name: "Add teamregistry" }).click();
  await allProved(page, "user-new", ["teamregistry"]);
});

test("a check that fails for one registry shows its error and hint, and Retry proves it", async ({ open }) => {
  const refused: ErrorView = {
    code: "permission", at: null,
    message: "contosoml.azurecr.io refused Docker's credential (401 from the token endpoint).",
    hint: "Ask for AcrPull (or a repository role) on contosoml, then retry.",
  };
  const page = await start(open, { sign_in_user: { ok: DANA }, "check_registry:contosoml": { err: refused } });
  await page.getByRole("button", { name: "Open the browser" }).click();
  await atRegistries(page, "user-new");
  await page.getByRole("button", { name: "Add 3 registries" }).click();
  await expect(row(page, "contosostaging")).toContainText("✓ Authenticated");
  await expect(row(page, "edgecache")).toContainText("✓ Authenticated");
  const failed = row(page, "contosoml");
  await expect(failed.locator(".error-message")).toHaveText(refused.message);
  await expect(failed.locator(".error-hint")).toHaveText(refused.hint ?? "");
  await expect(page.locator("#guide-summary")).toContainText("2 of 3 work");
  await expect(page.locator("#status")).toHaveText("2 of 3 registries work; see what to do for the others.");
  await expectAccessible(page, "step 3, one failing");

  // Retry refreshes and checks again (it was added: no second add); still refused, the keyboard
  // stays on Retry; then granted, it moves on to Finish.
  const retry = failed.getByRole("button", { name: "Retry contosoml" });
  await retry.focus();
  await page.keyboard.press("Enter");
  await expect.poll(async () => (await commands(page, "check_registry")).length).toBe(4);
  await expect(failed.locator(".error-message")).toHaveText(refused.message);
  await expect(retry).toHaveText("Retry");
  await expect(retry).toBeFocused();
  await reply(page, "check_registry:contosoml", { ok: checkReport("contosoml") });
  await page.keyboard.press("Enter");
  await expect(failed).toContainText("✓ Authenticated");
  await expect(failed.locator(".error-note")).toHaveCount(0);
  await expect(page.locator("#guide-finish")).toBeFocused();
  await expect(page.locator("#status")).toHaveText("contosoml works now.");
  expect((await commands(page, "add_registry")).length).toBe(3);
  expect((await commands(page, "refresh_now")).slice(3)).toEqual([{ names: ["contosoml"] }, { names: ["contosoml"] }]);
  expect((await commands(page, "check_registry")).slice(3)).toEqual([{ name: "contosoml", repository: null }, { name: "contosoml", repository: null }]);
});

test("Escape cancels a pending sign-in; Back and Escape return to the sign-in, which offers the account again", async ({ open }) => {
  const page = await start(open);
  await page.getByRole("radio", { name: /^With a code/ }).check();
  await page.getByRole("button", { name: "Get a code" }).click();
  await expect(page.locator("#cancel-sign-in")).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(page.locator("#status")).toHaveText("Sign-in cancelled.");
  await expect(page.getByRole("button", { name: "Get a code" })).toBeVisible();
  expect(await commands(page, "cancel_sign_in")).toHaveLength(1);
  await expect(heading(page)).toHaveText("Step 1 of 3: Sign in");

  await page.getByRole("button", { name: "Get a code" }).click();
  await settle(page, "sign_in_user", { ok: DANA });
  await atRegistries(page, "user-new");
  await page.keyboard.press("Escape");
  await expect(heading(page)).toHaveText("Step 1 of 3: Sign in");
  await expect(heading(page)).toBeFocused();
  await page.getByRole("button", { name: "Continue as dana@contoso.com" }).click();
  await expect(heading(page)).toHaveText("Step 2 of 3: Your registries");
  await page.getByRole("button", { name: "Back" }).click();
  await expect(page.getByRole("button", { name: "Continue as dana@contoso.com" })).toBeVisible();
  await expectAccessible(page, "step 1, signed in already");
});

test("a discovery that fails says why and lists again", async ({ open }) => {
  const down: ErrorView = { code: "network", message: "management.azure.com did not answer.", hint: "Check the network or proxy, then try again.", at: null };
  const page = await start(open, { sign_in_user: { ok: DANA }, discover_registries: { err: down } });
  await page.getByRole("button", { name: "Open the browser" }).click();
  await expect(page.getByRole("alert")).toContainText("did not answer");
  await expectAccessible(page, "step 2, discovery failed");
  await reply(page, "discover_registries", { ok: discovery() });
  await page.getByRole("button", { name: "List again" }).click();
  await expect(page.getByRole("checkbox", { name: "Keep contosoml" })).toBeChecked();
});

test("the guide shows only on a first start; Skip leaves it for a window whose empty page tells the truth", async ({ open }) => {
  const page = await start(open);
  await page.getByRole("button", { name: "Skip" }).click();
  await expect(page.locator("#first-run")).toHaveCount(0);
  const empty = page.locator("#no-registries");
  await expect(empty).toContainText("No account is signed in yet.");
  await expect(empty).not.toContainText("those your account can see");
  await empty.getByRole("button", { name: "Sign in…" }).click();
  await expect(page.locator("#sign-in-dialog")).toBeVisible();
  await expect(page.getByRole("radio", { name: /^With the browser/ })).toBeChecked();
  await expectAccessible(page, "the sign-in after Skip");
});

const notFirst: Array<[string, Setup, string]> = [
  ["an account, no registry", { overview: { ...firstStart(), accounts: overview().accounts.slice(0, 1) } }, "No registries yet."],
  ["registries", {}, "contosoprod"],
  ["a window opened at a place", { overview: firstStart(), fragment: "view=general" }, "Cloud"],
];
for (const [what, setup, shows] of notFirst) {
  test(`no guide for ${what}`, async ({ page, open }) => {
    await open(setup);
    await expect(page.locator("#main")).toContainText(shows);
    await expect(page.locator("#first-run")).toHaveCount(0);
  });
}

test("with an account and no registry, the empty page offers that account's registries", async ({ page, open }) => {
  await open({ overview: { ...firstStart(), accounts: overview().accounts.slice(0, 1) } });
  await expect(page.locator("#no-registries")).toContainText("pick it from those dana@contoso.com can see");
  await expectAccessible(page, "the empty page with an account");
});

test("the sidebar leaves the guide", async ({ open }) => {
  const page = await start(open);
  await page.locator("#nav-accounts").click();
  await expect(page.getByRole("heading", { name: "Accounts" })).toBeVisible();
  await expect(page.locator("#nav-accounts")).toHaveAttribute("aria-current", "page");
  await expect(page.locator("#first-run")).toHaveCount(0);
});
