// Registries view: validation while typing, adding, discovery, status rendering, errors.
import { calls, emit, expect, holdClock, reply, test } from "./app";
import { expectAccessible } from "./axe";
import { NOW, discovery, overview } from "./harness/fixtures";

const openAdd = async (page: import("@playwright/test").Page) => {
  await page.getByRole("button", { name: "Add registry" }).click();
  return page.getByLabel("Registry name or login server");
};

test("registry name validation as you type", async ({ open }) => {
  const page = await open();
  const field = await openAdd(page);
  const error = page.locator("#name-error");
  const help = page.locator("#name-help");

  await field.fill("myregistry1");
  await expect(error).toHaveCount(0);
  await expect(help).toHaveText("Login server: myregistry1.azurecr.io");

  // "Too short" waits until the field is left: nobody wants it after the first letter.
  await field.fill("abc");
  await expect(error).toHaveCount(0);
  await field.press("Tab");
  await expect(error).toContainText("Too short");
  await expect(field).toHaveAttribute("aria-invalid", "true");

  await field.fill("my-registry");
  await expect(error).toContainText("only letters and digits");
  await field.fill("my registry");
  await expect(error).toContainText("only letters and digits");
  await field.fill("a".repeat(51));
  await expect(error).toContainText("Too long");
  await field.fill("a".repeat(50));
  await expect(error).toHaveCount(0);

  // Login servers inside the cloud's suffix (any case) are fine; nested or bare suffixes are not.
  await field.fill("MyRegistry.AzureCR.io");
  await expect(error).toHaveCount(0);
  await expect(help).toHaveText("Inside azurecr.io.");
  await expect(page.locator("#trust")).toHaveCount(0);
  await field.fill("team.myregistry.azurecr.io");
  await expect(error).toContainText("no further dots");
  await field.fill("azurecr.io");
  await expect(error).toContainText("Put the registry name in front");
  await field.fill("https://myregistry.azurecr.io");
  await expect(error).toContainText("without https://");
  await field.fill("abc.azurecr.io");
  await expect(error).toContainText("is not a registry name");
});

test("attacker suffixes are custom domains, refused without explicit trust", async ({ page, open }) => {
  await open();
  const field = await openAdd(page);
  for (const host of ["contoso.azurecr.io.attacker.com", "azurecr.io.evil", "myregistryazurecr.io"]) {
    await field.fill(host);
    await expect(page.locator("#name-help")).toHaveText("Outside azurecr.io: a custom domain.");
    await expect(page.locator("#trust")).not.toBeChecked();
    await page.getByRole("button", { name: "Add registry", exact: true }).last().click();
    await expect(page.locator("#form-error")).toContainText("Trust");
  }
  await field.fill("contoso.azurecr.io.attacker.com");
  await expect(page.locator("#lookalike")).toContainText("is not an Azure registry");
  await field.fill("registry.fabrikam.com");
  await expect(page.locator("#lookalike")).toHaveCount(0);
  expect((await calls(page)).filter((c) => c.cmd === "add_registry")).toEqual([]);

  // Ticking the box is the only way to send tokens to it, and the request says so.
  await page.getByLabel(/Trust registry\.fabrikam\.com/).check();
  await page.locator("#add-submit").click();
  await expect(page.locator("#add-dialog")).toHaveCount(0);
  const add = (await calls(page)).filter((c) => c.cmd === "add_registry");
  expect(add).toEqual([
    { cmd: "add_registry", args: { request: { nameOrLoginServer: "registry.fabrikam.com", signIn: { kind: "identity", identity: "user-dana" }, trustCustomDomain: true } } },
  ]);
});

test("a custom cloud's suffix with a port is honoured", async ({ page, open }) => {
  const o = overview();
  o.cloud = { ...o.cloud, name: "custom", acrSuffix: "azurecr.localhost:8443" };
  await open({ overview: o });
  const field = await openAdd(page);
  await field.fill("demoreg1.azurecr.localhost:8443");
  await expect(page.locator("#name-help")).toHaveText("Inside azurecr.localhost:8443.");
  await field.fill("demoreg1.azurecr.io");
  await expect(page.locator("#trust")).toBeVisible();
});

