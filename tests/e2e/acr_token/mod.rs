//! Registries that sign in with an ACR token (scope maps): the password proven, kept in the
//! keyring and written for Docker; the token watched through ARM for its passwords' expiry
//! and its status, each warning notified once.

mod add;
mod watch;

use fake_azure::{AcrToken, FakeAzure, Registry, RegistrySpec, Role};

/// The token's name in these tests.
pub const TOKEN: &str = "pull-token";

/// A registry where the principal `reader` (if any) has Reader (it may read the token in ARM,
/// not pull), and a token that may pull `app` only.
pub fn token_registry(fake: &FakeAzure, name: &str, reader: Option<&str>) -> (Registry, AcrToken) {
    let reg = fake.add_registry(RegistrySpec::new(name));
    if let Some(object_id) = reader {
        fake.assign_role(&reg.name, object_id, Role::Reader);
    }
    fake.add_scope_map(&reg.name, "pull-app", &["repositories/app/content/read"]);
    let token = fake.add_acr_token(&reg.name, TOKEN, "pull-app").unwrap();
    (reg, token)
}
