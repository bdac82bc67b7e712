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

use super::inspect::{self, Expected, Found};
use crate::link_text;
use crate::listing::{EntryType, Handle};
use crate::manifest::Method;
use crate::paths::SharedPath;
use crate::state::{PathMap, Record, SharedPathSet};
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// What the survey saw.
pub(super) struct Survey {
    /// What is at each target, in the order the targets were given.
    pub found: Vec<Found>,
    /// The directories that were real directories, not symlinks, when opened.
    pub directories: SharedPathSet,
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

/// The targets, borrowed, with what the survey needs of each: its path, and the state's
/// record of the link dotlink made there (a link found with the text it records is not
/// copied), asked for by the target's place among `paths` as each is looked at (a list of
/// them was eight bytes a target, held through the survey).
struct Targets<'a, 't> {
    paths: &'a [&'t Path],
    recorded: &'a (dyn Fn(usize) -> Option<&'t Record> + Sync + 'a),
}

impl<'t> Targets<'_, 't> {
    fn path(&self, t: Target) -> &'t Path {
        self.paths[t.at as usize]
    }

    /// What a look at `t` compares a link's text with, its default text built in `texts`.
    fn expected<'e>(&self, t: Target, texts: &'e mut link_text::Texts) -> Expected<'e>
    where
        't: 'e,
    {
        match (self.recorded)(t.at as usize) {
            Some(record) if record.method == Method::Symlink => match &record.own_text {
                Some(own) => Expected::Text(own),
                None => {
                    // The directory as split already, where the record spells the target alike.
                    let parts = match record.target.as_os_str() == self.path(t).as_os_str() {
                        true => texts.parts_in(Path::new(self.split(t).0), &record.source),
                        false => texts.default_parts(&record.target, &record.source),
                    };
                    parts.map_or(Expected::Nothing, |parts| Expected::Default {
                        parts,
                        target: &record.target,
                        source: &record.source,
                    })
                }
            },
            _ => Expected::Nothing,
        }
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

/// What was looked at before the survey by the thread that read the state, while the other
/// walked the repository (see [`look_early`]): the recorded targets, in the
/// directory order, as far as it got, and what it saw of their directories.
pub struct Early {
    targets: Vec<SharedPath>,
    found: Vec<Found>,
    seen: Seen,
}

/// Look at the targets of `records` (the state's) directory by directory, listing each directory
/// too when `list` is set, until `stop` is set (the repository is walked): for a run with nothing
/// to do they are the declared targets, and what is looked at here the survey need not look at
/// again. Only for runs that change nothing, or that hold the lock already with no interrupted run
/// to recover (`Look` in `cli`).
pub fn look_early(mut records: Vec<&Record>, list: bool, stop: &AtomicBool) -> Early {
    records.retain(|r| matches!(crate::paths::parent_and_name(&r.target), (Some(_), Some(_))));
    crate::paths::sort_by_directory(&mut records, |r| &r.target);
    let paths: Vec<&Path> = records.iter().map(|r| &*r.target).collect();
    let recorded = |i: usize| Some(records[i]);
    let all = Targets {
        paths: &paths,
        recorded: &recorded,
    };
    let order: Vec<Target> = (0..paths.len())
        .map(|i| Target {
            dir_len: crate::paths::parent_and_name(paths[i])
                .0
                .map_or(0, |d| d.as_os_str().len() as u32),
            at: i as u32,
        })
        .collect();
    let mut found = Vec::new();
    let mut seen = Seen::default();
    // Tests make the first directories certain to be looked at here, however quick the walk.
    let at_least = crate::context::threshold("DOTLINK_LOOK_EARLY_DIRS", 0) as usize;
    let runs = order.chunk_by(|a, b| all.split(*a).0 == all.split(*b).0);
    for (i, run) in runs.enumerate() {
        if i >= at_least && stop.load(Ordering::Relaxed) {
            break;
        }
        seen.merge(look_in(&all, &[run], list, &mut |_, look| found.push(look)));
    }
    drop(paths);
    records.truncate(found.len());
    Early {
        targets: records.into_iter().map(|r| r.target.clone()).collect(),
        found,
        seen,
    }
}

/// What is at each of `targets`, taking what was looked at early (`early`) for the targets it
/// covers, byte for byte: both are in the directory order, so one pass pairs them. `recorded`
/// gives the state's record for the target at a place among `targets`. The directories
/// are listed too when `list` is set; from `threads_from` targets a second thread takes half
/// of them.
pub(super) fn survey_with<'s>(
    targets: &[&'s Path],
    recorded: impl Fn(usize) -> Option<&'s Record> + Sync,
    list: bool,
    threads_from: usize,
    early: Option<Early>,
) -> Survey {
    // Each look is put in its target's place as it is made: none is held in a list of its own.
    let mut found: Vec<Option<Found>> = Vec::with_capacity(targets.len());
    let mut seen = Seen::default();
    match early {
        None => found.resize_with(targets.len(), || None),
        Some(mut early) => {
            let mut j = 0;
            for target in targets {
                let key = crate::paths::by_directory(target);
                while j < early.targets.len() && crate::paths::by_directory(&early.targets[j]) < key
                {
                    j += 1;
                }
                match early.targets.get(j) {
                    Some(looked) if looked.as_os_str() == target.as_os_str() => {
                        found.push(Some(std::mem::replace(&mut early.found[j], Found::Nothing)));
                        j += 1;
                    }
                    _ => found.push(None),
                }
            }
            seen = early.seen;
        }
    }
    let all = Targets {
        paths: targets,
        recorded: &recorded,
    };
    seen.merge(look_at_the_rest(&all, &mut found, list, threads_from));
    Survey {
        // In place: an `Option<Found>` is the size of a `Found`.
        found: found
            .into_iter()
            .map(|f| f.expect("every target is looked at"))
            .collect(),
        directories: seen.directories,
        listed: seen.listed,
    }
}

/// Look at each target of `all` that `found` has nothing for yet, putting what is there in its
/// place; list the directories too when `list` is set. From `threads_from` targets a second
/// thread takes half of the directories.
fn look_at_the_rest(
    all: &Targets,
    found: &mut [Option<Found>],
    list: bool,
    threads_from: usize,
) -> Seen {
    let mut order: Vec<Target> = Vec::with_capacity(found.iter().filter(|f| f.is_none()).count());
    for (i, look) in found.iter_mut().enumerate() {
        if look.is_some() {
            continue;
        }
        match crate::paths::parent_and_name(all.paths[i]) {
            (Some(dir), Some(_)) => order.push(Target {
                dir_len: dir.as_os_str().len() as u32,
                at: i as u32,
            }),
            // The odd target without a directory and a name (`/`), looked at the ordinary way.
            _ => *look = Some(inspect::look(all.paths[i])),
        }
    }
    // Targets are normalised, so the directory order puts each directory's names in one run.
    // The planner gives them in that order: checked in one pass, as a list of keys is forty
    // bytes a target.
    if !order.iter().map(|t| all.split(*t)).is_sorted() {
        order.sort_by_cached_key(|t| all.split(*t));
    }
    let runs: Vec<&[Target]> = order
        .chunk_by(|a, b| all.split(*a).0 == all.split(*b).0)
        .collect();
    let (first, second) = runs.split_at(halfway(&runs, order.len(), threads_from));
    let (mut seen, (later, later_seen)) = std::thread::scope(|scope| {
        let second_half = || {
            let mut looked = Vec::with_capacity(second.iter().map(|run| run.len()).sum());
            let seen = look_in(all, second, list, &mut |_, look| looked.push(look));
            (looked, seen)
        };
        // Without a thread (none to be had), this one looks at both halves.
        let helper = (!second.is_empty())
            .then(|| {
                std::thread::Builder::new()
                    .spawn_scoped(scope, second_half)
                    .ok()
            })
            .flatten();
        let seen = look_in(all, first, list, &mut |t, look| {
            found[t.at as usize] = Some(look)
        });
        let later = match helper {
            Some(h) => h.join().expect("looking at targets does not panic"),
            None => second_half(),
        };
        (seen, later)
    });
    for (t, look) in second.iter().flat_map(|run| run.iter()).zip(later) {
        found[t.at as usize] = Some(look);
    }
    seen.merge(later_seen);
    seen
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
    directories: SharedPathSet,
    listed: Listed,
}

impl Seen {
    fn merge(&mut self, other: Seen) {
        self.directories.extend(other.directories);
        self.listed.extend(other.listed);
    }
}

/// Look at the targets of `runs`, each run one directory, giving what is at each to `found`.
fn look_in(
    all: &Targets,
    runs: &[&[Target]],
    list: bool,
    found: &mut impl FnMut(Target, Found),
) -> Seen {
    // Room for every directory at once: each growth hashes every path again.
    let listed = if list { runs.len() } else { 0 };
    let mut seen = Seen {
        directories: SharedPathSet::with_capacity_and_hasher(runs.len(), Default::default()),
        listed: Listed::with_capacity_and_hasher(listed, Default::default()),
    };
    // The last directory found missing: in an empty home (a first apply) most directories are
    // below one that is not there, and need no call to say so.
    let mut missing: Option<&Path> = None;
    let mut texts = link_text::Texts::default();
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
            seen.directories.insert(SharedPath::from(dir));
        }
        if list && let Ok(handle) = &handle {
            // A listing that fails (a handle that cannot list) is left to the dead-link scan.
            if let Ok(entries) = maybe_dead(handle, all, run) {
                seen.listed.insert(dir.to_path_buf(), entries);
            }
        }
        for t in run.iter() {
            let name = all.split(*t).1;
            let look = inspect::look_in(&handle, name, all.expected(*t, &mut texts), || {
                all.path(*t).to_path_buf()
            });
            found(*t, look);
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
const _: () = assert!(std::mem::size_of::<Found>() <= 24);

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    /// The survey with nothing looked at early, `records` giving the state's record of each
    /// target (none where it is short).
    fn survey<'s>(
        targets: &[&'s Path],
        records: &[Option<&'s Record>],
        list: bool,
        threads_from: usize,
    ) -> Survey {
        let recorded = |i: usize| records.get(i).copied().flatten();
        survey_with(targets, recorded, list, threads_from, None)
    }

    /// A record of a symlink at `target` to `source`, holding `own_text`.
    fn symlink_record(target: &Path, source: &Path, own_text: Option<&SharedPath>) -> Record {
        Record {
            target: target.into(),
            source: source.into(),
            method: Method::Symlink,
            own_text: own_text.cloned(),
            inode: None,
        }
    }

    /// A record at `target` with no link text to compare with (a hard link's).
    fn unlinked(target: &Path) -> Record {
        Record {
            method: Method::Hardlink,
            ..symlink_record(target, Path::new("/r/x"), None)
        }
    }

    #[test]
    fn a_target_splits_into_its_directory_and_name() {
        let paths = [Path::new("/x"), Path::new("/a/bc/d")];
        let all = Targets {
            paths: &paths,
            recorded: &|_| None,
        };
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
            let survey = survey(&given, &[], true, threads_from);
            let kinds: Vec<&str> = survey
                .found
                .iter()
                .map(|f| match f {
                    Found::Symlink(text) if **text == *Path::new("text") => "link",
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
            let mut real: Vec<_> = survey.directories.iter().map(|d| d.to_path_buf()).collect();
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
        let survey = survey(&given, &[], true, usize::MAX);
        assert_eq!(
            survey.found,
            [
                Found::Nothing,
                Found::Nothing,
                Found::Symlink(Path::new("text").into()),
                Found::Nothing,
                Found::Nothing,
            ]
        );
        assert_eq!(survey.directories.len(), 1);
    }

    /// What was looked at early (some of the targets, and a recorded target not declared any
    /// more) is taken as it is, and the rest is surveyed: each target's look and the real
    /// directories come out as one survey gives them, and no dead-link candidate is lost (a
    /// listing made early may leave out the early targets' names, which are recorded).
    #[test]
    fn what_was_looked_at_early_is_taken_and_the_rest_surveyed() {
        let (tmp, mut targets) = tree();
        crate::paths::sort_by_directory(&mut targets, |t| t);
        let given: Vec<&Path> = targets.iter().map(|t| t.as_path()).collect();
        let plain = survey(&given, &[], true, usize::MAX);
        let undeclared = tmp.path().join("a/undeclared");
        let subsets: [Vec<usize>; 4] = [
            vec![],
            (0..targets.len()).collect(),
            (0..targets.len()).step_by(2).collect(),
            (0..targets.len() / 2).collect(),
        ];
        for subset in subsets {
            let mut early: Vec<Record> = subset.iter().map(|&i| unlinked(given[i])).collect();
            early.push(unlinked(&undeclared));
            let looked = look_early(early.iter().collect(), true, &AtomicBool::new(false));
            let names_early: Vec<std::path::PathBuf> =
                looked.targets.iter().map(|t| t.to_path_buf()).collect();
            let early: Vec<Record> = names_early.iter().map(|t| unlinked(t)).collect();
            for threads_from in [0, usize::MAX] {
                let with = survey_with(
                    &given,
                    |_| None,
                    true,
                    threads_from,
                    Some(look_early(
                        early.iter().collect(),
                        true,
                        &AtomicBool::new(false),
                    )),
                );
                assert_eq!(with.found, plain.found, "{subset:?}");
                assert_eq!(with.directories, plain.directories, "{subset:?}");
                for (dir, entries) in &plain.listed {
                    let listed = with.listed.get(dir).expect("every directory listed");
                    for (name, _) in entries {
                        let early_name = names_early.contains(&dir.join(name));
                        assert!(
                            early_name || listed.iter().any(|(n, _)| n == name),
                            "{subset:?}: {name:?} in {dir:?} lost"
                        );
                    }
                }
            }
        }
        // Stopped before it began, it looked at nothing.
        let early: Vec<Record> = given.iter().map(|t| unlinked(t)).collect();
        let looked = look_early(early.iter().collect(), true, &AtomicBool::new(true));
        assert!(looked.found.is_empty() && looked.targets.is_empty());
    }

    #[test]
    fn a_link_with_its_recorded_text_shares_it() {
        let (_tmp, targets) = tree();
        let given: Vec<&Path> = targets.iter().map(|t| t.as_path()).collect();
        let text = std::fs::read_link(given[0]).unwrap();
        let recorded: SharedPath = SharedPath::from(text.as_path());
        let other: SharedPath = SharedPath::from(text.join("x").as_path());
        let shares = |found: &Found, spelling: &SharedPath| match found {
            Found::Symlink(stored) => {
                assert_eq!(**stored, *text, "the text as it is, shared or not");
                SharedPath::ptr_eq(stored, spelling)
            }
            other => panic!("not a link: {other:?}"),
        };
        // `declared` holds `text`: the default text of a link there to `text` beside it.
        let beside = given[0].parent().unwrap().join("text");
        let default = symlink_record(given[0], &beside, None);
        let elsewhere = symlink_record(given[0], &beside.join("x"), None);
        let source_shared = |found: &Found| match found {
            Found::DefaultSymlink { target, source } => {
                SharedPath::ptr_eq(target, &default.target)
                    && SharedPath::ptr_eq(source, &default.source)
            }
            other => panic!("not the default text: {other:?}"),
        };
        let same = symlink_record(given[0], Path::new("/r/x"), Some(&recorded));
        let not = symlink_record(given[0], Path::new("/r/x"), Some(&other));
        for threads_from in [0, usize::MAX] {
            let found = survey(&given[..1], &[Some(&same)], false, threads_from);
            assert!(shares(&found.found[0], &recorded));
            let found = survey(&given[..1], &[Some(&not)], false, threads_from);
            assert!(!shares(&found.found[0], &other));
            let found = survey(&given[..1], &[Some(&default)], false, threads_from);
            assert!(source_shared(&found.found[0]));
            let found = survey(&given[..1], &[Some(&elsewhere)], false, threads_from);
            assert!(matches!(&found.found[0], Found::Symlink(t) if **t == *text));
        }
        let looked = look_early(vec![&same], false, &AtomicBool::new(false));
        assert!(shares(&looked.found[0], &recorded));
        let looked = look_early(vec![&not], false, &AtomicBool::new(false));
        assert!(!shares(&looked.found[0], &other));
        let looked = look_early(vec![&default], false, &AtomicBool::new(false));
        assert!(source_shared(&looked.found[0]));
        // Its text, derived again, is what the link holds.
        let found = looked.found[0].clone().with_text();
        assert_eq!(found, Found::Symlink(text.as_path().into()));
    }

    #[test]
    fn nothing_is_listed_unless_asked() {
        let (tmp, targets) = tree();
        let given: Vec<&Path> = targets.iter().map(|t| t.as_path()).collect();
        let survey = survey(&given, &[], false, 0);
        assert!(survey.listed.is_empty());
        assert!(matches!(survey.found[0], Found::Symlink(_)));
        assert!(matches!(survey.found[7], Found::File(_)));
        assert_eq!(survey.directories.len(), 2);
        assert!(
            !survey
                .directories
                .contains(tmp.path().join("via").as_path())
        );
    }
}
