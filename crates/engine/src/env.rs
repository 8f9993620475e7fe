//! The process environment, read through one injected value.
//!
//! Engine code never calls `std::env` directly: the CLI and the tray app pass
//! [`Env::from_process`], tests build one by hand with [`Env::from_pairs`], so a test never touches
//! the real home directory, Docker config or proxy settings.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Environment variables plus the user's home directory.
#[derive(Debug, Clone, Default)]
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

    /// Every variable, for a child process's environment.
    pub fn vars(&self) -> impl Iterator<Item = (&String, &String)> {
        self.vars.iter()
    }

    /// The user's home directory, if known.
    pub fn home(&self) -> Option<&PathBuf> {
        self.home.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
