//! From entries to links: resolve each entry's source in the repository (a file, a directory,
//! a recursive tree or a glob) into one [`LinkSpec`] per target, and check what needs the
//! repository to check: sources exist and stay inside it after resolving symlinks, and no two
//! links claim the same target or nest inside a directory link.
//!
//! Directory walks read entry types from the directory listing, so a tree costs one read per
//! directory rather than one `stat` per file.

use super::package::FoldRoot;
use super::pattern::Pattern;
use super::{Entry, Manifest, Method, Policy, Style, position};
use crate::error::{Error, Result, describe_io};
use crate::listing::{EntryType, Walk, WalkError};
use crate::paths;
use crate::paths::SharedPath;
use crate::state::PathHash;
use hashbrown::HashTable;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What to do about a target that overlaps the repository (or is it, under another name).
pub(crate) const REPO_HINT: &str =
    "targets must lie outside the dotfiles repository; move the repository or change the target";

/// One link to make: a source in the repository and the target path it appears at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSpec {
    /// Absolute path of the source, inside the repository.
    pub source: SharedPath,
    /// Absolute path where the link goes.
    pub target: SharedPath,
    /// The source is a directory linked as a whole (never true for recursive entries).
    pub source_is_dir: bool,
    /// The source does not exist (only from [`Sources::Report`]).
    pub source_missing: bool,
    pub method: Method,
    pub style: Style,
    pub on_conflict: Policy,
    /// Index of the manifest entry this link comes from.
    pub entry: usize,
    /// One file of a mirrored tree (a recursive entry or a package): a directory link above it
    /// that leads to its directory in the repository is a folded directory, not a conflict.
    pub in_tree: bool,
    /// The package it comes from, as the repository names it. An `Arc<String>`, one word where
    /// an `Arc<str>` is two: each spec and step holds one.
    pub package: Option<Arc<String>>,
    /// For a package with `fold = true`: what the planner needs to link whole directories.
    pub fold: Option<Arc<FoldRoot>>,
}

/// What to do about an entry whose source does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sources {
    /// It is an error (for anything that would link).
    Require,
    /// Keep it as a link spec marked `source_missing`, so `status` can report its target
    /// (typically a link left dangling by a deleted or moved source).
    Report,
}

/// Expand every entry of the manifest into the links it declares.
pub fn expand(manifest: &Manifest, sources: Sources) -> Result<Vec<LinkSpec>> {
    expand_sharing(manifest, sources, &NoRecords)?.finish(manifest, &NoRecords)
}

/// The paths a state records for the targets a walk finds. The state is read on another
/// thread while the repository is walked, so it may not be there yet (see
/// [`expand_sharing`]).
pub trait RecordedPaths {
    /// Whether the state is there to be asked (or never will be).
    fn read(&self) -> bool;
    /// The target and source of the record for `target`, if the state is read and has one.
    fn paths(&self, target: &Path) -> Option<(SharedPath, SharedPath)>;
}

/// No state: every path is a spec's own.
pub struct NoRecords;

impl RecordedPaths for NoRecords {
    fn read(&self) -> bool {
        true
    }

    fn paths(&self, _: &Path) -> Option<(SharedPath, SharedPath)> {
        None
    }
}

/// [`expand`], where a tree's file takes the paths of the record `recorded` finds for its
/// target, wherever they are the same bytes: the manifest and the state name the same two
/// paths for every link already made, and each is then held once, never twice (at 100,000
/// links, 13 MB). The files a walk finds before the state is read are kept by name until it
/// is, and given their paths then: when it turns up during the walk, or at
/// [`Expanded::finish`], once the caller has waited for it. (Paths made first and shared later
/// were freed where they lay, and the heap kept the room: 0.4 MiB at 10,000 links.)
pub fn expand_sharing(
    manifest: &Manifest,
    sources: Sources,
    recorded: &dyn RecordedPaths,
) -> Result<Expanded> {
    let mut specs = Vec::new();
    let mut waiting = Waiting::default();
    for (index, entry) in manifest.entries.iter().enumerate() {
        if entry.skip.is_some() {
            continue;
        }
        let mut ctx = EntryExpansion {
            manifest,
            entry,
            index,
            sources,
            home: manifest.home.clone(),
            specs: &mut specs,
            recorded,
            waiting: &mut waiting,
        };
        if let Some(package) = entry.package {
            ctx.packages(package)?;
        } else if entry.is_glob() {
            ctx.glob()?;
        } else {
            ctx.path()?;
        }
    }
    Ok(Expanded { specs, waiting })
}

/// The links a manifest declares, some of them still waiting for the state to be read before
/// their paths are made (see [`expand_sharing`]).
pub struct Expanded {
    specs: Vec<LinkSpec>,
    waiting: Waiting,
}

impl Expanded {
    /// The links of `manifest`, every one with its paths (taken from `recorded` where it can),
    /// checked against one another. `recorded` is read by now, or never will be.
    pub fn finish(
        mut self,
        manifest: &Manifest,
        recorded: &dyn RecordedPaths,
    ) -> Result<Vec<LinkSpec>> {
        self.waiting.give_paths(&mut self.specs, recorded);
        let Expanded { mut specs, .. } = self;
        // Held until planned: no slack from growing. Shrunk first, so the checks' table is
        // never held beside the slack (glibc shrinks a block this size where it is, without a
        // copy).
        specs.shrink_to_fit();
        check_targets(manifest, &specs)?;
        Ok(specs)
    }
}

