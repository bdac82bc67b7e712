//! `dotlink import stow`: GNU Stow's own defaults (the stow directory is the current directory,
//! the target its parent), its `.stowrc` files (the current directory's, then the home's, as
//! Stow reads them; the command line wins), and one `[[package]]` for the packages.

use super::{Imported, Val, Writer, spell_target};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::paths;
use std::path::{Path, PathBuf};

/// What was asked on the command line.
#[derive(Debug, Default)]
pub struct Request {
    pub dir: Option<PathBuf>,
    pub target: Option<PathBuf>,
    pub packages: Vec<String>,
}

/// Stow's options as `.stowrc` gives them.
#[derive(Debug, Default)]
struct Stowrc {
    dir: Option<PathBuf>,
    target: Option<PathBuf>,
    dotfiles: bool,
    no_folding: bool,
}

pub fn import(request: &Request, ctx: &Context) -> Result<Imported> {
    let mut out = Writer::default();
    let mut rc = Stowrc::default();
    for file in [ctx.cwd.join(".stowrc"), ctx.home.join(".stowrc")] {
        if let Ok(text) = std::fs::read_to_string(&file) {
            read_stowrc(&file, &text, &mut rc, &mut out, ctx);
        }
    }
    let dir = request
        .dir
        .as_ref()
        .map(|d| ctx.cwd.join(d))
        .or(rc.dir)
        .unwrap_or_else(|| ctx.cwd.clone());
    let dir = dir.canonicalize().map_err(|e| {
        Error::input(format!(
            "stow directory {} cannot be read: {}",
            dir.display(),
            crate::error::describe_io(&e)
        ))
        .with_hint("run in the stow directory, or give it with --dir")
    })?;
    let target = request
        .target
        .as_ref()
        .map(|t| ctx.cwd.join(t))
        .or(rc.target)
        .unwrap_or_else(|| dir.parent().unwrap_or(Path::new("/")).to_path_buf());
    let target = target.canonicalize().unwrap_or(target);
    for package in &request.packages {
        if !dir.join(package).is_dir() {
            return Err(Error::input(format!(
                "package {package} is not a directory in the stow directory {}",
                dir.display()
            ))
            .with_hint("name packages as `stow` takes them: directories of the stow directory"));
        }
    }
    let home = ctx.home.canonicalize().unwrap_or(ctx.home.clone());
    let spelled = spell_target(&target, &home);
    let mut head = String::from("dotlink.toml, imported from GNU Stow by `dotlink import stow`.\n");
    head.push_str(&format!(
        "Each directory named below is a Stow package, mirrored into {spelled} as `stow` does."
    ));
    let mut text = Writer::default();
    text.comment(&head);
    text.raw(&out.text);
    let sources: Vec<String> = if request.packages.is_empty() {
        vec!["*".to_string()]
    } else {
        request.packages.clone()
    };
    for source in &sources {
        text.table("package", true);
        let source = if request.packages.is_empty() {
            source.clone()
        } else {
            super::literal_source(source)
        };
        text.key("source", Val::Str(&source), true);
        text.key("target", Val::Str(&spelled), true);
        if !target.starts_with(&home) {
            text.key("allow_outside_home", Val::Bool(true), true);
        }
        if rc.dotfiles {
            text.key("dotfiles", Val::Bool(true), true);
        }
        // Stow folds directories unless told not to; dotlink does the same with `fold`.
        text.key("fold", Val::Bool(!rc.no_folding), true);
    }
    text.warnings = out.warnings;
    Ok(text.finish(dir))
}

/// Read one `.stowrc`: options separated by spaces or lines, as on Stow's command line.
fn read_stowrc(file: &Path, text: &str, rc: &mut Stowrc, out: &mut Writer, ctx: &Context) {
    let expand = |value: &str| {
        let expanded = paths::expand(value, &ctx.home, &|name: &str| ctx.var(name))
            .unwrap_or_else(|_| PathBuf::from(value));
        ctx.cwd.join(expanded)
    };
    for (number, line) in text.lines().enumerate() {
        let line_no = number + 1;
        let mut words = line.split_whitespace().peekable();
        while let Some(word) = words.next() {
            let (option, inline) = match word.split_once('=') {
                Some((o, v)) => (o, Some(v.to_string())),
                None => (word, None),
            };
            let value = |words: &mut std::iter::Peekable<std::str::SplitWhitespace>| {
                inline.clone().or_else(|| words.next().map(str::to_string))
            };
            match option {
                "-d" | "--dir" => rc.dir = rc.dir.take().or(value(&mut words).map(|v| expand(&v))),
                "-t" | "--target" => {
                    rc.target = rc.target.take().or(value(&mut words).map(|v| expand(&v)))
                }
                "--dotfiles" => rc.dotfiles = true,
                "--no-folding" => rc.no_folding = true,
                "-v" | "--verbose" | "-n" | "--no" | "--simulate" => {}
                "--ignore" | "--defer" | "--override" => {
                    let regex = value(&mut words).unwrap_or_default();
                    let what = match option {
                        "--ignore" => {
                            "dotlink reads ignore patterns from each package's .stow-local-ignore; put it there"
                        }
                        "--defer" => {
                            "dotlink has no --defer: a target claimed twice is a manifest error"
                        }
                        _ => {
                            "dotlink has no --override: a conflict follows the entry's on_conflict policy"
                        }
                    };
                    out.warn(
                        file,
                        line_no,
                        format!("{option}={regex} is not carried over: {what}"),
                    );
                }
                "--adopt" => out.warn(
                    file,
                    line_no,
                    "--adopt is not carried over: use `dotlink adopt PATH` for each file".into(),
                ),
                other if other.starts_with('-') => out.warn(
                    file,
                    line_no,
                    format!("{other} is not a Stow option dotlink knows; not carried over"),
                ),
                _ => {}
            }
        }
    }
}
