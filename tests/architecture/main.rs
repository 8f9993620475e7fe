//! The engine's and the CLI's modules depend on one another in one direction only.
//!
//! This test reads the crates' sources (with `syn`), builds the graph of which module refers to
//! which, and fails on any cycle, naming every module in it and the references that make each
//! arrow. Run it alone with `cargo test --workspace --test architecture`.
//!
//! What counts as an arrow from module `a` to module `b`: any path in `a`'s code (a `use` item,
//! a type, an expression, or a path inside a macro call such as `format!`) that names an item of
//! `b` — written `crate::b::…`, `super::…`, `self::…`, a child module by name, or a name the
//! crate root re-exports from `b` (`crate::Engine` is an arrow to `engine`).
//!
//! Which graphs are checked: the crate's top-level modules (a folder such as `docker/` with its
//! files is one module, `docker`), and inside every folder the graph of its files (the siblings
//! `service::view` and `service::overview`, say). A module may use its own parent (`super::…`)
//! and a parent its children; that is how a folder's `mod.rs` and its files work together. The
//! crate root (`lib.rs`) is the crate's front door: it declares and re-exports the modules, and
//! what it defines itself (the CLI's `Context`, exit codes) is the base every module may use.
//! Every module is read, whatever its `cfg` (all platforms' code, and unit tests too: a unit
//! test of a module uses that module and the ones below it, as the module does).
//!
//! Not seen: a method called on a value (`engine.refresh_all()`) is an arrow to the type's
//! module only where the type is named; methods an `impl` in another module adds are not.
#![allow(clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

mod words;

/// A module's path below its crate root (`[]` is the root, `["service", "view"]` is
/// `service::view`).
type ModPath = Vec<String>;

/// One reference from a module to another, with where it is written (for the failure message).
#[derive(Debug, Clone)]
struct Reference {
    from: ModPath,
    to: ModPath,
    at: String,
}

/// A crate's modules and the references between them.
#[derive(Debug, Default)]
struct Crate {
    /// Every module (file or inline), the root included.
    modules: BTreeSet<ModPath>,
    /// Names the crate root makes available as `crate::Name`, and the module each comes from.
    root_names: BTreeMap<String, ModPath>,
    references: Vec<Reference>,
}

/// A source file and the module it is.
struct SourceFile {
    module: ModPath,
    path: PathBuf,
    ast: syn::File,
}

/// Reads the crate whose root file is `root` (its `lib.rs`), following `mod x;` declarations.
fn read_crate(root: &Path) -> Result<Crate, String> {
    let mut files = Vec::new();
    let mut pending = vec![(ModPath::new(), root.to_path_buf(), true)];
    while let Some((module, path, owns_dir)) = pending.pop() {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let ast =
            syn::parse_file(&text).map_err(|e| format!("cannot parse {}: {e}", path.display()))?;
        // `mod x;` in lib.rs or foo/mod.rs is a file beside it; in foo.rs it is foo/x.rs.
        let dir = match (owns_dir, path.parent()) {
            (true, Some(parent)) => parent.to_path_buf(),
            (false, Some(parent)) => parent.join(module.last().map_or("", String::as_str)),
            (_, None) => return Err(format!("{} has no folder", path.display())),
        };
        for item in &ast.items {
            let syn::Item::Mod(m) = item else { continue };
            if m.content.is_some() {
                continue;
            }
            let name = m.ident.to_string();
            let mut child = module.clone();
            child.push(name.clone());
            let flat = dir.join(format!("{name}.rs"));
            if flat.is_file() {
                pending.push((child, flat, false));
            } else {
                pending.push((child, dir.join(&name).join("mod.rs"), true));
            }
        }
        files.push(SourceFile { module, path, ast });
    }

    let mut krate = Crate::default();
    for file in &files {
        let mut collector = ModuleCollector {
            current: file.module.clone(),
            modules: &mut krate.modules,
        };
        collector.modules.insert(file.module.clone());
        collector.visit_file(&file.ast);
    }
    // What `crate::Name` means: the root's own `use` items say which module a name comes from.
    if let Some(root) = files.iter().find(|f| f.module.is_empty()) {
        for item in &root.ast.items {
            let syn::Item::Use(u) = item else { continue };
            for (segments, name) in flatten_use(&u.tree) {
                let Some(name) = name else { continue };
                let target = resolve(&krate.modules, &[], &segments, &BTreeMap::new());
                if let Some(target) = target.filter(|t| !t.is_empty()) {
                    krate.root_names.insert(name, target);
                }
            }
        }
    }
    for file in &files {
        let mut collector = ReferenceCollector {
            current: file.module.clone(),
            modules: &krate.modules,
            root_names: &krate.root_names,
            file: &file.path,
            references: &mut krate.references,
        };
        collector.visit_file(&file.ast);
    }
    Ok(krate)
}

