//! Every crate of the workspace uses each dependency it declares: an unused one only costs
//! build time and widens what the product links. A dependency counts as used when the crate's
//! Rust sources name it (`name::…`, `name!`, `use name`, `extern crate name`).

use std::path::{Path, PathBuf};

/// Dependencies declared for another reason than code naming them.
const NOT_NAMED_IN_CODE: &[(&str, &str, &str)] = &[(
    "src-tauri",
    "acr-tray",
    "the app's dev-dependency on itself turns the demo feature on for its tests",
)];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `.rs` files under `dir` (not build output or npm packages).
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "target" && name != "node_modules" && name != "ui" {
                sources(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `(dependency key, its library name)` a manifest declares, in any section or target.
fn declared(manifest: &toml::Table) -> Vec<(String, String)> {
    let mut tables: Vec<&toml::Table> = Vec::new();
    let sections = ["dependencies", "dev-dependencies", "build-dependencies"];
    for section in sections {
        tables.extend(manifest.get(section).and_then(|t| t.as_table()));
    }
    for target in manifest
        .get("target")
        .and_then(|t| t.as_table())
        .into_iter()
        .flat_map(|t| t.values())
    {
        for section in sections {
            tables.extend(target.get(section).and_then(|t| t.as_table()));
        }
    }
    tables
        .into_iter()
        .flat_map(|t| t.iter())
        .map(|(key, spec)| {
            let package = spec
                .get("package")
                .and_then(|p| p.as_str())
                .unwrap_or(key.as_str());
            (key.clone(), package.replace('-', "_"))
        })
        .collect()
}

/// Whether `code` names the library `lib` as a path, macro or import.
fn names(code: &str, lib: &str) -> bool {
    code.match_indices(lib).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = &code[at + lib.len()..];
        let starts = !before.is_some_and(|c| c.is_alphanumeric() || c == '_');
        let used = after.starts_with("::")
            || after.starts_with('!')
            || code[..at].ends_with("use ")
            || code[..at].ends_with("extern crate ");
        starts && used
    })
}

#[test]
fn every_declared_dependency_is_used() {
    let workspace: toml::Table =
        toml::from_str(&std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml"))
            .expect("workspace manifest");
    let members = workspace["workspace"]["members"]
        .as_array()
        .expect("members");
    let mut unused = Vec::new();
    for member in members.iter().filter_map(|m| m.as_str()) {
        let dir = root().join(member);
        let text = std::fs::read_to_string(dir.join("Cargo.toml")).expect("member manifest");
        let manifest: toml::Table = toml::from_str(&text).expect("member manifest");
        let mut files = Vec::new();
        sources(&dir, &mut files);
        let code: String = files
            .iter()
            .filter_map(|f| std::fs::read_to_string(f).ok())
            .collect::<Vec<_>>()
            .join("\n");
        for (key, lib) in declared(&manifest) {
            let excused = NOT_NAMED_IN_CODE
                .iter()
                .any(|(m, k, _)| *m == member && *k == key);
            if !excused && !names(&code, &lib) {
                unused.push(format!("{member}/Cargo.toml: {key}"));
            }
        }
    }
    assert!(
        unused.is_empty(),
        "declared but never named in the crate's sources (remove them): {unused:?}"
    );
}

/// Every `[workspace.dependencies]` entry is taken by some member (`name.workspace = true`).
#[test]
fn every_workspace_dependency_is_taken() {
    let read = |path: PathBuf| -> toml::Table {
        toml::from_str(&std::fs::read_to_string(&path).expect("manifest")).expect("manifest")
    };
    let workspace = read(root().join("Cargo.toml"));
    let members: Vec<toml::Table> = workspace["workspace"]["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m.as_str())
        .map(|m| read(root().join(m).join("Cargo.toml")))
        .collect();
    let taken: Vec<String> = members
        .iter()
        .flat_map(declared)
        .map(|(key, _)| key)
        .collect();
    let untaken: Vec<&String> = workspace["workspace"]["dependencies"]
        .as_table()
        .expect("workspace dependencies")
        .keys()
        .filter(|k| !taken.contains(k))
        .collect();
    assert!(
        untaken.is_empty(),
        "no member takes {untaken:?}: remove them"
    );
}

#[test]
fn a_dependency_counts_when_code_names_it() {
    assert!(names("use serde::Serialize;", "serde"));
    assert!(names("let v = serde_json::json!({});", "serde_json"));
    assert!(names("tracing::info!(\"x\")", "tracing"));
    assert!(names("#[tokio::test]", "tokio"));
    assert!(!names("let v = serde_json::json!({});", "serde"));
    assert!(!names("// anyhow is not used here", "anyhow"));
    assert!(!names("my_tokio::spawn()", "tokio"));
}
