//! Shared test harness: a sandbox with its own home, state directory and dotfiles repository
//! under one temporary root, a way to run the real `dotlink` binary inside it, and exact
//! snapshots of directory trees.
//!
//! A sandbox fails its test if anything outside its root changed: it snapshots the real home
//! directory of the test process (top level, and dotlink's real state directory) when created
//! and compares when dropped.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Output;

pub struct Sandbox {
    pub root: tempfile::TempDir,
    /// Checks, when the sandbox is dropped, that the real home was left alone.
    _guard: RealHomeGuard,
}

/// The result of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The exit code and output of a finished command.
    pub fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Assert the exit code, showing the output when it differs.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Run {
        assert_eq!(
            self.code, expected,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stderr_lacks(&self, needle: &str) -> &Run {
        assert!(
            !self.stderr.contains(needle),
            "stderr has {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stdout_lacks(&self, needle: &str) -> &Run {
        assert!(
            !self.stdout.contains(needle),
            "stdout has {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Run {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let guard = RealHomeGuard::take();
        let root = tempfile::tempdir().expect("temp dir");
        for dir in ["home", "state", "repo"] {
            fs::create_dir(root.path().join(dir)).unwrap();
        }
        Sandbox {
            root,
            _guard: guard,
        }
    }

    /// The sandbox's root, canonical (temp dirs may sit behind symlinks).
    pub fn path(&self) -> PathBuf {
        self.root.path().canonicalize().unwrap()
    }
    pub fn home(&self) -> PathBuf {
        self.path().join("home")
    }
    pub fn repo(&self) -> PathBuf {
        self.path().join("repo")
    }
    pub fn state(&self) -> PathBuf {
        self.path().join("state")
    }
    /// The state file of the sandbox's manifest (after a run that wrote it).
    pub fn state_file(&self) -> PathBuf {
        self.state_dir_file(|name| name.ends_with(".state"))
            .expect("a state file")
    }
    /// The journal a killed run left.
    pub fn journal(&self) -> PathBuf {
        self.state_dir_file(|name| name.ends_with(".journal.json"))
            .expect("the killed run left its journal")
    }
    /// The file in dotlink's state directory whose name `is`.
    fn state_dir_file(&self, is: impl Fn(&str) -> bool) -> Option<PathBuf> {
        fs::read_dir(self.state().join("dotlink"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.file_name().is_some_and(|n| is(&n.to_string_lossy())))
    }
    pub fn backups(&self) -> PathBuf {
        self.state().join("dotlink/backups")
    }

    /// Write the manifest at the repository's root.
    pub fn manifest(&self, text: &str) -> &Sandbox {
        fs::write(self.repo().join("dotlink.toml"), text).unwrap();
        self
    }

    /// Write a file in the repository, creating its directories.
    pub fn source(&self, path: &str, contents: &str) -> &Sandbox {
        write(&self.repo().join(path), contents);
        self
    }

    /// Write a file in the home directory, creating its directories.
    pub fn home_file(&self, path: &str, contents: &str) -> &Sandbox {
        write(&self.home().join(path), contents);
        self
    }

    pub fn home_link(&self, path: &str, points_to: impl AsRef<Path>) -> &Sandbox {
        let at = self.home().join(path);
        fs::create_dir_all(at.parent().unwrap()).unwrap();
        symlink(points_to.as_ref(), at).unwrap();
        self
    }

    /// A command for the real binary, with the sandbox's environment, run in the repository.
    pub fn command(&self) -> assert_cmd::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("dotlink"));
        self.sandboxed(&mut cmd);
        assert_cmd::Command::from_std(cmd)
    }

    /// A command that runs `program ARGS… dotlink` (a tracer, say) with the sandbox's
    /// environment, in the repository; the caller adds dotlink's own arguments.
    pub fn command_under(&self, program: &Path, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        cmd.args(args).arg(assert_cmd::cargo::cargo_bin("dotlink"));
        self.sandboxed(&mut cmd);
        cmd
    }

    /// Point a command's environment into the sandbox.
    fn sandboxed(&self, cmd: &mut std::process::Command) {
        cmd.current_dir(self.repo())
            .env("HOME", self.home())
            .env("XDG_STATE_HOME", self.state())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("XDG_DATA_HOME", self.home().join(".local/share"))
            .env("XDG_CACHE_HOME", self.home().join(".cache"))
            .env("TMPDIR", self.path())
            .env_remove("DOTLINK_MANIFEST")
            .env_remove("DOTLINK_PROFILE")
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("DOTLINK_FAULT_AFTER")
            .env_remove("DOTLINK_FAULT_ERROR_AT")
            .env_remove("DOTLINK_FAULT_WRITE_AT")
            .env_remove("DOTLINK_FAULT_WRITE_PATH")
            .env_remove("DOTLINK_PROGRESS_DELAY_MS")
            // Every test plan of two links or more is planned in two halves, the second
            // looked at on a thread of its own, as trees of a thousand links and more are.
            .env("DOTLINK_LOOK_AHEAD_FROM", "2")
            // And every state is read on a thread of its own while the manifest is expanded.
            .env("DOTLINK_READ_STATE_AHEAD_FROM", "0")
            // Then looks at the targets it records in its first directories before the plan
            // does, whatever the walk's speed (the rest only if the walk is still going).
            .env("DOTLINK_LOOK_EARLY_DIRS", "2")
            // And every plan of new and replaced links only has them made on several threads,
            // as plans of a thousand such links and more do.
            .env("DOTLINK_APPLY_THREADS_FROM", "2")
            .env("DOTLINK_APPLY_THREADS", "2");
    }

    /// Run `dotlink ARGS…` in the sandbox.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command().args(args).output().unwrap())
    }

    /// Run from another working directory, with extra environment variables.
    pub fn run_in(&self, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command();
        cmd.current_dir(cwd);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run::from(cmd.args(args).output().unwrap())
    }

    /// Run with extra environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.run_in(&self.repo(), args, env)
    }

    /// Run as an unprivileged user, so permission checks apply even when the tests run as root
    /// (root ignores file modes): the sandbox is handed to `nobody` and the binary is started
    /// through `setpriv`. Without root, permissions already apply and this is `run`.
    pub fn run_unprivileged(&self, args: &[&str]) -> Run {
        self.hand_to_nobody();
        self.run_as_nobody(args)
    }

    /// Hand the sandbox to `nobody` (as root; otherwise nothing to do).
    pub fn hand_to_nobody(&self) {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            chown_tree(&self.path(), 65534, 65534);
        }
    }

    /// [`Sandbox::run_unprivileged`] on a sandbox already handed over, with what the test gave
    /// back to root since.
    pub fn run_as_nobody(&self, args: &[&str]) -> Run {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return self.run(args);
        }
        let mut cmd = std::process::Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(assert_cmd::cargo::cargo_bin("dotlink"))
            .args(args);
        self.sandboxed(&mut cmd);
        Run::from(
            cmd.output()
                .expect("setpriv (util-linux) is needed to test permissions as root"),
        )
    }

    /// What a home-relative path is now.
    pub fn link_at(&self, path: &str) -> Option<PathBuf> {
        fs::read_link(self.home().join(path)).ok()
    }

    /// Snapshot of the home directory.
    pub fn home_tree(&self) -> Tree {
        tree(&self.home())
    }

    /// Snapshot of everything in the sandbox: home, state and repository.
    pub fn whole_tree(&self) -> Tree {
        tree(&self.path())
    }

    /// The contents of every regular file anywhere in the sandbox (home, state, backups,
    /// repository), each as `file MODE nlink=N CONTENTS`.
    pub fn contents_anywhere(&self) -> Vec<String> {
        self.whole_tree()
            .into_values()
            .filter(|v| v.starts_with("file"))
            .collect()
    }

    /// Whatever dotlink left at a temporary name or as a partial copy, anywhere in the sandbox.
    pub fn leftovers(&self) -> Vec<PathBuf> {
        self.whole_tree()
            .into_keys()
            .filter(|p| {
                let p = p.to_string_lossy();
                p.contains("dotlink-tmp")
                    || p.contains(".dotlink-partial-")
                    || p.contains(".dotlink-moved-")
            })
            .collect()
    }

    /// Run git in `dir` with the sandbox's home (and no system configuration), as a committer
    /// named "t"; fails the test, saying why, when git fails.
    pub fn git(&self, dir: &Path, args: &[&str]) {
        let out = std::process::Command::new("git")
            .args(["-c", "user.email=t@t", "-c", "user.name=t"])
            .args(args)
            .current_dir(dir)
            .env("HOME", self.home())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .expect("git is needed for this test");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Every backup set directory, oldest first.
    pub fn backup_sets(&self) -> Vec<PathBuf> {
        let mut sets: Vec<PathBuf> = fs::read_dir(self.backups())
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default();
        sets.sort();
        sets
    }
}

