//! One person's sign-in for every tenant of their account: a guest's registries in other
//! tenants refreshed with the home sign-in, a tenant's own demand (MFA) kept to that tenant,
//! the tenant of a registry added by name found once and remembered; discovery across tenants.

mod discovery;
mod kinds;
mod output;
mod refresh;
mod window;

use acr_tray_tests::World;
use fake_azure::{Registry, RegistrySpec, Role, Tenant, User};

const UPN: &str = "guest@contoso.localhost";

/// A person signed in with a device code at home, a guest in `guest_tenants` more tenants, in
/// invitation order: each tenant with the guest account there.
struct Guest {
    world: World,
    user: User,
    tenants: Vec<(Tenant, User)>,
}

impl Guest {
    fn new(guest_tenants: usize) -> Self {
        let world = World::new();
        let user = world.device_code_user(UPN, 0);
        let tenants = (0..guest_tenants)
            .map(|_| {
                let tenant = world.fake.add_tenant();
                let guest = world.fake.add_guest(&user, &tenant);
                (tenant, guest)
            })
            .collect();
        world.cli(&["login", "--device-code"]).expect_code(0);
        Self {
            world,
            user,
            tenants,
        }
    }

    /// A registry in the home tenant where the person may pull.
    fn home_registry(&self, name: &str) -> Registry {
        self.world
            .registry_for(name, &self.user.object_id, Role::AcrPull)
    }

    /// A registry in the `n`th guest tenant where the guest account has `role`.
    fn guest_registry(&self, n: usize, name: &str, role: Role) -> Registry {
        let (tenant, guest) = &self.tenants[n];
        let sub = self.world.fake.default_subscription(tenant);
        self.world.registry_as(
            RegistrySpec::new(name).subscription(sub.id),
            &guest.object_id,
            role,
        )
    }

    /// The tenant id of the `n`th guest tenant.
    fn tenant(&self, n: usize) -> &str {
        &self.tenants[n].0.id
    }

    /// Adds each registry by name.
    fn add(&self, registries: &[&Registry]) {
        for r in registries {
            self.world.add_registry(&r.name).expect_code(0);
        }
    }

    /// With two guest tenants: `homereg` at home, `mfareg` in the first guest tenant and
    /// `otherreg` in the second (AcrPull), added by name and refreshed once, all fresh.
    fn three_registries(&self) -> [Registry; 3] {
        let registries = [
            self.home_registry("homereg"),
            self.guest_registry(0, "mfareg", Role::AcrPull),
            self.guest_registry(1, "otherreg", Role::AcrPull),
        ];
        self.add(&registries.iter().collect::<Vec<_>>());
        self.world.cli(&["refresh"]).expect_code(0);
        registries
    }

    /// A registry in a tenant of its own, where the person is no guest: no tenant takes it.
    fn registry_nobody_takes(&self, name: &str) -> Registry {
        let registry = self.world.fake.add_registry(RegistrySpec::new(name));
        self.add(&[&registry]);
        registry
    }

    /// Each tenant's GUID named for snapshots: `[HOME-TENANT]`, `[TENANT-1]`, `[TENANT-2]`.
    fn names(&self) -> Vec<(String, &'static str)> {
        let mut names = vec![(self.user.tenant.clone(), "[HOME-TENANT]")];
        for ((t, _), name) in self.tenants.iter().zip(["[TENANT-1]", "[TENANT-2]"]) {
            names.push((t.id.clone(), name));
        }
        names
    }

    /// The first guest tenant demands MFA of the person from now on.
    fn demand_mfa_in_first_tenant(&self) {
        let (tenant, guest) = &self.tenants[0];
        self.world
            .fake
            .require_interaction_in_tenant(guest, &tenant.id, Some(50076));
    }

    /// The token-endpoint requests made at `tenant` (its GUID in the path).
    fn token_requests_at(&self, tenant: &str) -> usize {
        let prefix = format!("/{tenant}/oauth2/");
        self.world
            .fake
            .requests()
            .iter()
            .filter(|r| r.path.starts_with(&prefix))
            .count()
    }
}
