//! The guard on `status` and no-op `apply` staying at the system-call floor: the calls of the
//! real binary counted with `strace -c -f` on a 2,000-link tree shaped like the benchmark's (20
//! Stow-style packages of 100 files, linked file by file). System-call counts are
//! deterministic, so this is a test where a timing would not be.
//!
//! The floor is what the work needs and nothing more: one `readlinkat` per link, one listing of
//! each repository directory (`openat`, `getdents64` until it returns nothing: twice, `close`),
//! and one handle on each home directory (`openat`, `close`). `status` also lists each home
//! directory once, to count the dead links other tools left there, through that same handle
//! (`getdents64` twice: two more calls).
//! Start-up (the loader, reading the manifest and the state, the lock) is the same for any tree,
//! so it is measured on a tree of one link and added. A run more than 10% above its floor fails.

use crate::common::Sandbox;
use crate::peers::tool;
use std::fs;
use std::path::Path;

/// `files` files in Stow-style packages of 100, as `bench/bench.py` makes them.
fn packages(s: &Sandbox, files: usize) {
    let mut manifest = String::new();
    for p in 0..files.div_ceil(100) {
        let pkg = format!("pkg{p:03}");
        for m in 0..(files - p * 100).min(100) {
            let rel = match m {
                0 => format!(".{pkg}rc"),
                1..=9 => format!(".config/{pkg}/file{m}"),
                10..=89 => format!(".config/{pkg}/d{}/file{m}", m / 10),
                _ => format!(".local/bin/{pkg}-tool{m}"),
            };
            s.source(&format!("{pkg}/{rel}"), &rel);
        }
        manifest += &format!("[[link]]\nsource = \"{pkg}\"\ntarget = \"~\"\nrecursive = true\n");
    }
    s.manifest(&manifest);
}

/// How many directories there are in `root`, itself included.
fn dirs(root: &Path) -> usize {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter(|e| e.as_ref().unwrap().file_type().is_dir())
        .count()
}

/// The system calls of `dotlink ARGS` in the sandbox, children included.
fn calls(s: &Sandbox, args: &[&str]) -> usize {
    let out = s.path().join("strace.out");
    let strace = tool("strace");
    let status = s
        .command_under(&strace, &["-f", "-c", "-o", out.to_str().unwrap(), "--"])
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "dotlink {args:?} under strace: {status}");
    let summary = fs::read_to_string(&out).unwrap();
    let total = summary
        .lines()
        .find(|l| l.trim_end().ends_with(" total"))
        .unwrap_or_else(|| panic!("no total in strace's summary:\n{summary}"));
    eprintln!("dotlink {args:?}:\n{summary}");
    // `% time  seconds  usecs/call  calls  [errors]  total`: the calls are the fourth column.
    total.split_whitespace().nth(3).unwrap().parse().unwrap()
}

/// A linked tree of `files` files: its repository's package directories, its home's
/// directories, and the calls of `status` and of a no-op `apply`.
struct Measured {
    links: usize,
    repo_dirs: usize,
    home_dirs: usize,
    status: usize,
    apply: usize,
}

fn measure(files: usize) -> Measured {
    let s = Sandbox::new();
    packages(&s, files);
    s.run(&["apply", "-q"]).code(0);
    s.run(&["status", "-q"]).code(0);
    Measured {
        links: files,
        // The repository's root is not walked: only the packages below it are.
        repo_dirs: dirs(&s.repo()) - 1,
        home_dirs: dirs(&s.home()),
        status: calls(&s, &["status", "-q"]),
        apply: calls(&s, &["apply", "-q"]),
    }
}

#[test]
fn status_and_a_no_op_apply_stay_within_ten_percent_of_the_floor() {
    let one = measure(1);
    let tree = measure(2000);
    assert_eq!(
        (tree.repo_dirs, tree.home_dirs),
        (260, 184),
        "the tree's shape"
    );
    let floor = |start: usize, home_calls: usize| {
        start
            + (tree.links - one.links)
            + (tree.repo_dirs - one.repo_dirs) * 4
            + (tree.home_dirs - one.home_dirs) * home_calls
    };
    for (what, calls, floor) in [
        ("status", tree.status, floor(one.status, 2 + 2)),
        ("no-op apply", tree.apply, floor(one.apply, 2)),
    ] {
        let limit = floor + floor / 10;
        eprintln!("{what}: {calls} system calls, floor {floor}, limit {limit}");
        assert!(
            calls <= limit,
            "{what} made {calls} system calls on 2,000 links; the floor is {floor} and at most \
             {limit} (10% more) may be made. Run it under `strace -f -c` to see which calls grew."
        );
    }
}
