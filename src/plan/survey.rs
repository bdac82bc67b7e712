//! The look at every declared target before anything is decided, directory by directory: one
//! handle on each directory serves every `readlinkat` in it, shows whether the directory is a
//! real one (opened without following a symlink at its name, so that resolving it needs no
//! `stat` of its own), and, when dead links are counted, lists it (no second open). Targets
//! are visited sorted by directory, so a directory that many packages place links in (the
//! home, `~/.local/bin`) is opened once, not once per package. A large tree is looked at by
//! two threads, each taking half of the directories.
//!
//! Targets are looked at as spelled, before they are settled to their real places; the few
//! the kernel refuses that way are looked at again where they really are (see `plan::plan`).

use super::inspect::{self, Found};
use crate::listing::{EntryType, Handle};
use crate::state::{PathMap, PathSet};
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// What the survey saw.
pub(super) struct Survey {
    /// What is at each target, in the order the targets were given.
    pub found: Vec<Found>,
    /// The directories that were real directories, not symlinks, when opened.
    pub directories: PathSet,
    /// Each directory listed (as spelled in the targets), with its entries that may be dead
    /// links: the symlinks, and entries whose kind the listing does not say, not declared in
    /// it.
    pub listed: Listed,
}

/// Directories listed, as spelled, each with its entries that may be dead links.
pub(super) type Listed = PathMap<Vec<(OsString, EntryType)>>;

/// A target among the survey's: the length of its directory's spelling (the bytes before its
/// name, without the separator) and its place among the targets. Eight bytes, not the forty of
/// a pair of slices, for the list that lives through the survey (the sort's keys are slices,
/// but only while it sorts).
#[derive(Clone, Copy)]
struct Target {
    dir_len: u32,
    at: u32,
}

/// The targets, borrowed, with what the survey needs of each.
struct Targets<'t>(&'t [&'t Path]);

impl<'t> Targets<'t> {
    fn path(&self, t: Target) -> &'t Path {
        self.0[t.at as usize]
    }

    /// The directory and the name of `t`, as spelled.
    fn split(&self, t: Target) -> (&'t OsStr, &'t OsStr) {
        let bytes = self.path(t).as_os_str().as_bytes();
        let dir_len = t.dir_len as usize;
        // The root's own separator belongs to it: `/x` is `x` in `/`.
        let name_from = if &bytes[..dir_len] == b"/" {
            1
        } else {
            dir_len + 1
        };
        (
            OsStr::from_bytes(&bytes[..dir_len]),
            OsStr::from_bytes(&bytes[name_from..]),
        )
    }
}

/// Look at each of `targets`; list the directories too when `list` is set. From `threads_from`
/// targets a second thread takes half of the directories.
pub(super) fn survey(targets: &[&Path], list: bool, threads_from: usize) -> Survey {
    let mut order: Vec<Target> = Vec::with_capacity(targets.len());
    // What is at the odd target without a directory and a name (`/`), looked at the ordinary
    // way.
    let mut others: Vec<(u32, Found)> = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        match crate::paths::parent_and_name(t) {
            (Some(dir), Some(_)) => order.push(Target {
                dir_len: dir.as_os_str().len() as u32,
                at: i as u32,
            }),
            _ => others.push((i as u32, inspect::look(t))),
        }
    }
    let all = Targets(targets);
    // Targets are normalised, so sorting by bytes puts each directory's names in one run.
    order.sort_by_cached_key(|t| all.split(*t));
    let runs: Vec<&[Target]> = order
        .chunk_by(|a, b| all.split(*a).0 == all.split(*b).0)
        .collect();
    let (first, second) = runs.split_at(halfway(&runs, order.len(), threads_from));
    // Room for every target at once: the second half is appended, not grown into.
    let mut found = Vec::with_capacity(targets.len());
    let (mut seen, later) = std::thread::scope(|scope| {
        let second_half = || {
            let mut found = Vec::with_capacity(second.iter().map(|run| run.len()).sum());
            let seen = look_in(&all, second, list, &mut found);
            (found, seen)
        };
        // Without a thread (none to be had), this one looks at both halves.
        let helper = (!second.is_empty())
            .then(|| {
                std::thread::Builder::new()
                    .spawn_scoped(scope, second_half)
                    .ok()
            })
            .flatten();
        let seen = look_in(&all, first, list, &mut found);
        let later = match helper {
            Some(h) => h.join().expect("looking at targets does not panic"),
            None => second_half(),
        };
        (seen, later)
    });
    found.extend(later.0);
    seen.merge(later.1);
    let mut to: Vec<u32> = order.iter().map(|t| t.at).collect();
    drop(runs);
    drop(order);
    for (at, seen) in others {
        to.push(at);
        found.push(seen);
    }
    Survey {
        found: into_places(found, to),
        directories: seen.directories,
        listed: seen.listed,
    }
}

