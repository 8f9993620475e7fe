//! What `status` and `accounts` say of an account with several tenants.

use super::Guest;

/// With a guest tenant demanding MFA: `accounts` shows one account with its tenants (the
/// demanding one with why and how to sign in to it), `status` names each registry's tenant.
#[test]
fn status_and_accounts_name_the_tenants() {
    let g = Guest::new(2);
    g.three_registries();
    g.demand_mfa_in_first_tenant();
    g.world.cli(&["refresh"]);

    let accounts = g.world.cli(&["accounts"]).expect_code(0).stdout;
    assert_message!(g.world, "tenants_accounts_stdout", accounts, g.names());
    let status = g.world.cli(&["status"]).expect_code(0).stdout;
    assert_message!(g.world, "tenants_status_stdout", status, g.names());
}
