//! Helm's registry config: where Helm reads registry credentials from (Helm 3.18+ no longer
//! follows Docker's credential helpers). Its format is Docker's config.json (an `auths` map),
//! so it is written with [`super::write_credentials`]. And the `helm` installed here: its
//! version, and so whether it also falls back to Docker's config
//! (docs/protocol.md#helm-registry-config).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::browser::which;
use crate::env::Env;
use crate::process;
use crate::text;

/// How long `helm version` (and `helm env`) may take; Helm answers either in well under a second.
const HELM_TIMEOUT: Duration = Duration::from_secs(5);
/// The most either may print: a version is a dozen bytes, a path a few hundred.
const HELM_MAX_OUT: usize = 4096;
/// The most of an unexpected answer repeated in the doctor's words.
const SHOWN_GARBAGE: usize = 60;

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

/// Where a Helm release reads registry logins from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HelmReads {
    /// Its registry config, and Docker's config (`credsStore`, `credHelpers`, `auths`) for a
    /// registry its own file has no entry for: Helm 3 before 3.18.
    OwnConfigThenDocker,
    /// Its registry config only: Helm 3.18 and later, Helm 4.
    OwnConfigOnly,
    /// Nothing: Helm 2 has no registry logins (OCI registries came with Helm 3).
    NoRegistryLogins,
}

/// A Helm release number, as `helm version --template '{{.Version}}'` prints it (`v3.18.4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HelmVersion {
    /// `3` in `v3.18.4`.
    pub major: u32,
    /// `18` in `v3.18.4`.
    pub minor: u32,
    /// `4` in `v3.18.4` (0 when left out).
    pub patch: u32,
}

impl HelmVersion {
    /// `v3.18.4`, `3.18`, `v3.18.0-rc.1`, `v4.0.1+g1a2b3c`: a leading `v`, then two or three
    /// numbers, then a pre-release or build suffix (which does not change what it reads).
    /// Anything else (spaces, more lines, text) is not a version.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.len() > 64
            || !text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
        {
            return None;
        }
        let text = text.strip_prefix('v').unwrap_or(text);
        let core = text.split(['-', '+']).next()?;
        let number = |part: Option<&str>| {
            part.filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|p| p.parse::<u32>().ok())
        };
        let mut parts = core.split('.');
        let major = number(parts.next())?;
        let minor = number(parts.next())?;
        let patch = match parts.next() {
            None => 0,
            part => number(part)?,
        };
        parts.next().is_none().then_some(Self {
            major,
            minor,
            patch,
        })
    }

    /// What this release reads registry logins from: Helm 3.18 stopped falling back to
    /// Docker's config (and so its credential helpers); Helm 4 kept that.
    pub fn reads(self) -> HelmReads {
        match (self.major, self.minor) {
            (0..=2, _) => HelmReads::NoRegistryLogins,
            (3, 0..=17) => HelmReads::OwnConfigThenDocker,
            _ => HelmReads::OwnConfigOnly,
        }
    }
}

/// The `helm` on `PATH`, and what it said about itself.
#[derive(Debug, Clone)]
pub struct InstalledHelm {
    /// The program.
    pub program: PathBuf,
    /// Its version as printed (`v3.18.4`) and parsed, or why it could not be told.
    pub version: Result<(String, HelmVersion), String>,
    /// The registry config it says it reads (`helm env HELM_REGISTRY_CONFIG`); `None` when it
    /// would not say usably (old releases print all their variables, or nothing).
    pub registry_config: Option<PathBuf>,
}

/// Finds `helm` on `PATH` (on Windows `helm.exe` only: a `.cmd` or `.bat` would run through
/// `cmd.exe`) and asks it its version and, for Helm 3 and later, its registry config. `None`:
/// no `helm` is installed. A `helm` that fails, hangs or prints anything else is stopped and
/// reported as of an unknown version.
pub fn installed_helm(env: &Env) -> Option<InstalledHelm> {
    let program = which(env, if cfg!(windows) { "helm.exe" } else { "helm" })?;
    let ask = |args: &[&str]| process::ask(&program, args, env, HELM_TIMEOUT, HELM_MAX_OUT);
    let version = match ask(&["version", "--template", "{{.Version}}"]) {
        Err(e) => Err(e.to_string()),
        Ok(out) => {
            let printed = String::from_utf8_lossy(&out).trim().to_owned();
            match HelmVersion::parse(&printed) {
                Some(v) => Ok((printed, v)),
                None if printed.is_empty() => Err("it printed no version".to_owned()),
                None => Err(format!(
                    "it printed \"{}\" instead of a version",
                    shown(&printed)
                )),
            }
        }
    };
    let registry_config = match &version {
        Ok((_, v)) if v.reads() != HelmReads::NoRegistryLogins => {
            ask(&["env", "HELM_REGISTRY_CONFIG"])
                .ok()
                .and_then(|out| one_path(&out))
        }
        _ => None,
    };
    Some(InstalledHelm {
        program,
        version,
        registry_config,
    })
}

