//! `[[package]]` entries, as GNU Stow understands packages: each directory the source names is
//! mirrored file by file into the target, skipping what Stow's ignore lists skip, with
//! `dot-foo` renamed `.foo` under `dotfiles = true`.
//!
//! Stow's ignore rules are reproduced from its source (Stow.pm, `ignore` and
//! `get_ignore_regexps`): a package's `.stow-local-ignore` if it has one, else
//! `~/.stow-global-ignore`, else Stow's built-in list. Each line is a Perl regular expression;
//! one containing `/` is matched against the package-relative path with a leading `/` (as
//! `(^|/)(re)(/|$)`), any other against the file's name alone (as `^(re)$`). The local file
//! replaces the built-in list rather than adding to it, as in Stow, and is itself never linked.
//!
//! For `fold = true` each spec carries a [`FoldRoot`]: which directories of the package may be
//! linked whole. The planner decides which are (it needs to look at the home directory).

use super::expand::EntryExpansion;
use super::{Package, position};
use crate::error::{Error, Result, describe_io};
use crate::listing::Walk;
use crate::paths;
use regex::Regex;
use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The local ignore file Stow reads in each package.
pub const LOCAL_IGNORE_FILE: &str = ".stow-local-ignore";
/// The ignore file Stow reads from the home directory when a package has none.
pub const GLOBAL_IGNORE_FILE: &str = ".stow-global-ignore";

/// Stow's built-in ignore list (Stow.pm, after `__DATA__`), comments kept as Stow has them.
const DEFAULT_IGNORE: &str = r"
RCS
.+,v

CVS
\.\#.+       # CVS conflict files / emacs lock files
\.cvsignore

\.svn
_darcs
\.hg

\.git
\.gitignore

.+~          # emacs backup files
\#.*\#       # emacs autosave files

^/README.*
^/LICENSE.*
^/COPYING
";

/// A package's ignore list, compiled as Stow compiles it.
#[derive(Debug, Clone)]
pub struct StowIgnore {
    /// Matched against `/` + the package-relative path.
    path: Option<Regex>,
    /// Matched against the file name.
    segment: Option<Regex>,
}

impl StowIgnore {
    /// Compile the lines of an ignore file; `origin` names it in errors (`file:line`).
    pub fn parse(text: &str, origin: &str) -> std::result::Result<StowIgnore, Error> {
        let mut path = Vec::new();
        let mut segment = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            // Stow strips a comment after whitespace, then unescapes `\#`.
            let pattern = match line.find(|c: char| c.is_whitespace()) {
                Some(at) if line[at..].trim_start().starts_with('#') => line[..at].trim_end(),
                _ => line,
            };
            let pattern = pattern.replace("\\#", "#");
            if let Err(e) = Regex::new(&pattern) {
                return Err(Error::input(format!(
                    "{origin}:{}: `{pattern}` is not a regular expression dotlink can read: {}",
                    number + 1,
                    first_line(&e.to_string())
                ))
                .with_hint("Stow's ignore lists are Perl regular expressions; dotlink reads the common subset (no look-around or back-references)"));
            }
            if pattern.contains('/') {
                path.push(pattern);
            } else {
                segment.push(pattern);
            }
        }
        path.push(format!("^/{}$", regex::escape(LOCAL_IGNORE_FILE)));
        let compile = |parts: &[String], shape: fn(&str) -> String| {
            (!parts.is_empty()).then(|| Regex::new(&shape(&parts.join("|"))).expect("checked"))
        };
        Ok(StowIgnore {
            path: compile(&path, |alt| format!("(^|/)({alt})(/|$)")),
            segment: compile(&segment, |alt| format!("^({alt})$")),
        })
    }

    /// The list for the package at `dir`: its own file, else the home's, else Stow's. The
    /// last two are the same for every package: read and compiled once, kept in `shared` (a
    /// hundred packages compiled Stow's list a hundred times, 60% of a `status`).
    pub fn for_package(
        dir: &Path,
        home: &Path,
        shared: &mut Option<StowIgnore>,
    ) -> Result<StowIgnore> {
        let own = dir.join(LOCAL_IGNORE_FILE);
        if let Some(text) = read_if_there(&own)? {
            return StowIgnore::parse(&text, &own.display().to_string());
        }
        if let Some(list) = shared {
            return Ok(list.clone());
        }
        let global = home.join(GLOBAL_IGNORE_FILE);
        let list = match read_if_there(&global)? {
            Some(text) => StowIgnore::parse(&text, &global.display().to_string())?,
            None => {
                StowIgnore::parse(DEFAULT_IGNORE, "Stow's built-in ignore list").expect("valid")
            }
        };
        Ok(shared.insert(list).clone())
    }

    /// Whether the package-relative path `relative` (with `/` between names) is ignored.
    pub fn ignores(&self, relative: &str) -> bool {
        let name = relative.rsplit('/').next().unwrap_or(relative);
        self.path
            .as_ref()
            .is_some_and(|re| re.is_match(&format!("/{relative}")))
            || self.segment.as_ref().is_some_and(|re| re.is_match(name))
    }
}

