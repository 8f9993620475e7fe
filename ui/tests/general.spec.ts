// General view, and what the built bundle may contain under the shell's CSP.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "@playwright/test";
import { calls, emit, expect, reply, test } from "./app";
import { expectAccessible } from "./axe";
import { overview } from "./harness/fixtures";

test("refresh interval, start at login, log level", async ({ page, open }) => {
  await open();
  await page.getByRole("button", { name: "General" }).click();
  const save = page.locator("#save-general");
  await expect(save).toBeDisabled(); // nothing changed yet
  await page.getByLabel("Refresh every (minutes)").fill("0");
  await expect(page.locator("#interval-help")).toHaveText("A whole number of minutes, 1 to 1440.");
  await expect(save).toBeDisabled();
  await page.getByLabel("Refresh every (minutes)").fill("45");
  await page.getByLabel("Start ACR Tray when I log in").uncheck();
  await page.getByLabel("Log level").selectOption("debug");
  await save.click();
  await expect(page.locator("#status")).toHaveText("Settings saved.");
  expect((await calls(page)).find((c) => c.cmd === "set_general")?.args).toEqual({
    general: { refreshIntervalMinutes: 45, startAtLogin: false, logLevel: "debug", helm: false },
  });
});

test("what is typed right after the view opens stays; a changed setting from elsewhere replaces it", async ({ page, open }) => {
  // Effects run after paint, on timers: with the page's clock paused they wait until it runs, so
  // the typing below lands before the form's effects, however fast or slow this machine is.
  await page.clock.install({ time: new Date("2026-03-10T10:00:00Z") });
  await open();
  await page.clock.pauseAt(new Date("2026-03-10T11:00:00Z"));
  await page.getByRole("button", { name: "General" }).click();
  await page.getByLabel("Refresh every (minutes)").fill("30");
  await page.clock.runFor(1000);
  await expect(page.getByLabel("Refresh every (minutes)")).toHaveValue("30");
  // Another window or the CLI changed the interval: the engine's value is shown.
  await emit(page, "overview", { ...overview(), general: { ...overview().general, refreshIntervalMinutes: 90 } });
  await page.clock.runFor(1000);
  await expect(page.getByLabel("Refresh every (minutes)")).toHaveValue("90");
});

const HELM_FILE = "/home/dana/.config/helm/registry/config.json";
const helmSaves = async (page: Page) => (await calls(page)).filter((c) => c.cmd === "set_general").map((c) => c.args);

test("the Helm switch shows the setting, names Helm's file, and saves only itself at once, by mouse or keyboard", async ({ page, open }) => {
  await open({ overview: { ...overview(), general: { ...overview().general, helm: true } } });
  await page.getByRole("button", { name: "General" }).click();
  const helm = page.getByRole("switch", { name: "Keep Helm logged in too" });
  await expect(helm).toBeChecked();
  await expect(helm).toHaveAccessibleDescription(new RegExp(`registry config, ${HELM_FILE.replaceAll(".", "\\.")}\\.`));
  // Typed and not saved: the switch sends the saved settings, and what is typed stays.
  await page.getByLabel("Refresh every (minutes)").fill("45");
  await helm.click();
  await expect(helm).not.toBeChecked();
  await expect(page.locator("#status")).toHaveText("Helm's registry config is no longer written.");
  await helm.focus();
  await page.keyboard.press("Space");
  await expect(helm).toBeChecked();
  await expect(page.locator("#status")).toHaveText("Helm's registry config is written now, and at every refresh.");
  const saved = { refreshIntervalMinutes: 60, startAtLogin: true, logLevel: "info" };
  expect(await helmSaves(page)).toEqual([{ general: { ...saved, helm: false } }, { general: { ...saved, helm: true } }]);
  await expect(page.getByLabel("Refresh every (minutes)")).toHaveValue("45");
  // Save sends the switch as it stands.
  await page.locator("#save-general").click();
  expect((await helmSaves(page)).at(-1)).toEqual({ general: { ...saved, refreshIntervalMinutes: 45, helm: true } });
});

