//! Planning `adopt`: check each path a user wants to move into the repository and decide where
//! it goes and how the manifest names it. Nothing is written here; `apply::adopt` moves the
//! files and edits the manifest.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::manifest::{LinkSpec, Manifest};
use crate::paths;
use crate::state::State;
use std::fs;
use std::path::{Component, Path, PathBuf};

/// One path to adopt.
#[derive(Debug, Clone)]
pub struct Adoption {
    /// Where it is now, in the home directory.
    pub from: PathBuf,
    /// Where `from` really is (its directory resolved): the place the planner names its target
    /// by.
    pub real_from: PathBuf,
    /// Where it goes in the repository.
    pub to: PathBuf,
    /// The manifest's `source` and `target` for it.
    pub source: String,
    pub target: String,
}

impl Adoption {
    /// The symlinks inside what is adopted (a directory) whose relative text leads out of it,
    /// with where each leads once it is in the repository: moved with it, each leads somewhere
    /// else (nowhere, often). Absolute ones lead where they did.
    pub fn links_leading_out(&self) -> Vec<(PathBuf, PathBuf)> {
        let mut out = Vec::new();
        for entry in walkdir::WalkDir::new(&self.from)
            .min_depth(1)
            .into_iter()
            .flatten()
        {
            if !entry.path_is_symlink() {
                continue;
            }
            let Ok(text) = fs::read_link(entry.path()) else {
                continue;
            };
            let parent = entry.path().parent().unwrap_or(&self.from);
            if text.is_relative() && !paths::normalize(&parent.join(&text)).starts_with(&self.from)
            {
                let inside = entry
                    .path()
                    .strip_prefix(&self.from)
                    .unwrap_or(entry.path());
                let moved = paths::normalize(
                    &self
                        .to
                        .join(inside)
                        .parent()
                        .unwrap_or(&self.to)
                        .join(&text),
                );
                out.push((entry.path().to_path_buf(), moved));
            }
        }
        out
    }
}

/// Check each path and decide where it goes. `place` is `--as`, for a single path.
pub fn prepare(
    given: &[PathBuf],
    place: Option<&str>,
    manifest: &Manifest,
    specs: &[LinkSpec],
    state: &State,
    ctx: &Context,
) -> Result<Vec<Adoption>> {
    if place.is_some() && given.len() != 1 {
        return Err(Error::input(
            "--as names one place, so it takes exactly one PATH",
        ));
    }
    let own = super::places::own_dirs_real(&manifest.repo, &manifest.settings.backup_dir, ctx)?;
    let manifest_real = fs::canonicalize(&manifest.path).unwrap_or_else(|_| manifest.path.clone());
    let mut adoptions: Vec<Adoption> = Vec::new();
    // The adoptions' paths in the home, as given and real, and in the repository: one must not
    // hold another.
    let [mut given_at, mut real_at, mut landing] = [(); 3].map(|()| Nesting::default());
    for path in given {
        let from = paths::normalize(&ctx.cwd.join(path));
        // Given through the symlinks `$HOME` passes through (`$HOME/.zshrc`, with HOME set
        // so), it is in the home as it really is.
        let from = match from.strip_prefix(&ctx.home_as_set) {
            Ok(rest) if ctx.home_as_set != ctx.home => ctx.home.join(rest),
            _ => from,
        };
        let refuse = |why: String, hint: &str| {
            let shown = paths::display(&from, &ctx.home);
            Error::input(format!("cannot adopt {shown}: {why}")).with_hint(hint)
        };
        // Resolved once, for every check by real place. Not a symlink (those are refused), so
        // its own name is as spelled.
        let real_from = fs::canonicalize(&from).unwrap_or_else(|_| from.clone());
        check_adoptable(&from, &real_from, manifest, specs, state, &ctx.home)
            .and_then(|()| {
                let theirs = (manifest, manifest_real.as_path());
                check_holds_nothing_of_dotlinks(&from, &real_from, theirs, &own, &ctx.home)
            })
            .map_err(|(why, hint)| refuse(why, hint))?;
        // One move must not take another's path with it (nor leave it nowhere to go back to).
        // By real place too: `~/.config/nvim` and `~/cfg/nvim`, with `~/.config -> cfg`.
        if let Some(other) = [given_at.nesting(&from), real_at.nesting(&real_from)]
            .into_iter()
            .flatten()
            .min()
            .map(|i| &adoptions[i])
        {
            return Err(refuse(
                format!(
                    "{} is given too, and one holds the other",
                    paths::display(&other.from, &ctx.home)
                ),
                "adopt the directory, or the paths inside it, not both",
            ));
        }
        let relative = from.strip_prefix(&ctx.home).unwrap_or(&from);
        let source = match place {
            Some(place) => repository_place(place)?,
            None => undotted(relative),
        };
        let to = manifest.repo.join(&source);
        if let Some(other) = landing.nesting(&to).map(|i| &adoptions[i]) {
            // `~/config` and `~/.config/nvim` both go to `config`: one would land in the other.
            return Err(refuse(
                format!(
                    "its place in the repository, {}, and that of {}, {}, would be one inside \
                     the other",
                    to.display(),
                    paths::display(&other.from, &ctx.home),
                    other.to.display()
                ),
                "adopt them one at a time, choosing another place for one with --as PATH",
            ));
        }
        if fs::symlink_metadata(&to).is_ok() {
            return Err(refuse(
                format!("{} already exists in the repository", to.display()),
                "choose another place with --as PATH",
            ));
        }
        if source.contains(['*', '?', '[', '{']) || from.to_str().is_none() {
            return Err(refuse(
                "its name cannot be written in the manifest as it is".into(),
                "rename it, or choose a plain name with --as",
            ));
        }
        given_at.add(&from, adoptions.len());
        real_at.add(&real_from, adoptions.len());
        landing.add(&to, adoptions.len());
        adoptions.push(Adoption {
            // `$` doubled, so the manifest's expansion gives back exactly this path.
            target: format!("~/{}", paths::escape_dollars(&relative.to_string_lossy())),
            from,
            real_from,
            to,
            source,
        });
    }
    Ok(adoptions)
}

