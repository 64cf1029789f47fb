//! The web crate's layout (issue 15): a folder per area of the job, one shared `shell/`, and
//! arrows that only go down. Read from the sources themselves: every `crate::…` and `super::…`
//! path of every file, resolved to the file that defines what it names.
//!
//! - `shell/` names no area;
//! - an area names only `shell/` and itself;
//! - no two files name each other, directly or around a ring.
//!
//! `lib.rs` and `openapi.rs` assemble the application and may name every area.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A source file as a module path: `shell/auth.rs` → ["shell", "auth"], `shell/mod.rs` →
/// ["shell"], `lib.rs` → [].
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without comments and string literals (a path in a doc comment or a
/// message names nothing).
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_str = false;
    while let Some(c) = chars.next() {
        if in_str {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => in_str = true,
            '\'' => {
                // A char literal such as '"' or '{' (lifetimes have no closing quote nearby).
                let ahead: String = chars.clone().take(3).collect();
                if ahead.chars().nth(1) == Some('\'') {
                    chars.next();
                    chars.next();
                } else if ahead.starts_with('\\') && ahead.chars().nth(2) == Some('\'') {
                    chars.next();
                    chars.next();
                    chars.next();
                } else {
                    out.push(c);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Every path a file names: `crate::a::b::{c, d}` gives `a::b::c` and `a::b::d` (from the
/// crate root); `super::x` is made absolute.
fn named_paths(module: &[String], is_mod_file: bool, code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let rest: String = bytes[i..bytes.len().min(i + 7)].iter().collect();
        let starts_word = i == 0 || !ident(bytes[i - 1]) && bytes[i - 1] != ':';
        let (base, skip) = if starts_word && rest.starts_with("crate::") {
            (Vec::new(), 7)
        } else if starts_word && rest.starts_with("super::") {
            // In `a/b.rs` (module a::b) super is a; in `a/mod.rs` (module a) super is the root.
            let mut m = module.to_vec();
            m.pop();
            let _ = is_mod_file;
            (m, 7)
        } else {
            i += 1;
            continue;
        };
        i += skip;
        let mut path = base;
        let mut seg = String::new();
        let mut group: Option<Vec<String>> = None;
        while i < bytes.len() {
            let c = bytes[i];
            if ident(c) {
                seg.push(c);
                i += 1;
            } else if c == ':' && bytes.get(i + 1) == Some(&':') {
                if seg == "super" {
                    path.pop();
                } else {
                    path.push(std::mem::take(&mut seg));
                }
                seg.clear();
                i += 2;
            } else if c == '{' {
                let end = bytes[i..].iter().position(|&c| c == '}').map(|p| i + p).unwrap_or(bytes.len());
                let inner: String = bytes[i + 1..end].iter().collect();
                group = Some(
                    inner
                        .split(',')
                        .map(|s| {
                            s.trim()
                                .split("::")
                                .next()
                                .unwrap_or("")
                                .split(' ')
                                .next()
                                .unwrap_or("")
                                .to_string()
                        })
                        .filter(|s| !s.is_empty())
                        .collect(),
                );
                i = end + 1;
                break;
            } else {
                break;
            }
        }
        match group {
            Some(names) => {
                for n in names {
                    let mut p = path.clone();
                    if n != "self" {
                        p.push(n);
                    }
                    out.push(p);
                }
            }
            None => {
                if !seg.is_empty() {
                    path.push(seg);
                }
                out.push(path);
            }
        }
    }
    out
}

struct Crate {
    /// Module path → file.
    files: BTreeMap<Vec<String>, PathBuf>,
    /// In a module: a name it re-exports (`pub use child::{X}`) → the child module path.
    reexports: BTreeMap<(Vec<String>, String), Vec<String>>,
}

impl Crate {
    /// The module whose file defines what a path names: the longest module prefix, then
    /// through its re-exports.
    fn resolve(&self, path: &[String]) -> Vec<String> {
        let mut n = path.len();
        while n > 0 && !self.files.contains_key(&path[..n]) {
            n -= 1;
        }
        let mut module = path[..n].to_vec();
        if let Some(item) = path.get(n) {
            // Re-exports may chain (the crate root re-exports what `shell` re-exports).
            while let Some(child) = self.reexports.get(&(module.clone(), item.clone())) {
                module = child.clone();
            }
        }
        module
    }
}

fn area(module: &[String]) -> &str {
    match module.first().map(String::as_str) {
        None | Some("openapi") => "app",
        Some(a) => a,
    }
}

#[test]
fn areas_name_only_the_shell_and_the_shell_names_no_area_and_there_is_no_ring() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    let mut krate = Crate { files: BTreeMap::new(), reexports: BTreeMap::new() };
    let mut codes = BTreeMap::new();
    for p in &paths {
        let module = module_of(&src, p);
        let code = code_only(&std::fs::read_to_string(p).unwrap());
        for line in code.lines().filter(|l| l.trim_start().starts_with("pub use ")) {
            let body = line.trim_start().trim_start_matches("pub use ").trim_end_matches(';');
            let Some((child, names)) = body.split_once("::") else { continue };
            if !code.contains(&format!("mod {child};")) {
                continue;
            }
            let names = names.trim_start_matches('{').trim_end_matches('}');
            for n in names.split(',').map(|n| n.trim()).filter(|n| !n.is_empty()) {
                let mut target = module.clone();
                target.push(child.to_string());
                krate.reexports.insert((module.clone(), n.to_string()), target);
            }
        }
        krate.files.insert(module.clone(), p.clone());
        codes.insert(module, (p.ends_with("mod.rs") || p.ends_with("lib.rs"), code));
    }
    assert!(krate.files.len() > 20, "{} files", krate.files.len());

    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    let mut wrong = Vec::new();
    for (module, (is_mod, code)) in &codes {
        for path in named_paths(module, *is_mod, code) {
            let target = krate.resolve(&path);
            if &target == module {
                continue;
            }
            let (from, to) = (area(module), area(&target));
            // The app names anything; the shell names only itself; an area, itself and the shell.
            let allowed = from == "app" || to == from || (to == "shell" && from != "shell");
            if !allowed {
                wrong.push(format!("{} names {}", module.join("/"), path.join("::")));
            }
            edges.entry(module.clone()).or_default().insert(target);
        }
    }
    assert!(wrong.is_empty(), "arrows that point across or up:\n{}", wrong.join("\n"));

    // No ring: a depth-first walk never meets a file it is still inside.
    fn walk(
        m: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, u8>,
        stack: &mut Vec<Vec<String>>,
        rings: &mut Vec<String>,
    ) {
        match state.get(m) {
            Some(2) => return,
            Some(1) => {
                let from = stack.iter().position(|s| s == m).unwrap_or(0);
                let ring: Vec<String> = stack[from..].iter().chain([m]).map(|s| s.join("/")).collect();
                rings.push(ring.join(" → "));
                return;
            }
            _ => {}
        }
        state.insert(m.clone(), 1);
        stack.push(m.clone());
        for next in edges.get(m).into_iter().flatten() {
            walk(next, edges, state, stack, rings);
        }
        stack.pop();
        state.insert(m.clone(), 2);
    }
    let mut state = BTreeMap::new();
    let mut rings = Vec::new();
    for m in krate.files.keys() {
        walk(m, &edges, &mut state, &mut Vec::new(), &mut rings);
    }
    assert!(rings.is_empty(), "files that name each other:\n{}", rings.join("\n"));
}

#[test]
fn the_reader_of_paths_reads_groups_and_super() {
    let module = vec!["reviews".to_string(), "pages".to_string()];
    let code = "use crate::shell::{today, unprocessable};\nuse super::api::{save, SaveBody};\nlet x = crate::shell::auth::may(a);";
    let got: Vec<String> = named_paths(&module, false, code).into_iter().map(|p| p.join("::")).collect();
    assert_eq!(
        got,
        [
            "shell::today",
            "shell::unprocessable",
            "reviews::api::save",
            "reviews::api::SaveBody",
            "shell::auth::may"
        ]
    );
    assert_eq!(code_only("let a = \"crate::x\"; // crate::y\nb"), "let a = ; \nb");
}
