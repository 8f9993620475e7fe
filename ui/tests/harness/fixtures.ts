// A realistic engine state for the tests and screenshots: four registries in every state that
// matters and three identities, at a fixed engine time so countdowns are predictable. Future times
// sit half a minute past a whole minute so the seconds a test takes don't change what is shown
// (and the committed screenshots only change when the UI does).
import type { AccountView, CheckReport, Discovery, DoctorView, ErrorView, Overview } from "../../src/bindings";

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
    general: { refreshIntervalMinutes: 60, startAtLogin: true, logLevel: "info", helm: false, helmRegistryConfig: "/home/dana/.config/helm/registry/config.json" },
    clientFiles: [],
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

/** The tenants of dana's account: home, a guest tenant that works, and one that demands MFA. */
export const TENANTS = {
  home: { id: "6f1c2a9e-4b7d-4e21-9c3a-0d5e8f7a1b20", name: "Contoso", domain: "contoso.onmicrosoft.com" },
  fabrikam: { id: "a3d9e0c4-81f2-4f6b-b7c5-2e4a9d1f0c33", name: "Fabrikam Partners", domain: "fabrikampartners.onmicrosoft.com" },
  northwind: { id: "c7b2f5d1-3e8a-4d09-a6f4-9b1c0e2d7a44", name: "Northwind Traders", domain: "northwindtraders.onmicrosoft.com" },
} as const;

/** Why Northwind demands a sign-in, and what to do, as the engine says it (the app's words). */
const northwindDemand = (): ErrorView => ({
  code: "signInRequired", at: at(-25),
  message: `dana@contoso.com must sign in to tenant ${TENANTS.northwind.id}: AADSTS50076: Due to a configuration change made by your administrator, you must use multi-factor authentication to access this resource.`,
  hint: `sign dana@contoso.com in to ${TENANTS.northwind.name} with “Sign in to tenant ${TENANTS.northwind.name}…” under Accounts in Settings; the account's other tenants keep working`,
});

/**
 * A guest's one sign-in: dana's account has a home and two guest tenants, one of which demands
 * MFA; her registries sit in two of them (Contoso and Fabrikam) and a third waits for
 * Northwind's sign-in.
 */
export function tenantsOverview(): Overview {
  const o = overview();
  const [dana, ...others] = o.accounts;
  const [prod, build] = o.registries;
  if (!dana || !prod || !build) throw new Error("fixture: overview() changed");
  const inTenant = (t: { id: string; name: string }) => ({ tenant: t.name, tenantId: t.id });
  return {
    ...o,
    summary: "3 of 4 registries logged in · 1 waits for a sign-in to Northwind Traders",
    state: "signInRequired",
    accounts: [
      {
        ...dana, tenant: TENANTS.home.id, registryCount: 4, health: "ok", expectedSessionEnd: null,
        tenants: [
          { ...TENANTS.home, home: true, signInRequired: null },
          { ...TENANTS.fabrikam, home: false, signInRequired: null },
          { ...TENANTS.northwind, home: false, signInRequired: northwindDemand() },
        ],
      },
      ...others.filter((a) => a.id === "sp-ci"),
    ],
    registries: [
      { ...prod, ...inTenant(TENANTS.home) },
      { ...build, ...inTenant(TENANTS.home) },
      {
        ...prod, name: "fabrikamshared", loginServer: "fabrikamshared.azurecr.io", lastRefresh: at(-7), expiresAt: at(173.5), nextRefresh: at(51.5),
        role: "AcrPull", roleName: "AcrPull", adminAccount: null, ...inTenant(TENANTS.fabrikam),
      },
      {
        ...prod, name: "northwindimages", loginServer: "northwindimages.azurecr.io", health: "signInRequired", lastRefresh: at(-70), expiresAt: at(110.5),
        nextRefresh: null, lastError: northwindDemand(), role: "AcrPull", roleName: "AcrPull", adminAccount: null, ...inTenant(TENANTS.northwind),
      },
    ],
  };
}

/** Discovery across dana's tenants: two listed (home first), Northwind not, for want of its MFA. */
export function tenantsDiscovery(): Discovery {
  const r = (name: string, t: { id: string }, rg: string, sub: string, added = false) => ({
    name, loginServer: `${name}.azurecr.io`, subscription: sub, resourceGroup: rg, sku: "Premium", adminUserEnabled: false, armAudienceAccepted: true, added, tenant: t.id,
  });
  return {
    identity: "user-dana",
    registries: [
      r("contosoprod", TENANTS.home, "rg-platform", "Contoso Production", true),
      r("contosostaging", TENANTS.home, "rg-platform", "Contoso Staging"),
      r("fabrikamshared", TENANTS.fabrikam, "rg-shared", "Fabrikam Partner Hub"),
    ],
    tenants: [
      { ...TENANTS.home, home: true, error: null, signInRequired: false },
      { ...TENANTS.fabrikam, home: false, error: null, signInRequired: false },
      { ...TENANTS.northwind, home: false, error: { ...northwindDemand(), at: null }, signInRequired: true },
    ],
    unlisted: [],
    notice: null,
  };
}
