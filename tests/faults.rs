//! Faults from the system: permissions, read-only directories, files where directories must be,
//! symlink loops, awkward names and very long paths. Each gives a clear error, leaves everything
//! else applied or untouched as the policy says, and never panics.

use crate::common::{Run, Sandbox};
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

#[track_caller]
fn no_panic(run: &Run) {
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_ne!(run.code, 101, "{}", run.stderr);
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_read_only_directory_fails_that_link_only_and_says_why() {
    let s = Sandbox::new();
    s.source("a", "a").source("b", "b");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.config/a\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\n");
    fs::create_dir(s.home().join(".config")).unwrap();
    chmod(&s.home().join(".config"), 0o555);
    let run = s.run_unprivileged(&["apply"]);
    no_panic(&run);
    run.code(1)
        .stderr_has("error: ~/.config/a: cannot create link")
        .stderr_has("Permission denied")
        .stderr_has("hint: check the permissions")
        .stdout_has("1 created, 1 failed");
    assert!(
        s.home().join(".b").is_symlink(),
        "the other link is still made"
    );
    assert!(fs::symlink_metadata(s.home().join(".config/a")).is_err());
    chmod(&s.home().join(".config"), 0o755);
    s.run(&["apply"]).code(0).stdout_has("1 created");
}

#[test]
fn a_backup_that_cannot_move_the_file_leaves_it_in_place() {
    let s = Sandbox::new();
    s.source("a", "a")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.ro/a\"\non_conflict = \"backup\"\n");
    s.home_file(".ro/a", "precious");
    chmod(&s.home().join(".ro"), 0o555);
    let run = s.run_unprivileged(&["apply"]);
    no_panic(&run);
    run.code(1)
        .stderr_has("~/.ro/a")
        .stderr_has("Permission denied");
    assert_eq!(
        fs::read_to_string(s.home().join(".ro/a")).unwrap(),
        "precious"
    );
    chmod(&s.home().join(".ro"), 0o755);
}

#[test]
fn an_unreadable_directory_is_a_conflict_not_a_crash() {
    let s = Sandbox::new();
    s.source("a", "a").source("b", "b");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.locked/a\"\non_conflict = \"skip\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\n");
    fs::create_dir(s.home().join(".locked")).unwrap();
    chmod(&s.home().join(".locked"), 0o000);
    let run = s.run_unprivileged(&["apply"]);
    no_panic(&run);
    run.code(0)
        .stdout_has("! ~/.locked/a")
        .stdout_has("Permission denied");
    assert!(s.home().join(".b").is_symlink());
    chmod(&s.home().join(".locked"), 0o755);
}

#[test]
fn a_symlink_loop_at_a_target_is_a_foreign_link() {
    let s = Sandbox::new();
    s.source("a", "a")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.loop\"\n");
    s.home_link(".loop", ".loop");
    let run = s.run(&["apply"]);
    no_panic(&run);
    run.code(1).stdout_has("did not make");
    s.run(&["apply", "--on-conflict", "overwrite"]).code(0);
    assert_eq!(fs::read_to_string(s.home().join(".loop")).unwrap(), "a");
}

#[test]
fn a_symlink_loop_in_the_repository_is_a_clear_error() {
    let s = Sandbox::new();
    symlink("loop", s.repo().join("loop")).unwrap();
    s.manifest("[[link]]\nsource = \"loop\"\ntarget = \"~/.loop\"\n");
    let run = s.run(&["apply"]);
    no_panic(&run);
    run.code(2)
        .stderr_has("dotlink.toml:2:10")
        .stderr_has("symlink loop");
}

#[test]
fn a_source_replaced_by_a_symlink_out_of_the_repository_is_refused() {
    let s = Sandbox::new();
    s.source("a", "a").source("keep", "k");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"keep\"\ntarget = \"~/.keep\"\n");
    s.run(&["apply"]).code(0);
    fs::remove_file(s.repo().join("a")).unwrap();
    symlink("/etc/hostname", s.repo().join("a")).unwrap();
    let before = s.whole_tree();
    let run = s.run(&["apply"]);
    no_panic(&run);
    run.code(2)
        .stderr_has("dotlink.toml:2:10: source")
        .stderr_has("resolves to /etc/hostname, outside the repository");
    assert_eq!(s.whole_tree(), before);
}

