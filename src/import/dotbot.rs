//! `dotlink import dotbot`: dotbot's `install.conf.yaml` (or `.json`), read as dotbot's link
//! plugin reads it (dotbot/plugins/link.py): `defaults`, then each `link` with `path`,
//! `relative`, `type`, `glob`, `prefix`, `exclude`, `create`, `relink`, `force`, `backup`,
//! `if` and `ignore-missing`. Sources are relative to the config's directory (dotbot's base
//! directory), and links are absolute unless `relative` is set, as dotbot makes them.

use super::yaml::{self, Node, Value};
use super::{Imported, Val, Writer};
use crate::context::Context;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The config file names dotbot's own `install` script uses, looked for in order.
const CONFIG_NAMES: [&str; 3] = ["install.conf.yaml", "install.conf.yml", "install.conf.json"];

/// Link options, from `defaults` and then the link itself.
#[derive(Debug, Clone, Default)]
struct Options {
    relative: bool,
    hardlink: bool,
    glob: bool,
    force: bool,
    backup: bool,
    prefix: String,
    exclude: Vec<String>,
    condition: Option<String>,
    ignore_missing: bool,
}

impl Options {
    /// Apply the keys of a `link` mapping (from `defaults` or one link), warning about the rest.
    fn read(&mut self, map: &Node, file: &Path, out: &mut Writer) {
        for (key, value) in map.entries() {
            let flag = value.as_bool().unwrap_or(false);
            let flags = [
                "relative",
                "glob",
                "force",
                "backup",
                "ignore-missing",
                "create",
                "relink",
            ];
            if flags.contains(&key.as_str().unwrap_or("")) && value.as_bool().is_none() {
                out.warn(
                    file,
                    key.line,
                    format!(
                        "`{}` is not true or false; taken as false",
                        key.as_str().unwrap_or("")
                    ),
                );
            }
            match key.as_str().unwrap_or("") {
                "relative" => self.relative = flag,
                "type" => self.hardlink = value.as_str() == Some("hardlink"),
                "glob" => self.glob = flag,
                "force" => self.force = flag,
                "backup" => self.backup = flag,
                "prefix" => self.prefix = value.as_str().unwrap_or("").to_string(),
                "exclude" => self.exclude = value.strings(),
                "if" => self.condition = value.as_str().map(str::to_string),
                "ignore-missing" => self.ignore_missing = flag,
                // dotlink always creates the directories a link needs, relinks its own and
                // repository links, and resolves the repository's real path.
                "create" | "relink" | "canonicalize" | "canonicalize-path" | "path" => {}
                other => out.warn(
                    file,
                    key.line,
                    format!("link option `{other}` is not one dotlink knows; not carried over"),
                ),
            }
        }
    }
}