fn chown_tree(path: &Path, uid: u32, gid: u32) {
    let _ = std::os::unix::fs::lchown(path, Some(uid), Some(gid));
    if fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        for entry in fs::read_dir(path).unwrap().flatten() {
            chown_tree(&entry.path(), uid, gid);
        }
    }
}

pub fn write(path: &Path, contents: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

/// An exact picture of a tree: every path with its type, mode and contents or link target.
pub type Tree = BTreeMap<PathBuf, String>;

pub fn tree(root: &Path) -> Tree {
    let mut out = Tree::new();
    walk(root, root, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut Tree) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let meta = fs::symlink_metadata(&path).unwrap();
        let relative = path.strip_prefix(root).unwrap().to_path_buf();
        let mode = meta.permissions().mode() & 0o7777;
        let what = if meta.file_type().is_symlink() {
            format!("link -> {}", fs::read_link(&path).unwrap().display())
        } else if meta.is_dir() {
            walk(root, &path, out);
            format!("dir {mode:o}")
        } else if !meta.is_file() {
            // A fifo is never opened: reading it would wait for a writer.
            format!("special {mode:o}")
        } else {
            let bytes = fs::read(&path).unwrap_or_default();
            format!(
                "file {mode:o} nlink={} {}",
                meta.nlink(),
                String::from_utf8_lossy(&bytes)
            )
        };
        out.insert(relative, what);
    }
}

