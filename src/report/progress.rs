//! A spinner on stderr for runs that take longer than a moment. It appears only on a terminal,
//! only after a short delay (so quick runs never flicker), and erases itself when done.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

const DELAY: Duration = Duration::from_millis(300);
const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// Shows "⠋ label…" until dropped.
pub struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Start a spinner for `label`, if `wanted` and stderr is a terminal.
    pub fn start(label: &'static str, wanted: bool) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = (wanted && std::io::stderr().is_terminal()).then(|| {
            let stop = stop.clone();
            thread::spawn(move || spin(label, &stop))
        });
        Progress { stop, thread }
    }
}

fn spin(label: &str, stop: &AtomicBool) {
    let started = Instant::now();
    let mut frame = 0;
    while !stop.load(Ordering::Relaxed) {
        thread::sleep(Duration::from_millis(50));
        if started.elapsed() >= DELAY && !stop.load(Ordering::Relaxed) {
            eprint!("\r{} {label}…", FRAMES[frame / 2 % FRAMES.len()]);
            let _ = std::io::stderr().flush();
            frame += 1;
        }
    }
    if frame > 0 {
        eprint!("\r\x1b[2K");
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