/// Finds the inline modules (`mod x { … }`).
struct ModuleCollector<'a> {
    current: ModPath,
    modules: &'a mut BTreeSet<ModPath>,
}

impl<'ast> Visit<'ast> for ModuleCollector<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if let Some((_, items)) = &m.content {
            self.current.push(m.ident.to_string());
            self.modules.insert(self.current.clone());
            for item in items {
                self.visit_item(item);
            }
            self.current.pop();
        }
    }
}

/// The paths a `use` tree imports, each with the name it binds (none for a glob).
fn flatten_use(tree: &syn::UseTree) -> Vec<(Vec<String>, Option<String>)> {
    let mut out = Vec::new();
    fn walk(
        tree: &syn::UseTree,
        prefix: &mut Vec<String>,
        out: &mut Vec<(Vec<String>, Option<String>)>,
    ) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                walk(&p.tree, prefix, out);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let name = n.ident.to_string();
                if name == "self" {
                    out.push((prefix.clone(), prefix.last().cloned()));
                } else {
                    let mut path = prefix.clone();
                    path.push(name.clone());
                    out.push((path, Some(name)));
                }
            }
            syn::UseTree::Rename(r) => {
                let mut path = prefix.clone();
                let name = r.ident.to_string();
                if name != "self" {
                    path.push(name);
                }
                out.push((path, Some(r.rename.to_string())));
            }
            syn::UseTree::Glob(_) => out.push((prefix.clone(), None)),
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    walk(tree, prefix, out);
                }
            }
        }
    }
    walk(tree, &mut Vec::new(), &mut out);
    out
}

/// The module of the crate a path written in module `current` points into, if any: the
/// longest known module the path walks through (`crate::docker::helper::run` is
/// `docker::helper`), or the module a root re-export comes from (`crate::Engine`).
fn resolve(
    modules: &BTreeSet<ModPath>,
    current: &[String],
    segments: &[String],
    root_names: &BTreeMap<String, ModPath>,
) -> Option<ModPath> {
    let (mut base, rest): (ModPath, &[String]) = match segments.first().map(String::as_str) {
        Some("crate") => (Vec::new(), &segments[1..]),
        Some("self") => (current.to_vec(), &segments[1..]),
        Some("super") => {
            let ups = segments.iter().take_while(|s| *s == "super").count();
            let keep = current.len().checked_sub(ups)?;
            (current[..keep].to_vec(), &segments[ups..])
        }
        Some(first) => {
            // A child module by name (in lib.rs: a top-level module); anything else is a
            // local name, a dependency or the standard library.
            let mut child = current.to_vec();
            child.push(first.to_owned());
            if !modules.contains(&child) {
                return None;
            }
            (current.to_vec(), segments)
        }
        None => return None,
    };
    for (walked, segment) in rest.iter().enumerate() {
        let mut next = base.clone();
        next.push(segment.clone());
        if !modules.contains(&next) {
            if base.is_empty()
                && walked == 0
                && let Some(target) = root_names.get(segment)
            {
                return Some(target.clone());
            }
            break;
        }
        base = next;
    }
    Some(base)
}

/// Collects the references to the crate's modules.
struct ReferenceCollector<'a> {
    current: ModPath,
    modules: &'a BTreeSet<ModPath>,
    root_names: &'a BTreeMap<String, ModPath>,
    file: &'a Path,
    references: &'a mut Vec<Reference>,
}

