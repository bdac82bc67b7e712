//! `completions` and `man`: documents generated from the command-line definition.

use super::Verdict;
use super::args::Cli;
use crate::error::{Error, Result};
use crate::report;
use clap::CommandFactory;

/// A shell completion script.
pub(super) fn completions(shell: clap_complete::Shell) -> Result<Verdict> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "dotlink", &mut script);
    report::print_bytes(&script);
    Ok(Verdict::Done)
}

/// The man page, in roff.
pub(super) fn man() -> Result<Verdict> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|e| Error::failure(format!("cannot write the man page: {e}")))?;
    report::print_bytes(&page);
    Ok(Verdict::Done)
}
