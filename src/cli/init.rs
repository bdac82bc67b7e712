//! `init`: write a commented starter manifest, never over one: in the current directory, or at
//! `-m PATH` (a directory means its `dotlink.toml`).

use super::Verdict;
use super::args::Cli;
use crate::apply::fsutil;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::{manifest, paths};

pub(super) fn run(cli: &Cli) -> Result<Verdict> {
    let ctx = Context::from_process(cli.profile.as_deref())?;
    let path = match &cli.manifest {
        Some(given) => {
            let as_dir = given.as_os_str().as_encoded_bytes().ends_with(b"/");
            let given = paths::normalize(&ctx.cwd.join(given));
            if given.is_dir() || as_dir {
                given.join(manifest::FILE_NAME)
            } else {
                given
            }
        }
        None => ctx.cwd.join(manifest::FILE_NAME),
    };
    if let Some(dir) = path.parent()
        && !dir.is_dir()
    {
        return Err(
            Error::input(format!("{} is not a directory", dir.display())).with_hint(
                "create your dotfiles repository first (mkdir, git init), then run init there",
            ),
        );
    }
    match fsutil::create_new(&path, manifest::edit::STARTER.as_bytes()) {
        Ok(()) => {
            crate::report::print_initialised(&path);
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