/// Paths, each with the index of the adoption it is of, for finding one that holds another:
/// found by a path's ancestors, not by comparing each with every other (3,000 paths adopted at
/// once took seconds).
#[derive(Default)]
struct Nesting {
    /// Each path itself.
    paths: std::collections::HashMap<PathBuf, usize>,
    /// Each directory above a path, with the first adoption below it.
    above: std::collections::HashMap<PathBuf, usize>,
}

impl Nesting {
    fn add(&mut self, path: &Path, index: usize) {
        self.paths.entry(path.to_path_buf()).or_insert(index);
        for dir in path.ancestors().skip(1) {
            self.above.entry(dir.to_path_buf()).or_insert(index);
        }
    }

    /// The first adoption whose path is `path`, holds it, or lies inside it.
    fn nesting(&self, path: &Path) -> Option<usize> {
        let holding = path.ancestors().filter_map(|p| self.paths.get(p)).min();
        holding
            .into_iter()
            .chain(self.above.get(path))
            .min()
            .copied()
    }
}

/// Why `from` cannot be adopted, with a hint: outside the home, missing, a symlink, already
/// managed, or inside the repository.
fn check_adoptable(
    from: &Path,
    real: &Path,
    manifest: &Manifest,
    specs: &[LinkSpec],
    state: &State,
    home: &Path,
) -> std::result::Result<(), (String, &'static str)> {
    if !from.starts_with(home) || from == home {
        return Err((
            "it is outside the home directory".into(),
            "adopt takes files and directories inside your home",
        ));
    }
    let meta = fs::symlink_metadata(from)
        .map_err(|e| (crate::error::describe_io(&e), "check the path"))?;
    if meta.file_type().is_symlink() {
        let into_repo = real.starts_with(&manifest.repo);
        return Err(if into_repo || state.links.contains_key(from) {
            (
                "it is already managed by dotlink (a link into the repository)".into(),
                "nothing to do",
            )
        } else {
            (
                "it is a symlink; adopt moves real files and directories".into(),
                "adopt what it points to, or replace the link with the file",
            )
        });
    }
    if specs.iter().any(|s| &*s.target == from) || state.links.contains_key(from) {
        return Err(("it is already managed by dotlink".into(), "nothing to do"));
    }
    if let Some(inner) = specs.iter().find(|s| s.target.starts_with(from)) {
        let inner = paths::display(&inner.target, home);
        return Err((
            format!("it contains {inner}, which dotlink already manages"),
            "adopt the files next to it one by one",
        ));
    }
    let real_parent = real.parent().unwrap_or(real);
    // By its real place too: `~/al/dots`, with `~/al -> .`, is the repository `~/dots`.
    if real_parent.starts_with(&manifest.repo)
        || manifest.repo.starts_with(from)
        || manifest.repo.starts_with(real)
    {
        return Err((
            "it is inside the repository already (or contains it)".into(),
            "nothing to do",
        ));
    }
    Ok(())
}

