//! The process environment dotlink runs in, read once: home directory, state directory,
//! working directory and environment variables. Everything else takes a `Context` instead of
//! reading the environment itself, so tests and the planner see one consistent picture.

use crate::error::{Error, Result};
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Context {
    /// The home directory as the user spells it (`$HOME`); targets are under it.
    pub home: PathBuf,
    /// Where dotlink keeps state files, journals and locks: `$XDG_STATE_HOME/dotlink`.
    pub state_dir: PathBuf,
    /// The directory dotlink was started in; the manifest search starts here.
    pub cwd: PathBuf,
}

impl Context {
    /// Read the context from the running process.
    pub fn from_process() -> Result<Context> {
        let home = dirs::home_dir()
            .filter(|h| h.is_absolute())
            .ok_or_else(|| {
                Error::input("cannot tell the home directory")
                    .with_hint("set HOME to an absolute path")
            })?;
        let home = crate::paths::normalize(&home);
        // macOS has no state directory; the local data directory is its nearest equivalent.
        let state_base = dirs::state_dir()
            .or_else(dirs::data_local_dir)
            .unwrap_or_else(|| home.join(".local/state"));
        let cwd = std::env::current_dir()
            .map_err(|e| Error::io("read", &PathBuf::from("the current directory"), &e))?;
        Ok(Context {
            home,
            state_dir: state_base.join("dotlink"),
            cwd,
        })
    }

    /// Look up an environment variable for `$VAR` expansion in manifests.
    pub fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}
