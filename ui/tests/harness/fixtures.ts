// A realistic engine state for the tests and screenshots: four registries in every state that
// matters and three identities, at a fixed engine time so countdowns are predictable. Future times
// sit half a minute past a whole minute so the seconds a test takes don't change what is shown
// (and the committed screenshots only change when the UI does).
import type { AccountView, CheckReport, Discovery, DoctorView, Overview } from "../../src/bindings";

export const NOW = "2026-03-10T10:00:00Z";
const at = (min: number) => new Date(Date.parse(NOW) + min * 60_000).toISOString();

export function overview(): Overview {
  return {
    now: NOW,
    state: "attention",
    summary: "3 of 4 registries logged in · 1 needs attention",
    soonestExpiry: at(20),
    cloud: {
      name: "AzureCloud",
      authority: "https://login.microsoftonline.com",
      arm: "https://management.azure.com/",
      acrSuffix: "azurecr.io",
      acrAudience: "https://containerregistry.azure.net",
      caFile: null,
    },
    general: { refreshIntervalMinutes: 60, startAtLogin: true, logLevel: "info" },
    accounts: [
      {
        id: "user-dana", kind: "user", label: "dana@contoso.com", tenant: "contoso.onmicrosoft.com", health: "expiringSoon",
        signInRequired: null, interactive: true, lastSignIn: at(-125), expectedSessionEnd: "2026-03-10T14:05:00Z", registryCount: 2,
      },
      {
        id: "sp-ci", kind: "servicePrincipal", label: "service principal ci-deployer", tenant: "contoso.onmicrosoft.com", health: "ok",
        signInRequired: null, interactive: false, lastSignIn: at(-12), expectedSessionEnd: null, registryCount: 1,
      },
      {
        id: "user-alex", kind: "user", label: "alex@fabrikam.com", tenant: "fabrikam.onmicrosoft.com", health: "signInRequired",
        signInRequired: {
          code: "signInRequired", at: at(-40),
          message: "Your Fabrikam session ended: the tenant requires a sign-in every 8 hours (AADSTS70043).",
          hint: "Sign in again to keep partnerregistry logged in.",
        },
        interactive: true, lastSignIn: at(-520), expectedSessionEnd: null, registryCount: 1,
      },
    ],
    registries: [
      {
        name: "contosoprod", loginServer: "contosoprod.azurecr.io", signIn: { kind: "identity", identity: "user-dana" }, health: "ok",
        lastRefresh: at(-12), expiresAt: at(168.5), nextRefresh: at(46.5), lastError: null, audience: "acr", trustedCustomDomain: false,
        role: "AcrPush", repositoryPermissions: false, roleName: "AcrPush", adminAccount: { enabled: false, passwordsWatched: false, notWatched: null, checkedAt: at(-12), warning: null },
      },
      {
        name: "contosobuild", loginServer: "contosobuild.azurecr.io", signIn: { kind: "adminArm", identity: "user-dana" }, health: "ok",
        lastRefresh: at(-3), expiresAt: null, nextRefresh: at(57.5), lastError: null, audience: "arm", trustedCustomDomain: false,
        role: null, repositoryPermissions: false, roleName: null, adminAccount: {
          enabled: true, passwordsWatched: true, notWatched: null, checkedAt: at(-3),
          warning: "Anyone with its password can push and pull. The ACR docs recommend keeping the admin account disabled (as the engine says it).",
        },
      },
      {
        name: "legacyimages", loginServer: "legacyimages.azurecr.io", signIn: { kind: "identity", identity: "sp-ci" }, health: "failing",
        lastRefresh: at(-160), expiresAt: at(20.5), nextRefresh: at(12.5),
        lastError: {
          code: "permission", at: at(-1),
          message: "ci-deployer may not pull from legacyimages (403 from the registry).",
          hint: "Give the service principal the AcrPull role on legacyimages, then press Refresh.",
        },
        audience: "acr", trustedCustomDomain: false, role: "AcrPull", repositoryPermissions: false, roleName: "AcrPull",
        adminAccount: {
          enabled: null, passwordsWatched: false, checkedAt: at(-1), warning: null,
          notWatched: "ci-deployer cannot read this registry in ARM (AcrPull and AcrPush do not show registries; Reader or more does), so admin-account changes are not watched",
        },
      },
      {
        name: "partnerregistry", loginServer: "registry.fabrikam.com", signIn: { kind: "identity", identity: "user-alex" }, health: "signInRequired",
        lastRefresh: at(-190), expiresAt: at(-10), nextRefresh: null,
        lastError: {
          code: "signInRequired", at: at(-40),
          message: "alex@fabrikam.com must sign in again.",
          hint: "Open Accounts and choose “Sign in again”.",
        },
        audience: "acr", trustedCustomDomain: true, role: null, repositoryPermissions: false, roleName: null, adminAccount: null,
      },
    ],
  };
}

export function discovery(): Discovery {
  const r = (name: string, rg: string, sub: string, added = false) => ({
    name, loginServer: `${name}.azurecr.io`, subscription: sub, resourceGroup: rg, sku: "Premium", adminUserEnabled: name === "contosoml", armAudienceAccepted: name !== "edgecache", added,
  });
  return {
    identity: "user-dana",
    registries: [
      r("contosoprod", "rg-platform", "Contoso Production", true),
      r("contosostaging", "rg-platform", "Contoso Staging"),
      r("contosoml", "rg-ml", "Contoso Research"),
      r("edgecache", "rg-edge", "Contoso Production"),
    ],
    unlisted: [],
    notice: null,
  };
}

export function doctorView(): DoctorView {
  return {
    configPath: "/home/dana/.docker/config.json",
    registries: [
      { name: "contosoprod", loginServer: "contosoprod.azurecr.io", store: "docker-credential-secretservice (credsStore)", present: true, expiresAt: at(168) },
      { name: "contosobuild", loginServer: "contosobuild.azurecr.io", store: "docker-credential-secretservice (credsStore)", present: true, expiresAt: null },
      { name: "legacyimages", loginServer: "legacyimages.azurecr.io", store: "config.json auths", present: false, expiresAt: null },
    ],
    findings: [
      {
        code: "shadowed-entry", severity: "problem", registry: "legacyimages",
        message: "config.json has an entry in auths, but credsStore makes Docker read the keyring instead, so the entry is never used.",
        fix: "Move the credential to the store Docker reads (config.json is backed up first).",
      },
      { code: "podman-missing", severity: "warning", registry: null, message: "Podman's auth.json is not kept in sync.", fix: null },
    ],
    backup: null,
  };
}

/** A first start: nothing signed in, nothing added (the window opens the first-run guide). */
export function firstStart(): Overview {
  return { ...overview(), state: "empty", summary: "No registries yet", soonestExpiry: null, accounts: [], registries: [] };
}

/** The account a first-run sign-in returns. */
export function newAccount(kind: AccountView["kind"], label: string, id: string): AccountView {
  return {
    id, kind, label, tenant: "contoso.onmicrosoft.com", health: "ok", signInRequired: null, interactive: kind === "user",
    lastSignIn: NOW, expectedSessionEnd: null, registryCount: 0,
  };
}

/** A check that proves Docker's credential authenticates (no repository asked about). */
export function checkReport(name = "contosoprod"): CheckReport {
  return {
    name, loginServer: `${name}.azurecr.io`, source: { kind: "acr-tray", key: "credHelpers" },
    username: "00000000-0000-0000-0000-000000000000", authenticated: true, repository: null, granted: [], expiresAt: null, hint: null,
  };
}
