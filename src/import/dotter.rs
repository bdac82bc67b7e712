//! `dotlink import dotter`: dotter's `.dotter/global.toml` and this machine's
//! `.dotter/local.toml` (or `<hostname>.toml`, as dotter falls back), read as dotter reads them
//! (src/config.rs): every package becomes a profile, its files become entries for that
//! profile, and the packages `local.toml` selects (with what they depend on) become
//! `[profiles]` for this host. A directory is linked file by file, as dotter recurses.
//! Templates (`type = "template"`, or a file with `{{` in it) are rendered copies in dotter,
//! not links; they and variables stay comments.

use super::{Imported, Val, Writer};
use crate::context::Context;
use crate::error::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use toml_edit::{Document, Item, Table};

/// One file of a package: where it goes, how, and the line it is declared on.
struct File {
    source: String,
    target: String,
    template: bool,
    condition: Option<String>,
    owner: bool,
    recurse: bool,
    line: usize,
}

pub fn import(dir: Option<&Path>, ctx: &Context) -> Result<Imported> {
    let repo = dir.map(|d| ctx.cwd.join(d)).unwrap_or(ctx.cwd.clone());
    let repo = repo
        .canonicalize()
        .map_err(|e| Error::io("read", &repo, &e))?;
    let global_path = repo.join(".dotter/global.toml");
    let global = read(&global_path).map_err(|e| {
        e.with_hint("run in the dotfiles repository (the one holding .dotter/), or give its path")
    })?;
    let local_path = [
        repo.join(".dotter/local.toml"),
        repo.join(format!(".dotter/{}.toml", ctx.machine.hostname)),
    ]
    .into_iter()
    .find(|p| p.is_file());
    let local = match &local_path {
        Some(path) => Some(read(path)?),
        None => None,
    };
    let mut out = Writer::default();
    out.comment("dotlink.toml, imported from dotter by `dotlink import dotter`.");
    out.comment("Each dotter package is a profile; [profiles] selects this machine's.");
    let root = global.as_table();
    let mut packages: BTreeMap<String, Vec<File>> = BTreeMap::new();
    let mut depends: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, item) in root.iter() {
        let line = line_of(&global, root.key(name).and_then(|k| k.span()));
        match name {
            "helpers" => out.warn(
                &global_path,
                line,
                "[helpers] (template helpers) are not carried over: dotlink has no templates"
                    .into(),
            ),
            "settings" => {}
            _ => {
                let Some(table) = item.as_table() else {
                    continue;
                };
                let files = package_files(&global, table, &repo, &global_path, &mut out);
                packages.insert(name.to_string(), files);
                depends.insert(name.to_string(), strings(table.get("depends")));
                if table
                    .get("variables")
                    .and_then(Item::as_table)
                    .is_some_and(|t| !t.is_empty())
                {
                    out.warn(&global_path, line, format!("the variables of package `{name}` are not carried over: dotlink has no templates"));
                }
            }
        }
    }
    let (mut selected, overrides) = match (&local, &local_path) {
        (Some(local), Some(path)) => read_local(local, path, &mut out),
        _ => Default::default(),
    };
    // What the selected packages depend on is selected too, as in dotter.
    let mut pending: Vec<String> = selected.iter().cloned().collect();
    while let Some(name) = pending.pop() {
        for dep in depends.get(&name).cloned().unwrap_or_default() {
            if selected.insert(dep.clone()) {
                pending.push(dep);
            }
        }
    }
    for name in selected.clone() {
        if !packages.contains_key(&name) {
            let file = local_path.as_deref().unwrap_or(&global_path);
            out.warn(
                file,
                0,
                format!("package `{name}` is selected here but no package of that name is defined; left out"),
            );
            selected.remove(&name);
        }
    }
    out.blank();
    out.raw("[defaults]\n# dotter links by absolute path.\nstyle = \"absolute\"\n");
    if !selected.is_empty() {
        out.blank();
        out.raw("[profiles]\n");
        for name in &selected {
            let host = super::toml_string(&ctx.machine.hostname);
            out.raw(&format!("{} = {{ hostname = {host} }}\n", toml_key(name)));
        }
    }
    for (name, files) in &packages {
        for file in files {
            entry(name, file, &overrides, &local_path, &global_path, &mut out);
        }
    }
    Ok(out.finish(repo))
}

/// This machine's selection (`packages`) and target overrides (`[files]`) from `local.toml`.
fn read_local(
    local: &Document<String>,
    path: &Path,
    out: &mut Writer,
) -> (BTreeSet<String>, BTreeMap<String, String>) {
    let mut overrides = BTreeMap::new();
    let table = local.as_table();
    let selected = strings(table.get("packages")).into_iter().collect();
    if let Some(files) = table.get("files").and_then(Item::as_table) {
        for (source, target) in files.iter() {
            if let Some(target) = target.as_str() {
                overrides.insert(source.to_string(), target.to_string());
            }
        }
    }
    let line = |key: &str| line_of(local, table.key(key).and_then(|k| k.span()));
    if table
        .get("variables")
        .and_then(Item::as_table)
        .is_some_and(|t| !t.is_empty())
    {
        out.warn(
            path,
            line("variables"),
            "[variables] are not carried over: dotlink has no templates".into(),
        );
    }
    if !strings(table.get("includes")).is_empty() {
        out.warn(
            path,
            line("includes"),
            "`includes` are not carried over: add their files to the manifest".into(),
        );
    }
    (selected, overrides)
}