pub fn import(config: Option<&Path>, ctx: &Context) -> Result<Imported> {
    let file = find_config(config, ctx)?;
    let repo = file.parent().unwrap_or(Path::new("/")).to_path_buf();
    let text = std::fs::read_to_string(&file).map_err(|e| Error::io("read", &file, &e))?;
    let doc = yaml::parse(&text).map_err(|(line, why)| {
        Error::input(format!("{}:{line}: not valid YAML: {why}", file.display()))
            .with_hint("fix the dotbot config (dotbot itself would refuse it too)")
    })?;
    let mut out = Writer::default();
    out.comment(&format!(
        "dotlink.toml, imported from dotbot ({}) by `dotlink import dotbot`.",
        file.file_name().unwrap_or_default().to_string_lossy()
    ));
    if !matches!(doc.value, Value::Seq(_)) {
        return Err(Error::input(format!(
            "{}:{}: a dotbot config is a list of tasks (`- link: …`), and this is not",
            file.display(),
            doc.line
        ))
        .with_hint("fix the config (dotbot itself refuses it too)"));
    }
    let mut defaults = Options::default();
    let mut body = Writer::default();
    for directive in doc.items() {
        for (name, value) in directive.entries() {
            match name.as_str().unwrap_or("") {
                "defaults" => {
                    if let Some(link) = value.get("link") {
                        defaults.read(link, &file, &mut body);
                    }
                }
                "link" if !matches!(value.value, Value::Map(_)) => body.warn(
                    &file,
                    name.line,
                    "a `link` task that is not a mapping of links is not carried over".into(),
                ),
                "link" => {
                    // A name given twice: the last one counts, as in dotbot.
                    let entries = value.entries();
                    for (i, (target, spec)) in entries.iter().enumerate() {
                        let again = entries[i + 1..]
                            .iter()
                            .any(|(later, _)| later.as_str() == target.as_str());
                        if !again {
                            link(target, spec, &defaults, &repo, &file, &mut body);
                        }
                    }
                }
                "clean" => body.warn(
                    &file,
                    name.line,
                    format!(
                        "clean ({}) is not carried over: `dotlink clean` removes dead links into the repository, and `dotlink apply` prunes its own",
                        listing(value)
                    ),
                ),
                "create" => body.warn(
                    &file,
                    name.line,
                    format!(
                        "create ({}) is not carried over: dotlink makes only the directories its links need; create the others yourself",
                        listing(value)
                    ),
                ),
                "shell" => body.warn(
                    &file,
                    name.line,
                    format!(
                        "shell is not carried over: dotlink runs no commands; run them yourself: {}",
                        listing(value)
                    ),
                ),
                other => body.warn(
                    &file,
                    name.line,
                    format!("the `{other}` directive (a dotbot plugin) is not carried over"),
                ),
            }
        }
    }
    let style = if defaults.relative {
        "relative"
    } else {
        "absolute"
    };
    out.blank();
    out.raw(&format!(
        "[defaults]\n# dotbot links by absolute path unless `relative` is set.\nstyle = \"{style}\"\n"
    ));
    out.raw(&body.text);
    out.warnings = body.warnings;
    Ok(out.finish(repo))
}

/// The config: the one given, else dotbot's usual names in the current directory.
fn find_config(config: Option<&Path>, ctx: &Context) -> Result<PathBuf> {
    if let Some(config) = config {
        let path = ctx.cwd.join(config);
        let path = if path.is_dir() {
            CONFIG_NAMES
                .iter()
                .map(|n| path.join(n))
                .find(|p| p.is_file())
                .unwrap_or(path)
        } else {
            path
        };
        return path
            .canonicalize()
            .map_err(|e| Error::io("read", &path, &e));
    }
    CONFIG_NAMES
        .iter()
        .map(|n| ctx.cwd.join(n))
        .find(|p| p.is_file())
        .and_then(|p| p.canonicalize().ok())
        .ok_or_else(|| {
            Error::input(format!(
                "no dotbot config ({}) in {}",
                CONFIG_NAMES.join(", "),
                ctx.cwd.display()
            ))
            .with_hint(
                "run in the dotfiles repository, or name the config: dotlink import dotbot PATH",
            )
        })
}

