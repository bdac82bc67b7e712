//! The process environment dotlink runs in, read once: home directory, state directory,
//! working directory, environment variables, and the [`Machine`] (os, hostname, chosen
//! profiles) that manifest conditions are matched against. Everything else takes a `Context`
//! instead of reading the environment itself, so tests and the planner see one consistent
//! picture. It depends on no other stage: the manifest reads it, never the reverse.

use crate::error::{Error, Result};
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Context {
    /// The home directory (`$HOME`), where it really is: a home reached through a symlink is
    /// the same home as its real path. Targets are under it.
    pub home: PathBuf,
    /// `$HOME` as set, in its plain form (a `..` resolved as the kernel takes it), which may
    /// pass through symlinks to `home`: a link at one of those would replace the home as the
    /// user's programs find it.
    pub home_as_set: PathBuf,
    /// Whether `home` is where `$HOME` really is (it could be resolved): else it is as set.
    pub home_is_real: bool,
    /// Where dotlink keeps state files, journals and locks: `$XDG_STATE_HOME/dotlink`.
    pub state_dir: PathBuf,
    /// The directory dotlink was started in; the manifest search starts here.
    pub cwd: PathBuf,
    /// This machine, for `when` conditions.
    pub machine: Machine,
}

/// What this machine is, for matching the manifest's `when` conditions and `[profiles]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    pub os: String,
    pub hostname: String,
    /// Profiles chosen with `--profile` or `$DOTLINK_PROFILE`; `None` means "from [profiles]".
    pub chosen_profiles: Option<Vec<String>>,
}

impl Context {
    /// Read the context from the running process. `profile` is `--profile` (a comma-separated
    /// list), which wins over `$DOTLINK_PROFILE`.
    pub fn from_process(profile: Option<&str>) -> Result<Context> {
        let home = dirs::home_dir()
            .filter(|h| h.is_absolute())
            .ok_or_else(|| {
                Error::input("cannot tell the home directory")
                    .with_hint("set HOME to an absolute path")
            })?;
        let home_as_set = plain("HOME", &home)?;
        let real_home = home_as_set.canonicalize().ok();
        let home_is_real = real_home.is_some();
        let home = real_home.unwrap_or(home_as_set.clone());
        // macOS has no state directory; the local data directory is its nearest equivalent.
        let state_base = match dirs::state_dir().or_else(dirs::data_local_dir) {
            Some(base) => plain("XDG_STATE_HOME", &base)?,
            None => home.join(".local/state"),
        };
        let cwd = std::env::current_dir()
            .map_err(|e| Error::io("read", &PathBuf::from("the current directory"), &e))?;
        let chosen = profile
            .map(str::to_string)
            .or_else(|| std::env::var("DOTLINK_PROFILE").ok())
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                p.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            });
        Ok(Context {
            home,
            home_as_set,
            home_is_real,
            state_dir: state_base.join("dotlink"),
            cwd,
            machine: Machine {
                os: std::env::consts::OS.to_string(),
                hostname: hostname(),
                chosen_profiles: chosen,
            },
        })
    }

    /// Look up an environment variable for `$VAR` expansion in manifests.
    pub fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// The path in the environment variable `var`, plain, each `..` as the kernel takes it: a
/// spelling the kernel does not follow would have dotlink compare its files with targets at
/// another place than the one it writes to.
fn plain(var: &str, path: &std::path::Path) -> Result<PathBuf> {
    crate::paths::resolve_dotdots(path).ok_or_else(|| {
        Error::input(format!(
            "{var} is {}: the directory before its `..` does not exist",
            path.display()
        ))
        .with_hint(format!("set {var} to a path without `..`"))
    })
}

/// This machine's host name (empty when it cannot be read).
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length; gethostname NUL-terminates within it
    // or truncates, and we stop at the first NUL either way.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    if !ok {
        return String::new();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// A size from which work is split across threads: `default`, or in test builds the value of
/// the environment variable `name`, so that tests of small trees can take both ways.
pub(crate) fn threshold(name: &str, default: u64) -> u64 {
    #[cfg(feature = "fault-injection")]
    if let Some(n) = std::env::var(name).ok().and_then(|v| v.parse().ok()) {
        return n;
    }
    let _ = name;
    default
}
