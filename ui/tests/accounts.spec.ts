// Accounts view and sign-in: session health, device code, cancel, secrets, `navigate`.
import { calls, emit, expect, reply, settle, test } from "./app";
import { NOW } from "./harness/fixtures";

const PROMPT = {
  userCode: "F7K2-QW9P",
  verificationUri: "https://microsoft.com/devicelogin",
  expiresAt: "2026-03-10T10:15:00Z",
  message: "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code F7K2-QW9P to authenticate.",
};

test("accounts show kind, tenant, health and when a sign-in will be needed", async ({ page, open }) => {
  await page.clock.install({ time: new Date(NOW) });
  await open();
  await page.getByRole("button", { name: "Accounts" }).click();
  const card = (id: string) => page.locator(`[data-account="${id}"]`);
  await expect(card("user-dana").locator(".badge")).toHaveText("Session ending soon");
  await expect(card("user-dana").locator(".session-end")).toHaveText("A sign-in will be needed around 14:05");
  await expect(card("user-dana")).toContainText("Your account · tenant contoso.onmicrosoft.com");
  await expect(card("user-dana")).toContainText("2 registries");
  await expect(card("sp-ci").locator(".badge")).toHaveText("Signed in");
  await expect(card("sp-ci").getByRole("button", { name: /Sign in again/ })).toHaveCount(0);
  await expect(card("user-alex").locator(".badge")).toHaveText("Sign-in required");
  await expect(card("user-alex").locator(".error-hint")).toHaveText("Sign in again to keep partnerregistry logged in.");

  // "Sign in again" opens the sign-in for that tenant.
  await card("user-alex").getByRole("button", { name: "Sign in again as alex@fabrikam.com" }).click();
  await expect(page.getByLabel("Tenant (optional)")).toHaveValue("fabrikam.onmicrosoft.com");
  await expect(page.getByRole("radio", { name: /^With the browser/ })).toBeChecked();
});

test("device code: shown large, copy button, link, cancel", async ({ page, context, open }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: "http://acr-tray.localhost" });
  await open();
  await page.getByRole("button", { name: "Accounts" }).click();
  await page.getByRole("button", { name: "Sign in…" }).click();
  await page.getByRole("radio", { name: /^With a code/ }).check();
  await page.getByLabel("Tenant (optional)").fill("contoso.onmicrosoft.com");
  await page.getByRole("button", { name: "Get a code" }).click();
  await expect(page.getByText("Asking Entra ID for a code…")).toBeVisible();
  expect((await calls(page)).find((c) => c.cmd === "sign_in_user")?.args).toEqual({
    request: { method: "deviceCode", tenant: "contoso.onmicrosoft.com", clientId: null },
  });

  await emit(page, "device-code", PROMPT);
  const code = page.locator("#device-code");
  await expect(code).toHaveText("F7K2-QW9P");
  const size = await code.evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  expect(size).toBeGreaterThanOrEqual(28);
  await expect(page.locator("#device-link")).toHaveAttribute("href", "https://microsoft.com/devicelogin");
  await expect(page.locator("#copy-code")).toBeFocused();
  await page.locator("#copy-code").click();
  await expect(page.locator("#copy-code")).toHaveText("Copied");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe("F7K2-QW9P");

  await page.getByRole("button", { name: "Cancel sign-in" }).click();
  await expect(page.locator("#device-code")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Get a code" })).toBeVisible();
  await expect(page.locator("#status")).toHaveText("Sign-in cancelled.");
  expect((await calls(page)).filter((c) => c.cmd === "cancel_sign_in")).toHaveLength(1);

  // Again, and this time it completes: the dialog closes and says who signed in.
  await page.getByRole("button", { name: "Get a code" }).click();
  await emit(page, "device-code", PROMPT);
  await expect(code).toBeVisible();
  await settle(page, "sign_in_user", { ok: { id: "user-new", label: "dana@contoso.com" } });
  await expect(page.locator("#sign-in-dialog")).toHaveCount(0);
  await expect(page.locator("#status")).toHaveText("Signed in: dana@contoso.com.");
});