#[test]
fn names_with_spaces_newlines_and_bytes_that_are_not_utf8() {
    let s = Sandbox::new();
    let names: [&[u8]; 4] = [b"with space", b"new\nline", b"caf\xe9", b"tab\there"];
    for name in names {
        let path = s.repo().join("odd").join(OsStr::from_bytes(name));
        crate::common::write(&path, "odd");
    }
    s.manifest("[[link]]\nsource = \"odd\"\ntarget = \"~/odd\"\nrecursive = true\n");
    s.run(&["apply"]).code(0).stdout_has("4 created");
    for name in names {
        let link = s.home().join("odd").join(OsStr::from_bytes(name));
        assert_eq!(fs::read_to_string(&link).unwrap(), "odd", "{link:?}");
    }
    s.run(&["status"]).code(0);
    let json = s.run(&["status", "--json"]).json();
    assert_eq!(json["summary"]["ok"], 4);
    s.run(&["apply"]).code(0).stdout_has("Nothing to do");
    // The state file keeps the exact bytes: dropping the entry prunes every one of them.
    s.manifest("");
    s.run(&["apply"]).code(0).stdout_has("4 pruned");
    assert!(!s.home().join("odd").exists());
}

#[test]
fn the_longest_names_and_paths_beyond_the_limit() {
    let s = Sandbox::new();
    let long = "n".repeat(255);
    s.source(&format!("d/{long}"), "long name");
    s.manifest("[[link]]\nsource = \"d\"\ntarget = \"~/d\"\nrecursive = true\n");
    s.run(&["apply"]).code(0);
    assert_eq!(
        fs::read_to_string(s.home().join("d").join(&long)).unwrap(),
        "long name"
    );
    // Relinking a 255-byte name needs a temporary name that fits too.
    s.manifest(
        "[[link]]\nsource = \"d\"\ntarget = \"~/d\"\nrecursive = true\nstyle = \"absolute\"\n",
    );
    s.run(&["apply"]).code(0).stdout_has("1 relinked");

    // A target path longer than the system allows: a clear conflict, nothing else touched.
    let deep: Vec<String> = (0..20).map(|i| format!("{i:0>250}")).collect();
    s.source("x", "x").source("y", "y");
    s.manifest(&format!(
        "[[link]]\nsource = \"x\"\ntarget = \"~/{}\"\non_conflict = \"skip\"\n[[link]]\nsource = \"y\"\ntarget = \"~/.y\"\n",
        deep.join("/")
    ));
    let run = s.run(&["apply"]);
    no_panic(&run);
    run.code(0).stdout_has("File name too long");
    assert!(s.home().join(".y").is_symlink());
}

#[test]
fn a_parent_path_that_is_a_regular_file_is_explained() {
    let s = Sandbox::new();
    s.source("a", "a")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.f/a\"\n");
    s.home_file(".f", "a file");
    let run = s.run(&["apply"]);
    no_panic(&run);
    run.code(1)
        .stdout_has("~/.f is a file, not a directory, but a directory is needed there");
    assert_eq!(fs::read_to_string(s.home().join(".f")).unwrap(), "a file");
}

#[test]
fn a_home_that_does_not_exist_yet_is_created() {
    let s = Sandbox::new();
    s.source("a", "a")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    fs::remove_dir(s.home()).unwrap();
    s.run(&["apply"]).code(0);
    assert_eq!(
        fs::read_link(s.home().join(".a")).unwrap(),
        PathBuf::from("../repo/a")
    );
}

/// A small tmpfs mounted at `at` for the life of the value (tests run as root in CI). `None`,
/// with the reason printed, where mounting is impossible.
struct SmallFs(PathBuf);

impl SmallFs {
    /// Root (CI) must be able to mount: a failure there fails the test. Anyone else gets
    /// `None`, with the reason printed, and the test returns.
    fn mount(at: &Path, size: &str) -> Option<SmallFs> {
        fs::create_dir_all(at).unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(SmallFs(at.to_path_buf())),
            Ok(o) => Self::cannot(&String::from_utf8_lossy(&o.stderr)),
            Err(e) => Self::cannot(&e.to_string()),
        }
    }
}

