//! Each crate is a stack: every top-level module uses only modules below it, never one that uses it back, directly
//! or round about. This reads the sources of `core/src` and `src-tauri/src` with `syn` (a real Rust parser, so
//! `use crate::{a, b::{c}}` groups, `super::` chains and paths inside macro calls are all seen), builds the graph
//! of top-level modules from every `crate::`/`super::` path outside `#[cfg(test)]` code, and fails on any cycle,
//! naming each arrow of it with the file and line it comes from.
//!
//! A test of our own rather than cargo-modules' acyclic check: cargo-modules builds rust-analyzer (many minutes on
//! two cores, for every fresh CI machine), and it reports cycles between all modules, items included, where the
//! rule here is about the top-level modules a newcomer reads as layers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

/// Where one module's arrow to another comes from: the first place seen.
type Edges = BTreeMap<String, BTreeMap<String, String>>;

/// The arrows between the top-level modules of the crate whose sources are in `src`. The modules are found as the
/// compiler finds them: from `lib.rs` and `main.rs`, following each `mod name;` to `name.rs` or `name/mod.rs`
/// (files pulled in with `include!` belong to the module that includes them; test-only modules are left out).
fn module_graph(src: &Path) -> Edges {
    let mut edges = Edges::new();
    let mut files: Vec<(PathBuf, Vec<String>)> = ["lib.rs", "main.rs"].iter().map(|root| (src.join(root), Vec::new())).collect();
    while let Some((file, module_path)) = files.pop() {
        if !file.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let syntax = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        // Where this file's child modules live: beside it for lib.rs, main.rs and mod.rs, else in a folder of its name.
        let children_dir = match file.file_name().and_then(|n| n.to_str()) {
            Some("lib.rs" | "main.rs" | "mod.rs") => file.parent().unwrap().to_path_buf(),
            _ => file.with_extension(""),
        };
        for item in &syntax.items {
            if let syn::Item::Mod(m) = item {
                if m.content.is_none() && !test_only(&m.attrs) {
                    let name = m.ident.to_string();
                    let child = children_dir.join(format!("{name}.rs"));
                    let child = if child.is_file() { child } else { children_dir.join(&name).join("mod.rs") };
                    assert!(child.is_file(), "{}: no file for `mod {name};`", file.display());
                    files.push((child, [module_path.clone(), vec![name]].concat()));
                }
            }
        }
        let Some(top) = module_path.first().cloned() else { continue }; // the roots declare every module
        let relative = file.strip_prefix(src).unwrap().display().to_string();
        let mut visitor = Paths { module_path, found: Vec::new() };
        visitor.visit_file(&syntax);
        for (target, line) in visitor.found {
            if target != top && is_module(src, &target) {
                edges.entry(top.clone()).or_default().entry(target).or_insert_with(|| format!("{relative}:{line}"));
            }
        }
    }
    edges
}

fn is_module(src: &Path, name: &str) -> bool {
    !matches!(name, "lib" | "main") && (src.join(format!("{name}.rs")).is_file() || src.join(name).join("mod.rs").is_file())
}

/// Every path that leaves its module for another top-level one, with its line.
struct Paths {
    module_path: Vec<String>,
    found: Vec<(String, usize)>,
}

impl Paths {
    /// The top-level module a path starting with `segments` lands in, if it names one through `crate` or `super`.
    fn resolve(&self, segments: &[String]) -> Option<String> {
        match segments.first().map(String::as_str) {
            Some("crate") => segments.get(1).cloned(),
            Some("super") => {
                let ups = segments.iter().take_while(|s| *s == "super").count();
                let base = &self.module_path[..self.module_path.len().saturating_sub(ups)];
                base.first().cloned().or_else(|| segments.get(ups).cloned())
            }
            _ => None,
        }
    }

    fn note(&mut self, segments: &[String], line: usize) {
        if let Some(target) = self.resolve(segments) {
            self.found.push((target, line));
        }
    }

    /// Paths written inside macro calls (`format!`, `assert!`, …) are tokens to syn: read `crate :: name` and
    /// `super :: …` runs from them.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, token) in tokens.iter().enumerate() {
            match token {
                TokenTree::Group(group) => self.scan_tokens(group.stream()),
                TokenTree::Ident(ident) if ident == "crate" || ident == "super" => {
                    let mut segments = vec![ident.to_string()];
                    let mut j = i + 1;
                    while let (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)), Some(TokenTree::Ident(next))) =
                        (tokens.get(j), tokens.get(j + 1), tokens.get(j + 2))
                    {
                        if a.as_char() != ':' || b.as_char() != ':' {
                            break;
                        }
                        segments.push(next.to_string());
                        j += 3;
                    }
                    self.note(&segments, ident.span().start().line);
                }
                _ => {}
            }
        }
    }
}

/// `#[cfg(test)]`, `#[cfg(all(test, …))]`: code that only the tests compile.
fn test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg") && {
            let tokens = attr.meta.require_list().map(|l| l.tokens.to_string()).unwrap_or_default();
            tokens == "test" || (tokens.starts_with("all") && tokens.split(|c: char| !c.is_alphanumeric()).any(|w| w == "test"))
        }
    })
}

