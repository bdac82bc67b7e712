//! `completions` and `man`: documents generated from the command-line definition, plus the
//! manual's own sections (the manifest, environment, files, exit status, examples).

use super::Verdict;
use super::args::Cli;
use crate::apply::fsutil;
use crate::error::{Error, Result};
use crate::report;
use std::path::Path;

/// A shell completion script.
pub(super) fn completions(shell: clap_complete::Shell) -> Result<Verdict> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::whole(), "dotlink", &mut script);
    report::print_bytes(&script);
    Ok(Verdict::Done)
}

/// The man page, in roff, on stdout; with `dir`, every page (`dotlink.1` and one
/// `dotlink-COMMAND.1` per command, which the main page refers to) written there.
pub(super) fn man(dir: Option<&Path>) -> Result<Verdict> {
    let main = main_page()?;
    let Some(dir) = dir else {
        report::print_bytes(&main);
        return Ok(Verdict::Done);
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, &e))?;
    let mut written = vec![write_page(dir, "dotlink.1", &main)?];
    for command in Cli::whole().get_subcommands() {
        let name = format!("dotlink-{}", command.get_name());
        let page = render(
            command
                .clone()
                .name(name.clone())
                .display_name(name.clone()),
        )?;
        written.push(write_page(dir, &format!("{name}.1"), &page)?);
    }
    report::print_written(&written);
    Ok(Verdict::Done)
}

fn write_page(dir: &Path, name: &str, page: &[u8]) -> Result<std::path::PathBuf> {
    let path = dir.join(name);
    fsutil::write_shared(&path, page).map_err(|e| Error::io("write", &path, &e))?;
    Ok(path)
}

fn render(command: clap::Command) -> Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut page)
        .map_err(|e| Error::failure(format!("cannot write the man page: {e}")))?;
    Ok(page)
}

/// `dotlink(1)`: what clap generates, then the sections only a manual has.
fn main_page() -> Result<Vec<u8>> {
    let mut page = render(Cli::whole())?;
    page.extend_from_slice(b".SH MANIFEST\n");
    page.extend_from_slice(
        b"Every key of dotlink.toml, with its default, as dotlink.toml.example documents it:\n.PP\n.nf\n",
    );
    for line in include_str!("../../dotlink.toml.example").lines() {
        page.extend_from_slice(roff_line(line).as_bytes());
        page.push(b'\n');
    }
    page.extend_from_slice(b".fi\n");
    page.extend_from_slice(SECTIONS.as_bytes());
    Ok(page)
}

/// A line of literal text for roff: backslashes doubled, and a leading `.` or `'` kept from
/// being read as a request.
fn roff_line(line: &str) -> String {
    let line = line.replace('\\', "\\e");
    if line.starts_with('.') || line.starts_with('\'') {
        format!("\\&{line}")
    } else {
        line
    }
}

const SECTIONS: &str = r#".SH ENVIRONMENT
.TP
\fBHOME\fR
The home directory: where `~` in targets points.
.TP
\fBXDG_STATE_HOME\fR
dotlink keeps its state in $XDG_STATE_HOME/dotlink (default ~/.local/state/dotlink).
.TP
\fBDOTLINK_MANIFEST\fR
The manifest to use when \-\-manifest is not given.
.TP
\fBDOTLINK_PROFILE\fR
Profiles to use (comma\-separated) when \-\-profile is not given.
.TP
\fBNO_COLOR\fR, \fBCLICOLOR_FORCE\fR
NO_COLOR turns colour off; CLICOLOR_FORCE turns it on when stdout is not a terminal. \-\-color overrides both.
.SH FILES
.TP
\fBdotlink.toml\fR
The manifest, at the root of the dotfiles repository (see MANIFEST).
.TP
\fB$XDG_STATE_HOME/dotlink/\fR
The state file of each manifest (the links dotlink made), its journal while a run is in progress, the lock, \fBmanifests\fR (the manifests that manage this home) and \fBbackups/\fR (one set per run, with an index).
.SH "EXIT STATUS"
.TP
\fB0\fR
Success (status: every target is ok).
.TP
\fB1\fR
Conflicts or a step that failed (status: some target is not ok; doctor: unhealthy; diff: differences shown).
.TP
\fB2\fR
Bad usage or a manifest error.
.TP
\fB3\fR
apply \-\-detailed\-exitcode only: changes were made.
.SH EXAMPLES
.nf
dotlink init                        # a starter dotlink.toml here
dotlink plan                        # what apply would do
dotlink apply                       # make the links
dotlink apply \-\-on\-conflict backup  # move what is in the way first
dotlink status \-q                   # for a prompt: exit 0 when all is linked
dotlink import stow                 # move in from GNU Stow
dotlink hook install                # relink after every git pull
dotlink man \-\-dir ~/.local/share/man/man1
.fi
"#;