test("the Helm switch follows a change from elsewhere, and goes back with the reason when saving fails", async ({ page, open }) => {
  await open();
  await page.getByRole("button", { name: "General" }).click();
  const helm = page.getByRole("switch", { name: "Keep Helm logged in too" });
  await expect(helm).not.toBeChecked();
  // config.toml or the CLI turned it on.
  await emit(page, "overview", { ...overview(), general: { ...overview().general, helm: true } });
  await expect(helm).toBeChecked();
  await reply(page, "set_general", { err: { code: "config", message: "Cannot write config.toml: permission denied.", hint: "Make config.toml writable.", at: null } });
  await helm.click();
  await expect(helm).toBeChecked();
  await expect(page.locator("#helm-title ~ .error-note")).toContainText("Make config.toml writable.");
  expect(await helmSaves(page)).toEqual([{ general: { refreshIntervalMinutes: 60, startAtLogin: true, logLevel: "info", helm: false } }]);
});

test("General, with the Helm switch, passes axe in light and dark", async ({ page, open }) => {
  await open();
  await page.getByRole("button", { name: "General" }).click();
  await expect(page.locator(".finding")).toHaveCount(2);
  await expect(page.getByRole("switch", { name: "Keep Helm logged in too" })).toBeVisible();
  await expectAccessible(page, "General");
});

test("without a home folder, the Helm switch says how to name Helm's file", async ({ page, open }) => {
  const { helmRegistryConfig: _, ...general } = overview().general;
  await open({ overview: { ...overview(), general } });
  await page.getByRole("button", { name: "General" }).click();
  await expect(page.getByRole("switch", { name: "Keep Helm logged in too" })).toHaveAccessibleDescription(/set HELM_REGISTRY_CONFIG/);
});

test("cloud: named clouds and custom endpoints with a CA file", async ({ page, open }) => {
  await open();
  await page.getByRole("button", { name: "General" }).click();
  await expect(page.locator("#cloud-title ~ dl")).toContainText("*.azurecr.io");
  await page.getByLabel("Azure cloud").selectOption("AzureChinaCloud");
  await page.getByRole("button", { name: "Use this cloud" }).click();
  await page.getByLabel("Azure cloud").selectOption("custom");
  await page.getByRole("button", { name: "Use this cloud" }).click();
  await expect(page.locator("#cloud-title ~ .error-note")).toContainText("needs the authority");
  await page.getByLabel("Authority (Entra ID)").fill("https://login.localhost:8443");
  await page.getByLabel("Resource Manager").fill("https://management.localhost:8443/");
  await page.getByLabel("Registry suffix").fill("azurecr.localhost:8443");
  await page.getByLabel(/CA certificate file/).fill("/tmp/fake-azure/ca.pem");
  await reply(page, "set_cloud", { err: { code: "config", message: "Cannot read /tmp/fake-azure/ca.pem.", hint: "Give the path of a PEM file with the CA certificate.", at: null } });
  await page.getByRole("button", { name: "Use this cloud" }).click();
  await expect(page.locator("#cloud-title ~ .error-note")).toContainText("Give the path of a PEM file");
  expect((await calls(page)).filter((c) => c.cmd === "set_cloud").map((c) => c.args)).toEqual([
    { cloud: { kind: "AzureChinaCloud" } },
    { cloud: { kind: "custom", authority: "https://login.localhost:8443", arm: "https://management.localhost:8443/", acrSuffix: "azurecr.localhost:8443", acrAudience: null, caFile: "/tmp/fake-azure/ca.pem" } },
  ]);
});