/// An answer that is one line naming a path, else `None`: it is shown as it is, so it must
/// be printable already (no control, bidirectional or zero-width characters).
fn one_path(out: &[u8]) -> Option<PathBuf> {
    let text = std::str::from_utf8(out).ok()?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    (!text.is_empty() && text::printable(text) == text).then(|| PathBuf::from(text))
}

/// The start of what a program printed, safe to show.
fn shown(printed: &str) -> String {
    text::printable_start(printed, SHOWN_GARBAGE)
}

/// Whether two paths name the same file: equal, or equal once symbolic links (of the file, or
/// of its folder when the file does not exist yet) are resolved.
pub fn same_file(a: &Path, b: &Path) -> bool {
    let resolved = |p: &Path| {
        std::fs::canonicalize(p).ok().or_else(|| {
            let folder = std::fs::canonicalize(p.parent()?).ok()?;
            Some(folder.join(p.file_name()?))
        })
    };
    a == b || matches!((resolved(a), resolved(b)), (Some(x), Some(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::{HelmReads, HelmVersion, one_path, same_file, shown};

    #[test]
    #[cfg(target_os = "linux")]
    fn helm_registry_config_is_found_where_helm_looks() {
        use super::helm_registry_config;
        use crate::env::Env;
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

    fn v(major: u32, minor: u32, patch: u32) -> Option<HelmVersion> {
        Some(HelmVersion {
            major,
            minor,
            patch,
        })
    }

    #[test]
    fn versions_as_helm_prints_them_are_read_and_nothing_else() {
        assert_eq!(HelmVersion::parse("v3.17.3"), v(3, 17, 3));
        assert_eq!(HelmVersion::parse("v3.18.4\n"), v(3, 18, 4));
        assert_eq!(HelmVersion::parse("4.0.1"), v(4, 0, 1));
        assert_eq!(HelmVersion::parse("v3.18"), v(3, 18, 0));
        assert_eq!(HelmVersion::parse("v3.18.0-rc.1"), v(3, 18, 0));
        assert_eq!(HelmVersion::parse("v4.0.1+g1a2b3c"), v(4, 0, 1));
        for garbage in [
            "",
            "v",
            "v3",
            "v3.",
            "v.18.4",
            "v3.18.4.1",
            "v3.x.4",
            "v3.18.4 (dirty)",
            "v3.18.4\nv3.17.0",
            "version.BuildInfo{Version:\"v3.18.4\"}",
            "v99999999999.1.1",
            "v-3.18.4",
            "\u{1b}[31mv3.18.4",
        ] {
            assert_eq!(HelmVersion::parse(garbage), None, "{garbage:?}");
        }
        assert_eq!(
            HelmVersion::parse(&format!("v3.18.4-{}", "a".repeat(64))),
            None
        );
    }

    #[test]
    fn helm_3_18_and_later_read_only_their_own_registry_config() {
        let reads = |text: &str| HelmVersion::parse(text).map(HelmVersion::reads);
        assert_eq!(reads("v2.17.0"), Some(HelmReads::NoRegistryLogins));
        assert_eq!(reads("v3.0.0"), Some(HelmReads::OwnConfigThenDocker));
        assert_eq!(reads("v3.17.3"), Some(HelmReads::OwnConfigThenDocker));
        assert_eq!(reads("v3.18.0-rc.1"), Some(HelmReads::OwnConfigOnly));
        assert_eq!(reads("v3.18.4"), Some(HelmReads::OwnConfigOnly));
        assert_eq!(reads("v3.19.0"), Some(HelmReads::OwnConfigOnly));
        assert_eq!(reads("v4.0.1"), Some(HelmReads::OwnConfigOnly));
    }

    #[test]
    fn only_a_one_line_answer_names_a_file() {
        assert_eq!(
            one_path(b"/h/.config/helm/registry/config.json\n"),
            Some("/h/.config/helm/registry/config.json".into())
        );
        assert_eq!(
            one_path(b"C:\\u\\helm\\config.json\r\n"),
            Some("C:\\u\\helm\\config.json".into())
        );
        assert_eq!(one_path(b"\n"), None);
        assert_eq!(
            one_path(b"HELM_BIN=\"helm\"\nHELM_REGISTRY_CONFIG=\"/x\"\n"),
            None
        );
        assert_eq!(one_path(b"/x\xff"), None);
        assert_eq!(one_path("/x\u{202E}nosj.txt".as_bytes()), None);
        assert_eq!(one_path(b"/x\x1b[2J"), None);
    }

    #[test]
    fn what_helm_printed_is_shown_short_and_clean() {
        assert_eq!(shown("oops\u{1b}[2J"), "oops[2J");
        assert_eq!(shown(&"x".repeat(100)), format!("{}…", "x".repeat(60)));
    }

    #[test]
    fn the_same_file_through_a_link_is_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let file = real.join("config.json");
        assert!(same_file(&file, &file));
        assert!(!same_file(&file, &dir.path().join("config.json")));
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&real, &link).unwrap();
            // Not written yet: its folder is resolved.
            assert!(same_file(&link.join("config.json"), &file));
            std::fs::write(&file, "{}").unwrap();
            assert!(same_file(&link.join("config.json"), &file));
        }
    }
}
