//! The manifest, `dotlink.toml`: the first stage of manifest → plan → apply → report.
//!
//! This module owns what a checked manifest *is* — the domain types [`Manifest`], [`Entry`],
//! [`Settings`], [`Style`], [`Method`], [`Policy`] and [`Location`] — plus finding the file
//! ([`locate`]) and reading it ([`load`]). The work is in the submodules:
//!
//! - `parse`: [`parse()`] checks the text, so that a mistake is reported as
//!   `file:line:column: what is wrong` with a hint, before anything looks at the home directory;
//! - `conditions`: `when = { … }` and `[profiles]`, matched against the machine;
//! - `expand`: [`expand()`] turns the entries into concrete [`LinkSpec`]s by reading the
//!   repository;
//! - [`edit`]: appending entries for `adopt`, keeping the file's layout.
//!
//! The machine the manifest is matched against comes from [`crate::context`], which knows
//! nothing of the manifest; nothing here depends on the command line.

mod conditions;
pub mod edit;
mod expand;
mod package;
mod parse;
mod pattern;

pub use conditions::KNOWN_OS;
pub use expand::{Expanded, LinkSpec, NoRecords, RecordedPaths, Sources, expand, expand_sharing};
pub(crate) use expand::{REPO_HINT, check_targets};
pub use package::{FoldRoot, StowIgnore, adjust_dotfile};
pub(crate) use parse::HOME_HINT;
pub use parse::parse;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::paths;
use globset::GlobSet;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// The manifest's file name, looked for when no path is given.
pub const FILE_NAME: &str = "dotlink.toml";

/// How a symlink spells its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    /// The path from the link's own directory to the source.
    Relative,
    /// The canonical absolute path of the source.
    Absolute,
}

/// What kind of link to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Symlink,
    Hardlink,
}

/// What to do when something that is not dotlink's is in the way of a target.
///
/// `--on-conflict` offers the same names with the same descriptions; `cli::args` spells
/// them out by hand, so a change here belongs there too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Change nothing at all if any conflict exists.
    Fail,
    /// Leave conflicting targets alone and do the rest.
    Skip,
    /// Move what is in the way to the backup directory, then link.
    Backup,
    /// Remove what is in the way, then link.
    Overwrite,
}

impl Policy {
    /// Of `self` and `other`, the one that changes less: `fail`, then `skip`, `backup`,
    /// `overwrite`. What several links share (a file in the way of their directory) is
    /// handled by the strictest of their policies, whatever order they are planned in.
    pub fn stricter(self, other: Policy) -> Policy {
        let rank = |p: Policy| match p {
            Policy::Fail => 0,
            Policy::Skip => 1,
            Policy::Backup => 2,
            Policy::Overwrite => 3,
        };
        if rank(other) < rank(self) {
            other
        } else {
            self
        }
    }
}

macro_rules! display_lowercase {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let text = serde_json::to_value(self).ok();
                f.write_str(text.as_ref().and_then(|v| v.as_str()).unwrap_or("?"))
            }
        }
    )*};
}
display_lowercase!(Style, Method, Policy);

/// A position in the manifest, 1-based, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// The `[defaults]` that are not per entry.
#[derive(Debug, Clone)]
pub struct Settings {
    pub prune: bool,
    pub backup_dir: PathBuf,
}

/// What a `[[package]]` adds to an entry: each directory its source names is a package whose
/// contents are mirrored file by file into the target, as GNU Stow does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Package {
    /// `dot-foo` in the package becomes `.foo` in the target (`stow --dotfiles`).
    pub dotfiles: bool,
    /// Link the highest directories only this package uses, as Stow does by default.
    pub fold: bool,
}

/// One `[[link]]` or `[[package]]` entry, checked, with its defaults filled in.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The source as written: a path or glob relative to the repository.
    pub source: String,
    /// The target, expanded and normalised: an absolute path. The one exception is an entry
    /// skipped by `when` whose target cannot be expanded on this machine (another machine's
    /// variables or places): it is never linked here, and keeps its target as written.
    pub target: PathBuf,
    /// The target was written with a trailing `/`: links go inside it.
    pub into_dir: bool,
    pub recursive: bool,
    /// Set for a `[[package]]`.
    pub package: Option<Package>,
    /// Put before the name of each match of a glob (`prefix = "."`, as dotbot has).
    pub prefix: String,
    /// Whether links this entry made are pruned once no longer declared; `None` follows
    /// `[defaults]`.
    pub prune: Option<bool>,
    pub method: Method,
    pub style: Style,
    pub on_conflict: Policy,
    pub allow_outside_home: bool,
    /// Ignore patterns, from `[defaults]` and the entry, matched on repository-relative paths.
    pub ignore: GlobSet,
    pub source_at: Location,
    pub target_at: Location,
    /// Why the entry does not apply on this machine (its `when` condition is unmet).
    pub skip: Option<String>,
}

impl Entry {
    pub fn is_glob(&self) -> bool {
        self.source.contains(['*', '?', '[', '{'])
    }
}

