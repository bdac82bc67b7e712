//! Fault injection for the crash-safety tests: built with the `fault-injection` feature,
//! `DOTLINK_FAULT_AFTER=N` makes the process abort (as `kill -9` or a power cut would) right
//! before its filesystem change number N+1. Without the feature, [`point`] is empty.

/// Mark the place just before one filesystem change.
#[cfg(feature = "fault-injection")]
pub fn point() {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicUsize, Ordering};
    static LIMIT: OnceLock<Option<usize>> = OnceLock::new();
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let limit = LIMIT.get_or_init(|| std::env::var("DOTLINK_FAULT_AFTER").ok().and_then(|v| v.parse().ok()));
    if let Some(limit) = *limit
        && COUNT.fetch_add(1, Ordering::SeqCst) >= limit
    {
        eprintln!("dotlink: fault injected after {limit} filesystem changes");
        std::process::abort();
    }
}

/// Mark the place just before one filesystem change.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn point() {}
