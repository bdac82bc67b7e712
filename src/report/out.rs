//! Standard output for everything the report prints. A write that fails (a full disk, a file
//! system gone read-only) neither panics nor passes silently: the first error is kept, the
//! rest of the output is dropped, and the command ends by saying so with exit code 1
//! ([`failure`], checked by `cli::run`). A closed pipe (`dotlink status | head -1`) ends a
//! command that only reads quietly, by `SIGPIPE`; one that changes things ignores the signal
//! (`cli::run`), finishes its work, and drops the rest of its output without a word. What
//! goes to standard error goes through [`to_stderr`], which never fails a run.

use std::fmt;
use std::io::{self, BufWriter, StdoutLock, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The first error writing to standard output, as it will be reported.
static FAILED: Mutex<Option<String>> = Mutex::new(None);

/// The reader went away: nothing more is written, and that is no error.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Write `text` to standard error. A write that fails (standard error on a full disk) is
/// dropped: there is nowhere left to say so, and `eprint!` would panic, stopping the run at its
/// first note or warning.
pub fn to_stderr(text: &str) {
    let _ = io::stderr().write_all(text.as_bytes());
}

/// Standard output, buffered (a listing of thousands of lines is a few writes, not one per
/// line) and flushed when dropped. Errors are kept for [`failure`], so callers may ignore them.
pub struct Out(BufWriter<StdoutLock<'static>>);

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if failed() {
            // Nothing more once a write has failed: half a line after a lost one misleads.
            return Ok(buf.len());
        }
        self.0.write(buf).inspect_err(keep)
    }

    fn flush(&mut self) -> io::Result<()> {
        if failed() {
            return Ok(());
        }
        self.0.flush().inspect_err(keep)
    }
}

impl Drop for Out {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Standard output for one report.
pub fn stdout() -> Out {
    Out(BufWriter::new(io::stdout().lock()))
}

/// Write formatted text to standard output (what `print!` does, without its panic).
pub fn print_fmt(args: fmt::Arguments) {
    let _ = stdout().write_fmt(args);
}

/// What went wrong writing to standard output during this run, if anything did.
pub fn failure() -> Option<String> {
    FAILED.lock().map(|f| f.clone()).unwrap_or(None)
}

fn failed() -> bool {
    CLOSED.load(Ordering::Relaxed) || FAILED.lock().is_ok_and(|f| f.is_some())
}

fn keep(error: &io::Error) {
    if error.kind() == io::ErrorKind::BrokenPipe {
        CLOSED.store(true, Ordering::Relaxed);
    } else if let Ok(mut first) = FAILED.lock() {
        first.get_or_insert_with(|| crate::error::describe_io(error));
    }
}

/// `println!` through [`print_fmt`].
macro_rules! outln {
    () => {
        $crate::report::out::print_fmt(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::report::out::print_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` through [`print_fmt`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::report::out::print_fmt(format_args!($($arg)*))
    };
}

pub(crate) use {out, outln};
