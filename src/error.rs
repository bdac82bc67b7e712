//! Errors: what went wrong, where, what to do about it, and the exit code each kind maps to.
//!
//! Every error dotlink prints has a one-line cause and, where there is something the user can
//! do, a hint. The kind decides the exit code so scripts can tell bad input (2) from a run that
//! could not finish (1).

use std::fmt;
use std::io;
use std::path::Path;

/// Which class of problem an [`Error`] is; decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad command-line use, or a manifest that cannot be used as written: exit 2.
    Input,
    /// The run could not do its job (I/O failure, lock held, conflicts): exit 1.
    Failure,
}

/// An error with a cause and an optional hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Bad input: a malformed or impossible manifest, a wrong argument.
    pub fn input(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Input,
            message: message.into(),
            hint: None,
        }
    }

    /// A run that could not finish its work.
    pub fn failure(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Failure,
            message: message.into(),
            hint: None,
        }
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
        Error {
            kind: ErrorKind::Failure,
            message: format!("cannot {what} {}: {}", path.display(), describe_io(err)),
            hint,
        }
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
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

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
        assert!(e.hint.unwrap().contains("permissions"));
    }
}