test("adding by name with an identity, and a rejected add shows message and hint inline", async ({ page, open }) => {
  await open();
  await reply(page, "add_registry", {
    err: { code: "invalidInput", message: "No registry named missingreg in this cloud.", hint: "Check the name in the Azure portal, or pick it from “Find in Azure”.", at: NOW },
  });
  const field = await openAdd(page);
  await field.fill("missingreg");
  await page.getByLabel("Sign in with").selectOption({ label: "Admin account, password read through Azure with dana@contoso.com" });
  await field.press("Enter");
  const err = page.locator("#name-error");
  await expect(err).toContainText("No registry named missingreg in this cloud.");
  await expect(err).toContainText("Check the name in the Azure portal");
  await expect(page.locator("#add-dialog")).toBeVisible();
  expect((await calls(page)).find((c) => c.cmd === "add_registry")?.args).toEqual({
    request: { nameOrLoginServer: "missingreg", signIn: { kind: "adminArm", identity: "user-dana" }, trustCustomDomain: false },
  });
  // Editing the name clears the stale server error.
  await field.fill("missingreg2");
  await expect(err).toHaveCount(0);

  await reply(page, "add_registry", { ok: { name: "missingreg2" } });
  await field.press("Enter");
  await expect(page.locator("#add-dialog")).toHaveCount(0);
  await expect(page.locator("#status")).toHaveText("missingreg2 added.");
});

test("an ACR token is added with its name and password, which leave the form at once", async ({ page, open }) => {
  await open();
  await reply(page, "add_registry", {
    err: { code: "invalidInput", message: "teamreg.azurecr.io refused the ACR token pull-token with this password", hint: null, at: NOW },
  });
  const field = await openAdd(page);
  await field.fill("teamreg");
  await page.getByLabel("Sign in with").selectOption({ label: "ACR token, name and password" });
  const name = page.getByLabel("Token name");
  const password = page.getByLabel("Token password");
  // Checked before anything is sent: a well-formed name, and a password.
  await name.fill("tok");
  await password.fill("s3cret-pw");
  await page.locator("#add-submit").click();
  await expect(page.locator("#form-error")).toContainText("5–50 letters, digits and hyphens");
  await name.fill("pull-token");
  await password.fill("");
  await page.locator("#add-submit").click();
  await expect(page.locator("#form-error")).toContainText("one of the token's passwords");
  expect((await calls(page)).filter((c) => c.cmd === "add_registry")).toEqual([]);

  // The first account reads the token in Azure unless "Nobody" is picked.
  await expect(page.getByLabel("Warn before its password expires, reading it with")).toHaveValue("user-dana");
  await password.fill("s3cret-pw");
  await page.locator("#add-submit").click();
  await expect(page.locator("#name-error")).toContainText("refused the ACR token pull-token");
  await expect(password).toHaveValue("");
  await page.getByLabel("Warn before its password expires, reading it with").selectOption({ label: "Nobody: do not watch its expiry" });
  await password.fill("s3cret-pw2");
  await reply(page, "add_registry", { ok: { name: "teamreg" } });
  await password.press("Enter");
  await expect(page.locator("#add-dialog")).toHaveCount(0);
  await expect(page.locator("#status")).toHaveText("teamreg added.");
  const sent = (await calls(page)).filter((c) => c.cmd === "add_registry").map((c) => c.args);
  expect(sent).toEqual([
    { request: { nameOrLoginServer: "teamreg", signIn: { kind: "acrToken", token: "pull-token", password: "s3cret-pw", watchedBy: "user-dana" }, trustCustomDomain: false } },
    { request: { nameOrLoginServer: "teamreg", signIn: { kind: "acrToken", token: "pull-token", password: "s3cret-pw2", watchedBy: null }, trustCustomDomain: false } },
  ]);
});