test("a failed sign-in shows its error and hint; Escape while waiting cancels", async ({ page, open }) => {
  await open();
  await page.getByRole("button", { name: "Accounts" }).click();
  await page.getByRole("button", { name: "Sign in…" }).click();
  await page.getByRole("button", { name: "Open the browser" }).click();
  await expect(page.getByText("Finish signing in in your browser…")).toBeVisible();
  await settle(page, "sign_in_user", { err: { code: "network", message: "login.microsoftonline.com did not answer.", hint: "Check the network or proxy, then try again.", at: null } });
  await expect(page.locator("#sign-in-error")).toContainText("did not answer");
  await expect(page.locator("#sign-in-error")).toContainText("Check the network or proxy");

  await page.getByRole("button", { name: "Open the browser" }).click();
  await page.keyboard.press("Escape");
  await expect(page.getByRole("button", { name: "Open the browser" })).toBeVisible();
  expect((await calls(page)).filter((c) => c.cmd === "cancel_sign_in")).toHaveLength(1);
  await page.keyboard.press("Escape");
  await expect(page.locator("#sign-in-dialog")).toHaveCount(0);
});

test("a typed secret goes to the one command, then leaves the DOM", async ({ page, open }) => {
  const SECRET = "Xq8~s3cr3t.V4lue_never-kept";
  const logs: string[] = [];
  page.on("console", (m) => logs.push(m.text()));
  await open();
  await reply(page, "sign_in_service_principal", { err: { code: "signInRequired", message: "Entra ID refused the secret (AADSTS7000215).", hint: "Check the secret's value (not its id) and that it has not expired.", at: null } });
  await page.getByRole("button", { name: "Accounts" }).click();
  await page.getByRole("button", { name: "Sign in…" }).click();
  await page.getByRole("radio", { name: /^Service principal/ }).check();
  await page.getByLabel("Tenant", { exact: true }).fill("contoso.onmicrosoft.com");
  await page.getByLabel("Client id", { exact: true }).fill("0b1c2d3e-0000-4000-8000-000000000001");
  const secret = page.getByLabel("Client secret", { exact: true });
  await expect(secret).toHaveAttribute("type", "password");
  await secret.fill(SECRET);
  await secret.press("Enter");
  await expect(page.locator("#sign-in-error")).toContainText("AADSTS7000215");
  await expect(secret).toHaveValue("");

  const sent = JSON.stringify(await calls(page));
  expect(sent.split(SECRET).length - 1).toBe(1);
  expect((await calls(page)).find((c) => c.cmd === "sign_in_service_principal")?.args).toEqual({
    request: { tenant: "contoso.onmicrosoft.com", clientId: "0b1c2d3e-0000-4000-8000-000000000001", credential: { kind: "secret", secret: SECRET } },
  });
  // Not in the DOM (value attribute or text), not in any log line.
  expect(await page.evaluate((s) => document.documentElement.outerHTML.includes(s), SECRET)).toBe(false);
  expect(await page.evaluate((s) => [...document.querySelectorAll("input")].some((i) => i.value.includes(s)), SECRET)).toBe(false);
  expect(logs.filter((l) => l.includes(SECRET))).toEqual([]);

  // The admin password of a registry: same rule.
  const PASSWORD = "adm1n/P4ss+word=";
  await page.keyboard.press("Escape");
  await page.getByRole("button", { name: "Registries" }).click();
  await page.getByRole("button", { name: "Add registry" }).click();
  await page.getByLabel("Registry name or login server").fill("legacyadmin");
  await page.getByLabel("Sign in with").selectOption("adminPassword");
  await page.getByLabel("Username").fill("legacyadmin");
  await page.getByLabel("Password").fill(PASSWORD);
  await reply(page, "add_registry", { err: { code: "permission", message: "The registry refused the admin credentials.", hint: "Is the admin user enabled?", at: null } });
  await page.getByLabel("Password").press("Enter");
  await expect(page.locator("#name-error")).toContainText("refused the admin credentials");
  await expect(page.getByLabel("Password")).toHaveValue("");
  const all = JSON.stringify(await calls(page));
  expect(all.split(PASSWORD).length - 1).toBe(1);
  expect((await calls(page)).find((c) => c.cmd === "add_registry")?.args).toEqual({
    request: { nameOrLoginServer: "legacyadmin", signIn: { kind: "adminPassword", username: "legacyadmin", password: PASSWORD }, trustCustomDomain: false },
  });
  expect(await page.evaluate((s) => document.documentElement.outerHTML.includes(s), PASSWORD)).toBe(false);
  expect(logs.filter((l) => l.includes(PASSWORD))).toEqual([]);
});