/// The files of trees found before the state was read: their specs hold no paths yet, only
/// where they are, in the tree and its target, by name (a few bytes each, in one buffer).
struct Waiting {
    /// Each waiting spec's index, and the tree (an index into `trees`) it is in.
    specs: Vec<(u32, u32)>,
    /// Each tree's directory in the repository, and its target.
    trees: Vec<(PathBuf, PathBuf)>,
    /// The path of each waiting file below its tree, then its target's below the tree's target
    /// where that is another (a package's renamed dotfiles), else nothing: each ended by a NUL
    /// (no name has one).
    names: Vec<u8>,
    /// What a waiting spec holds for each of its paths meanwhile: the empty path, which names
    /// no file, so that a path used too early fails rather than names a wrong one.
    none_yet: SharedPath,
}

impl Default for Waiting {
    fn default() -> Waiting {
        Waiting {
            specs: Vec::new(),
            trees: Vec::new(),
            names: Vec::new(),
            none_yet: SharedPath::from(Path::new("")),
        }
    }
}

impl Waiting {
    /// Note the tree at `root`, linked at `target`, whose files are to wait: its index.
    fn add_tree(&mut self, root: &Path, target: &Path) -> u32 {
        self.trees.push((root.to_path_buf(), target.to_path_buf()));
        index(self.trees.len() - 1)
    }

    /// Note that spec `spec`, for the file `rest` below tree `tree` (linked at `target_rest`
    /// below the tree's target, when not at `rest`), waits for its paths: what it holds for
    /// them meanwhile.
    fn add(
        &mut self,
        spec: usize,
        tree: u32,
        rest: &Path,
        target_rest: Option<&Path>,
    ) -> (SharedPath, SharedPath) {
        self.specs.push((index(spec), tree));
        for name in [Some(rest), target_rest] {
            let name = name.map_or(&[][..], |name| name.as_os_str().as_bytes());
            self.names.extend_from_slice(name);
            self.names.push(0);
        }
        (self.none_yet.clone(), self.none_yet.clone())
    }

    /// Give each waiting spec its paths: the record's where `recorded` has one for it, its
    /// own otherwise. Nothing waits after.
    fn give_paths(&mut self, specs: &mut [LinkSpec], recorded: &dyn RecordedPaths) {
        let (mut source_buf, mut target_buf) = (Vec::new(), Vec::new());
        let mut names = self.names.split(|b| *b == 0);
        for &(spec, tree) in &self.specs {
            let (root, target) = &self.trees[tree as usize];
            let rest = Path::new(std::ffi::OsStr::from_bytes(
                names.next().unwrap_or_default(),
            ));
            let target_rest = match names.next().unwrap_or_default() {
                [] => rest,
                other => Path::new(std::ffi::OsStr::from_bytes(other)),
            };
            let source = paths::join_in(root, rest, &mut source_buf);
            let target = paths::join_in(target, target_rest, &mut target_buf);
            let spec = &mut specs[spec as usize];
            (spec.source, spec.target) = shared_or_own(source, target, recorded);
        }
        *self = Waiting::default();
    }
}

/// `i` as a 32-bit index: no repository has four billion files.
fn index(i: usize) -> u32 {
    u32::try_from(i).expect("fewer than 2^32 links")
}

/// The record's paths for a link from `source` to `target`, each where it is the same bytes
/// (a record of another source shares only the target), and new ones otherwise.
fn shared_or_own(
    source: &Path,
    target: &Path,
    recorded: &dyn RecordedPaths,
) -> (SharedPath, SharedPath) {
    match recorded.paths(target) {
        Some((recorded_target, recorded_source))
            if recorded_target.as_os_str() == target.as_os_str() =>
        {
            let source = match recorded_source.as_os_str() == source.as_os_str() {
                true => recorded_source,
                false => source.into(),
            };
            (source, recorded_target)
        }
        _ => (source.into(), target.into()),
    }
}

/// Expanding one entry: what it needs to know, and the specs so far.
pub(super) struct EntryExpansion<'a> {
    pub manifest: &'a Manifest,
    pub entry: &'a Entry,
    index: usize,
    sources: Sources,
    /// The home directory, where Stow's global ignore file is.
    pub home: PathBuf,
    pub specs: &'a mut Vec<LinkSpec>,
    recorded: &'a dyn RecordedPaths,
    waiting: &'a mut Waiting,
}