test("a registry on an ACR token shows the token and its soonest password expiry", async ({ page, open }) => {
  const o = overview();
  const [first] = o.registries;
  o.registries.push(
    { ...first, name: "teamreg", loginServer: "teamreg.azurecr.io", signIn: { kind: "acrToken", token: "pull-token", watchedBy: "user-dana", enabled: true, passwordExpiry: "2026-03-24T10:00:00Z", expiringPassword: "password1", notWatched: null }, role: null, roleName: null, adminAccount: null },
    { ...first, name: "otherreg", loginServer: "otherreg.azurecr.io", signIn: { kind: "acrToken", token: "push-token", watchedBy: null, enabled: null, passwordExpiry: null, expiringPassword: null, notWatched: "No identity reads this token in Azure." }, role: null, roleName: null, adminAccount: null },
  );
  await open({ overview: o });
  await expect(page.locator('[data-registry="teamreg"] .facts')).toContainText("ACR token “pull-token”, password1 expires 2026-03-24");
  await expect(page.locator('[data-registry="otherreg"] .facts')).toContainText("ACR token “push-token”, expiry not watched");
});

test("discovered registries: searchable, added ones marked, picking fills the form", async ({ page, open }) => {
  await open();
  await openAdd(page);
  await page.getByRole("button", { name: "Find in Azure" }).click();
  await page.getByLabel("List the registries this account can see").selectOption("sp-ci");
  await page.getByRole("button", { name: "List registries" }).click();
  const list = page.getByRole("list", { name: "Registries found" });
  await expect(list.getByRole("button")).toHaveCount(4);
  await expect(list.getByRole("button", { name: "Already added: contosoprod" })).toBeDisabled();
  await page.getByLabel("Search").fill("research");
  await expect(list.getByRole("button")).toHaveCount(1);
  // What ARM says about each: the admin account, and whether ARM-audience tokens are taken.
  await expect(list.getByRole("button", { name: "Choose contosoml" })).toContainText("Admin account on");
  await page.getByLabel("Search").fill("");
  await expect(list.getByRole("button", { name: "Choose edgecache" })).toContainText("ACR tokens only");
  await expect(list.getByRole("button", { name: "Choose contosostaging" })).not.toContainText("Admin account on");
  await page.getByLabel("Search").fill("research");
  await list.getByRole("button", { name: "Choose contosoml" }).click();
  await expect(page.getByLabel("Registry name or login server")).toHaveValue("contosoml.azurecr.io");
  await expect(page.getByLabel("Sign in with")).toHaveValue("identity:sp-ci");
  expect((await calls(page)).find((c) => c.cmd === "discover_registries")?.args).toEqual({ identity: "sp-ci" });

  // An AcrPull-only identity can list nothing through ARM: the engine's notice says why.
  await reply(page, "discover_registries", { ok: { identity: "sp-ci", registries: [], unlisted: [], notice: "ci-deployer has AcrPull only, which cannot list registries through Azure Resource Manager. Type the name instead." } });
  await page.getByRole("button", { name: "Find in Azure" }).click();
  await page.getByRole("button", { name: "List registries" }).click();
  await expect(page.locator("#disc-notice")).toContainText("AcrPull only");
  await expect(page.getByText("This account can list no registries.")).toBeVisible();

  // A registry added by name that ARM does not show: discovery says why, and that it works.
  await reply(page, "discover_registries", {
    ok: {
      identity: "sp-ci", registries: [], notice: null,
      unlisted: [{ name: "legacyimages", loginServer: "legacyimages.azurecr.io", reason: "ci-deployer has AcrPull there (pull); it was added by name and keeps working." }],
    },
  });
  await page.getByRole("button", { name: "List registries" }).click();
  await expect(page.getByRole("note", { name: "Registries not listed" })).toContainText("legacyimages is not listed: ci-deployer has AcrPull there");
});