/// One link: `~/.vimrc: vimrc`, `~/.vimrc:` (the name without its dot), or a mapping.
fn link(
    target: &Node,
    spec: &Node,
    defaults: &Options,
    repo: &Path,
    file: &Path,
    out: &mut Writer,
) {
    let Some(target_text) = target.as_str() else {
        return;
    };
    let mut options = defaults.clone();
    let path = match &spec.value {
        Value::Map(_) => {
            options.read(spec, file, out);
            let path = spec.get("path");
            if path.is_some_and(|p| !matches!(p.value, Value::Scalar(_) | Value::Null)) {
                out.warn(
                    file,
                    target.line,
                    format!("the `path` of {target_text} is not a string; not carried over"),
                );
                return;
            }
            path.and_then(Node::as_str).map(str::to_string)
        }
        Value::Scalar(s) => Some(s.clone()),
        _ => None,
    };
    // dotbot: no path means the link's name without a leading dot.
    let path = path.unwrap_or_else(|| {
        let name = Path::new(target_text.trim_end_matches('/'))
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        name.strip_prefix('.').unwrap_or(&name).to_string()
    });
    let source = path
        .trim_start_matches("./")
        .trim_end_matches('/')
        .to_string();
    let is_glob = options.glob && source.contains(['*', '?', '[']);
    let active = carried_over(
        target_text,
        &source,
        is_glob,
        &options,
        repo,
        (file, target.line),
        out,
    );
    out.table("link", active);
    if is_glob {
        // `dir/**` mirrors the tree, as dotbot's recursive glob links every file.
        let recursive = source
            .strip_suffix("/**/*")
            .or_else(|| source.strip_suffix("/**"));
        let base = recursive.unwrap_or(&source);
        out.key("source", Val::Str(base), active);
        let dir = format!("{}/", target_text.trim_end_matches('/'));
        out.key("target", Val::Str(&dir), active);
        if recursive.is_some() {
            out.key("recursive", Val::Bool(true), active);
        }
        if !options.prefix.is_empty() {
            out.key("prefix", Val::Str(&options.prefix), active);
        }
        // Hidden names are left out of `*` in dotlink as in Python's glob.
        if !options.exclude.is_empty() {
            out.key("ignore", Val::List(&options.exclude), active);
        }
    } else {
        out.key("source", Val::Str(&source), active);
        out.key(
            "target",
            Val::Str(target_text.trim_end_matches('/')),
            active,
        );
    }
    if options.hardlink {
        out.key("method", Val::Str("hardlink"), active);
    } else if options.relative != defaults.relative {
        let style = if options.relative {
            "relative"
        } else {
            "absolute"
        };
        out.key("style", Val::Str(style), active);
    }
    if options.force || options.backup {
        // dotlink keeps a copy of what is in the way rather than deleting it.
        out.key("on_conflict", Val::Str("backup"), active);
    }
}

/// Whether a link can be written as an active entry; if not, why, as a warning (the entry is
/// then written commented out).
fn carried_over(
    target_text: &str,
    source: &str,
    is_glob: bool,
    options: &Options,
    repo: &Path,
    (file, line): (&Path, usize),
    out: &mut Writer,
) -> bool {
    let mut active = true;
    if let Some(condition) = &options.condition {
        out.warn(
            file,
            line,
            format!("`if: {condition}` is not carried over (dotlink runs no commands); the entry below is commented out: use `when` to choose machines"),
        );
        active = false;
    }
    if !target_text.starts_with(['~', '/', '$']) {
        out.warn(
            file,
            line,
            format!("{target_text} is relative to where dotbot runs; the entry below is commented out: write it as ~/…"),
        );
        active = false;
    } else if Path::new(&source).is_absolute()
        || source.starts_with('~')
        || source.starts_with("..")
    {
        out.warn(
            file,
            line,
            format!("{source} is outside the repository; dotlink links only sources inside it, so the entry below is commented out"),
        );
        active = false;
    } else if !is_glob && !repo.join(source).exists() {
        out.warn(
            file,
            line,
            format!(
                "{source} does not exist{}; the entry below is commented out",
                if options.ignore_missing {
                    " (ignore-missing)"
                } else {
                    ""
                }
            ),
        );
        active = false;
    }
    active
}

/// A directive's value in one line, for a comment.
fn listing(value: &Node) -> String {
    match &value.value {
        Value::Scalar(s) => s.clone(),
        Value::Seq(items) => items
            .iter()
            .map(|n| match &n.value {
                Value::Scalar(s) => s.clone(),
                // `[command, description]`, or `{command: …, description: …}`.
                Value::Seq(parts) => parts
                    .first()
                    .and_then(Node::as_str)
                    .unwrap_or("")
                    .to_string(),
                Value::Map(_) => n
                    .get("command")
                    .and_then(Node::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| listing(n)),
                _ => String::new(),
            })
            .collect::<Vec<_>>()
            .join("; "),
        Value::Map(entries) => entries
            .iter()
            .filter_map(|(k, _)| k.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        Value::Null => String::new(),
    }
}