impl EntryExpansion<'_> {
    /// The entry's source as an absolute path (`.` is the repository itself).
    pub(super) fn source_path(&self) -> PathBuf {
        if self.entry.source == "." {
            self.manifest.repo.clone()
        } else {
            self.manifest.repo.join(&self.entry.source)
        }
    }

    pub(super) fn error(&self, message: String, hint: &str) -> Error {
        Error::input(message)
            .context(position(&self.manifest.path, self.entry.source_at))
            .with_hint(hint)
    }

    fn push(&mut self, source: SharedPath, target: SharedPath, source_is_dir: bool) -> Result<()> {
        if source_is_dir && self.entry.method == Method::Hardlink {
            return Err(self.error(
                format!(
                    "source {} is a directory, and directories cannot be hard-linked",
                    source.display()
                ),
                "add `recursive = true` to hard-link every file in it into real directories, or use `method = \"symlink\"`",
            ));
        }
        self.specs.push(LinkSpec {
            source,
            target,
            source_is_dir,
            source_missing: false,
            method: self.entry.method,
            style: self.entry.style,
            on_conflict: self.entry.on_conflict,
            entry: self.index,
            in_tree: false,
            package: None,
            fold: None,
        });
        Ok(())
    }

    /// A plain path: one link, or a mirrored tree when recursive.
    fn path(&mut self) -> Result<()> {
        let source = self.source_path();
        let target = if self.entry.into_dir {
            self.entry
                .target
                .join(source.file_name().unwrap_or_default())
        } else {
            self.entry.target.clone()
        };
        let found = fs::symlink_metadata(&source);
        if self.sources == Sources::Report
            && found
                .as_ref()
                .is_err_and(|e| e.kind() == io::ErrorKind::NotFound)
        {
            self.push(source.into(), target.into(), false)?;
            if let Some(spec) = self.specs.last_mut() {
                spec.source_missing = true;
            }
            return Ok(());
        }
        let meta = found.map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => self.error(
                format!(
                    "source `{}` does not exist in the repository {}",
                    self.entry.source,
                    self.manifest.repo.display()
                ),
                "fix the path (sources are relative to the manifest's directory), create the file, or remove the entry",
            ),
            _ => self.error(format!("cannot read source {}: {}", source.display(), describe_io(&e)), "check its permissions"),
        })?;
        // Resolve symlinks (and insist the result stays in the repository) only when there are
        // any on the way: the source itself, or a directory between it and the repository.
        let through_link = meta.file_type().is_symlink()
            || source
                .ancestors()
                .skip(1)
                .take_while(|dir| *dir != self.manifest.repo)
                .any(|dir| fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()));
        let is_dir = if through_link {
            self.resolve_inside(&source)?.is_dir()
        } else {
            meta.is_dir()
        };
        if meta.file_type().is_symlink() && self.entry.method == Method::Hardlink && !is_dir {
            return Err(self.error(
                format!(
                    "{} is a symlink; hard links need regular files",
                    source.display()
                ),
                "name the file the symlink points to as the source, or use `method = \"symlink\"`",
            ));
        }
        if is_dir && self.entry.recursive && !meta.file_type().is_symlink() {
            self.tree(&source, &target)
        } else {
            self.push(source.into(), target.into(), is_dir)
        }
    }

    /// A glob: one link per match, inside the target directory, its name after `prefix`.
    fn glob(&mut self) -> Result<()> {
        let before = self.specs.len();
        for (source, file_type) in self.glob_matches()? {
            let mut name = std::ffi::OsString::from(&self.entry.prefix);
            name.push(source.file_name().unwrap_or_default());
            let target = paths::join(&self.entry.target, Path::new(&name));
            if file_type.is_symlink() {
                let resolved = self.resolve_inside(&source)?;
                self.push(source, target.into(), resolved.is_dir())?;
            } else if file_type.is_dir() && self.entry.recursive {
                self.tree(&source, &target)?;
            } else {
                self.push(source, target.into(), file_type.is_dir())?;
            }
        }
        if self.specs.len() == before {
            return Err(self.error(
                format!("source glob `{}` matches nothing in {}", self.entry.source, self.manifest.repo.display()),
                "fix the pattern, or remove the entry (ignore patterns are applied before matching)",
            ));
        }
        Ok(())
    }

    /// What the entry's source glob matches, by name. A matched directory is one match: its
    /// contents are not matched again.
    pub(super) fn glob_matches(&self) -> Result<Vec<(SharedPath, EntryType)>> {
        let pattern = self.entry.source.trim_start_matches("./");
        let matcher = Pattern::new(pattern).map_err(|e| {
            self.error(
                format!("source glob `{pattern}` is not valid: {}", e.kind()),
                "fix the glob",
            )
        })?;
        let components: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
        let literal = components
            .iter()
            .take_while(|c| !c.contains(['*', '?', '[', '{']))
            .count();
        let base = self.manifest.repo.join(components[..literal].join("/"));
        let depth = if pattern.contains("**") {
            usize::MAX
        } else {
            components.len() - literal
        };
        let mut matches = Vec::new();
        // A missing base directory simply matches nothing.
        if !base.is_dir() {
            return Ok(matches);
        }
        let dotted = DottedNames::of(pattern);
        let mut walk = self.walker(&base, depth);
        while let Some(item) = walk.next_entry() {
            let item = item.map_err(|e| self.walk_error(e))?;
            let relative = paths::below(item.path, &self.manifest.repo).unwrap_or(item.path);
            if !matcher.is_match(relative) || !dotted.allows(relative) {
                continue;
            }
            let (path, kind) = (SharedPath::from(item.path), item.kind);
            if kind.is_dir() {
                walk.skip_current_dir();
            }
            matches.push((path, kind));
        }
        Ok(matches)
    }

    /// Mirror the tree at `root` into `target`: one link per file, real directories between.
    fn tree(&mut self, root: &Path, target: &Path) -> Result<()> {
        let mut bufs = Default::default();
        // This tree's place among the waiting ones, once a file of it waits.
        let mut waiting_tree = None;
        let mut walk = self.walker(root, usize::MAX);
        while let Some(item) = walk.next_entry() {
            let item = item.map_err(|e| self.walk_error(e))?;
            if item.kind.is_dir() {
                continue;
            }
            self.check_file_in_tree(item.path, item.kind)?;
            let rest = paths::below(item.path, root).unwrap_or(item.path);
            let (source, target) =
                self.paths_in_tree((root, rest), (target, rest), &mut waiting_tree, &mut bufs);
            self.push_in_tree(source, target)?;
        }
        Ok(())
    }

    /// The paths of the file `rest` below the tree `root`, linked at `target_rest` below
    /// `target`: the record's, its own, or (before the state is read) none yet, the file then
    /// waiting for them. `waiting_tree` is the tree's place among the waiting ones, once known.
    pub(super) fn paths_in_tree(
        &mut self,
        (root, rest): (&Path, &Path),
        (target, target_rest): (&Path, &Path),
        waiting_tree: &mut Option<u32>,
        bufs: &mut [Vec<u8>; 2],
    ) -> (SharedPath, SharedPath) {
        let read = self.recorded.read();
        if read && !self.waiting.specs.is_empty() {
            self.waiting.give_paths(self.specs, self.recorded);
            *waiting_tree = None;
        }
        if !read {
            let tree = *waiting_tree.get_or_insert_with(|| self.waiting.add_tree(root, target));
            let renamed = (target_rest.as_os_str() != rest.as_os_str()).then_some(target_rest);
            return self.waiting.add(self.specs.len(), tree, rest, renamed);
        }
        let [source_buf, target_buf] = bufs;
        let source = paths::join_in(root, rest, source_buf);
        let joined = paths::join_in(target, target_rest, target_buf);
        shared_or_own(source, joined, self.recorded)
    }

    /// Why the file `source` of a mirrored tree cannot be linked, if it cannot.
    pub(super) fn check_file_in_tree(&self, source: &Path, file_type: EntryType) -> Result<()> {
        if file_type.is_symlink() {
            self.resolve_inside(source)?;
            if self.entry.method == Method::Hardlink {
                return Err(self.error(
                    format!("{} is a symlink; hard links need regular files", source.display()),
                    "replace the symlink in the repository with the file itself, or use `method = \"symlink\"`",
                ));
            }
        } else if !file_type.is_file() {
            return Err(self.error(
                format!(
                    "{} is not a regular file, directory or symlink",
                    source.display()
                ),
                "remove it from the repository or add it to `ignore`",
            ));
        }
        Ok(())
    }

    /// The link of one file of a mirrored tree, marked as in a tree.
    pub(super) fn push_in_tree(&mut self, source: SharedPath, target: SharedPath) -> Result<()> {
        self.push(source, target, false)?;
        if let Some(spec) = self.specs.last_mut() {
            spec.in_tree = true;
        }
        Ok(())
    }

    /// A walk below `root` that skips `.git`, the manifest itself and ignored paths.
    fn walker(
        &self,
        root: &Path,
        max_depth: usize,
    ) -> Walk<impl FnMut(&Path, EntryType) -> bool + use<>> {
        let repo = self.manifest.repo.clone();
        let manifest_name = self.manifest.path.file_name().map(|n| n.to_os_string());
        let ignore = self.entry.ignore.clone();
        Walk::new(root, max_depth, move |path: &Path, _| {
            let relative = paths::below(path, &repo).unwrap_or(path);
            let top_level = !relative.as_os_str().as_encoded_bytes().contains(&b'/');
            // By bytes: `Path::file_name` parses the components again, for every file.
            let name = paths::parent_and_name(path).1;
            name == Some(std::ffi::OsStr::new(".git"))
                || (top_level && name == manifest_name.as_deref())
                || ignore.is_match(relative)
        })
    }

    pub(super) fn walk_error(&self, e: WalkError) -> Error {
        self.error(
            format!(
                "cannot read {}: {}",
                e.path.display(),
                describe_io(&e.error)
            ),
            "check its permissions",
        )
    }

    /// Resolve symlinks in `source` and insist the result is still inside the repository.
    pub(super) fn resolve_inside(&self, source: &Path) -> Result<PathBuf> {
        let resolved = source.canonicalize().map_err(|e| {
            let why = if e.raw_os_error() == Some(40) {
                "it is a symlink loop".to_string()
            } else if e.kind() == io::ErrorKind::NotFound {
                "it is a symlink to something that does not exist".to_string()
            } else {
                describe_io(&e)
            };
            self.error(
                format!("cannot resolve source {}: {why}", source.display()),
                "fix or remove the symlink in the repository",
            )
        })?;
        if !resolved.starts_with(&self.manifest.repo) {
            return Err(self.error(
                format!(
                    "source {} resolves to {}, outside the repository {}",
                    source.display(),
                    resolved.display(),
                    self.manifest.repo.display()
                ),
                "sources must stay inside the repository after resolving symlinks; point the symlink inside it or remove it",
            ));
        }
        Ok(resolved)
    }
}

