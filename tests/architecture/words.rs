//! No string of the engine names a command of the CLI: hints name typed actions, and each shell
//! says them in its own words (the CLI its commands, the app the places in its menu and window).
//! This reads the engine's sources (outside `#[cfg(test)]` code and doc comments) and fails on
//! any string literal, in code, a macro call (`format!`) or an attribute (`#[error("…")]`), that
//! names a CLI command (`acr-tray-cli` followed by a word: `acr-tray-cli login`). The program's
//! bare name may appear (the settings file's header says who edits it).

use std::path::Path;

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

/// The CLI's program name, which only the CLI's words may follow with a command.
const CLI: &str = "acr-tray-cli";

/// Whether `text` names a command of the CLI: its name, a space and a word.
fn names_a_command(text: &str) -> bool {
    text.match_indices(CLI).any(|(at, _)| {
        let mut rest = text[at + CLI.len()..].chars();
        rest.next() == Some(' ') && rest.next().is_some_and(|c| c.is_ascii_lowercase())
    })
}

/// String literals that name a CLI command, with where they are.
#[derive(Default)]
struct Finder {
    file: String,
    found: Vec<String>,
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && matches!(&a.meta, syn::Meta::List(l) if l.tokens.to_string() == "test")
    })
}

impl Finder {
    fn check(&mut self, value: &str, line: usize) {
        if names_a_command(value) {
            self.found.push(format!("{}:{line}: {value:?}", self.file));
        }
    }

    fn tokens(&mut self, tokens: TokenStream) {
        for token in tokens {
            match token {
                TokenTree::Group(g) => self.tokens(g.stream()),
                TokenTree::Literal(lit) => {
                    let line = lit.span().start().line;
                    if let Ok(s) = syn::parse_str::<syn::LitStr>(&lit.to_string()) {
                        self.check(&s.value(), line);
                    }
                }
                TokenTree::Ident(_) | TokenTree::Punct(_) => {}
            }
        }
    }
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Fn(i) => &i.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Mod(i) => &i.attrs,
            syn::Item::Const(i) => &i.attrs,
            syn::Item::Static(i) => &i.attrs,
            syn::Item::Struct(i) => &i.attrs,
            syn::Item::Enum(i) => &i.attrs,
            syn::Item::Use(i) => &i.attrs,
            syn::Item::Macro(i) => &i.attrs,
            syn::Item::Trait(i) => &i.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if !is_test_only(attrs) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_test_only(&f.attrs) {
            syn::visit::visit_impl_item_fn(self, f);
        }
    }

    fn visit_attribute(&mut self, a: &'ast syn::Attribute) {
        // Doc comments may name the CLI; messages in attributes (`#[error("…")]`) may not.
        if a.path().is_ident("doc") {
            return;
        }
        if let syn::Meta::List(l) = &a.meta {
            self.tokens(l.tokens.clone());
        }
    }

    fn visit_lit_str(&mut self, s: &'ast syn::LitStr) {
        self.check(&s.value(), s.span().start().line);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.tokens(m.tokens.clone());
    }
}

/// Every string literal in `source` (not test-only code, not doc comments) that names a CLI
/// command.
fn cli_strings(file: &str, source: &str) -> Result<Vec<String>, String> {
    let ast = syn::parse_file(source).map_err(|e| format!("cannot parse {file}: {e}"))?;
    let mut finder = Finder {
        file: file.to_owned(),
        ..Default::default()
    };
    finder.visit_file(&ast);
    Ok(finder.found)
}

/// The engine's source files, following `mod x;` declarations that are not test-only.
fn engine_files(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut pending = vec![(root.to_path_buf(), true)];
    while let Some((path, owns_dir)) = pending.pop() {
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let ast = syn::parse_file(&text)
            .unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()));
        let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        let dir = if owns_dir { parent } else { parent.join(stem) };
        for item in &ast.items {
            let syn::Item::Mod(m) = item else { continue };
            if m.content.is_some() || is_test_only(&m.attrs) {
                continue;
            }
            let name = m.ident.to_string();
            let flat = dir.join(format!("{name}.rs"));
            if flat.is_file() {
                pending.push((flat, false));
            } else {
                pending.push((dir.join(&name).join("mod.rs"), true));
            }
        }
        out.push((path.display().to_string(), text));
    }
    out
}

#[test]
fn no_engine_string_names_a_cli_command() {
    let root = super::workspace().join("crates/engine/src/lib.rs");
    let files = engine_files(&root);
    assert!(
        files.len() > 40,
        "only {} engine files were read: the walk went wrong",
        files.len()
    );
    let mut found = Vec::new();
    for (file, text) in &files {
        found.extend(cli_strings(file, text).unwrap_or_else(|e| panic!("{e}")));
    }
    assert!(
        found.is_empty(),
        "engine strings name the CLI; say what to do with a typed hint action \
         (crate::hint::Action) instead, which each shell words itself:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_finder_sees_strings_in_code_macros_and_attributes_but_not_tests_or_docs() {
    let source = r##"
        /// Run `acr-tray-cli login` (a doc comment: fine).
        fn hint() -> String { format!("run `acr-tray-cli login` as {}", 1) }
        const A: &str = "acr-tray-cli status";
        #[derive(thiserror::Error)]
        enum E { #[error("see acr-tray-cli doctor")] X }
        struct S;
        impl S {
            fn f() -> &'static str { r#"acr-tray-cli refresh"# }
            #[cfg(test)]
            fn g() -> &'static str { "acr-tray-cli test-only" }
        }
        #[cfg(test)]
        mod tests { const T: &str = "acr-tray-cli in a test"; }
        const FINE: &str = "ACR Tray";
        const NAME: &str = "Edited by `acr-tray-cli` and the settings window";
        const FLAG: &str = "acr-tray-cli --help";
    "##;
    let found = cli_strings("x.rs", source).expect("parse");
    assert_eq!(found.len(), 4, "{found:#?}");
    for said in ["login", "status", "doctor", "refresh"] {
        assert!(found.iter().any(|f| f.contains(said)), "{said}: {found:#?}");
    }
}
