//! Comments and docs cite only what is in the repository: the wire facts are in
//! `docs/protocol.md`, and every `docs/protocol.md#<section>` names a section that exists there.
//! A citation of a document the repository does not hold (a section number of a protocol
//! reference kept elsewhere, a path outside the tree) cannot be followed by a reader, so it
//! fails here. The patterns below are assembled with `concat!` so this file passes its own scan.

use std::fs;
use std::path::{Path, PathBuf};

/// Folders that hold build output, dependencies or generated reports, not sources.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    "target",
    "node_modules",
    "dist",
    "test-build",
    "test-results",
    "playwright-report",
    "gen",
];

/// The kinds of files that carry comments or prose (and scripts without an extension, such as
/// `.ci/run`).
const TEXT_EXTENSIONS: &[&str] = &[
    "rs", "ts", "tsx", "js", "mjs", "css", "html", "md", "toml", "sh", "py", "yml", "yaml", "json",
    "service",
];

/// The section sign, written as an escape so that this file does not cite anything itself.
const SECTION: char = '\u{a7}';

/// The protocol document's file name.
const PROTOCOL_FILE: &str = concat!("protocol", ".md");

/// The repository's protocol document, as comments cite it.
const PROTOCOL: &str = concat!("docs/protocol", ".md");

/// Paths that lead out of the repository.
const OUTSIDE: &[&str] = &[
    concat!("..", "/shared/"),
    concat!("shared", "/docs"),
    concat!("/wo", "rk/"),
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the repository")
        .to_path_buf()
}

fn text_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read a folder of the repository") {
        let entry = entry.expect("read a folder entry");
        let path = entry.path();
        let kind = entry.file_type().expect("read an entry's type");
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if SKIPPED_DIRS.contains(&name.as_ref()) {
            // In a git worktree `.git` is a file naming the main checkout.
            continue;
        }
        if kind.is_dir() {
            text_files(&path, out);
        } else if kind.is_file()
            && path
                .extension()
                .and_then(|e| e.to_str())
                .is_none_or(|e| TEXT_EXTENSIONS.contains(&e))
        {
            out.push(path);
        }
    }
}

/// The anchors `docs/protocol.md` declares with `<a id="...">`.
fn protocol_anchors(root: &Path) -> Vec<String> {
    let text = fs::read_to_string(root.join(PROTOCOL)).expect("the protocol document exists");
    text.split("<a id=\"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(id, _)| id.to_owned()))
        .collect()
}

/// What is wrong with one file's citations, one line per problem.
fn problems(rel: &str, text: &str, anchors: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let in_docs = rel.starts_with("docs/");
    for (n, line) in text.lines().enumerate() {
        let at = |what: &str| format!("{rel}:{}: {what}: {}", n + 1, line.trim());
        // A section sign is fine after an RFC number (`RFC 8252 §7.3`, `[RFC 6749] §5.1`);
        // anything else numbers the sections of a document that is not here.
        for (i, _) in line.match_indices(SECTION) {
            let before = &line[..i];
            let start = before
                .char_indices()
                .rev()
                .nth(11)
                .map_or(0, |(start, _)| start);
            if !before[start..].contains("RFC ") {
                found.push(at("a section number of a document outside the repository"));
            }
        }
        for outside in OUTSIDE {
            if line.contains(outside) {
                found.push(at("a path outside the repository"));
            }
        }
        // Every mention of the protocol document is the repository's, by its path (within
        // docs/, a relative markdown link is fine), and names a section that exists.
        for (i, _) in line.match_indices(PROTOCOL_FILE) {
            let by_path = line[..i].ends_with("docs/");
            // Within docs/, a relative link and its text name the file alone: `[x](x#anchor)`.
            let relative_link = in_docs && (line[..i].ends_with("](") || line[..i].ends_with('['));
            if !by_path && !relative_link {
                found.push(at("the protocol document without its path, docs/"));
            }
            if let Some(rest) = line[i + PROTOCOL_FILE.len()..].strip_prefix('#') {
                let anchor: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                if !anchor.is_empty() && !anchors.contains(&anchor) {
                    found.push(at(&format!("no section #{anchor} in {PROTOCOL}")));
                }
            }
        }
    }
    found
}

#[test]
fn comments_cite_only_the_repository() {
    let root = repo_root();
    let anchors = protocol_anchors(&root);
    assert!(
        anchors.len() > 20,
        "{PROTOCOL} declares its sections with <a id=\"...\">: {anchors:?}"
    );
    let mut files = Vec::new();
    text_files(&root, &mut files);
    assert!(
        files.len() > 100,
        "the walk finds the repository's sources ({} files under {})",
        files.len(),
        root.display()
    );
    let mut found = Vec::new();
    for path in &files {
        // Non-UTF-8 files are not sources this check is about.
        let Ok(text) = fs::read_to_string(path) else {
            continue;
        };
        let rel = path
            .strip_prefix(&root)
            .expect("a file under the root")
            .to_string_lossy()
            .replace('\\', "/");
        found.extend(problems(&rel, &text, &anchors));
    }
    assert!(
        found.is_empty(),
        "cite {PROTOCOL}#<section> (or a public source) instead:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_recognises_citations_of_outside_documents() {
    let anchors = vec!["acr-exchange".to_owned()];
    let bad = [
        format!("// exchange ({PROTOCOL_FILE} {SECTION}3.2)"),
        format!("// roles ({SECTION}5.1)"),
        format!("// see {}notes.md", OUTSIDE[0]),
        format!("// see {PROTOCOL_FILE}"),
        format!("// see {PROTOCOL}#no-such-section"),
    ];
    for line in &bad {
        assert!(
            !problems("crates/x.rs", line, &anchors).is_empty(),
            "flagged: {line}"
        );
    }
    let good = [
        format!("// exchange ({PROTOCOL}#acr-exchange)"),
        format!("// loopback (RFC 8252 {SECTION}7.3)"),
        format!("// basic ([RFC 6749] {SECTION}2.3.1)"),
    ];
    for line in &good {
        assert!(
            problems("crates/x.rs", line, &anchors).is_empty(),
            "accepted: {line}"
        );
    }
    for link in [
        format!("[wire facts]({PROTOCOL_FILE}#acr-exchange)"),
        format!("[{PROTOCOL_FILE}]({PROTOCOL_FILE})"),
    ] {
        assert!(
            problems("docs/architecture.md", &link, &anchors).is_empty(),
            "{link}"
        );
    }
    let unknown = format!("[wire facts]({PROTOCOL_FILE}#no-such-section)");
    assert!(!problems("docs/architecture.md", &unknown, &anchors).is_empty());
}