fn flatten_use(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten_use(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => out.push([prefix.as_slice(), &[n.ident.to_string()]].concat()),
        syn::UseTree::Rename(r) => out.push([prefix.as_slice(), &[r.ident.to_string()]].concat()),
        syn::UseTree::Glob(_) => out.push(prefix.clone()),
        syn::UseTree::Group(g) => g.items.iter().for_each(|t| flatten_use(t, prefix, out)),
    }
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs: &[syn::Attribute] = match item {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Use(u) => &u.attrs,
            syn::Item::Struct(s) => &s.attrs,
            syn::Item::Enum(e) => &e.attrs,
            syn::Item::Const(c) => &c.attrs,
            syn::Item::Static(s) => &s.attrs,
            syn::Item::Trait(t) => &t.attrs,
            syn::Item::Macro(m) => &m.attrs,
            _ => &[],
        };
        if test_only(attrs) {
            return;
        }
        if let syn::Item::Mod(m) = item {
            self.module_path.push(m.ident.to_string());
            syn::visit::visit_item(self, item);
            self.module_path.pop();
            return;
        }
        syn::visit::visit_item(self, item);
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut paths = Vec::new();
        flatten_use(&item.tree, &mut Vec::new(), &mut paths);
        let line = item.use_token.span.start().line;
        for path in paths {
            self.note(&path, line);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let line = path.segments.first().map(|s| s.ident.span().start().line).unwrap_or(0);
        self.note(&segments, line);
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.scan_tokens(mac.tokens.clone());
        syn::visit::visit_macro(self, mac);
    }
}

/// Every cycle among the modules, once each, as `a -> b -> a` with where each arrow comes from.
fn cycles(edges: &Edges) -> Vec<String> {
    let mut found = BTreeSet::new();
    for start in edges.keys() {
        // Depth-first from `start`, keeping the path; a path back to `start` is a cycle. Rotated so the smallest
        // name leads, each cycle is reported once.
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        while let Some((node, path)) = stack.pop() {
            for next in edges.get(&node).map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
                if next == *start {
                    let smallest = path.iter().enumerate().min_by_key(|(_, n)| n.as_str()).map(|(i, _)| i).unwrap();
                    let mut cycle: Vec<String> = path[smallest..].iter().chain(&path[..smallest]).cloned().collect();
                    cycle.push(cycle[0].clone());
                    found.insert(cycle);
                } else if !path.contains(&next) && next.as_str() > start.as_str() {
                    stack.push((next.clone(), [path.clone(), vec![next]].concat()));
                }
            }
        }
    }
    found
        .into_iter()
        .map(|cycle| {
            let arrows: Vec<String> = cycle.windows(2).map(|w| format!("{} -> {} ({})", w[0], w[1], edges[&w[0]][&w[1]])).collect();
            arrows.join(", ")
        })
        .collect()
}

fn assert_stack(crate_dir: &str) {
    let src = icloud_mail_tests::workspace_root().join(crate_dir);
    let edges = module_graph(&src);
    assert!(!edges.is_empty(), "{crate_dir}: no module uses another — the reader found nothing, so it proves nothing");
    let cycles = cycles(&edges);
    assert!(
        cycles.is_empty(),
        "{crate_dir} is no longer a stack: each module must use only modules below it. Move the type both sides need \
         below both, or the code that needs both above both.\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_core_is_a_stack_of_modules() {
    assert_stack("core/src");
}

#[test]
fn the_app_is_a_stack_of_modules() {
    assert_stack("src-tauri/src");
}

/// The reader itself: a crate with a cycle hidden in each way a path can be written is caught, and code only the
/// tests compile does not count.
#[test]
fn a_cycle_put_back_is_found_however_it_is_written() {
    let crate_with = |files: &[(&str, &str)]| {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let found = cycles(&module_graph(dir.path()));
        (dir, found)
    };
    let lib = ("lib.rs", "pub mod account; pub mod probe; pub mod ground;");
    let ground = ("ground.rs", "pub struct Lang;");
    let account = ("account.rs", "use crate::ground::Lang;\npub struct Account;\n");
    // Each way `probe` can reach back to `account`.
    for back in [
        "use crate::account::Account;",
        "use crate::{ground::Lang, account::{Account}};",
        "pub fn f() -> crate::account::Account { todo!() }",
        "pub fn f() { let _ = format!(\"{:?}\", crate::account::Account); }",
        "pub mod inner { use super::super::super::account::Account; }",
    ] {
        let probe_mod = ("probe/mod.rs", "pub mod imap;\nuse crate::ground::Lang;\n#[cfg(test)]\nmod tests;\n");
        let imap = ("probe/imap.rs", back);
        let account_back = ("account.rs", "use crate::probe::imap;\npub struct Account;\n");
        let (_dir, found) = crate_with(&[lib, ground, account_back, probe_mod, imap]);
        assert_eq!(found.len(), 1, "{back}: {found:?}");
        assert!(found[0].starts_with("account -> probe (account.rs:1), probe -> account (probe/imap.rs:"), "{back}: {found:?}");
    }
    // A stack, with a back-arrow only in test code: no cycle.
    let probe = ("probe.rs", "use crate::account::Account;\n#[cfg(test)]\nmod tests { use crate::account::Account; }\n");
    let account_test_only = ("account.rs", "pub struct Account;\n#[cfg(test)]\nfn t() { let _ = crate::probe::x; }\n");
    let (_dir, found) = crate_with(&[lib, ground, account, probe]);
    assert!(found.is_empty(), "{found:?}");
    let (_dir, found) = crate_with(&[lib, ground, account_test_only, probe]);
    assert!(found.is_empty(), "{found:?}");
    // Round about, through a third module.
    let (_dir, found) = crate_with(&[
        lib,
        ("ground.rs", "use crate::probe::X;"),
        ("account.rs", "use crate::ground::Lang;"),
        ("probe.rs", "use crate::account::Account; pub struct X;"),
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("account -> ground") && found[0].contains("probe -> account"), "{found:?}");
}