/// The shell's rule for hidden names: `*`, `?` and `**` do not match a leading dot, so a
/// hidden name matches only a part of the pattern that starts with a dot itself (`.*`).
struct DottedNames(Vec<Pattern>);

impl DottedNames {
    fn of(pattern: &str) -> DottedNames {
        DottedNames(
            pattern
                .split('/')
                .filter(|part| part.starts_with('.') && *part != "." && *part != "..")
                .filter_map(|part| Pattern::new(part).ok())
                .collect(),
        )
    }

    /// Whether every hidden name of `relative` is matched by a dotted part of the pattern.
    fn allows(&self, relative: &Path) -> bool {
        relative.iter().all(|name| {
            !name.as_encoded_bytes().starts_with(b".")
                || self.0.iter().any(|g| g.is_match(Path::new(name)))
        })
    }
}

/// No two links may claim one target, no link may sit inside a directory that another links
/// as a whole (that would write into the repository), and none may overlap the repository.
pub(crate) fn check_targets(manifest: &Manifest, specs: &[LinkSpec]) -> Result<()> {
    let line = |spec: &LinkSpec| manifest.entries[spec.entry].target_at.line;
    let error_at = |spec: &LinkSpec, message: String, hint: &str| {
        Error::input(message)
            .context(position(
                &manifest.path,
                manifest.entries[spec.entry].target_at,
            ))
            .with_hint(hint)
    };
    // Keyed by bytes, not as paths (whose hash scans every byte for separators): targets are
    // normalised, and so are their ancestors. The table holds each spec's index (four bytes,
    // where a map of borrowed keys and specs held 24), since it is built at the run's peak.
    let key = |path: &Path| {
        std::hash::BuildHasher::hash_one(&PathHash::default(), path.as_os_str().as_encoded_bytes())
    };
    let mut by_target: HashTable<u32> = HashTable::with_capacity(specs.len());
    let find = |by_target: &HashTable<u32>, path: &Path, hash: u64| {
        by_target
            .find(hash, |&i| {
                specs[i as usize].target.as_os_str() == path.as_os_str()
            })
            .map(|&i| &specs[i as usize])
    };
    for (index, spec) in specs.iter().enumerate() {
        debug_assert_eq!(
            paths::normalize(&spec.target),
            spec.target.to_path_buf(),
            "compared as bytes below"
        );
        // By bytes (both are normalised): this runs for every link.
        let overlaps = |a: &Path, b: &Path| paths::below(a, b).is_some();
        if overlaps(&spec.target, &manifest.repo) || overlaps(&manifest.repo, &spec.target) {
            return Err(error_at(
                spec,
                format!(
                    "target {} overlaps the repository {}",
                    spec.target.display(),
                    manifest.repo.display()
                ),
                REPO_HINT,
            ));
        }
        let hash = key(&spec.target);
        if let Some(first) = find(&by_target, &spec.target, hash) {
            let (a, b) = (line(first), line(spec));
            let by = if a == b {
                format!("line {a}")
            } else {
                format!("lines {a} and {b}")
            };
            // Two entries that both link one source there (a glob and an entry of its own):
            // the source is named once.
            if first.source == spec.source {
                return Err(error_at(
                    spec,
                    format!(
                        "target {} is claimed twice ({by}), both times by {}",
                        spec.target.display(),
                        spec.source.display()
                    ),
                    "remove one of the two entries, or add the source to the other's `ignore`",
                ));
            }
            return Err(error_at(
                spec,
                format!(
                    "target {} is claimed twice ({by}): by {} and by {}",
                    spec.target.display(),
                    first.source.display(),
                    spec.source.display()
                ),
                "give each entry its own target, or add one of the sources to `ignore`",
            ));
        }
        let index = u32::try_from(index).expect("fewer than 2^32 links");
        by_target.insert_unique(hash, index, |&i| key(&specs[i as usize].target));
    }
    // No target is inside one shorter than the shortest: only the ancestors below it are looked
    // up, not every ancestor up to `/` (this runs for every link).
    let shortest = specs
        .iter()
        .map(|s| s.target.as_os_str().len())
        .min()
        .unwrap_or(0);
    // Neighbours mostly share their directory: its ancestors are looked up once for the run.
    let mut checked: Option<&std::ffi::OsStr> = None;
    for spec in specs {
        let parent = paths::parent(&spec.target).map(Path::as_os_str);
        if parent.is_some() && parent == checked {
            continue;
        }
        checked = parent;
        let ancestors = paths::ancestors(&spec.target).skip(1);
        for ancestor in ancestors.take_while(|a| a.as_os_str().len() >= shortest) {
            if let Some(outer) = find(&by_target, ancestor, key(ancestor)) {
                let why = if outer.source_is_dir {
                    "links to a whole directory; it would be written inside the repository"
                } else {
                    "links to a file, so it cannot also be a directory"
                };
                return Err(error_at(
                    spec,
                    format!(
                        "target {} is inside {}, which line {} {why}",
                        spec.target.display(),
                        outer.target.display(),
                        line(outer)
                    ),
                    "use `recursive = true` on the directory entry, or drop one of the two entries",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Context;
    use std::os::unix::fs::symlink;

    struct Repo {
        root: tempfile::TempDir,
    }

    impl Repo {
        fn new(files: &[&str]) -> Repo {
            let root = tempfile::tempdir().unwrap();
            for f in files {
                let p = root.path().join("dots").join(f);
                fs::create_dir_all(p.parent().unwrap()).unwrap();
                if f.ends_with('/') {
                    fs::create_dir_all(&p).unwrap();
                } else {
                    fs::write(&p, f).unwrap();
                }
            }
            fs::create_dir_all(root.path().join("dots")).unwrap();
            Repo { root }
        }
        fn home(&self) -> PathBuf {
            self.root.path().join("home")
        }
        fn manifest(&self, manifest: &str) -> Result<Manifest> {
            let ctx = Context {
                home: self.home(),
                home_as_set: self.home(),
                home_is_real: false,
                state_dir: self.root.path().join("state"),
                cwd: self.root.path().to_path_buf(),
                machine: crate::context::Machine {
                    os: "linux".into(),
                    hostname: "box".into(),
                    chosen_profiles: None,
                },
            };
            let path = self.root.path().join("dots/dotlink.toml");
            fs::write(&path, manifest).unwrap();
            super::super::parse(&path, manifest, &ctx)
        }
        fn expand(&self, manifest: &str) -> Result<Vec<(String, String)>> {
            let m = self.manifest(manifest)?;
            let home = self.home();
            Ok(expand(&m, Sources::Require)?
                .into_iter()
                .map(|s| {
                    (
                        s.source
                            .strip_prefix(&m.repo)
                            .unwrap()
                            .display()
                            .to_string(),
                        paths::display(&s.target, &home),
                    )
                })
                .collect())
        }
    }

    /// Records to share, read (as the state on its thread) only once `read` was asked
    /// `read_after` times.
    struct Records {
        list: Vec<(SharedPath, SharedPath)>,
        read_after: usize,
        asked: std::cell::Cell<usize>,
    }

    impl RecordedPaths for Records {
        fn read(&self) -> bool {
            self.asked.set(self.asked.get() + 1);
            self.asked.get() > self.read_after
        }

        fn paths(&self, target: &Path) -> Option<(SharedPath, SharedPath)> {
            self.list.iter().find(|(t, _)| **t == *target).cloned()
        }
    }

    /// The links `m` declares, sharing the paths of `list`'s records, the state read once the
    /// walk asked `read_after` times.
    fn expand_reading_after(
        m: &Manifest,
        list: &[(SharedPath, SharedPath)],
        read_after: usize,
    ) -> Vec<LinkSpec> {
        let records = Records {
            list: list.to_vec(),
            read_after,
            asked: Default::default(),
        };
        let expanded = expand_sharing(m, Sources::Require, &records).unwrap();
        expanded.finish(m, &records).unwrap()
    }

    /// A tree's file takes the record's paths where they are the same bytes, each on its own
    /// (a record of another source shares only the target), and its own paths otherwise: a
    /// record spelled another way, or none. So whether the state is read before the walk,
    /// during it (files found before wait for it), or after it.
    #[test]
    fn a_tree_takes_the_paths_a_record_has_for_its_files() {
        let repo = Repo::new(&["tree/a", "tree/b", "tree/c", "tree/d", "tree/sub/e"]);
        let text = "[[link]]\nsource = \"tree\"\ntarget = \"~/t\"\nrecursive = true\n";
        let m = repo.manifest(text).unwrap();
        let home = repo.home();
        let dots = repo.root.path().join("dots");
        let path = |p: PathBuf| -> SharedPath { p.into() };
        let list = vec![
            (path(home.join("t/a")), path(dots.join("tree/a"))),
            (path(home.join("t/b")), path(dots.join("elsewhere/b"))),
            (path(home.join("t//c")), path(dots.join("tree/c"))),
            (path(home.join("t/sub/e")), path(dots.join("tree/sub/e"))),
        ];
        let unshared = expand(&m, Sources::Require).unwrap();
        for read_after in [0, 1, 2, 3, 4, 5, usize::MAX] {
            let specs = expand_reading_after(&m, &list, read_after);
            assert_eq!(specs, unshared, "read after {read_after}");
            let spec = |name: &str| specs.iter().find(|s| s.target.ends_with(name)).unwrap();
            let shared = |a: &SharedPath, b: &SharedPath| SharedPath::ptr_eq(a, b);
            assert!(
                shared(&spec("a").target, &list[0].0),
                "read after {read_after}"
            );
            assert!(shared(&spec("a").source, &list[0].1));
            assert!(shared(&spec("b").target, &list[1].0));
            assert_eq!(*spec("b").source, *dots.join("tree/b"));
            assert!(!shared(&spec("c").target, &list[2].0));
            assert!(!shared(&spec("c").source, &list[2].1));
            assert_eq!(spec("c").target.as_os_str(), home.join("t/c").as_os_str());
            assert_eq!(*spec("d").target, *home.join("t/d"));
            assert_eq!(*spec("d").source, *dots.join("tree/d"));
            assert!(shared(&spec("e").target, &list[3].0));
            assert!(shared(&spec("e").source, &list[3].1));
        }
    }

    /// The files of a Stow package take the record's paths the same way, whenever the state
    /// is read: a renamed dotfile's by the name it is linked at.
    #[test]
    fn a_package_takes_the_paths_a_record_has_for_its_files() {
        let repo = Repo::new(&[
            "stow/sh/dot-bashrc",
            "stow/sh/dot-config/sh/rc",
            "stow/sh/x",
        ]);
        let text = "[[package]]\nsource = \"stow/*\"\ntarget = \"~\"\ndotfiles = true\n";
        let m = repo.manifest(text).unwrap();
        let home = repo.home();
        let dots = repo.root.path().join("dots");
        let path = |p: PathBuf| -> SharedPath { p.into() };
        let list = vec![
            (
                path(home.join(".bashrc")),
                path(dots.join("stow/sh/dot-bashrc")),
            ),
            (
                path(home.join(".config/sh/rc")),
                path(dots.join("stow/sh/dot-config/sh/rc")),
            ),
            (path(home.join("x")), path(dots.join("stow/other/x"))),
        ];
        let unshared = expand(&m, Sources::Require).unwrap();
        assert_eq!(unshared.len(), 3);
        for read_after in [0, 1, 2, 3, usize::MAX] {
            let specs = expand_reading_after(&m, &list, read_after);
            assert_eq!(specs, unshared, "read after {read_after}");
            let shared = |a: &SharedPath, b: &SharedPath| SharedPath::ptr_eq(a, b);
            for (spec, (target, source)) in specs.iter().zip(&list) {
                assert!(
                    shared(&spec.target, target),
                    "read after {read_after}: {spec:?}"
                );
                assert_eq!(shared(&spec.source, source), !spec.source.ends_with("x"));
            }
        }
    }

    /// A package's own ignore list serves it alone: the packages without one each take the
    /// home's, else Stow's, which is read once for all of them.
    #[test]
    fn each_package_without_its_own_ignore_list_takes_the_shared_one() {
        let repo = Repo::new(&[
            "stow/a/x-a",
            "stow/a/README.a",
            "stow/a/.stow-local-ignore",
            "stow/b/x-b",
            "stow/b/README.b",
            "stow/c/README.c",
            "stow/c/y-c",
        ]);
        fs::write(
            repo.root.path().join("dots/stow/a/.stow-local-ignore"),
            "^/x-.*\n",
        )
        .unwrap();
        let text = "[[package]]\nsource = \"stow/*\"\ntarget = \"~\"\n";
        let mut got = repo.expand(text).unwrap();
        got.sort();
        let expected = [
            ("stow/a/README.a", "~/README.a"),
            ("stow/b/x-b", "~/x-b"),
            ("stow/c/y-c", "~/y-c"),
        ];
        assert_eq!(got, pairs(&expected));
        fs::create_dir_all(repo.home()).unwrap();
        fs::write(repo.home().join(".stow-global-ignore"), "^/y-.*\n").unwrap();
        let mut got = repo.expand(text).unwrap();
        got.sort();
        let expected = [
            ("stow/a/README.a", "~/README.a"),
            ("stow/b/README.b", "~/README.b"),
            ("stow/b/x-b", "~/x-b"),
            ("stow/c/README.c", "~/README.c"),
        ];
        assert_eq!(got, pairs(&expected));
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn a_file_and_a_directory_are_one_link_each() {
        let repo = Repo::new(&["zsh/zshrc", "nvim/init.lua"]);
        let got = repo
            .expand("[[link]]\nsource = \"zsh/zshrc\"\ntarget = \"~/.zshrc\"\n[[link]]\nsource = \"nvim\"\ntarget = \"~/.config/nvim\"\n")
            .unwrap();
        assert_eq!(
            got,
            pairs(&[("zsh/zshrc", "~/.zshrc"), ("nvim", "~/.config/nvim")])
        );
    }

    #[test]
    fn recursive_mirrors_files_and_honours_ignore() {
        let repo = Repo::new(&[
            "bin/a",
            "bin/sub/b",
            "bin/README.md",
            "bin/.DS_Store",
            "bin/x.swp",
        ]);
        let got = repo
            .expand("[defaults]\nignore = [\".DS_Store\", \"*.swp\", \"**/README.md\"]\n[[link]]\nsource = \"bin\"\ntarget = \"~/.local/bin\"\nrecursive = true\n")
            .unwrap();
        assert_eq!(
            got,
            pairs(&[
                ("bin/a", "~/.local/bin/a"),
                ("bin/sub/b", "~/.local/bin/sub/b")
            ])
        );
    }

    #[test]
    fn globs_link_each_match_inside_the_target_directory() {
        let repo = Repo::new(&[
            "config/git/config",
            "config/tmux.conf",
            "config/README.md",
            "other",
        ]);
        let got = repo
            .expand("[defaults]\nignore = [\"**/README.md\"]\n[[link]]\nsource = \"config/*\"\ntarget = \"~/.config/\"\n")
            .unwrap();
        assert_eq!(
            got,
            pairs(&[
                ("config/git", "~/.config/git"),
                ("config/tmux.conf", "~/.config/tmux.conf")
            ])
        );
    }

    #[test]
    fn globs_follow_the_shell_on_hidden_names() {
        let repo = Repo::new(&["conf/a", "conf/.DS_Store", "conf/.hidden/x", "dots/.vimrc"]);
        let got = repo
            .expand("[[link]]\nsource = \"conf/*\"\ntarget = \"~/c/\"\n")
            .unwrap();
        assert_eq!(got, pairs(&[("conf/a", "~/c/a")]));
        let got = repo
            .expand("[[link]]\nsource = \"conf/.*\"\ntarget = \"~/c/\"\n")
            .unwrap();
        assert_eq!(
            got,
            pairs(&[
                ("conf/.DS_Store", "~/c/.DS_Store"),
                ("conf/.hidden", "~/c/.hidden")
            ])
        );
        let got = repo
            .expand("[[link]]\nsource = \"**/?vimrc\"\ntarget = \"~/v/\"\n")
            .unwrap_err();
        assert!(got.message.contains("matches nothing"), "{}", got.message);
    }

    #[test]
    fn globs_never_match_git_or_the_manifest() {
        let repo = Repo::new(&[".git/HEAD", "a"]);
        let got = repo
            .expand("[[link]]\nsource = \"*\"\ntarget = \"~/\"\n")
            .unwrap();
        assert_eq!(got, pairs(&[("a", "~/a")]));
    }

    #[test]
    fn a_glob_matching_nothing_is_an_error() {
        let repo = Repo::new(&["a"]);
        let err = repo
            .expand("[[link]]\nsource = \"nope/*\"\ntarget = \"~/\"\n")
            .unwrap_err();
        assert!(
            err.to_string()
                .contains(":2:10: source glob `nope/*` matches nothing"),
            "{}",
            err.to_string()
        );
    }

    #[test]
    fn missing_sources_name_line_and_repository() {
        let repo = Repo::new(&["a"]);
        let err = repo
            .expand("[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\n")
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("dotlink.toml:2:10: source `b` does not exist in the repository"),
            "{}",
            err.to_string()
        );
    }

    #[test]
    fn symlinks_out_of_the_repository_are_refused() {
        let repo = Repo::new(&["d/"]);
        symlink("/etc/hostname", repo.root.path().join("dots/d/escape")).unwrap();
        let err = repo
            .expand("[[link]]\nsource = \"d/escape\"\ntarget = \"~/.x\"\n")
            .unwrap_err();
        assert!(
            err.to_string().contains("outside the repository"),
            "{}",
            err.to_string()
        );
        let err = repo
            .expand("[[link]]\nsource = \"d\"\ntarget = \"~/.d\"\nrecursive = true\n")
            .unwrap_err();
        assert!(
            err.to_string().contains("outside the repository"),
            "{}",
            err.to_string()
        );
    }

    #[test]
    fn duplicate_targets_name_both_lines() {
        let repo = Repo::new(&["a", "b"]);
        let err = repo
            .expand("[[link]]\nsource = \"a\"\ntarget = \"~/.x\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.x\"\n")
            .unwrap_err();
        assert!(
            err.to_string().contains("is claimed twice (lines 3 and 6)"),
            "{}",
            err.to_string()
        );
        // A glob and an entry of its own for one source: the source is named once.
        let err = repo
            .expand("[[link]]\nsource = \"*\"\ntarget = \"~\"\n[[link]]\nsource = \"b\"\ntarget = \"~/b\"\n")
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("is claimed twice (lines 3 and 6), both times by ")
                && err.to_string().matches("/b").count() == 2,
            "{}",
            err.to_string()
        );
        assert!(err.hint.unwrap().contains("remove one of the two entries"));
    }

    #[test]
    fn targets_inside_a_directory_link_are_refused() {
        let repo = Repo::new(&["nvim/init.lua", "extra"]);
        let err = repo
            .expand("[[link]]\nsource = \"nvim\"\ntarget = \"~/.config/nvim\"\n[[link]]\nsource = \"extra\"\ntarget = \"~/.config/nvim/extra\"\n")
            .unwrap_err();
        assert!(
            err.to_string().contains("links to a whole directory"),
            "{}",
            err.to_string()
        );
    }

    #[test]
    fn a_target_inside_a_file_link_is_refused() {
        let repo = Repo::new(&["a", "b"]);
        let err = repo
            .expand("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.a/b\"\n")
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("links to a file, so it cannot also be a directory"),
            "{}",
            err.to_string()
        );
    }

    #[test]
    fn hard_linking_a_directory_needs_recursive() {
        let repo = Repo::new(&["nvim/init.lua"]);
        let err = repo
            .expand(
                "[[link]]\nsource = \"nvim\"\ntarget = \"~/.config/nvim\"\nmethod = \"hardlink\"\n",
            )
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("directories cannot be hard-linked"),
            "{}",
            err.to_string()
        );
        assert!(err.hint.unwrap().contains("recursive = true"));
        let ok = repo
            .expand("[[link]]\nsource = \"nvim\"\ntarget = \"~/.config/nvim\"\nmethod = \"hardlink\"\nrecursive = true\n")
            .unwrap();
        assert_eq!(ok, pairs(&[("nvim/init.lua", "~/.config/nvim/init.lua")]));
    }
}