impl SmallFs {
    fn cannot(why: &str) -> Option<SmallFs> {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        assert!(!root, "root could not mount a small tmpfs: {why}");
        eprintln!("cannot mount a small tmpfs (not root), so this test does not run: {why}");
        None
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_backup_filesystem_that_fills_up_strands_nothing() {
    let s = Sandbox::new();
    let Some(_bk) = SmallFs::mount(&s.home().join(".bk"), "256k") else {
        return;
    };
    s.source("d/inner", "repo d").source("x", "x");
    // A 1 MiB directory in the way, to be backed up onto a 256 KiB filesystem.
    let big = "z".repeat(64 * 1024);
    for i in 0..16 {
        s.home_file(&format!(".d/part{i}"), &big);
    }
    s.manifest("[defaults]\nbackup_dir = \"~/.bk\"\n[[link]]\nsource = \"d\"\ntarget = \"~/.d\"\non_conflict = \"backup\"\n[[link]]\nsource = \"x\"\ntarget = \"~/.x\"\n");
    let before = fs::read_dir(s.home().join(".d")).unwrap().count();
    s.run(&["apply"])
        .code(1)
        .stderr_has("~/.d: cannot back up")
        .stdout_has("1 created")
        .stdout_has("1 failed");
    // The directory is whole at its place, nothing is at a temporary name, and status says so.
    assert!(s.home().join(".d").is_dir() && !s.home().join(".d").is_symlink());
    assert_eq!(fs::read_dir(s.home().join(".d")).unwrap().count(), before);
    for i in 0..16 {
        assert_eq!(
            fs::read_to_string(s.home().join(format!(".d/part{i}"))).unwrap(),
            big
        );
    }
    let leftovers = s.leftovers();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    s.run(&["status"]).code(1).stdout_has("conflict");
    s.run(&["restore", "--list"])
        .code(0)
        .stdout_has("No backups");
}

#[test]
fn a_directory_backup_across_filesystems_is_whole_and_restorable() {
    let s = Sandbox::new();
    let Some(_bk) = SmallFs::mount(&s.home().join(".bk"), "4m") else {
        return;
    };
    s.source("d/inner", "repo d");
    s.home_file(".d/notes", "user d")
        .home_file(".d/deeper/more", "user d2");
    s.manifest("[defaults]\nbackup_dir = \"~/.bk\"\n[[link]]\nsource = \"d\"\ntarget = \"~/.d\"\non_conflict = \"backup\"\n");
    s.run(&["apply"]).code(0).stdout_has("1 backed up");
    assert!(s.home().join(".d").is_symlink());
    s.run(&["unlink"]).code(0);
    s.run(&["restore"]).code(0);
    assert_eq!(
        fs::read_to_string(s.home().join(".d/notes")).unwrap(),
        "user d"
    );
    assert_eq!(
        fs::read_to_string(s.home().join(".d/deeper/more")).unwrap(),
        "user d2"
    );
}

/// The ways a directory cannot be removed whole, for [`with_a_directory_that_cannot_be_removed_whole`].
const CANNOT_BE_REMOVED_WHOLE: [&str; 7] = [
    "mounted inside",
    "bind mount",
    "file bind mount",
    "immutable",
    "not the user's",
    "sticky",
    "unreadable",
];

/// What a case of [`with_a_directory_that_cannot_be_removed_whole`] set up, undone when the test
/// ends: a mount, or a file made immutable (which not even root could remove, nor the test's
/// temporary directory with it).
enum Arranged {
    /// Unmounted as it drops.
    Mount {
        _held: SmallFs,
    },
    Immutable(PathBuf),
}

impl Drop for Arranged {
    fn drop(&mut self) {
        if let Arranged::Immutable(file) = self {
            let _ = std::process::Command::new("chattr")
                .arg("-i")
                .arg(file)
                .status();
        }
    }
}

/// `~/.d` (`a`, `sub/b`) made impossible to remove whole, as `case` says: another filesystem
/// mounted inside (`mnt`, holding `precious`); `~/elsewhere` (holding `keep`) bind-mounted at
/// `mnt`, or `~/elsewhere/keep` bind-mounted on the file `a`; `sub/b` immutable (`chattr +i`,
/// which the test's directory, on the VM's ext4 `/tmp`, keeps); or, as nobody, `sub` given to
/// root, `sub` a sticky directory of root's holding a file of root's, or `sub` unreadable.
/// Then `args` are run as the case needs. Returns what was set up (kept until the test ends),
/// the home before, and the run; `None` where this user cannot set the case up.
fn with_a_directory_that_cannot_be_removed_whole(
    s: &Sandbox,
    case: &str,
    args: &[&str],
) -> Option<(Option<Arranged>, crate::common::Tree, Run)> {
    s.home_file(".d/a", "user a")
        .home_file(".d/sub/b", "user b");
    let mounted = match case {
        "mounted inside" => {
            let mounted = SmallFs::mount(&s.home().join(".d/mnt"), "1m")?;
            s.home_file(".d/mnt/precious", "on its own filesystem");
            Some(Arranged::Mount { _held: mounted })
        }
        "immutable" => {
            let file = s.home().join(".d/sub/b");
            let set = std::process::Command::new("chattr")
                .arg("+i")
                .arg(&file)
                .output();
            let why = match set {
                Ok(out) if out.status.success() => String::new(),
                Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
                Err(e) => format!("chattr: {e}"),
            };
            if why.is_empty() {
                Some(Arranged::Immutable(file))
            } else {
                // Fails the test as root (CI); anyone else is told why it does not run.
                // SAFETY: geteuid has no preconditions.
                let root = unsafe { libc::geteuid() } == 0;
                assert!(!root, "root could not make a file immutable: {why}");
                eprintln!(
                    "cannot make a file immutable (not root), so this case does not run: {why}"
                );
                return None;
            }
        }
        "bind mount" | "file bind mount" => {
            s.home_file("elsewhere/keep", "not in ~/.d");
            let (from, mnt) = if case == "bind mount" {
                let mnt = s.home().join(".d/mnt");
                fs::create_dir(&mnt).unwrap();
                (s.home().join("elsewhere"), mnt)
            } else {
                (s.home().join("elsewhere/keep"), s.home().join(".d/a"))
            };
            let bound = std::process::Command::new("mount")
                .arg("--bind")
                .arg(from)
                .arg(&mnt)
                .output();
            let refused = match bound {
                Ok(out) if out.status.success() => None,
                Ok(out) => Some(String::from_utf8_lossy(&out.stderr).into_owned()),
                Err(e) => Some(e.to_string()),
            };
            match refused {
                None => Some(Arranged::Mount {
                    _held: SmallFs(mnt),
                }),
                // Fails the test as root; otherwise says why it does not run.
                Some(why) => return SmallFs::cannot(&why).and(None),
            }
        }
        _ => {
            // SAFETY: geteuid has no preconditions.
            if unsafe { libc::geteuid() } != 0 {
                return None;
            }
            s.hand_to_nobody();
            let sub = s.home().join(".d/sub");
            match case {
                // The user's own, but what is in it cannot be seen without changing it.
                "unreadable" => chmod(&sub, 0o000),
                _ => std::os::unix::fs::chown(&sub, Some(0), Some(0)).unwrap(),
            }
            if case == "sticky" {
                std::os::unix::fs::chown(sub.join("b"), Some(0), Some(0)).unwrap();
                chmod(&sub, 0o1777);
            }
            None
        }
    };
    let before = s.home_tree();
    let run = match mounted {
        Some(_) => s.run(args),
        None => s.run_as_nobody(args),
    };
    no_panic(&run);
    Some((mounted, before, run))
}

/// A directory that cannot be moved whole to the backup filesystem is not moved at all: one
/// with another filesystem mounted inside (its files are not the directory's to move, and the
/// mount point cannot be removed), or one with a directory the user may not remove files from.
/// It was copied, then removed as far as that went: half of it was gone from the home, the
/// mounted filesystem emptied, and the whole copy missing from `restore --list`.
#[test]
fn a_directory_that_cannot_be_moved_whole_across_filesystems_is_left_whole() {
    for case in CANNOT_BE_REMOVED_WHOLE {
        let s = Sandbox::new();
        let Some(_bk) = SmallFs::mount(&s.home().join(".bk"), "4m") else {
            return;
        };
        s.source("d/inner", "repo d");
        s.manifest("[defaults]\nbackup_dir = \"~/.bk\"\n[[link]]\nsource = \"d\"\ntarget = \"~/.d\"\non_conflict = \"backup\"\n");
        let Some((_mounted, before, run)) =
            with_a_directory_that_cannot_be_removed_whole(&s, case, &["apply"])
        else {
            return;
        };
        run.code(1)
            .stderr_has("cannot be moved to another filesystem whole")
            .stderr_has("nothing was changed");
        assert_eq!(s.home_tree(), before, "{case}: the home is as it was");
        assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
    }
}

/// `overwrite` of a directory that could not be removed whole (another filesystem mounted
/// inside, or, as nobody, a directory of root's in it) changes nothing: it was removed as far
/// as that went, then put back half removed.
#[test]
fn overwrite_leaves_a_directory_that_cannot_be_removed_whole_as_it_is() {
    for case in CANNOT_BE_REMOVED_WHOLE {
        let s = Sandbox::new();
        s.source("d/inner", "repo d");
        s.manifest("[[link]]\nsource = \"d\"\ntarget = \"~/.d\"\non_conflict = \"overwrite\"\n");
        let Some((_mounted, before, run)) =
            with_a_directory_that_cannot_be_removed_whole(&s, case, &["apply"])
        else {
            return;
        };
        run.code(1)
            .stderr_has("cannot overwrite")
            .stderr_has("cannot be removed whole")
            .stderr_has("nothing was changed");
        assert_eq!(s.home_tree(), before, "{case}: the home is as it was");
        assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
    }
}

/// What can be removed whole is not refused: as nobody, an empty directory of root's inside
/// (removing it takes only the right to write the directory it is in).
#[test]
fn overwrite_removes_an_empty_directory_of_someone_elses_inside() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    let s = Sandbox::new();
    s.source("d/inner", "repo d").home_file(".d/a", "user a");
    fs::create_dir(s.home().join(".d/empty")).unwrap();
    s.manifest("[[link]]\nsource = \"d\"\ntarget = \"~/.d\"\non_conflict = \"overwrite\"\n");
    s.hand_to_nobody();
    std::os::unix::fs::chown(s.home().join(".d/empty"), Some(0), Some(0)).unwrap();
    let run = s.run_as_nobody(&["apply"]);
    no_panic(&run);
    run.code(0);
    assert!(s.home().join(".d").is_symlink());
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
}

/// `~/.d` of five files, declared with `policy`, its backups going to `~/.bk`.
fn five_files(s: &Sandbox, policy: &str) {
    s.source("d/inner", "repo d");
    for i in 1..=5 {
        s.home_file(&format!(".d/f{i}"), &format!("user {i}"));
    }
    s.manifest(&format!("[defaults]\nbackup_dir = \"~/.bk\"\n[[link]]\nsource = \"d\"\ntarget = \"~/.d\"\non_conflict = \"{policy}\"\n"));
}

/// [`five_files`] backed up to a filesystem of their own.
fn five_files_backed_up_across(s: &Sandbox) -> Option<SmallFs> {
    let bk = SmallFs::mount(&s.home().join(".bk"), "4m")?;
    five_files(s, "backup");
    Some(bk)
}

/// Run dotlink with `args` under strace, killed at its `when`th `unlink`.
fn killed_at_unlink(s: &Sandbox, when: usize, args: &[&str]) {
    assert!(
        killed_at(s, "unlink", when, args),
        "{args:?} killed at unlink {when}"
    );
}

/// Run dotlink with `args` under strace, killed at its `when`th call of `call`; whether it was
/// (a run with fewer such calls finishes).
fn killed_at(s: &Sandbox, call: &str, when: usize, args: &[&str]) -> bool {
    let inject = format!("inject={call}:signal=KILL:when={when}");
    let status = s
        .command_under(
            &crate::peers::tool("strace"),
            &["-f", "-o", "/dev/null", "-e", &inject, "--"],
        )
        .args(args)
        .status()
        .unwrap();
    !status.success()
}

/// Whether `~/.d` holds the five files of [`five_files`], and nothing is left over.
#[track_caller]
fn five_files_back(s: &Sandbox, when: usize) {
    for i in 1..=5 {
        assert_eq!(
            fs::read_to_string(s.home().join(format!(".d/f{i}"))).unwrap(),
            format!("user {i}"),
            "killed at unlink {when}"
        );
    }
    assert!(
        s.leftovers().is_empty(),
        "at unlink {when}: {:?}",
        s.leftovers()
    );
}

/// Killed while the original of a directory backed up across filesystems is being removed
/// (at each `unlink`): the target is the link, the backup whole and listed, nothing left.
#[test]
fn a_directory_backup_across_filesystems_killed_while_removing_the_original_is_finished() {
    for when in 1..=4 {
        let s = Sandbox::new();
        let Some(_bk) = five_files_backed_up_across(&s) else {
            return;
        };
        killed_at_unlink(&s, when, &["apply"]);
        s.run(&["apply"]).code(0);
        assert!(s.home().join(".d").is_symlink(), "at unlink {when}");
        assert!(
            s.leftovers().is_empty(),
            "at unlink {when}: {:?}",
            s.leftovers()
        );
        s.run(&["restore", "--list"]).code(0).stdout_has("1 item");
        s.run(&["unlink"]).code(0);
        s.run(&["restore"]).code(0);
        five_files_back(&s, when);
    }
}

/// A file where a directory of links must be, cleared to a backup on another filesystem,
/// killed while the original is removed: the next run finishes, nothing left over. What was
/// left of the original stayed beside it for ever.
#[test]
fn a_file_cleared_to_a_backup_across_filesystems_killed_while_removing_it_is_finished() {
    let s = Sandbox::new();
    let Some(_bk) = SmallFs::mount(&s.home().join(".bk"), "4m") else {
        return;
    };
    s.source("c/x", "x")
        .home_file(".config", "a file in the way");
    s.manifest("[defaults]\nbackup_dir = \"~/.bk\"\n[[link]]\nsource = \"c/x\"\ntarget = \"~/.config/x\"\non_conflict = \"backup\"\n");
    killed_at_unlink(&s, 1, &["apply"]);
    s.run(&["apply"]).code(0);
    assert!(s.home().join(".config/x").is_symlink());
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
    s.run(&["restore", "--list"])
        .code(0)
        .stdout_has("~/.config");
}

/// A backup across filesystems killed at each `renameat2`, then the run that recovers it killed at
/// each of its first unlinks: the third run leaves `~/.d` the link with its backup whole and
/// listed, nothing left over. A recovery removing what it finished in place put a
/// half-removed directory back over the link.
#[test]
fn a_backup_across_filesystems_and_its_recovery_both_killed_are_finished_whole() {
    for first in 1..=6 {
        for second in 1..=3 {
            let s = Sandbox::new();
            let Some(_bk) = five_files_backed_up_across(&s) else {
                return;
            };
            if !killed_at(&s, "renameat2", first, &["apply"]) {
                assert!(
                    first > 3,
                    "a backup across filesystems renames more than {first} times"
                );
                return;
            }
            killed_at(&s, "unlink", second, &["apply"]);
            s.run(&["apply"]).code(0);
            let at = format!("killed at rename {first}, then at unlink {second}");
            assert!(s.home().join(".d").is_symlink(), "{at}");
            assert!(s.leftovers().is_empty(), "{at}: {:?}", s.leftovers());
            s.run(&["unlink"]).code(0);
            s.run(&["restore"]).code(0);
            five_files_back(&s, first);
        }
    }
}

/// A run killed with every step done, only its journal left to remove; the user then puts the
/// backup back by hand (the same bytes at the target): the backup stays in its set, listed, and
/// a later `overwrite` loses nothing. Recovery took it for a copy of its own and removed it.
#[test]
fn a_finished_backup_is_never_taken_for_a_copy_to_drop() {
    let s = Sandbox::new();
    s.source("x", "repo x").home_file(".x", "old x");
    s.manifest("[[link]]\nsource = \"x\"\ntarget = \"~/.x\"\non_conflict = \"backup\"\n");
    assert!(killed_at(&s, "unlink", 1, &["apply"]));
    assert!(
        s.state()
            .join("dotlink")
            .read_dir()
            .unwrap()
            .flatten()
            .any(|e| { e.file_name().to_string_lossy().ends_with(".journal.json") }),
        "killed at removing the journal"
    );
    let set = s.backup_sets().pop().expect("the backup was made");
    fs::remove_file(s.home().join(".x")).unwrap();
    fs::copy(set.join(".x"), s.home().join(".x")).unwrap();
    s.run(&["apply", "--on-conflict", "overwrite"]).code(0);
    assert_eq!(fs::read_to_string(set.join(".x")).unwrap(), "old x");
    s.run(&["restore", "--list"]).code(0).stdout_has("~/.x");
}

/// Killed while the backup of a directory on another filesystem is being removed from its set
/// (at each `unlink`): the next `restore` puts the whole directory back, nothing left over.
/// It put back what was left of the backup, and called the whole copy not dotlink's.
#[test]
fn a_restore_across_filesystems_killed_while_removing_the_backup_is_finished_whole() {
    for when in 1..=4 {
        let s = Sandbox::new();
        let Some(_bk) = five_files_backed_up_across(&s) else {
            return;
        };
        s.run(&["apply"]).code(0);
        s.run(&["unlink"]).code(0);
        killed_at_unlink(&s, when, &["restore"]);
        s.run(&["restore"]).code(0);
        five_files_back(&s, when);
    }
}

/// `overwrite` of a directory killed while removing it (at each `unlink`, after the link took
/// its place): the next run finishes the removal. It put the half-removed directory back over
/// the link, which was neither as it was nor as planned.
#[test]
fn overwrite_killed_while_removing_a_directory_is_finished() {
    for when in 1..=3 {
        let s = Sandbox::new();
        five_files(&s, "overwrite");
        killed_at_unlink(&s, when, &["apply"]);
        s.run(&["apply"])
            .code(0)
            .stderr_has("finished removing what ~/.d held");
        assert!(s.home().join(".d").is_symlink(), "at unlink {when}");
        assert!(
            s.leftovers().is_empty(),
            "at unlink {when}: {:?}",
            s.leftovers()
        );
        s.run(&["status"]).code(0);
    }
}

#[test]
fn on_a_full_disk_every_failed_link_is_reported_as_well_as_the_state_file() {
    let s = Sandbox::new();
    let full = s.home().join(".full");
    // Room for a handful of names only: most links fail, and so does the state file there.
    let Some(_fs) = SmallFs::mount(&full, "64k,nr_inodes=8") else {
        return;
    };
    let mut manifest = String::new();
    for i in 0..20 {
        s.source(&format!("f{i}"), "x");
        manifest.push_str(&format!(
            "[[link]]\nsource = \"f{i}\"\ntarget = \"~/.full/f{i:02}\"\n"
        ));
    }
    s.manifest(&manifest);
    let state = full.join("state");
    let run = s.run_env(&["apply"], &[("XDG_STATE_HOME", state.to_str().unwrap())]);
    run.code(1);
    let failed = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: ~/.full/f") && l.contains("cannot create link"))
        .count();
    assert!(failed >= 10, "{failed} failures reported\n{}", run.stderr);
    let summary = format!("{failed} failed");
    run.stdout_has(&summary);
    assert!(
        run.stderr.contains("No space left on device"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_read_only_directory_backed_up_across_filesystems_leaves_nothing_behind() {
    let s = Sandbox::new();
    let Some(_bk) = SmallFs::mount(&s.home().join("bk"), "4m") else {
        return;
    };
    s.source("gocache/x", "x");
    // Like Go's module cache: read-only directories, files inside.
    s.home_file(".gocache/mod/pkg/a.go", "package a")
        .home_file(".gocache/top", "t");
    for dir in [".gocache/mod/pkg", ".gocache/mod"] {
        fs::set_permissions(s.home().join(dir), fs::Permissions::from_mode(0o555)).unwrap();
    }
    s.manifest("[defaults]\nbackup_dir = \"~/bk\"\n[[link]]\nsource = \"gocache\"\ntarget = \"~/.gocache\"\non_conflict = \"backup\"\n");
    s.run_unprivileged(&["apply"])
        .code(0)
        .stdout_has("1 backed up");
    assert!(s.home().join(".gocache").is_symlink());
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
    s.run_unprivileged(&["apply"])
        .code(0)
        .stdout_has("Nothing to do");
    s.run_unprivileged(&["unlink"]).code(0);
    s.run_unprivileged(&["restore"]).code(0);
    assert_eq!(
        fs::read_to_string(s.home().join(".gocache/mod/pkg/a.go")).unwrap(),
        "package a"
    );
}

/// The modification time of `path`, without following a symlink.
fn mtime(path: &Path) -> std::time::SystemTime {
    fs::symlink_metadata(path).unwrap().modified().unwrap()
}

/// Set `path`'s modification time to a day in 2001.
fn age(path: &Path) -> std::time::SystemTime {
    let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    fs::File::open(path).unwrap().set_modified(old).unwrap();
    old
}

/// Across filesystems a backup is a copy, and it keeps what the file was besides its bytes: a
/// read-only file is backed up and restored by its own user (the copy is never opened for
/// writing), with its mode and times.
#[test]
fn a_read_only_file_backed_up_across_filesystems_comes_back_as_it_was() {
    let s = Sandbox::new();
    let Some(_bk) = SmallFs::mount(&s.home().join("bk"), "4m") else {
        return;
    };
    s.source("key", "repo");
    s.home_file(".key", "mine");
    let old = age(&s.home().join(".key"));
    fs::set_permissions(s.home().join(".key"), fs::Permissions::from_mode(0o400)).unwrap();
    s.manifest("[defaults]\nbackup_dir = \"~/bk\"\n[[link]]\nsource = \"key\"\ntarget = \"~/.key\"\non_conflict = \"backup\"\n");
    s.run_unprivileged(&["apply"])
        .code(0)
        .stdout_has("1 backed up");
    s.run_unprivileged(&["unlink"]).code(0);
    s.run_unprivileged(&["restore"]).code(0);
    let key = s.home().join(".key");
    assert_eq!(fs::read_to_string(&key).unwrap(), "mine");
    assert_eq!(
        fs::metadata(&key).unwrap().permissions().mode() & 0o7777,
        0o400
    );
    assert_eq!(mtime(&key), old);
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
}

/// Run as root, a copy across filesystems keeps the owner, and then the set-user-ID and
/// set-group-ID bits (which a change of owner clears, so the mode is set after it).
#[test]
fn a_set_id_file_backed_up_across_filesystems_keeps_its_owner_and_mode() {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("not root: owners cannot be given away, so this test does not run");
        return;
    }
    let s = Sandbox::new();
    let Some(_bk) = SmallFs::mount(&s.home().join("bk"), "4m") else {
        return;
    };
    s.source("tool", "repo");
    s.home_file(".tool", "mine");
    let tool = s.home().join(".tool");
    std::os::unix::fs::chown(&tool, Some(1234), Some(2345)).unwrap();
    fs::set_permissions(&tool, fs::Permissions::from_mode(0o6755)).unwrap();
    let old = age(&tool);
    s.manifest("[defaults]\nbackup_dir = \"~/bk\"\n[[link]]\nsource = \"tool\"\ntarget = \"~/.tool\"\non_conflict = \"backup\"\n");
    s.run(&["apply"]).code(0).stdout_has("1 backed up");
    s.run(&["unlink"]).code(0);
    s.run(&["restore"]).code(0);
    let meta = fs::metadata(&tool).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (1234, 2345));
    assert_eq!(meta.permissions().mode() & 0o7777, 0o6755);
    assert_eq!(mtime(&tool), old);
}

/// A copy across filesystems that fails part way (a fifo cannot be copied) leaves no partial
/// copy behind: adopting a directory with a fifo in it into a repository on another
/// filesystem fails, and the home, the repository and the manifest are as they were.
#[test]
fn a_failed_copy_across_filesystems_leaves_no_partial_copy() {
    let s = Sandbox::new();
    s.source("other", "o")
        .manifest("[[link]]\nsource = \"other\"\ntarget = \"~/.other\"\n");
    let Some(_fs) = SmallFs::mount(&s.home().join(".cfg"), "4m") else {
        return;
    };
    s.home_file(".cfg/app/conf", "c");
    let fifo =
        std::ffi::CString::new(s.home().join(".cfg/app/ctl").as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let before = s.whole_tree();
    let app = s.home().join(".cfg/app").display().to_string();
    s.run(&["adopt", &app]).code(1).stderr_has("fifo");
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
    assert_eq!(s.whole_tree(), before);
}

/// Adopting, into a repository on another filesystem, a directory with one of root's in it
/// (as nobody): refused before anything is copied, everything as it was. It was copied, then
/// removed from the home as far as that went, and the whole copy left undeclared in the
/// repository.
#[test]
fn adopt_across_filesystems_of_a_directory_it_cannot_remove_whole_moves_nothing() {
    let s = Sandbox::new();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    s.source("other", "o")
        .manifest("[[link]]\nsource = \"other\"\ntarget = \"~/.other\"\n");
    let Some(_fs) = SmallFs::mount(&s.home().join(".cfg"), "4m") else {
        return;
    };
    s.home_file(".cfg/tool/aa/one", "1")
        .home_file(".cfg/tool/top", "t")
        .home_file(".cfg/tool/zz/two", "2");
    s.hand_to_nobody();
    std::os::unix::fs::chown(s.home().join(".cfg/tool/zz"), Some(0), Some(0)).unwrap();
    let before = s.whole_tree();
    let tool = s.home().join(".cfg/tool").display().to_string();
    let run = s.run_as_nobody(&["adopt", &tool]);
    no_panic(&run);
    run.code(1)
        .stderr_has("cannot be moved to another filesystem whole")
        .stderr_has("zz in it");
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
    assert_eq!(s.whole_tree(), before);
}

/// An `overwrite` whose link is in place but whose displaced directory could not be removed
/// whole (its second and third `unlink` fail, under strace) is no success: the run exits 1,
/// says the step failed and what is left over, and `--json` says so too. Counted done (exit 0,
/// nothing said in `--json`) since an error just after a step's last change counts it done.
#[test]
fn a_step_whose_displaced_original_is_left_over_is_a_failure() {
    let s = Sandbox::new();
    s.source("d/inner", "repo d");
    for i in 1..=3 {
        s.home_file(&format!(".d/f{i}"), &format!("user {i}"));
    }
    s.manifest("[[link]]\nsource = \"d\"\ntarget = \"~/.d\"\non_conflict = \"overwrite\"\n");
    let out = s
        .command_under(
            &crate::peers::tool("strace"),
            &[
                "-f",
                "-o",
                "/dev/null",
                "-e",
                "inject=unlink:error=EPERM:when=2..3",
                "--",
            ],
        )
        .args(["apply", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let step = &json["steps"][0];
    assert_eq!(step["result"], "failed", "{json}");
    assert!(step["error"].is_string(), "{json}");
    assert!(s.link_at(".d").is_some(), "the link is in place");
}

/// A directory backed up to another filesystem, put back by a `restore` stopped at each point,
/// after which the user makes a file where it was going: the next `restore` never takes the
/// user's file for the backup (a directory copied across filesystems has a new identity). The
/// file stays, and the directory stays whole in its set, listed.
#[test]
fn a_file_made_where_a_directory_from_another_filesystem_was_going_back_stays() {
    let mut made = 0;
    for n in 0.. {
        let s = Sandbox::new();
        let Some(_bk) = five_files_backed_up_across(&s) else {
            return;
        };
        s.run(&["apply"]).code(0);
        s.run(&["unlink"]).code(0);
        let run = s.run_env(&["restore"], &[("DOTLINK_FAULT_AFTER", &n.to_string())]);
        if run.code == 0 {
            assert!(made > 0, "no stop left ~/.d free");
            break;
        }
        let d = s.home().join(".d");
        if fs::symlink_metadata(&d).is_ok() {
            continue;
        }
        made += 1;
        fs::write(&d, "made anew").unwrap();
        s.run(&["restore"]);
        assert_eq!(
            fs::read_to_string(&d).unwrap(),
            "made anew",
            "stopped at {n}: the user's file was replaced"
        );
        let listed = s.run(&["restore", "--list"]).stdout;
        assert!(listed.contains("~/.d"), "stopped at {n}: {listed}");
        let sets: Vec<_> = fs::read_dir(s.home().join(".bk"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        for i in 1..=5 {
            assert!(
                sets.iter()
                    .any(|set| fs::read_to_string(set.join(format!(".d/f{i}")))
                        .is_ok_and(|c| c == format!("user {i}"))),
                "stopped at {n}: f{i} is not whole in its set"
            );
        }
    }
}