/// `found` with each item moved, in place, to the place `to` gives it (a permutation): the
/// surveyed order becomes the targets' order without a second list.
fn into_places(mut found: Vec<Found>, mut to: Vec<u32>) -> Vec<Found> {
    for k in 0..found.len() {
        // Each swap puts one item where it belongs, so this is linear.
        while to[k] as usize != k {
            let j = to[k] as usize;
            found.swap(k, j);
            to.swap(k, j);
        }
    }
    found
}

/// Where the runs are split between two threads: the run that starts the second half of the
/// targets, or none below `threads_from` targets (a thread costs more than it saves).
fn halfway(runs: &[&[Target]], targets: usize, threads_from: usize) -> usize {
    if targets < threads_from {
        return runs.len();
    }
    let mut seen = 0;
    runs.iter()
        .position(|run| {
            seen += run.len();
            seen > targets / 2
        })
        .map_or(runs.len(), |i| i + 1)
}

/// What one thread saw of the directories.
#[derive(Default)]
struct Seen {
    directories: PathSet,
    listed: Listed,
}

impl Seen {
    fn merge(&mut self, other: Seen) {
        self.directories.extend(other.directories);
        self.listed.extend(other.listed);
    }
}

/// Look at the targets of `runs`, each run one directory, onto the end of `found`.
fn look_in(all: &Targets, runs: &[&[Target]], list: bool, found: &mut Vec<Found>) -> Seen {
    // Room for every directory at once: each growth hashes every path again.
    let room = |n| PathSet::with_capacity_and_hasher(n, Default::default());
    let mut seen = Seen {
        directories: room(runs.len()),
        listed: Listed::with_capacity_and_hasher(
            if list { runs.len() } else { 0 },
            Default::default(),
        ),
    };
    // The last directory found missing: in an empty home (a first apply) most directories are
    // below one that is not there, and need no call to say so.
    let mut missing: Option<&Path> = None;
    for run in runs {
        let dir = Path::new(all.split(run[0]).0);
        let (handle, real) = match missing {
            Some(m) if dir.starts_with(m) => {
                (Err(io::Error::from_raw_os_error(libc::ENOENT)), false)
            }
            _ => {
                let opened = open(dir, list);
                if matches!(&opened.0, Err(e) if e.raw_os_error() == Some(libc::ENOENT)) {
                    missing = Some(dir);
                }
                opened
            }
        };
        if real {
            seen.directories.insert(dir.to_path_buf());
        }
        if list && let Ok(handle) = &handle {
            // A listing that fails (a handle that cannot list) is left to the dead-link scan.
            if let Ok(entries) = maybe_dead(handle, all, run) {
                seen.listed.insert(dir.to_path_buf(), entries);
            }
        }
        for t in run.iter() {
            let name = all.split(*t).1;
            found.push(inspect::look_in(&handle, name, || {
                all.path(*t).to_path_buf()
            }));
        }
    }
    seen
}

/// A handle on `dir` good for looking at names in it, and for listing it when `list` is set and
/// it may be read; and whether `dir` is a real directory rather than a symlink to one. Each
/// open first declines to follow a symlink at the name; only a symlink (or something that is
/// not a directory, or one that cannot be read) costs another open, the way every look opens
/// a directory, so that the answers are the same.
fn open(dir: &Path, list: bool) -> (io::Result<Handle>, bool) {
    let ways = if list {
        &[libc::O_RDONLY, inspect::LOOK_FLAGS][..]
    } else {
        &[inspect::LOOK_FLAGS][..]
    };
    for flags in ways {
        match Handle::open(dir, flags | libc::O_NOFOLLOW) {
            Ok(handle) => return (Ok(handle), true),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return (Err(e), false),
            Err(_) => {}
        }
    }
    (inspect::open_dir(dir), false)
}

/// The entries of the directory `handle` is open on that may be dead links: symlinks, and
/// entries whose kind the listing does not say, not among the names of `run`.
#[cfg(target_os = "linux")]
fn maybe_dead(
    handle: &Handle,
    all: &Targets,
    run: &[Target],
) -> io::Result<Vec<(OsString, EntryType)>> {
    let mut entries = Vec::new();
    crate::listing::each_entry(handle, |name, kind| {
        let link = matches!(kind, EntryType::Symlink | EntryType::Unknown);
        if link && run.binary_search_by(|t| all.split(*t).1.cmp(name)).is_err() {
            entries.push((name.to_os_string(), kind));
        }
    })?;
    Ok(entries)
}

/// Elsewhere a directory is listed by the dead-link scan itself.
#[cfg(not(target_os = "linux"))]
fn maybe_dead(_: &Handle, _: &Targets, _: &[Target]) -> io::Result<Vec<(OsString, EntryType)>> {
    Err(io::ErrorKind::Unsupported.into())
}

