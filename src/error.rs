//! Errors: what went wrong, where, what to do about it, and the exit code each kind maps to.
//!
//! Every error dotlink prints has a one-line cause and, where there is something the user can
//! do, a hint. The kind decides the exit code so scripts can tell bad input (2) from a run that
//! could not finish (1). Context (where in the manifest, which target) is added in front of the
//! message without rebuilding it, and never changes the kind; an I/O error keeps its cause.

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;

/// Which class of problem an [`Error`] is; decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad command-line use, or a manifest that cannot be used as written: exit 2.
    Input,
    /// The run could not do its job (I/O failure, lock held, conflicts): exit 1.
    Failure,
}

/// An error with a cause and an optional hint.
#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
    /// Where it happened, outermost first (a manifest position, a target), shown before the
    /// message.
    context: Vec<String>,
    /// The operating system's error behind an I/O failure.
    cause: Option<Arc<io::Error>>,
    /// The line of the file at fault, shown under the message with the span marked.
    pub snippet: Option<Box<Snippet>>,
}

/// One line of a file, and the part of it an error is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    pub path: String,
    /// 1-based.
    pub line: usize,
    pub text: String,
    /// Byte range within `text`.
    pub span: std::ops::Range<usize>,
    /// What to say under the span.
    pub label: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Bad input: a malformed or impossible manifest, a wrong argument.
    pub fn input(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Input, message.into())
    }

    /// A run that could not finish its work.
    pub fn failure(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Failure, message.into())
    }

    /// An I/O error on `path`, with a hint for the errors a user can fix.
    pub fn io(what: &str, path: &Path, err: &io::Error) -> Self {
        let hint = match err.kind() {
            io::ErrorKind::PermissionDenied => {
                Some("check the permissions of that path and its parent directory".to_string())
            }
            io::ErrorKind::ReadOnlyFilesystem => {
                Some("that path is on a read-only filesystem".to_string())
            }
            io::ErrorKind::StorageFull => Some("free some disk space and run again".to_string()),
            _ => None,
        };
        let mut error = Error::new(
            ErrorKind::Failure,
            format!("cannot {what} {}: {}", path.display(), describe_io(err)),
        );
        error.hint = hint;
        // io::Error cannot be cloned; an OS error is rebuilt from its number, anything else
        // from its kind and text.
        let cause = match err.raw_os_error() {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::new(err.kind(), err.to_string()),
        };
        error.cause = Some(Arc::new(cause));
        error
    }

    fn new(kind: ErrorKind, message: String) -> Self {
        Error {
            kind,
            message,
            hint: None,
            context: Vec::new(),
            cause: None,
            snippet: None,
        }
    }

    /// Show the line of the file at fault, with `snippet`'s span marked.
    pub fn with_snippet(mut self, snippet: Snippet) -> Self {
        self.snippet = Some(Box::new(snippet));
        self
    }

    /// The same error, said to have happened at `at` (shown as `at: message`). The kind, and so
    /// the exit code, and the hint stay as they are.
    pub fn context(mut self, at: impl Into<String>) -> Self {
        self.context.insert(0, at.into());
        self
    }

    /// The same error without where it happened: for a file whose text it points into that is
    /// no longer there.
    pub fn without_place(mut self) -> Self {
        self.context.clear();
        self.snippet = None;
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ErrorKind::Input => 2,
            ErrorKind::Failure => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for at in &self.context {
            write!(f, "{at}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The OS error text without Rust's " (os error N)" suffix, which tells a user nothing.
pub fn describe_io(err: &io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_kind() {
        assert_eq!(Error::input("x").exit_code(), 2);
        assert_eq!(Error::failure("x").exit_code(), 1);
    }

    #[test]
    fn io_errors_name_the_path_and_drop_the_errno() {
        let err = io::Error::from_raw_os_error(13);
        let e = Error::io("read", Path::new("/x/y"), &err);
        assert_eq!(e.message, "cannot read /x/y: Permission denied");
        assert!(e.hint.as_ref().unwrap().contains("permissions"));
        let cause = std::error::Error::source(&e).expect("the I/O error is kept");
        assert!(cause.to_string().contains("Permission denied"));
    }

    #[test]
    fn context_keeps_the_kind_the_hint_and_the_cause() {
        let err = io::Error::from_raw_os_error(2);
        let e = Error::io("read source", Path::new("/r/x"), &err).context("m.toml:3:10");
        assert_eq!(e.exit_code(), 1);
        assert_eq!(
            e.to_string(),
            "m.toml:3:10: cannot read source /r/x: No such file or directory"
        );
        assert!(e.hint.is_none());
        assert!(std::error::Error::source(&e).is_some());
        let e = Error::input("bad")
            .with_hint("fix it")
            .context("t")
            .context("m");
        assert_eq!((e.exit_code(), e.to_string()), (2, "m: t: bad".to_string()));
        assert_eq!(e.hint.as_deref(), Some("fix it"));
    }
}