test("each registry shows what its identity can do and its admin account", async ({ page, open }) => {
  await open();
  const card = (name: string) => page.locator(`[data-registry="${name}"]`);
  await expect(card("contosoprod").locator(".role")).toHaveText("Pull and push (AcrPush)");
  await expect(card("legacyimages").locator(".role")).toHaveText("Pull (AcrPull)");
  await expect(card("contosobuild").locator(".role")).toHaveCount(0);
  await expect(card("contosoprod").locator(".admin-account")).toHaveText("Disabled");
  const enabled = card("contosobuild").locator(".admin-account");
  await expect(enabled).toHaveText("Enabled, passwords watched");
  await expect(enabled).toHaveClass(/warn-text/);
  // The warning is the engine's, as the view gives it.
  await expect(enabled).toHaveAttribute("title", /recommend keeping the admin account disabled \(as the engine says it\)/);
  const unwatched = card("legacyimages").locator(".admin-account");
  await expect(unwatched).toHaveText("Not watched: needs Reader");
  await expect(unwatched).toHaveAttribute("title", /AcrPull and AcrPush do not show registries/);
  await expect(card("partnerregistry").locator(".admin-account")).toHaveCount(0);
  // The admin account of a registry in admin mode cannot be disabled from here (it would cut
  // Docker off).
  await expect(card("contosobuild").getByRole("button", { name: /Disable the admin account/ })).toHaveCount(0);
});

test("a registry with repository permissions names Entra's repository roles", async ({ page, open }) => {
  const ov = overview();
  ov.registries[0]!.repositoryPermissions = true;
  ov.registries[0]!.roleName = "Container Registry Repository Writer";
  ov.registries[2]!.repositoryPermissions = true;
  ov.registries[2]!.role = "None";
  ov.registries[2]!.roleName = "no repository role";
  await open({ overview: ov });
  const card = (name: string) => page.locator(`[data-registry="${name}"]`);
  await expect(card("contosoprod").locator(".role")).toHaveText("Pull and push (Container Registry Repository Writer), per repository");
  await expect(card("legacyimages").locator(".role")).toHaveText("Nothing: no repository role (AcrPull and AcrPush are not honoured here)");

  // Discovery marks such a registry; a legacy one has no mark.
  await openAdd(page);
  await page.getByRole("button", { name: "Find in Azure" }).click();
  const found = discovery();
  found.registries[1]!.repositoryPermissions = true;
  await reply(page, "discover_registries", { ok: found });
  await page.getByRole("button", { name: "List registries" }).click();
  const list = page.getByRole("list", { name: "Registries found" });
  await expect(list.getByRole("button", { name: "Choose contosostaging" })).toContainText("Repository permissions (ABAC)");
  await expect(list.getByRole("button", { name: "Choose contosoml" })).not.toContainText("Repository permissions");
});

test("an enabled admin account can be disabled, after a confirmation", async ({ page, open }) => {
  const ov = overview();
  ov.registries[0]!.adminAccount = { enabled: true, passwordsWatched: true, notWatched: null, checkedAt: null, warning: "Anyone with its password can push and pull." };
  await open({ overview: ov, replies: { set_admin_account: { ok: null } } });
  const card = page.locator('[data-registry="contosoprod"]');
  await card.getByRole("button", { name: "Disable the admin account of contosoprod" }).click();
  const dialog = page.getByRole("dialog", { name: "Disable the admin account of contosoprod?" });
  await expect(dialog).toContainText("Its passwords stop working for everyone");
  await dialog.getByRole("button", { name: "Disable" }).click();
  await expect(page.locator("#status")).toHaveText("The admin account of contosoprod is disabled.");
  expect((await calls(page)).find((c) => c.cmd === "set_admin_account")?.args).toEqual({ name: "contosoprod", enabled: false });
});