/// Why `from` cannot be adopted when it is, or holds, one of dotlink's own directories (`own`:
/// the state, with the lock and the journal that must undo this very adoption, and the
/// backups) or the manifest's real file (`manifest.1`; a manifest symlinked into the home):
/// moved into the repository, they would be gone from where dotlink looks for them.
fn check_holds_nothing_of_dotlinks(
    from: &Path,
    real: &Path,
    (manifest, manifest_real): (&Manifest, &Path),
    own: &[(&'static str, PathBuf)],
    home: &Path,
) -> std::result::Result<(), (String, &'static str)> {
    let holds = |path: &Path| path.starts_with(real) || path.starts_with(from);
    if let Some((what, dir)) = own.iter().find(|(_, dir)| holds(dir)) {
        return Err((
            format!("it holds dotlink's {what} ({})", paths::display(dir, home)),
            "adopt the files next to it one by one, or move dotlink's directory elsewhere \
             (XDG_STATE_HOME, or `backup_dir` in [defaults])",
        ));
    }
    if holds(manifest_real) {
        return Err((
            format!(
                "it holds the manifest itself ({}, which {} leads to)",
                paths::display(manifest_real, home),
                paths::display(&manifest.path, home)
            ),
            "adopt the files next to it one by one",
        ));
    }
    Ok(())
}

/// `--as PLACE`, checked: a path inside the repository.
fn repository_place(place: &str) -> Result<String> {
    let place = place.trim_end_matches('/');
    if place.is_empty() || paths::escapes(Path::new(place)) {
        return Err(Error::input(format!(
            "--as {place}: must be a path inside the repository"
        )));
    }
    let place = paths::normalize(Path::new(place));
    // Git's own directory is not the repository's contents (a file there is untracked, or a
    // live hook).
    if place.components().next() == Some(Component::Normal(".git".as_ref())) {
        return Err(Error::input(format!(
            "--as {}: must be a path of the repository's files, not inside .git",
            place.display()
        )));
    }
    Ok(place.to_string_lossy().into_owned())
}

/// `.config/nvim` → `config/nvim`: the repository keeps dotfiles visible.
fn undotted(relative: &Path) -> String {
    let mut parts = relative.components().map(|c| match c {
        Component::Normal(name) => name.to_string_lossy().into_owned(),
        other => other.as_os_str().to_string_lossy().into_owned(),
    });
    let first = parts.next().unwrap_or_default();
    let first = match first.strip_prefix('.') {
        Some(rest) if !rest.is_empty() => rest.to_string(),
        _ => first,
    };
    std::iter::once(first)
        .chain(parts)
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_drop_the_leading_dot() {
        assert_eq!(undotted(Path::new(".zshrc")), "zshrc");
        assert_eq!(undotted(Path::new(".config/nvim")), "config/nvim");
        assert_eq!(undotted(Path::new("bin/tool")), "bin/tool");
        assert_eq!(undotted(Path::new(".")), ".");
    }

    #[test]
    fn nesting_finds_the_first_path_that_holds_or_lies_in_another_as_comparing_each_would() {
        let paths = [
            "/h/a", "/h/a/b", "/h/ab", "/h/c/d/e", "/h/c", "/h", "/h/a/b", "/g", "/h/c/d",
        ];
        let mut nesting = Nesting::default();
        for (i, path) in paths.iter().map(Path::new).enumerate() {
            let compared = paths[..i]
                .iter()
                .map(Path::new)
                .position(|a| a.starts_with(path) || path.starts_with(a));
            assert_eq!(nesting.nesting(path), compared, "{path:?}");
            nesting.add(path, i);
        }
    }
}