/// The text of the ignore file `file`, if there is one.
fn read_if_there(file: &Path) -> Result<Option<String>> {
    match fs::read_to_string(file) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::input(format!(
            "cannot read {}: {}",
            file.display(),
            describe_io(&e)
        ))
        .with_hint("make it readable, or remove it")),
    }
}

fn first_line(text: &str) -> &str {
    text.lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| text.lines().last().unwrap_or(text))
}

/// `dot-foo` → `.foo` for each name of a path, as `stow --dotfiles` does (`dot-` and `dot-.`
/// alone stay). Returns whether any name changed.
pub fn adjust_dotfile(name: &str) -> Option<String> {
    (name != "dot-" && name != "dot-.")
        .then(|| name.strip_prefix("dot-"))
        .flatten()
        .map(|rest| format!(".{rest}"))
}

/// What the planner needs to fold a package's directories: the package, where it goes, and
/// which of its directories may never be linked whole (they hold a name that `dotfiles`
/// renames, which a directory link would show unrenamed).
#[derive(Debug, PartialEq, Eq)]
pub struct FoldRoot {
    pub source: PathBuf,
    pub target: PathBuf,
    /// Package-relative source directories that must stay real directories.
    pub whole_only_below: HashSet<PathBuf>,
}

impl EntryExpansion<'_> {
    /// A `[[package]]` entry: each directory its source names (a path or a glob; hidden
    /// directories and files are not packages) is mirrored into the target.
    pub(super) fn packages(&mut self, package: Package) -> Result<()> {
        let dirs = self.package_dirs()?;
        if dirs.is_empty() {
            return Err(self.error(
                format!(
                    "package source `{}` names no directory in {}",
                    self.entry.source,
                    self.manifest.repo.display()
                ),
                "a package is a directory of the repository (as in GNU Stow); fix the source",
            ));
        }
        let mut shared_ignore = None;
        for dir in dirs {
            self.package(&dir, package, &mut shared_ignore)?;
        }
        Ok(())
    }

    /// The package directories the entry's source names, by name.
    fn package_dirs(&self) -> Result<Vec<PathBuf>> {
        if !self.entry.is_glob() {
            let dir = self.source_path();
            return match fs::metadata(&dir) {
                Ok(meta) if meta.is_dir() => Ok(vec![dir]),
                Ok(_) => Err(self.error(
                    format!("package source `{}` is not a directory", self.entry.source),
                    "a package is a directory whose contents are linked into the target; use [[link]] for a single file",
                )),
                Err(e) => Err(self.error(
                    format!(
                        "package source `{}` cannot be read in the repository {}: {}",
                        self.entry.source,
                        self.manifest.repo.display(),
                        describe_io(&e)
                    ),
                    "fix the path (sources are relative to the manifest's directory), or remove the entry",
                )),
            };
        }
        let mut dirs = Vec::new();
        for (path, file_type) in self.glob_matches()? {
            let hidden = path
                .file_name()
                .is_some_and(|n| n.as_encoded_bytes().starts_with(b"."));
            if file_type.is_dir() && !hidden {
                dirs.push(path.to_path_buf());
            }
        }
        Ok(dirs)
    }

    /// Mirror one package into the target (`shared_ignore`: see [`StowIgnore::for_package`]).
    fn package(
        &mut self,
        dir: &Path,
        package: Package,
        shared_ignore: &mut Option<StowIgnore>,
    ) -> Result<()> {
        let ignore = StowIgnore::for_package(dir, &self.home, shared_ignore)
            .map_err(|e| e.context(position(&self.manifest.path, self.entry.source_at)))?;
        let name = Arc::new(
            paths::below(dir, &self.manifest.repo)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|| dir.display().to_string()),
        );
        let mut whole_only_below = HashSet::new();
        let mut walk = Walk::new(dir, usize::MAX, |_: &Path, _| false);
        let (mut found, mut found_names) = (Vec::new(), Vec::new());
        while let Some(item) = walk.next_entry() {
            let item = item.map_err(|e| self.walk_error(e))?;
            let relative = paths::below(item.path, dir).unwrap_or(item.path);
            let in_repo = paths::below(item.path, &self.manifest.repo).unwrap_or(item.path);
            let text = relative.to_string_lossy();
            let file_name = item.path.file_name().unwrap_or_default();
            let skipped = file_name == ".git"
                || item.path == self.manifest.path
                || ignore.ignores(&text)
                || self.entry.ignore.is_match(in_repo);
            let renamed =
                package.dotfiles && adjust_dotfile(&file_name.to_string_lossy()).is_some();
            if renamed {
                // Its directory cannot be linked whole: that would show it unrenamed. (What the
                // ignore lists leave out does not stop a fold, as in Stow: a folded directory
                // shows all it holds.)
                whole_only_below.extend(
                    relative
                        .ancestors()
                        .skip(1)
                        .filter(|a| !a.as_os_str().is_empty())
                        .map(Path::to_path_buf),
                );
            }
            if skipped {
                if item.kind.is_dir() {
                    walk.skip_current_dir();
                }
                continue;
            }
            if !item.kind.is_dir() {
                // By name below the package, in one buffer: each file's paths are made once
                // its target is known, and then only where no record has them already.
                found.push(item.kind);
                found_names.extend_from_slice(relative.as_os_str().as_encoded_bytes());
                found_names.push(0);
            }
        }
        let fold = package.fold.then(|| {
            Arc::new(FoldRoot {
                source: dir.to_path_buf(),
                target: self.entry.target.clone(),
                whole_only_below,
            })
        });
        let target = self.entry.target.clone();
        let (mut waiting_tree, mut bufs, mut buf) = (None, Default::default(), Vec::new());
        let names = found_names.split(|b| *b == 0);
        for (file_type, relative) in found.into_iter().zip(names) {
            let relative = Path::new(OsStr::from_bytes(relative));
            let file = paths::join_in(dir, relative, &mut buf);
            // A folded directory is the application's own: the links it leaves there
            // (Chromium's `SingletonLock -> host-pid` to nothing, `SingletonSocket` into
            // `/tmp`, a loop) must not stop every run. Such a link is not linked on its own
            // (nothing of it reaches the home but through a folded directory), so where it
            // leads does not matter.
            if package.fold && file_type.is_symlink() && self.resolve_inside(file).is_err() {
                continue;
            }
            self.check_file_in_tree(file, file_type)?;
            let target_rest = target_names(relative, package.dotfiles);
            let (source, target) = self.paths_in_tree(
                (dir, relative),
                (&target, &target_rest),
                &mut waiting_tree,
                &mut bufs,
            );
            self.push_in_tree(source, target)?;
            let spec = self.specs.last_mut().expect("just pushed");
            spec.package = Some(name.clone());
            spec.fold = fold.clone();
        }
        Ok(())
    }
}