test("status rendering: badges, countdown from the engine clock, next refresh", async ({ page, open }) => {
  await page.clock.install({ time: new Date(NOW) });
  await open();
  // Countdowns to the second below: no time may pass but what the test says.
  await holdClock(page, overview());
  const card = (name: string) => page.locator(`[data-registry="${name}"]`);
  await expect(card("contosoprod").locator(".badge")).toHaveText("Logged in");
  await expect(card("legacyimages").locator(".badge")).toHaveText("Failing");
  await expect(card("partnerregistry").locator(".badge")).toHaveText("Sign-in required");
  await expect(card("contosoprod").locator(".last-refresh")).toHaveText("09:48 · 12 min ago");
  await expect(card("contosoprod").locator(".expiry")).toHaveText("Expires in 2 h 48 min");
  await expect(card("contosoprod").locator(".next-refresh")).toHaveText("10:46 · in 46 min");
  await expect(card("legacyimages").locator(".expiry")).toHaveClass(/warn-text/);
  await expect(card("partnerregistry").locator(".expiry")).toHaveText("Expired 10 min ago");
  await expect(card("partnerregistry").locator(".next-refresh")).toHaveText("Waiting for a sign-in");
  await expect(card("contosobuild").locator(".expiry")).toHaveText("No expiry known");
  await expect(card("partnerregistry")).toContainText("Trusted custom domain");
  await expect(card("contosobuild")).toContainText("Admin account, read with dana@contoso.com");

  // The countdown runs on local elapsed time from Overview.now.
  await page.clock.runFor(5 * 60_000);
  await expect(card("contosoprod").locator(".expiry")).toHaveText("Expires in 2 h 43 min");
  await expect(card("legacyimages").locator(".expiry")).toHaveText("Expires in 15 min");
  await expect(card("legacyimages").locator(".next-refresh")).toHaveText("10:12 · in 7 min 30 s");
  await page.clock.runFor(6 * 60_000 + 30_000);
  await expect(card("legacyimages").locator(".expiry")).toHaveText("Expires in 9 min 00 s");
  await expect(card("legacyimages").locator(".next-refresh")).toHaveText("10:12 · in 1 min 00 s");
  await page.clock.runFor(2 * 60_000);
  await expect(card("legacyimages").locator(".next-refresh")).toHaveText("Due now");

  // An `overview` event re-renders everything, and resets the clock to the engine's.
  const o = overview();
  const legacy = o.registries[2]!;
  Object.assign(legacy, { health: "ok", lastError: null, lastRefresh: NOW, expiresAt: new Date(Date.parse(NOW) + 3 * 3600_000).toISOString() });
  o.summary = "All 4 registries logged in";
  o.state = "ok";
  await emit(page, "overview", o);
  await expect(card("legacyimages").locator(".badge")).toHaveText("Logged in");
  await expect(card("legacyimages").locator(".error-note")).toHaveCount(0);
  await expect(card("legacyimages").locator(".expiry")).toHaveText("Expires in 3 h 0 min");
  await expect(page.locator("#summary")).toHaveText("All 4 registries logged in");
});

test("a failing registry shows its last error and hint; Refresh reports the outcome", async ({ page, open }) => {
  await open();
  const card = page.locator('[data-registry="legacyimages"]');
  await expect(card.locator(".error-message")).toHaveText("ci-deployer may not pull from legacyimages (403 from the registry).");
  await expect(card.locator(".error-hint")).toHaveText("Give the service principal the AcrPull role on legacyimages, then press Refresh.");

  await reply(page, "refresh_now", { ok: [{ name: "legacyimages", ok: false, error: { code: "permission", message: "Still no AcrPull role.", hint: null, at: null } }] });
  await card.getByRole("button", { name: "Refresh legacyimages" }).click();
  await expect(page.locator("#status")).toHaveText("Could not refresh legacyimages: Still no AcrPull role.");
  await reply(page, "refresh_now", { ok: [] });
  await page.getByRole("button", { name: "Refresh all" }).click();
  await expect(page.locator("#status")).toHaveText("All registries refreshed.");
  const refreshes = (await calls(page)).filter((c) => c.cmd === "refresh_now").map((c) => c.args);
  expect(refreshes).toEqual([{ names: ["legacyimages"] }, { names: [] }]);
});