// The survey holds a look for every target at once: keep one small.
const _: () = assert!(std::mem::size_of::<Found>() <= 32);

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    #[test]
    fn items_go_to_the_places_given() {
        let found = vec![
            Found::Symlink("c".into()),
            Found::Nothing,
            Found::Symlink("a".into()),
            Found::NotADirectoryOnTheWay,
        ];
        let placed = into_places(found, vec![2, 3, 0, 1]);
        assert_eq!(
            placed,
            [
                Found::Symlink("a".into()),
                Found::NotADirectoryOnTheWay,
                Found::Symlink("c".into()),
                Found::Nothing,
            ]
        );
    }

    #[test]
    fn a_target_splits_into_its_directory_and_name() {
        let paths = [Path::new("/x"), Path::new("/a/bc/d")];
        let all = Targets(&paths);
        let root = Target { dir_len: 1, at: 0 };
        let deep = Target { dir_len: 5, at: 1 };
        assert_eq!(all.split(root), (OsStr::new("/"), OsStr::new("x")));
        assert_eq!(all.split(deep), (OsStr::new("/a/bc"), OsStr::new("d")));
    }

    /// Two directories whose targets come interleaved, as packages place them, each with an
    /// undeclared link, a declared one and a file; a symlink to the first directory; and a
    /// directory that is not there.
    fn tree() -> (tempfile::TempDir, Vec<std::path::PathBuf>) {
        let tmp = tempfile::tempdir().unwrap();
        let mut targets = Vec::new();
        for dir in ["a", "b"] {
            let d = tmp.path().join(dir);
            fs::create_dir(&d).unwrap();
            symlink("gone", d.join("undeclared")).unwrap();
            symlink("text", d.join("declared")).unwrap();
            fs::write(d.join("file"), "x").unwrap();
        }
        symlink("a", tmp.path().join("via")).unwrap();
        for name in ["declared", "file", "missing"] {
            for dir in ["a", "b"] {
                targets.push(tmp.path().join(dir).join(name));
            }
        }
        targets.push(tmp.path().join("nothere/x"));
        targets.push(tmp.path().join("via/file"));
        (tmp, targets)
    }

    #[test]
    fn every_target_is_looked_at_in_order_and_each_directory_listed_once() {
        let (tmp, targets) = tree();
        let given: Vec<&Path> = targets.iter().map(|t| t.as_path()).collect();
        // With and without a second thread.
        for threads_from in [0, usize::MAX] {
            let survey = survey(&given, true, threads_from);
            let kinds: Vec<&str> = survey
                .found
                .iter()
                .map(|f| match f {
                    Found::Symlink(text) if text == Path::new("text") => "link",
                    Found::File(_) => "file",
                    Found::Nothing => "nothing",
                    other => panic!("unexpected {other:?}"),
                })
                .collect();
            assert_eq!(
                kinds,
                [
                    "link", "link", "file", "file", "nothing", "nothing", "nothing", "file"
                ]
            );
            let mut listed: Vec<(std::path::PathBuf, Vec<&str>)> = survey
                .listed
                .iter()
                .map(|(dir, entries)| {
                    assert!(entries.iter().all(|(_, kind)| *kind == EntryType::Symlink));
                    let mut names: Vec<&str> =
                        entries.iter().map(|(n, _)| n.to_str().unwrap()).collect();
                    names.sort();
                    (dir.clone(), names)
                })
                .collect();
            listed.sort();
            // A directory reached through a symlink at its name is looked in, not listed: that
            // is left to the dead-link scan, which lists each real directory once.
            let expected = vec![
                (tmp.path().join("a"), vec!["undeclared"]),
                (tmp.path().join("b"), vec!["undeclared"]),
            ];
            assert_eq!(
                listed, expected,
                "only links not declared, each directory once"
            );
            // A symlink to a directory, and a directory not there, are not real directories.
            let mut real: Vec<_> = survey.directories.into_iter().collect();
            real.sort();
            assert_eq!(real, [tmp.path().join("a"), tmp.path().join("b")]);
        }
    }

    #[test]
    fn below_a_missing_directory_there_is_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        // `a-x` sorts between `a` and `a/b`, and is there.
        fs::create_dir(tmp.path().join("a-x")).unwrap();
        symlink("text", tmp.path().join("a-x/l")).unwrap();
        let targets: Vec<_> = ["a/f", "a/b/f", "a-x/l", "a/b/c/f", "a-x/f/g"]
            .iter()
            .map(|t| tmp.path().join(t))
            .collect();
        let given: Vec<&Path> = targets.iter().map(|t| t.as_path()).collect();
        let survey = survey(&given, true, usize::MAX);
        assert_eq!(
            survey.found,
            [
                Found::Nothing,
                Found::Nothing,
                Found::Symlink("text".into()),
                Found::Nothing,
                Found::Nothing,
            ]
        );
        assert_eq!(survey.directories.len(), 1);
    }

    #[test]
    fn nothing_is_listed_unless_asked() {
        let (tmp, targets) = tree();
        let given: Vec<&Path> = targets.iter().map(|t| t.as_path()).collect();
        let survey = survey(&given, false, 0);
        assert!(survey.listed.is_empty());
        assert!(matches!(survey.found[0], Found::Symlink(_)));
        assert!(matches!(survey.found[7], Found::File(_)));
        assert_eq!(survey.directories.len(), 2);
        assert!(!survey.directories.contains(&tmp.path().join("via")));
    }
}