/// The target-side names of a package-relative path: renamed under `dotfiles`.
fn target_names(relative: &Path, dotfiles: bool) -> PathBuf {
    if !dotfiles {
        return relative.to_path_buf();
    }
    relative
        .iter()
        .map(|name| {
            let text = name.to_string_lossy();
            match adjust_dotfile(&text) {
                Some(renamed) => std::ffi::OsString::from(renamed),
                None => name.to_os_string(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_list_ignores_what_stow_ignores() {
        let list = StowIgnore::parse(DEFAULT_IGNORE, "built-in").unwrap();
        for ignored in [
            "README.md",
            "LICENSE",
            "COPYING",
            ".git",
            "a/.gitignore",
            "x~",
            "#x#",
            ".#lock",
            "CVS",
            "f,v",
            ".stow-local-ignore",
        ] {
            assert!(list.ignores(ignored), "{ignored}");
        }
        for kept in [
            ".bashrc",
            "doc/README.md",
            ".config/nvim/init.lua",
            "a/COPYING",
        ] {
            assert!(!list.ignores(kept), "{kept}");
        }
    }

    #[test]
    fn local_lists_take_comments_and_paths() {
        let list = StowIgnore::parse("# c\n\nsecret.*   # tokens\n^/bin/old\n\\#x", "f").unwrap();
        assert!(list.ignores("secret.txt"));
        assert!(list.ignores("a/secret.key"));
        assert!(list.ignores("bin/old"));
        assert!(list.ignores("bin/old/deeper"));
        assert!(!list.ignores("x/bin/old"));
        assert!(list.ignores("#x"));
        // A local list replaces the built-in one, as in Stow.
        assert!(!list.ignores("README.md"));
        assert!(list.ignores(".stow-local-ignore"));
    }

    #[test]
    fn unreadable_patterns_name_file_and_line() {
        let err = StowIgnore::parse("ok\n(?<=x)y\n", "pkg/.stow-local-ignore").unwrap_err();
        assert!(
            err.message
                .starts_with("pkg/.stow-local-ignore:2: `(?<=x)y`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn dotfiles_renames_each_name() {
        assert_eq!(adjust_dotfile("dot-bashrc").as_deref(), Some(".bashrc"));
        assert_eq!(adjust_dotfile("dot-"), None);
        assert_eq!(adjust_dotfile("dot-."), None);
        assert_eq!(adjust_dotfile("bashrc"), None);
        assert_eq!(
            target_names(Path::new("dot-config/nvim/dot-x"), true),
            PathBuf::from(".config/nvim/.x")
        );
        assert_eq!(
            target_names(Path::new("dot-config/x"), false),
            PathBuf::from("dot-config/x")
        );
    }
}
