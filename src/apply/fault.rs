//! Fault injection for the reliability tests. Built with the `fault-injection` feature (test
//! builds only), two environment variables count the run's fault points. Every filesystem
//! change has two, one just before it and one just after it took effect, so point 2k is before
//! change k+1 and point 2k+1 after it (the state file's write has one, before it):
//! - `DOTLINK_FAULT_AFTER=N` aborts the process (as `kill -9` or a power cut would) at point
//!   N+1, having passed N points;
//! - `DOTLINK_FAULT_ERROR_AT=N` makes point N+1 fail with an I/O error, as a full disk or a
//!   permission problem would: before a change it fails instead of the change, after one it
//!   fails although the change was made;
//! - `DOTLINK_FAULT_WRITE_AT=N` with `DOTLINK_FAULT_WRITE_PATH=P` puts a new file at `P` at
//!   point N+1, as a user or an editor writing between planning and acting would.
//!
//! Without the feature, [`point`] does nothing and compiles away.

use std::io;

/// Mark the place just before, or just after, one filesystem change.
#[cfg(feature = "fault-injection")]
pub fn point() -> io::Result<()> {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicUsize, Ordering};
    static LIMITS: OnceLock<(Option<usize>, Option<usize>, Option<usize>)> = OnceLock::new();
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let (abort_after, error_at, write_at) = *LIMITS.get_or_init(|| {
        let read = |name| std::env::var(name).ok().and_then(|v| v.parse().ok());
        (
            read("DOTLINK_FAULT_AFTER"),
            read("DOTLINK_FAULT_ERROR_AT"),
            read("DOTLINK_FAULT_WRITE_AT"),
        )
    });
    let count = COUNT.fetch_add(1, Ordering::SeqCst);
    if write_at == Some(count)
        && let Some(path) = std::env::var_os("DOTLINK_FAULT_WRITE_PATH")
    {
        let path = std::path::Path::new(&path);
        let _ = std::fs::remove_file(path);
        std::fs::write(path, "written since planning")?;
    }
    // Where the run was stopped, for the tests of what several threads do at once.
    let on = match std::thread::current().name() {
        Some("main") | None => String::new(),
        Some(name) => format!(" on thread {name}"),
    };
    if abort_after.is_some_and(|limit| count >= limit) {
        let said = format!("dotlink: fault injected: aborting after {count} fault points{on}\n");
        crate::report::out::to_stderr(&said);
        std::process::abort();
    }
    if error_at == Some(count) {
        return Err(io::Error::other(format!("injected fault{on}")));
    }
    Ok(())
}

/// Mark the place just before, or just after, one filesystem change.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn point() -> io::Result<()> {
    Ok(())
}

/// One filesystem change, between two fault points: the tests stop a run, or make it fail,
/// just before the change and just after it took effect.
pub fn change<T>(act: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    point()?;
    let done = act()?;
    point()?;
    Ok(done)
}
