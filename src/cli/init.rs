//! `init`: write a commented starter manifest in the current directory, never over one.

use super::Verdict;
use super::args::Cli;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::manifest;
use crate::report;
use std::io::Write;

pub(super) fn run(cli: &Cli) -> Result<Verdict> {
    let ctx = Context::from_process(cli.profile.as_deref())?;
    let path = ctx.cwd.join(manifest::FILE_NAME);
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .and_then(|mut file| file.write_all(manifest::edit::STARTER.as_bytes()));
    match created {
        Ok(()) => {
            report::print_initialised(&path);
            Ok(Verdict::Done)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Error::failure(format!(
            "{} already exists; not overwriting it",
            path.display()
        ))
        .with_hint("edit it, or move it away first")),
        Err(e) => Err(Error::io("create", &path, &e)),
    }
}