impl ReferenceCollector<'_> {
    fn add(&mut self, segments: &[String], line: usize) {
        if let Some(to) = resolve(self.modules, &self.current, segments, self.root_names) {
            self.references.push(Reference {
                from: self.current.clone(),
                to,
                at: format!(
                    "{}:{line}: {}",
                    self.file
                        .strip_prefix(workspace())
                        .unwrap_or(self.file)
                        .display(),
                    segments.join("::")
                ),
            });
        }
    }

    /// Paths inside a macro call's tokens (`format!("{}", crate::text::x(…))`): every run of
    /// `ident :: ident :: …` that starts with `crate`, `self`, `super` or a module's name.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                TokenTree::Group(g) => {
                    self.scan_tokens(g.stream());
                    i += 1;
                }
                TokenTree::Ident(first) => {
                    let line = first.span().start().line;
                    let mut segments = vec![first.to_string()];
                    let mut j = i + 1;
                    while let (
                        Some(TokenTree::Punct(a)),
                        Some(TokenTree::Punct(b)),
                        Some(TokenTree::Ident(next)),
                    ) = (tokens.get(j), tokens.get(j + 1), tokens.get(j + 2))
                    {
                        if a.as_char() != ':' || b.as_char() != ':' {
                            break;
                        }
                        segments.push(next.to_string());
                        j += 3;
                    }
                    if segments.len() > 1 {
                        self.add(&segments, line);
                    }
                    i = j;
                }
                TokenTree::Punct(_) | TokenTree::Literal(_) => i += 1,
            }
        }
    }
}