/// Guards the real home directory of the test process: top-level entries and dotlink's real
/// state directory must be the same when the sandbox is dropped as when it was made.
struct RealHomeGuard {
    before: Option<Tree>,
}

impl RealHomeGuard {
    fn take() -> RealHomeGuard {
        RealHomeGuard {
            before: real_home_picture(),
        }
    }
}

fn real_home_picture() -> Option<Tree> {
    let home = PathBuf::from(std::env::var_os("HOME")?);
    let mut picture = Tree::new();
    for entry in fs::read_dir(&home).ok()?.flatten() {
        let name = entry.file_name();
        // Build tools write under these while tests run; dotlink never goes there.
        if [".cargo", ".rustup", ".cache", ".npm", ".local"].contains(&name.to_str().unwrap_or(""))
        {
            continue;
        }
        let kind = match fs::symlink_metadata(entry.path()) {
            Ok(m) if m.file_type().is_symlink() => {
                format!("link -> {:?}", fs::read_link(entry.path()).ok())
            }
            Ok(m) if m.is_dir() => "dir".to_string(),
            Ok(_) => "file".to_string(),
            Err(_) => continue,
        };
        picture.insert(PathBuf::from(name), kind);
    }
    for state in [
        home.join(".local/state/dotlink"),
        home.join(".zshrc"),
        home.join(".config/nvim"),
    ] {
        for (path, what) in tree(&state) {
            picture.insert(state.join(path), what);
        }
        if let Ok(m) = fs::symlink_metadata(&state) {
            picture.insert(state.clone(), format!("{:?}", m.file_type()));
        }
    }
    Some(picture)
}

impl Drop for RealHomeGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let after = real_home_picture();
        if after != self.before {
            panic!(
                "the test changed the real home directory outside its sandbox:\nbefore: {:?}\nafter: {:?}",
                self.before, after
            );
        }
    }
}