fn read(path: &Path) -> Result<Document<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, &e))?;
    Document::parse(text).map_err(|e| {
        let line = e.span().map(|s| s.start).unwrap_or(0);
        Error::input(format!(
            "{}: not valid TOML near byte {line}: {}",
            path.display(),
            e.message()
        ))
    })
}

/// The 1-based line of a span's start.
fn line_of(doc: &Document<String>, span: Option<std::ops::Range<usize>>) -> usize {
    span.map(|s| crate::manifest::locate_offset(doc.raw(), s.start).line)
        .unwrap_or(0)
}

fn strings(item: Option<&Item>) -> Vec<String> {
    item.and_then(Item::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A key as TOML spells it (quoted unless bare).
fn toml_key(name: &str) -> String {
    if !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        name.to_string()
    } else {
        super::toml_string(name)
    }
}

/// The `[package.files]` of one package.
fn package_files(
    doc: &Document<String>,
    package: &Table,
    repo: &Path,
    file: &Path,
    out: &mut Writer,
) -> Vec<File> {
    let Some(files) = package.get("files").and_then(Item::as_table_like) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (source, item) in files.iter() {
        let line = line_of(doc, files.key(source).and_then(|k| k.span()));
        let (target, kind, condition, owner, recurse) = match item {
            Item::Value(toml_edit::Value::String(s)) => (
                s.value().clone(),
                "automatic".to_string(),
                None,
                false,
                true,
            ),
            other => {
                let Some(t) = other.as_table_like() else {
                    continue;
                };
                let get = |k: &str| t.get(k).and_then(Item::as_str).map(str::to_string);
                (
                    get("target").unwrap_or_default(),
                    get("type").unwrap_or_else(|| "automatic".into()),
                    get("if"),
                    t.get("owner").is_some(),
                    t.get("recurse").and_then(Item::as_bool).unwrap_or(true),
                )
            }
        };
        if kind != "template" && kind != "symbolic" && kind != "automatic" {
            out.warn(
                file,
                line,
                format!("file type `{kind}` is not one dotter documents; taken as automatic"),
            );
        }
        let file = |source: String, target: String, template: bool, recurse: bool| File {
            source,
            target,
            template,
            condition: condition.clone(),
            owner,
            recurse,
            line,
        };
        // dotter decides file by file: in a directory, only the files holding `{{` are
        // templates (automatic type), and the rest are still linked.
        let templates = match kind.as_str() {
            "template" => None,
            "symbolic" => Some(Vec::new()),
            _ => Some(templates_in(&repo.join(source))),
        };
        match templates {
            None => found.push(file(source.to_string(), target, true, recurse)),
            Some(t) if t.is_empty() => found.push(file(source.to_string(), target, false, recurse)),
            Some(t) if t.iter().any(|p| p.as_os_str().is_empty()) => {
                found.push(file(source.to_string(), target, true, recurse));
            }
            Some(t) => {
                for item in walkdir::WalkDir::new(repo.join(source))
                    .min_depth(1)
                    .sort_by_file_name()
                {
                    let Ok(item) = item else { continue };
                    if item.file_type().is_dir() {
                        continue;
                    }
                    let rel = item
                        .path()
                        .strip_prefix(repo.join(source))
                        .unwrap_or(item.path());
                    let template = t.iter().any(|p| p == rel);
                    let rel = rel.to_string_lossy();
                    found.push(file(
                        format!("{source}/{rel}"),
                        format!("{}/{rel}", target.trim_end_matches('/')),
                        template,
                        false,
                    ));
                }
            }
        }
    }
    found
}

/// dotter's automatic type: the files below `path` (or `path` itself, as an empty path) that
/// hold `{{` are templates.
fn templates_in(path: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(path)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .filter(|e| std::fs::read(e.path()).is_ok_and(|b| b.windows(2).any(|w| w == b"{{")))
        .map(|e| {
            e.path()
                .strip_prefix(path)
                .unwrap_or(Path::new(""))
                .to_path_buf()
        })
        .collect()
}

fn entry(
    package: &str,
    file: &File,
    overrides: &BTreeMap<String, String>,
    local: &Option<PathBuf>,
    global: &Path,
    out: &mut Writer,
) {
    let mut target = file.target.clone();
    if let Some(over) = overrides.get(&file.source) {
        if over.is_empty() {
            out.warn(
                local.as_deref().unwrap_or(global),
                0,
                format!(
                    "{} is switched off in this machine's local config; not imported",
                    file.source
                ),
            );
            return;
        }
        target = over.clone();
    }
    if target.is_empty() {
        return;
    }
    let mut active = true;
    if file.template {
        out.warn(global, file.line, format!("{} is a template, which dotter renders into a copy; dotlink has no templates, so it is not linked (keep rendering it, or make it a plain file)", file.source));
        active = false;
    }
    if let Some(condition) = &file.condition {
        out.warn(global, file.line, format!("`if = {condition}` is not carried over; the entry below is commented out: use `when` to choose machines"));
        active = false;
    }
    if file.owner {
        out.warn(
            global,
            file.line,
            format!(
                "`owner` on {} is not carried over: dotlink links as the user running it",
                file.source
            ),
        );
    }
    out.table("link", active);
    out.key("source", Val::Str(&file.source), active);
    out.key("target", Val::Str(&target), active);
    let is_dir = Path::new(&file.source).is_dir()
        || global
            .parent()
            .and_then(Path::parent)
            .is_some_and(|repo| repo.join(&file.source).is_dir());
    if is_dir && file.recurse {
        out.key("recursive", Val::Bool(true), active);
    }
    out.raw(&format!(
        "{}when = {{ profile = {} }}\n",
        if active { "" } else { "# " },
        super::toml_string(package)
    ));
}