impl<'ast> Visit<'ast> for ReferenceCollector<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if let Some((_, items)) = &m.content {
            self.current.push(m.ident.to_string());
            for item in items {
                self.visit_item(item);
            }
            self.current.pop();
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let line = u.use_token.span.start().line;
        for (segments, _) in flatten_use(&u.tree) {
            self.add(&segments, line);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments.len() > 1 {
            let line = path
                .segments
                .first()
                .map_or(0, |s| s.ident.span().start().line);
            self.add(&segments, line);
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.visit_path(&m.path);
        self.scan_tokens(m.tokens.clone());
    }
}

/// The arrows between the children of one module: for every reference between two modules
/// below the same parent, the arrow between the parent's two children that hold them.
/// References to a module's own ancestors or descendants make no arrow.
fn arrows(krate: &Crate) -> BTreeMap<ModPath, BTreeMap<(String, String), Vec<String>>> {
    let mut graphs: BTreeMap<ModPath, BTreeMap<(String, String), Vec<String>>> = BTreeMap::new();
    for reference in &krate.references {
        let common = reference
            .from
            .iter()
            .zip(&reference.to)
            .take_while(|(a, b)| a == b)
            .count();
        let (Some(from), Some(to)) = (reference.from.get(common), reference.to.get(common)) else {
            continue;
        };
        graphs
            .entry(reference.from[..common].to_vec())
            .or_default()
            .entry((from.clone(), to.clone()))
            .or_default()
            .push(reference.at.clone());
    }
    graphs
}

/// The cycles of a graph: its strongly connected components of more than one node (Tarjan).
fn cycles(edges: &BTreeMap<(String, String), Vec<String>>) -> Vec<Vec<String>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        next.entry(from.as_str()).or_default().push(to.as_str());
        next.entry(to.as_str()).or_default();
    }
    struct Tarjan<'a> {
        next: &'a BTreeMap<&'a str, Vec<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, node: &'a str) {
            let index = self.index.len();
            self.index.insert(node, index);
            self.low.insert(node, index);
            self.stack.push(node);
            self.on_stack.insert(node);
            for &to in self.next.get(node).map_or(&[][..], Vec::as_slice) {
                if !self.index.contains_key(to) {
                    self.visit(to);
                    let low = self.low[node].min(self.low[to]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(to) {
                    let low = self.low[node].min(self.index[to]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = Vec::new();
                while let Some(top) = self.stack.pop() {
                    self.on_stack.remove(top);
                    component.push(top.to_owned());
                    if top == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        next: &next,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for &node in next.keys() {
        if !tarjan.index.contains_key(node) {
            tarjan.visit(node);
        }
    }
    tarjan.found
}

/// Every cycle in the crate, described for a person: the modules in it and, for each arrow
/// between them, the references that make it.
fn describe_cycles(krate: &Crate) -> Vec<String> {
    let mut out = Vec::new();
    for (parent, edges) in arrows(krate) {
        for component in cycles(&edges) {
            let prefix = if parent.is_empty() {
                String::new()
            } else {
                format!("{}::", parent.join("::"))
            };
            let mut text = format!(
                "cycle among {}:",
                component
                    .iter()
                    .map(|m| format!("{prefix}{m}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            for ((from, to), at) in &edges {
                if component.contains(from) && component.contains(to) {
                    text.push_str(&format!("\n  {prefix}{from} -> {prefix}{to}"));
                    for place in at.iter().take(3) {
                        text.push_str(&format!("\n      {place}"));
                    }
                    if at.len() > 3 {
                        text.push_str(&format!("\n      … and {} more", at.len() - 3));
                    }
                }
            }
            out.push(text);
        }
    }
    out
}

/// The layers of one folder's modules (the children of `parent`; unit-test modules left
/// out): layer 0 uses none of its siblings, and every other module sits one above the highest
/// sibling it uses. Each layer's modules are listed by name.
fn layers(krate: &Crate, parent: &ModPath) -> Vec<Vec<String>> {
    let graphs = arrows(krate);
    let edges = graphs.get(parent).cloned().unwrap_or_default();
    let children: Vec<String> = krate
        .modules
        .iter()
        .filter(|m| m.len() == parent.len() + 1 && m.starts_with(parent))
        .filter_map(|m| m.last().cloned())
        .filter(|name| name != "tests")
        .collect();
    fn layer_of(
        node: &str,
        edges: &BTreeMap<(String, String), Vec<String>>,
        memo: &mut BTreeMap<String, usize>,
        visiting: &mut BTreeSet<String>,
    ) -> usize {
        if let Some(&known) = memo.get(node) {
            return known;
        }
        if !visiting.insert(node.to_owned()) {
            return 0; // a cycle: reported by the other check
        }
        let deps: Vec<String> = edges
            .keys()
            .filter(|(from, to)| from == node && to != "tests")
            .map(|(_, to)| to.clone())
            .collect();
        let layer = deps
            .iter()
            .map(|d| layer_of(d, edges, memo, visiting) + 1)
            .max()
            .unwrap_or(0);
        visiting.remove(node);
        memo.insert(node.to_owned(), layer);
        layer
    }
    let mut memo = BTreeMap::new();
    let mut out: Vec<Vec<String>> = Vec::new();
    for child in &children {
        let layer = layer_of(child, &edges, &mut memo, &mut BTreeSet::new());
        if out.len() <= layer {
            out.resize(layer + 1, Vec::new());
        }
        out[layer].push(child.clone());
    }
    out
}

/// The engine's layers as docs/architecture.md shows them: the top level, then every folder.
fn layer_table(krate: &Crate) -> String {
    let mut folders: Vec<ModPath> = vec![ModPath::new()];
    folders.extend(
        krate
            .modules
            .iter()
            .filter(|m| {
                !m.is_empty()
                    && m.last().is_some_and(|name| name != "tests")
                    && krate.modules.iter().any(|c| {
                        c.len() == m.len() + 1
                            && c.starts_with(m)
                            && c.last().is_some_and(|n| n != "tests")
                    })
            })
            .cloned(),
    );
    let mut text = String::from("| folder | layer | modules |\n|---|---|---|\n");
    for folder in folders {
        let name = if folder.is_empty() {
            "(top level)".to_owned()
        } else {
            format!("`{}/`", folder.join("/"))
        };
        for (i, modules) in layers(krate, &folder).iter().enumerate() {
            let list: Vec<String> = modules.iter().map(|m| format!("`{m}`")).collect();
            text.push_str(&format!("| {name} | {i} | {} |\n", list.join(" ")));
        }
    }
    text
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Checks the crate whose root is `lib`, which has at least `min_arrows` arrows between its
/// top-level modules (fewer means the walk itself went wrong).
fn assert_acyclic(lib: &str, min_arrows: usize) {
    let root = workspace().join(lib);
    let krate = match read_crate(&root) {
        Ok(krate) => krate,
        Err(e) => panic!("{e}"),
    };
    assert!(
        krate.modules.len() > 5,
        "{} declares only {:?}: the module walk went wrong",
        root.display(),
        krate.modules
    );
    let top_level = arrows(&krate).remove(&ModPath::new()).unwrap_or_default();
    assert!(
        top_level.len() >= min_arrows,
        "{} shows only {:?} between its modules: the reference walk went wrong",
        root.display(),
        top_level.keys()
    );
    let found = describe_cycles(&krate);
    assert!(
        found.is_empty(),
        "{} has import cycles; move the shared item to the module that owns its data (or \
         a lower one) so that arrows point one way:\n\n{}",
        root.display(),
        found.join("\n\n")
    );
}

#[test]
fn engine_modules_depend_one_way() {
    assert_acyclic("crates/engine/src/lib.rs", 50);
}

/// docs/architecture.md shows the engine's layers as they are: the table between its
/// `layers` markers is the one computed from the sources.
#[test]
fn the_architecture_doc_shows_the_engine_s_layers() {
    let krate = read_crate(&workspace().join("crates/engine/src/lib.rs")).expect("engine");
    let doc_path = workspace().join("docs/architecture.md");
    let doc = std::fs::read_to_string(&doc_path).expect("docs/architecture.md");
    let begin = "<!-- layers: begin (tests/architecture writes the table) -->\n";
    let end = "<!-- layers: end -->";
    let (Some(start), Some(stop)) = (doc.find(begin), doc.find(end)) else {
        panic!("docs/architecture.md has no `{begin}` … `{end}` markers");
    };
    let shown = &doc[start + begin.len()..stop];
    let actual = layer_table(&krate);
    assert!(
        shown == actual,
        "docs/architecture.md's layer table is out of date; between its markers it should be:\n\n{actual}"
    );
}

#[test]
fn cli_modules_depend_one_way() {
    assert_acyclic("crates/cli/src/lib.rs", 3);
}

/// The check itself: every way of writing a reference is seen, and a cycle is reported.
mod check {
    use super::*;

    /// A crate made of `files` (path below `src`, text) in a temporary folder.
    fn sample(files: &[(&str, &str)]) -> Crate {
        let dir = tempfile::tempdir().expect("temporary folder");
        for (path, text) in files {
            let path = dir.path().join(path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("folder");
            }
            std::fs::write(&path, text).expect("file");
        }
        read_crate(&dir.path().join("lib.rs")).expect("sample crate")
    }

    fn arrows_of(krate: &Crate) -> BTreeSet<String> {
        arrows(krate)
            .into_iter()
            .flat_map(|(parent, edges)| {
                edges.into_keys().map(move |(from, to)| {
                    let prefix: String = parent.iter().map(|p| format!("{p}::")).collect();
                    format!("{prefix}{from} -> {prefix}{to}")
                })
            })
            .collect()
    }

    #[test]
    fn every_way_of_naming_a_module_is_an_arrow() {
        let krate = sample(&[
            (
                "lib.rs",
                "mod a; mod b; mod c; mod d; mod e; mod f; mod g; pub use f::Thing;\n\
                 pub struct Root;",
            ),
            (
                "a.rs",
                "use crate::b::X;\nfn g() -> crate::Root { todo!() }",
            ),
            ("b.rs", "fn g() { let _ = crate::c::f(); }"),
            ("c.rs", "fn g() { println!(\"{}\", crate::d::NAME); }"),
            ("d.rs", "fn g(_: crate::Thing) {}"),
            ("e/mod.rs", "mod inner; mod other; use self::inner::Y;"),
            (
                "e/inner.rs",
                "use super::other::Z;\nuse super::super::Root;",
            ),
            (
                "e/other.rs",
                "pub struct Z; #[cfg(test)] mod tests { use crate::g::G; }",
            ),
            ("g.rs", "pub struct G;"),
            (
                "f.rs",
                "pub struct Thing; mod nested { use super::super::e::other; }",
            ),
        ]);
        assert_eq!(
            arrows_of(&krate),
            [
                "a -> b",
                "b -> c",
                "c -> d",
                "d -> f",
                "e::inner -> e::other",
                "e -> g",
                "f -> e",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
        );
        assert!(describe_cycles(&krate).is_empty());
    }

    #[test]
    fn a_cycle_is_reported_with_its_references() {
        let found = the_one_cycle(&[
            ("lib.rs", "mod a; mod b; mod c;"),
            ("a.rs", "use crate::b::X;"),
            ("b.rs", "pub struct X; fn g() { crate::c::h(); }"),
            ("c.rs", "use super::a;"),
        ]);
        assert!(found.starts_with("cycle among a, b, c:"), "{found}");
        assert!(found.contains("c -> a"), "{found}");
        assert!(found.contains("c.rs:1: super::a"), "{found}");
    }

    /// The description of the cycle among the sample crate's `files`, asserting it has exactly
    /// one.
    fn the_one_cycle(files: &[(&str, &str)]) -> String {
        let mut found = describe_cycles(&sample(files));
        assert_eq!(found.len(), 1, "{found:?}");
        found.remove(0)
    }

    #[test]
    fn a_cycle_inside_a_folder_is_reported() {
        let found = the_one_cycle(&[
            ("lib.rs", "mod s;"),
            ("s/mod.rs", "mod x; mod y;"),
            ("s/x.rs", "use super::y::A;"),
            ("s/y.rs", "pub struct A; fn g() { super::x::f(); }"),
        ]);
        assert!(found.starts_with("cycle among s::x, s::y:"), "{found}");
    }
}
