//! The command lines tests repeat, built in one place: both harnesses ([`crate::World`],
//! [`crate::sim::Sim`]) and tests that run the CLI as a process use them.

use fake_azure::{FakeAzure, ServicePrincipal};

/// `cloud set custom` with every endpoint at `fake`, trusting its CA through `--ca-file` when
/// `ca_file` is set.
pub fn cloud_set_custom(fake: &FakeAzure, ca_file: bool) -> Vec<String> {
    let mut argv = words(&["cloud", "set", "custom"]);
    argv.extend([
        "--authority".to_owned(),
        fake.authority_url(),
        "--arm".to_owned(),
        fake.arm_url(),
        "--acr-suffix".to_owned(),
        fake.acr_suffix(),
    ]);
    if ca_file {
        argv.extend(["--ca-file".to_owned(), fake.ca_path().display().to_string()]);
    }
    argv
}

/// `login --service-principal --tenant … --client-id …` for `sp`, then `how` (how its
/// credential is given, e.g. `--secret-stdin`).
pub fn login_service_principal(sp: &ServicePrincipal, how: &[&str]) -> Vec<String> {
    let mut argv = words(&["login", "--service-principal"]);
    argv.extend([
        "--tenant".to_owned(),
        sp.tenant.clone(),
        "--client-id".to_owned(),
        sp.client_id.clone(),
    ]);
    argv.extend(words(how));
    argv
}

/// [`login_service_principal`] with the secret read from stdin and kept in the user-only
/// `secret_file` (for CLI processes, which have no in-memory keyring).
pub fn login_secret_file(sp: &ServicePrincipal, secret_file: &str) -> Vec<String> {
    login_service_principal(sp, &["--secret-stdin", "--secret-file", secret_file])
}

/// `registry add NAME`, signed in as `identity` when given.
pub fn registry_add(name: &str, identity: Option<&str>) -> Vec<String> {
    let mut argv = words(&["registry", "add", name]);
    if let Some(identity) = identity {
        argv.extend(words(&["--identity", identity]));
    }
    argv
}

/// `registry add NAME --admin --username USER --password-stdin`: an admin account, its
/// password on stdin.
pub fn registry_add_admin(name: &str, user: &str) -> Vec<String> {
    let mut argv = registry_add(name, None);
    argv.extend(words(&["--admin", "--username", user, "--password-stdin"]));
    argv
}

/// `registry add NAME --acr-token TOKEN --password-stdin [--identity ID]`: an ACR token, its
/// password on stdin, watched by the identity if one is given.
pub fn registry_add_acr_token(name: &str, token: &str, identity: Option<&str>) -> Vec<String> {
    let mut argv = registry_add(name, identity);
    argv.extend(words(&["--acr-token", token, "--password-stdin"]));
    argv
}

/// The words of a command line as `&str`s, as the harnesses' `cli` takes them.
pub fn strs(argv: &[String]) -> Vec<&str> {
    argv.iter().map(String::as_str).collect()
}

fn words(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}
