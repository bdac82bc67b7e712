//! Importers: a `dotlink.toml` that reproduces what GNU Stow ([`stow`]), dotbot ([`dotbot`])
//! or dotter ([`dotter`]) deploys, so a home that tool set up needs no change when dotlink
//! takes over. Anything the other tool does that dotlink does not becomes a [`Warning`] (its
//! file and line) and a comment in the manifest, never a silent drop.
//!
//! Importers only read; the command writes the manifest (never over an existing one).

pub mod dotbot;
pub mod dotter;
pub mod stow;
mod yaml;

use crate::paths;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Something the other tool does that the manifest does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub file: PathBuf,
    /// 1-based; 0 when the whole file is meant.
    pub line: usize,
    pub message: String,
}

/// What an importer produced.
#[derive(Debug)]
pub struct Imported {
    /// The repository: where `dotlink.toml` goes, and what sources are relative to.
    pub repo: PathBuf,
    pub text: String,
    pub warnings: Vec<Warning>,
}

/// The manifest being written: comments, tables and keys with TOML's own quoting.
#[derive(Default)]
pub(crate) struct Writer {
    text: String,
    warnings: Vec<Warning>,
}

/// A value for a key.
pub(crate) enum Val<'a> {
    Str(&'a str),
    Bool(bool),
    List(&'a [String]),
}

impl Writer {
    pub fn comment(&mut self, line: &str) {
        for part in line.lines() {
            let _ = writeln!(self.text, "# {}", paths::escape_text(part));
        }
    }

    pub fn blank(&mut self) {
        self.text.push('\n');
    }

    /// `[[name]]`, after a blank line; commented out (`# `) when `active` is false.
    pub fn table(&mut self, name: &str, active: bool) {
        self.blank();
        let _ = writeln!(self.text, "{}[[{name}]]", if active { "" } else { "# " });
    }

    pub fn key(&mut self, key: &str, value: Val, active: bool) {
        let value = match value {
            Val::Str(s) => toml_string(s),
            Val::Bool(b) => b.to_string(),
            Val::List(items) => {
                let items: Vec<String> = items.iter().map(|s| toml_string(s)).collect();
                format!("[{}]", items.join(", "))
            }
        };
        let _ = writeln!(
            self.text,
            "{}{key} = {value}",
            if active { "" } else { "# " }
        );
    }

    /// Raw text (already TOML).
    pub fn raw(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// A warning, also kept as a comment where the manifest stands now.
    pub fn warn(&mut self, file: &Path, line: usize, message: String) {
        let at = if line > 0 {
            format!("{}:{line}", file.display())
        } else {
            file.display().to_string()
        };
        self.comment(&format!("{at}: {message}"));
        self.warnings.push(Warning {
            file: file.to_path_buf(),
            line,
            message,
        });
    }

    pub fn finish(self, repo: PathBuf) -> Imported {
        Imported {
            repo,
            text: self.text,
            warnings: self.warnings,
        }
    }
}

/// A TOML basic string on one line, whatever `text` holds (a commented-out entry must stay
/// commented out: no value may break its line).
pub(crate) fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A source as the manifest spells it: literal, so a glob character in a name is escaped.
pub(crate) fn literal_source(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '*' | '?' | '[' | ']' | '{' | '}' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            c => out.push(c),
        }
    }
    out
}

/// A target as the manifest spells it: `~/…` under the home directory, `$` doubled.
pub(crate) fn spell_target(target: &Path, home: &Path) -> String {
    let text = match paths::below(target, home) {
        Some(rest) if rest.as_os_str().is_empty() => "~".to_string(),
        Some(rest) => format!("~/{}", rest.to_string_lossy()),
        None => target.to_string_lossy().into_owned(),
    };
    paths::escape_dollars(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_stay_on_one_line_and_sources_stay_literal() {
        assert_eq!(toml_string("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        let parsed: toml::Table =
            toml::from_str(&format!("k = {}", toml_string("x\n\"y\u{7}"))).unwrap();
        assert_eq!(parsed["k"].as_str(), Some("x\n\"y\u{7}"));
        assert_eq!(literal_source("vim[1]*"), "vim[[]1[]][*]");
        let glob = globset::Glob::new(&literal_source("vim[1]"))
            .unwrap()
            .compile_matcher();
        assert!(glob.is_match("vim[1]") && !glob.is_match("vim1"));
        let glob = globset::Glob::new(&literal_source("a?{b}"))
            .unwrap()
            .compile_matcher();
        assert!(glob.is_match("a?{b}") && !glob.is_match("ax{b}"));
    }
}
