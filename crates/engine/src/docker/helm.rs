//! Helm's registry config: where Helm reads registry credentials from (Helm 3.18+ no longer
//! follows Docker's credential helpers). Its format is Docker's config.json (an `auths` map),
//! so it is written with [`super::write_credentials`].

use std::path::PathBuf;

use crate::env::Env;

/// Helm's registry config, as Helm (helmpath) finds it: `HELM_REGISTRY_CONFIG`, else
/// `registry/config.json` in Helm's config folder: `HELM_CONFIG_HOME`, else `helm` in
/// `XDG_CONFIG_HOME` (on every platform), else in `%APPDATA%` on Windows,
/// `~/Library/Preferences` on macOS and `~/.config` elsewhere. Same format as Docker's
/// config.json (an `auths` map).
pub fn helm_registry_config(env: &Env) -> Option<PathBuf> {
    let nonempty = |k: &str| env.var(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(f) = nonempty("HELM_REGISTRY_CONFIG") {
        return Some(f);
    }
    let config_home = match nonempty("HELM_CONFIG_HOME") {
        Some(dir) => dir,
        None => {
            let base = nonempty("XDG_CONFIG_HOME").or_else(|| {
                if cfg!(target_os = "windows") {
                    nonempty("APPDATA")
                } else if cfg!(target_os = "macos") {
                    env.home().map(|h| h.join("Library").join("Preferences"))
                } else {
                    env.home().map(|h| h.join(".config"))
                }
            })?;
            base.join("helm")
        }
    };
    Some(config_home.join("registry").join("config.json"))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::helm_registry_config;
    use crate::env::Env;

    #[test]
    fn helm_registry_config_is_found_where_helm_looks() {
        let at = |pairs: &[(&str, &str)]| {
            helm_registry_config(&Env::from_pairs(pairs.iter().copied()))
                .map(|p| p.display().to_string())
        };
        let home = ("HOME", "/h");
        assert_eq!(
            at(&[home]).as_deref(),
            Some("/h/.config/helm/registry/config.json")
        );
        assert_eq!(
            at(&[home, ("XDG_CONFIG_HOME", "/x")]).as_deref(),
            Some("/x/helm/registry/config.json")
        );
        assert_eq!(
            at(&[home, ("XDG_CONFIG_HOME", "/x"), ("HELM_CONFIG_HOME", "/c")]).as_deref(),
            Some("/c/registry/config.json")
        );
        assert_eq!(
            at(&[
                home,
                ("HELM_CONFIG_HOME", "/c"),
                ("HELM_REGISTRY_CONFIG", "/r.json")
            ])
            .as_deref(),
            Some("/r.json")
        );
        assert_eq!(at(&[]), None);
    }
}