test("other sign-ins: certificate, managed identity, Azure CLI; sign out asks first", async ({ page, open }) => {
  await open();
  await page.getByRole("button", { name: "Accounts" }).click();
  const dialog = async () => page.getByRole("button", { name: "Sign in…" }).click();

  await dialog();
  await page.getByRole("radio", { name: /^Service principal/ }).check();
  await page.getByLabel("Tenant", { exact: true }).fill("t1");
  await page.getByLabel("Client id", { exact: true }).fill("c1");
  await page.getByRole("radio", { name: /^Certificate/ }).check();
  await page.getByLabel(/Certificate file/).fill("/home/dana/sp.pem");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.locator("#sign-in-dialog")).toHaveCount(0);

  await dialog();
  await page.getByRole("radio", { name: /^Managed identity/ }).check();
  await page.getByLabel("Client id (optional)").fill("mi-client");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.locator("#sign-in-dialog")).toHaveCount(0);

  await dialog();
  await page.getByRole("radio", { name: /^Azure CLI/ }).check();
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.locator("#sign-in-dialog")).toHaveCount(0);

  await page.getByRole("button", { name: "Sign out dana@contoso.com" }).click();
  await expect(page.getByRole("dialog")).toContainText("2 registries use it");
  await page.getByRole("dialog").getByRole("button", { name: "Sign out" }).click();
  await expect(page.locator("#status")).toHaveText("Signed out dana@contoso.com.");

  const got = (await calls(page)).filter((c) => c.cmd.startsWith("sign_"));
  expect(got).toEqual([
    { cmd: "sign_in_service_principal", args: { request: { tenant: "t1", clientId: "c1", credential: { kind: "certificate", path: "/home/dana/sp.pem" } } } },
    { cmd: "sign_in_managed_identity", args: { clientId: "mi-client" } },
    { cmd: "sign_in_azure_cli", args: { tenant: null } },
    { cmd: "sign_out", args: { identity: "user-dana" } },
  ]);
});

test("the navigate event switches view and opens the sign-in for an identity", async ({ page, open }) => {
  await open();
  await emit(page, "navigate", { view: "general", identity: null, signIn: false });
  await expect(page.getByRole("heading", { name: "General" })).toBeVisible();
  await emit(page, "navigate", { view: "accounts", identity: "user-alex", signIn: true });
  await expect(page.getByRole("heading", { name: "Accounts" })).toBeVisible();
  await expect(page.getByRole("dialog", { name: "Sign in" })).toBeVisible();
  await expect(page.getByLabel("Tenant (optional)")).toHaveValue("fabrikam.onmicrosoft.com");
});

test("a window opened for a sign-in starts there, and a reload starts on the first view", async ({ page, open }) => {
  await open({ fragment: "view=accounts&identity=user-alex&signIn=1" });
  await expect(page.getByRole("heading", { name: "Accounts" })).toBeVisible();
  await expect(page.getByRole("dialog", { name: "Sign in" })).toBeVisible();
  await expect(page.getByLabel("Tenant (optional)")).toHaveValue("fabrikam.onmicrosoft.com");
  expect(new URL(page.url()).hash).toBe("");
  await page.reload();
  await expect(page.getByRole("heading", { name: "Registries" })).toBeVisible();
  await expect(page.getByRole("dialog", { name: "Sign in" })).toHaveCount(0);
});

test("a registry waiting for a sign-in offers it right there", async ({ page, open }) => {
  await open();
  await page.getByRole("button", { name: "Sign in again for partnerregistry" }).click();
  await expect(page.getByRole("heading", { name: "Accounts" })).toBeVisible();
  await expect(page.getByRole("dialog", { name: "Sign in" })).toBeVisible();
  await expect(page.getByLabel("Tenant (optional)")).toHaveValue("fabrikam.onmicrosoft.com");
});