/// A parsed and checked manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Absolute path of the manifest file.
    pub path: PathBuf,
    /// The repository root: the manifest's directory, canonical.
    pub repo: PathBuf,
    /// The home directory the manifest was read for (Stow's global ignore file is there).
    pub home: PathBuf,
    pub settings: Settings,
    pub entries: Vec<Entry>,
    /// The profiles active on this machine.
    pub profiles: Vec<String>,
    /// Things worth a warning that are not errors (a profile no `[profiles]` row defines).
    pub warnings: Vec<String>,
}

/// Where the manifest is: `--manifest`, else `$DOTLINK_MANIFEST`, else the nearest
/// `dotlink.toml` walking up from the working directory, else the one manifest `remembered`
/// (those that manage this home) names. A directory means its `dotlink.toml`.
pub fn locate(
    explicit: Option<&Path>,
    ctx: &Context,
    remembered: impl FnOnce() -> Vec<PathBuf>,
) -> Result<PathBuf> {
    let given = explicit.map(Path::to_path_buf).or_else(|| {
        std::env::var_os("DOTLINK_MANIFEST")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    if let Some(given) = given {
        // A `..` after a symlink goes where the kernel takes it; a spelling it does not
        // follow would name another manifest.
        let joined = ctx.cwd.join(given);
        let path = paths::resolve_dotdots(&joined).unwrap_or_else(|| paths::normalize(&joined));
        let path = if path.is_dir() {
            path.join(FILE_NAME)
        } else {
            path
        };
        if !path.is_file() {
            return Err(
                Error::input(format!("manifest {} does not exist", path.display()))
                    .with_hint("check the path given with --manifest or $DOTLINK_MANIFEST"),
            );
        }
        return Ok(path);
    }
    for dir in ctx.cwd.ancestors() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    let known: Vec<PathBuf> = remembered().into_iter().filter(|p| p.is_file()).collect();
    match known.as_slice() {
        [one] => return Ok(one.clone()),
        [] => {}
        many => {
            let listed: Vec<String> = many.iter().map(|p| p.display().to_string()).collect();
            return Err(Error::input(format!(
                "no {FILE_NAME} in {} or above it, and {} manifests manage this home: {}",
                ctx.cwd.display(),
                many.len(),
                listed.join(", ")
            ))
            .with_hint(
                "choose one with -m PATH or $DOTLINK_MANIFEST, or run inside its repository",
            ));
        }
    }
    Err(Error::input(format!(
        "no {FILE_NAME} found in {} or any directory above it",
        ctx.cwd.display()
    ))
    .with_hint("run dotlink inside your dotfiles repository, pass --manifest PATH, or create one with `dotlink init`"))
}

/// Read, parse and check the manifest at `path`.
pub fn load(path: &Path, ctx: &Context) -> Result<Manifest> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::input(format!(
            "cannot read manifest {}: {}",
            path.display(),
            crate::error::describe_io(&e)
        ))
        .with_hint("the manifest must be a readable UTF-8 text file")
    })?;
    parse(path, &text, ctx)
}

/// 1-based line and column (in characters) of a byte offset.
pub fn locate_offset(text: &str, offset: usize) -> Location {
    Lines::new(text).locate(offset)
}

/// Where each line of a text starts: byte offsets become lines by a binary search. A
/// manifest's entries are located one by one, and counting lines from the start for each was
/// quadratic in the manifest's size.
pub struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    pub fn new(text: &'t str) -> Lines<'t> {
        let after_newlines = memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1);
        Lines {
            text,
            starts: std::iter::once(0).chain(after_newlines).collect(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn locate(&self, offset: usize) -> Location {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&start| start <= offset);
        Location {
            line,
            column: self.text[self.starts[line - 1]..offset].chars().count() + 1,
        }
    }
}

/// `file:line:column: ` for messages about an entry.
pub fn position(path: &Path, at: Location) -> String {
    format!("{}:{}:{}", path.display(), at.line, at.column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_offset_is_located_as_counting_from_the_start_would() {
        let text = "[[link]]\nsource = \"é\"\n\n  target = \"~/ü\"\n\nx";
        let lines = Lines::new(text);
        for offset in (0..=text.len() + 2).filter(|&o| o > text.len() || text.is_char_boundary(o)) {
            let before = &text[..offset.min(text.len())];
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            let counted = Location {
                line: before.matches('\n').count() + 1,
                column: before[line_start..].chars().count() + 1,
            };
            assert_eq!(lines.locate(offset), counted, "offset {offset}");
        }
    }

    #[test]
    fn offsets_become_lines_and_columns() {
        let text = "a\nbc\ndéf";
        assert_eq!(locate_offset(text, 0), Location { line: 1, column: 1 });
        assert_eq!(locate_offset(text, 3), Location { line: 2, column: 2 });
        assert_eq!(locate_offset(text, 8), Location { line: 3, column: 3 });
    }
}