test("remove asks first", async ({ page, open }) => {
  await open();
  await page.getByRole("button", { name: "Remove contosobuild" }).click();
  await expect(page.getByRole("dialog", { name: "Remove contosobuild?" })).toBeVisible();
  await page.getByRole("button", { name: "Cancel" }).click();
  expect((await calls(page)).some((c) => c.cmd === "remove_registry")).toBe(false);
  await page.getByRole("button", { name: "Remove contosobuild" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Remove" }).click();
  await expect(page.locator("#status")).toContainText("contosobuild removed.");
  expect((await calls(page)).find((c) => c.cmd === "remove_registry")?.args).toEqual({ name: "contosobuild" });
});

test("a registry on the admin account can be switched to an Entra account", async ({ page, open }) => {
  await open({ replies: { add_registry: { ok: { name: "contosobuild" } } } });
  const card = page.locator('[data-registry="contosobuild"]');
  await card.getByRole("button", { name: "Change how contosobuild signs in" }).click();
  const dialog = page.getByRole("dialog", { name: "Change how contosobuild signs in" });
  await expect(dialog.getByLabel("Registry name or login server")).toHaveValue("contosobuild.azurecr.io");
  await expect(dialog.getByLabel("Registry name or login server")).toHaveAttribute("readonly", "");
  // The way off the admin account is offered first.
  await expect(dialog.getByLabel("Sign in with")).toHaveValue("identity:user-dana");
  await expect(dialog.getByRole("button", { name: "Find in Azure" })).toBeHidden();
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(page.locator("#status")).toHaveText("contosobuild: sign-in changed.");
  expect((await calls(page)).find((c) => c.cmd === "add_registry")?.args).toEqual({
    request: { nameOrLoginServer: "contosobuild.azurecr.io", signIn: { kind: "identity", identity: "user-dana" }, trustCustomDomain: false },
  });
});

test.describe("in a 12-hour locale", () => {
  test.use({ locale: "en-US" });
  test("times are 24-hour, as in the tray and the summary line", async ({ page, open }) => {
    await page.clock.install({ time: new Date(NOW) });
    await open();
    await holdClock(page, overview());
    const card = page.locator('[data-registry="contosoprod"]');
    await expect(card.locator(".last-refresh")).toHaveText("09:48 · 12 min ago");
    await expect(card.locator(".next-refresh")).toHaveText("10:46 · in 46 min");
  });
});

test("Check proves Docker's credential and reports a repository's grants, by keyboard", async ({ page, open }) => {
  const report = {
    name: "contosoprod", loginServer: "contosoprod.azurecr.io", source: { kind: "config-file" },
    username: "00000000-0000-0000-0000-000000000000", authenticated: true, repository: null, granted: [],
    expiresAt: "2026-03-10T12:48:00Z",
  };
  await open({ replies: { check_registry: { ok: report } } });
  const card = page.locator('[data-registry="contosoprod"]');
  const check = card.getByRole("button", { name: "Check contosoprod" });
  await expect(check).toHaveAttribute("aria-expanded", "false");
  await check.focus();
  await page.keyboard.press("Enter");
  await expect(check).toHaveAttribute("aria-expanded", "true");
  const panel = card.getByRole("form", { name: "Check contosoprod" });
  // Opening it checks at once that Docker's credential signs in, and the keyboard waits in the
  // repository field.
  await expect(panel.getByLabel("Repository (optional)")).toBeFocused();
  await expect(panel.getByRole("status")).toHaveText("Signs in: the registry issued a token and accepted it. An ACR token from Docker's config.json.");

  // With a repository: what is granted there, and what is not.
  await page.keyboard.type("team/app");
  await reply(page, "check_registry", {
    ok: { ...report, source: { kind: "helper", helper: "desktop", key: "credsStore" }, repository: "team/app", granted: ["pull"] },
  });
  await page.keyboard.press("Enter");
  await expect(panel.getByRole("status")).toHaveText("team/app: pull granted; push, delete not granted. An ACR token from docker-credential-desktop (credsStore).");
  expect((await calls(page)).filter((c) => c.cmd === "check_registry").map((c) => c.args)).toEqual([
    { name: "contosoprod", repository: null },
    { name: "contosoprod", repository: "team/app" },
  ]);

  // Nothing granted is said plainly.
  await reply(page, "check_registry", { ok: { ...report, username: "contosoprod", repository: "team/app", granted: [] } });
  await panel.getByRole("button", { name: "Check", exact: true }).click();
  await expect(panel.getByRole("status")).toHaveText("team/app: nothing granted (asked for pull, push and delete). User “contosoprod” from Docker's config.json.");
});

test("Check on a registry with repository permissions says which Entra role to ask for", async ({ page, open }) => {
  const hint = "contosoprod.azurecr.io uses repository permissions (ABAC): AcrPull and AcrPush are not honoured there. To push to team/app, ask for Container Registry Repository Writer for user-dana, e.g. run `az role assignment create --assignee user-dana --role \"Container Registry Repository Writer\" --scope <registry id>`";
  const report = {
    name: "contosoprod", loginServer: "contosoprod.azurecr.io", source: { kind: "config-file" },
    username: "00000000-0000-0000-0000-000000000000", authenticated: true, repository: "team/app", granted: ["pull"],
    expiresAt: "2026-03-10T12:48:00Z", hint,
  };
  await open({ replies: { check_registry: { ok: report } } });
  const card = page.locator('[data-registry="contosoprod"]');
  await card.getByRole("button", { name: "Check contosoprod" }).click();
  const panel = card.getByRole("form", { name: "Check contosoprod" });
  await expect(panel.getByRole("status")).toContainText("team/app: pull granted; push, delete not granted.");
  await expect(panel.locator(".check-hint")).toHaveText(hint);
});

test("Check shows the engine's error and what to do", async ({ page, open }) => {
  await open({
    replies: {
      check_registry: {
        err: {
          code: "signInRequired",
          message: "registry contosoprod.azurecr.io: Docker holds no credential for it in config.json \"auths\" (Docker's config: /home/dana/.docker/config.json)",
          hint: "Refresh now writes one for contosoprod",
          at: null,
        },
      },
    },
  });
  const card = page.locator('[data-registry="contosoprod"]');
  await card.getByRole("button", { name: "Check contosoprod" }).click();
  const panel = card.getByRole("form", { name: "Check contosoprod" });
  const alert = panel.getByRole("alert");
  await expect(alert.locator(".error-message")).toContainText("Docker holds no credential for it");
  await expect(alert.locator(".error-hint")).toHaveText("Refresh now writes one for contosoprod");
  await expect(panel.getByRole("status")).toHaveText("");
  expect((await calls(page)).filter((c) => c.cmd === "check_registry").map((c) => c.args)).toEqual([{ name: "contosoprod", repository: null }]);
});

test("another client's file that cannot be written is shown on the Registries page until it is written again", async ({ page, open }) => {
  const o = overview();
  const file = "/home/dana/.config/helm/registry/config.json";
  o.clientFiles = [
    {
      file, client: "helm", what: "Helm's registry config", at: NOW,
      message: `${file} is not valid: EOF while parsing a value at line 1 column 10; ACR Tray left it untouched`,
      hint: "fix the JSON by hand (or move the file away) and run the refresh again; or set [clients] helm = false to stop keeping it in sync",
    },
  ];
  await open({ overview: o });
  const note = page.locator(".client-files");
  await expect(note.getByRole("heading", { level: 2 })).toHaveText("A client's file could not be updated");
  const item = note.locator(`[data-client-file="${file}"]`);
  await expect(item.locator(".client-file-name")).toHaveText(`Helm's registry config ${file}`);
  await expect(item.locator(".error-message")).toContainText("is not valid");
  await expect(item.locator(".error-hint")).toContainText("fix the JSON by hand");
  // A standing note, not an alert: nothing the user just did.
  await expect(page.getByRole("alert")).toHaveCount(0);
  await expectAccessible(page, "registries with a failing client file");

  // Written again: the next overview drops it.
  await emit(page, "overview", { ...o, clientFiles: [] });
  await expect(note).toHaveCount(0);
});

test("several clients' files that cannot be written are counted in the heading, each named with a capital", async ({ page, open }) => {
  const o = overview();
  const helm = "/home/dana/.config/helm/registry/config.json";
  const podman = "/run/user/1000/containers/auth.json";
  o.clientFiles = [
    { file: helm, client: "helm", what: "Helm's registry config", at: NOW, message: `${helm} is not valid`, hint: null },
    { file: podman, client: "podman", what: "podman's auth.json", at: NOW, message: `${podman} is not valid`, hint: null },
  ];
  await open({ overview: o });
  const note = page.locator(".client-files");
  await expect(note.getByRole("heading", { level: 2 })).toHaveText("2 clients' files could not be updated");
  await expect(note.locator(".client-file-name")).toHaveText([`Helm's registry config ${helm}`, `Podman's auth.json ${podman}`]);
  await expect(note.locator(".error-hint")).toHaveCount(0);
});
