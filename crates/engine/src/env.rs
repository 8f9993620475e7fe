//! The process environment, read through one injected value.
//!
//! Engine code never calls `std::env` directly: the CLI and the tray app pass
//! [`Env::from_process`], tests build one by hand with [`Env::from_pairs`], so a test never touches
//! the real home directory, Docker config or proxy settings.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// Variables that hold a credential of ours (or point at one) and that no child process gets,
/// whatever the rule of [`is_secret_name`] says: the Azure SDKs' service-principal,
/// certificate, user-password and workload-identity variables. The Azure CLI keeps its own
/// session in its own folder (`AZURE_CONFIG_DIR`, kept); it needs none of these.
const SECRET_NAMES: [&str; 6] = [
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_PASSWORD",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_FEDERATED_TOKEN",
];

/// A name's last `_`-separated word that marks a credential (`GITHUB_TOKEN`,
/// `AZURE_CLIENT_CERTIFICATE_PASSWORD`, `KEY_PASSPHRASE`).
const SECRET_LAST_WORDS: [&str; 6] = [
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "TOKEN",
    "APIKEY",
];

/// Endings that mark a credential (`OPENAI_API_KEY`, `AWS_SECRET_ACCESS_KEY`).
const SECRET_ENDINGS: [&str; 3] = ["_API_KEY", "_ACCESS_KEY", "_PRIVATE_KEY"];

/// Whether a child process must not inherit this variable: one of `SECRET_NAMES`, a name with
/// the word `SECRET` anywhere (`AWS_SECRET_ACCESS_KEY`, `MSI_SECRET`), a name whose last word
/// is one of `SECRET_LAST_WORDS`, or one of `SECRET_ENDINGS`. Settings that merely mention
/// a word elsewhere stay (`PASSWORD_STORE_DIR` for `pass`, `ACTIONS_ID_TOKEN_REQUEST_URL`,
/// `PWD`), so credential helpers, the browser and `az` keep working. Case-insensitive, as
/// Windows' environment is.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper.split('_').collect();
    SECRET_NAMES.contains(&upper.as_str())
        || words.iter().any(|w| *w == "SECRET" || *w == "SECRETS")
        || words
            .last()
            .is_some_and(|last| SECRET_LAST_WORDS.contains(last))
        || SECRET_ENDINGS.iter().any(|end| upper.ends_with(end))
}

/// Environment variables plus the user's home directory. `Debug` shows the names only: values
/// (`AZURE_CLIENT_SECRET`, proxy passwords) are credentials.
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
    home: Option<PathBuf>,
}

impl Env {
    /// The real environment of this process.
    pub fn from_process() -> Self {
        Self {
            vars: std::env::vars().collect(),
            home: directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf()),
        }
    }

    /// An environment made of the given variables; the home directory is `HOME` if given.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let vars: BTreeMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let home = vars.get("HOME").map(PathBuf::from);
        Self { vars, home }
    }

    /// Adds or replaces one variable.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        let value = value.into();
        if key == "HOME" {
            self.home = Some(PathBuf::from(&value));
        }
        self.vars.insert(key, value);
    }

    /// A variable's value; empty values count as unset, as most tools treat them.
    pub fn var(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The first of several spellings that is set (e.g. `HTTPS_PROXY`, `https_proxy`).
    pub fn first_var(&self, keys: &[&str]) -> Option<&str> {
        keys.iter().find_map(|k| self.var(k))
    }

    /// Every variable, secrets included: only for a child that is ACR Tray itself (the
    /// credential helper's `acr-tray-cli`, which reads `AZURE_CLIENT_SECRET`). Other children get
    /// [`Env::child_vars`].
    pub fn vars(&self) -> impl Iterator<Item = (&String, &String)> {
        self.vars.iter()
    }

    /// The environment of a child process that is not ACR Tray (the browser, `az`, a Docker
    /// credential helper, a file manager): every variable but the secret-like ones
    /// ([`is_secret_name`]). Start the child with `env_clear()` and these.
    pub fn child_vars(&self) -> impl Iterator<Item = (&String, &String)> {
        self.vars.iter().filter(|(name, _)| !is_secret_name(name))
    }

    /// The user's home directory, if known.
    pub fn home(&self) -> Option<&PathBuf> {
        self.home.as_ref()
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("home", &self.home)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_names_not_values() {
        let env = Env::from_pairs([
            ("AZURE_CLIENT_SECRET", "sp-secret-value"),
            ("HTTPS_PROXY", "http://user:proxy-password@proxy:3128"),
            ("HOME", "/home/u"),
        ]);
        let shown = format!("{env:?} {:#?}", Some(&env));
        for secret in ["sp-secret-value", "proxy-password"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(
            shown.contains("AZURE_CLIENT_SECRET") && shown.contains("HTTPS_PROXY"),
            "{shown}"
        );
    }

    #[test]
    fn children_get_no_secret_like_variables() {
        let removed = [
            "AZURE_CLIENT_SECRET",
            "azure_client_secret",
            "AZURE_CLIENT_CERTIFICATE_PASSWORD",
            "AZURE_CLIENT_CERTIFICATE_PATH",
            "AZURE_PASSWORD",
            "AZURE_FEDERATED_TOKEN_FILE",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "GITHUB_TOKEN",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "MSI_SECRET",
            "CLIENT_SECRETS",
            "OPENAI_API_KEY",
            "DB_PASSWD",
            "SIGNING_KEY_PASSPHRASE",
            "NPM_APIKEY",
        ];
        let kept = [
            "PATH",
            "HOME",
            "PWD",
            "DISPLAY",
            "DBUS_SESSION_BUS_ADDRESS",
            "AZURE_CONFIG_DIR",
            "AZURE_CLIENT_ID",
            "AZURE_TENANT_ID",
            "PASSWORD_STORE_DIR",
            "PASSWORD_STORE_GPG_OPTS",
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "DOCKER_CONFIG",
            "HTTPS_PROXY",
            "SSH_AUTH_SOCK",
        ];
        let env = Env::from_pairs(removed.iter().chain(&kept).map(|n| (*n, "v")));
        let child: Vec<&str> = env.child_vars().map(|(k, _)| k.as_str()).collect();
        for name in removed {
            assert!(!child.contains(&name), "{name} reached the child");
        }
        for name in kept {
            assert!(child.contains(&name), "{name} was removed");
        }
        assert_eq!(env.vars().count(), removed.len() + kept.len());
    }

    #[test]
    fn empty_values_are_unset_and_home_follows_home() {
        let mut env = Env::from_pairs([("A", ""), ("HOME", "/home/u")]);
        assert_eq!(env.var("A"), None);
        assert_eq!(env.home(), Some(&PathBuf::from("/home/u")));
        env.set("https_proxy", "http://p:3128");
        assert_eq!(
            env.first_var(&["HTTPS_PROXY", "https_proxy"]),
            Some("http://p:3128")
        );
    }
}