test("cloud: a change that signs identities out lists them and asks first", async ({ page, open }) => {
  await open();
  await page.getByRole("button", { name: "General" }).click();
  const dana = {
    id: "user-dana", kind: "user", label: "dana@contoso.com", tenant: "contoso.onmicrosoft.com", health: "expiringSoon",
    signInRequired: null, interactive: true, lastSignIn: null, expectedSessionEnd: null, registryCount: 2,
  };
  const ci = { ...dana, id: "sp-ci", kind: "servicePrincipal", label: "service principal ci-deployer", interactive: false, registryCount: 1 };
  await reply(page, "preview_cloud", { ok: { cloud: { name: "AzureChinaCloud" }, signsOut: [dana, ci] } });
  await reply(page, "set_cloud", { ok: { name: "AzureChinaCloud" } });
  await page.getByLabel("Azure cloud").selectOption("AzureChinaCloud");
  await page.getByRole("button", { name: "Use this cloud" }).click();
  const dialog = page.getByRole("dialog", { name: "Sign out to change the cloud?" });
  await expect(dialog).toBeVisible();
  const listed = dialog.getByRole("list", { name: "Identities signed out" }).getByRole("listitem");
  await expect(listed).toHaveText(["dana@contoso.com · 2 registries", "service principal ci-deployer · 1 registry"]);
  // Cancel changes nothing.
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toHaveCount(0);
  expect((await calls(page)).map((c) => c.cmd)).not.toContain("set_cloud");
  // Confirmed, the cloud is set once, with what the preview was asked about.
  await page.getByRole("button", { name: "Use this cloud" }).click();
  await dialog.getByRole("button", { name: "Sign out and change" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.locator("#status")).toHaveText("Cloud set to AzureChinaCloud.");
  const made = (await calls(page)).filter((c) => c.cmd === "preview_cloud" || c.cmd === "set_cloud");
  expect(made).toEqual([
    { cmd: "preview_cloud", args: { cloud: { kind: "AzureChinaCloud" } } },
    { cmd: "preview_cloud", args: { cloud: { kind: "AzureChinaCloud" } } },
    { cmd: "set_cloud", args: { cloud: { kind: "AzureChinaCloud" } } },
  ]);
});

test("docker stores and the doctor's findings, Fix shows the backup", async ({ page, open }) => {
  await open();
  await page.getByRole("button", { name: "General" }).click();
  await expect(page.getByRole("cell", { name: "config.json auths" })).toBeVisible();
  await expect(page.getByText("Missing")).toBeVisible();
  const findings = page.getByRole("list", { name: "Findings" }).getByRole("listitem");
  await expect(findings).toHaveCount(2);
  await expect(findings.first()).toContainText("Problem");
  await expect(findings.first()).toContainText("Fix: Move the credential");
  await expect(findings.last()).toContainText("Needs you");
  await page.getByRole("button", { name: "Fix" }).click();
  await expect(page.locator("#doctor-backup")).toContainText("/home/dana/.docker/config.json.acr-tray-backup-20260310T100000");
  await expect(page.locator("#doctor-backup")).toContainText("holds the same credentials, so only you can read it");
  await expect(findings).toHaveCount(1);
  await expect(page.getByRole("button", { name: "Fix" })).toHaveCount(0);
  expect((await calls(page)).map((c) => c.cmd)).toContain("doctor_fix");
});

test("the built bundle obeys the CSP and ships no test code or remote content", () => {
  const dist = join(__dirname, "..", "dist");
  expect(readdirSync(dist).sort()).toEqual(["app.css", "app.js", "index.html"]);
  const html = readFileSync(join(dist, "index.html"), "utf8");
  expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
  expect(html).not.toMatch(/<style|style="/);
  const js = readFileSync(join(dist, "app.js"), "utf8");
  const css = readFileSync(join(dist, "app.css"), "utf8");
  expect(js).not.toContain("__test");
  expect(js).not.toMatch(/\beval\(|new Function\(/);
  expect(css).not.toMatch(/url\(|@import|https?:/);
  expect(html).not.toMatch(/https?:\/\//);
});
