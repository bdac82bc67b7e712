//! Progress on stderr for runs that take longer than a moment, drawn by indicatif: a spinner
//! while reading and planning, a count of steps while applying (`applying 4,210/10,000`). It
//! appears only on a terminal, only after a short delay (so quick runs never flicker), and
//! erases itself when done.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

const DELAY: Duration = Duration::from_millis(300);

/// The delay before progress appears; test builds let a test set it
/// (`DOTLINK_PROGRESS_DELAY_MS`), so that what is drawn can be checked on any machine.
fn delay() -> Duration {
    #[cfg(feature = "fault-injection")]
    if let Some(ms) = std::env::var("DOTLINK_PROGRESS_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return Duration::from_millis(ms);
    }
    DELAY
}

/// Shows progress until dropped.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A spinner for `label`, if `wanted` and stderr is a terminal.
    pub fn start(label: &'static str, wanted: bool) -> Progress {
        let bar = Self::wanted(wanted).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
            bar.set_style(ProgressStyle::with_template("{spinner} {msg}…").expect("valid"));
            bar.set_message(label);
            bar
        });
        Progress::new(bar)
    }

    /// A count of `total` steps for `label`, advanced by [`Progress::step`].
    pub fn counting(label: &'static str, total: usize, wanted: bool) -> Progress {
        let bar = Self::wanted(wanted).then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden());
            bar.set_style(
                ProgressStyle::with_template("{msg} {human_pos}/{human_len}").expect("valid"),
            );
            bar.set_message(label);
            bar
        });
        Progress::new(bar)
    }

    fn wanted(wanted: bool) -> bool {
        wanted && std::io::stderr().is_terminal()
    }

    /// Hidden at first; drawn once the delay has passed, if the work is not done by then.
    fn new(bar: Option<ProgressBar>) -> Progress {
        if let Some(bar) = &bar {
            bar.enable_steady_tick(Duration::from_millis(100));
            let delay = delay();
            if delay.is_zero() {
                show(bar);
            } else {
                let later = bar.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(delay);
                    if !later.is_finished() {
                        show(&later);
                    }
                });
            }
        }
        Progress { bar }
    }

    /// One step done.
    pub fn step(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }
}

/// Draws `bar` on stderr from now on, at once: with a steady tick, indicatif draws only on the
/// tick, so a run that ends within one tick (or whose ticking thread is not scheduled in time)
/// would show nothing.
fn show(bar: &ProgressBar) {
    bar.set_draw_target(ProgressDrawTarget::stderr());
    bar.force_draw();
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
