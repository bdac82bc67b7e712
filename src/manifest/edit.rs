//! Editing the manifest without disturbing it: new `[[link]]` entries are appended with
//! toml_edit, so the user's comments, order and layout stay exactly as they were. Also the
//! starter manifest `dotlink init` writes.

use crate::error::{Error, Result};
use crate::paths;
use std::path::Path;
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

/// A link to add: source relative to the repository, target as written (`~/…`).
pub struct NewEntry {
    pub source: String,
    pub target: String,
    /// A comment line above the entry (control characters escaped, so it stays one line).
    pub comment: String,
}

/// `text` with `entries` appended as `[[link]]` tables; everything already there is kept
/// byte for byte.
pub fn add_links(path: &Path, text: &str, entries: &[NewEntry]) -> Result<String> {
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        Error::input(format!("cannot edit {}: {}", path.display(), e.message()))
            .with_hint("fix the manifest first (`dotlink plan` shows where the problem is)")
    })?;
    let trailing = doc.trailing().as_str().unwrap_or("").to_string();
    doc.set_trailing("");
    let links = doc
        .entry("link")
        .or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()))
        .as_array_of_tables_mut()
        .ok_or_else(|| {
            Error::input(format!(
                "cannot edit {}: `link` is not an array of [[link]] tables",
                path.display()
            ))
        })?;
    // Comments at the very end of the file belong to no table; keep them above the new
    // entries so the entries really come last.
    let mut before = trailing;
    for entry in entries {
        let mut table = Table::new();
        table["source"] = value(entry.source.as_str());
        table["target"] = value(entry.target.as_str());
        let gap = if text.is_empty() && links.is_empty() {
            ""
        } else {
            "\n"
        };
        // Decor is written as it is: a newline from a file name would start a line of TOML.
        let comment = paths::escape_text(&entry.comment);
        table
            .decor_mut()
            .set_prefix(format!("{before}{gap}# {comment}\n"));
        before = String::new();
        links.push(table);
    }
    Ok(doc.to_string())
}

/// The commented starter manifest written by `dotlink init`.
pub const STARTER: &str = r#"# dotlink.toml — what to link from this repository into your home directory.
# Every key is documented in the MANIFEST section of `man dotlink` (or `dotlink man`).
# Try changes safely with `dotlink plan`; make them with `dotlink apply`.

[defaults]
style = "relative"        # how symlinks spell their source: "relative" or "absolute"
on_conflict = "fail"      # "fail" | "skip" | "backup" | "overwrite"
prune = true              # remove links this manifest no longer declares
ignore = [".DS_Store", "*.swp", "**/README.md"]

# A file: one link.
# [[link]]
# source = "zsh/zshrc"
# target = "~/.zshrc"

# A directory: one link to the whole directory.
# [[link]]
# source = "nvim"
# target = "~/.config/nvim"

# A directory mirrored file by file into real directories (like stow --no-folding).
# [[link]]
# source = "bin"
# target = "~/.local/bin"
# recursive = true

# A glob: one link per match inside the target directory, only on Linux.
# [[link]]
# source = "config/*"
# target = "~/.config/"
# when = { os = "linux" }

# Move an existing dotfile in with: dotlink adopt ~/.gitconfig
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(source: &str, target: &str) -> NewEntry {
        NewEntry {
            source: source.into(),
            target: target.into(),
            comment: format!("adopted from {target}"),
        }
    }

    #[test]
    fn appending_keeps_comments_and_layout() {
        let text = "# my dotfiles\n[defaults]\nprune = true   # keep tidy\n\n[[link]]\nsource = \"a\"  # the a file\ntarget = \"~/.a\"\n";
        let edited = add_links(Path::new("m"), text, &[entry("zshrc", "~/.zshrc")]).unwrap();
        assert!(edited.starts_with(text), "{edited}");
        assert!(
            edited.ends_with(
                "\n# adopted from ~/.zshrc\n[[link]]\nsource = \"zshrc\"\ntarget = \"~/.zshrc\"\n"
            ),
            "{edited}"
        );
    }

    #[test]
    fn the_starter_and_an_edited_starter_are_valid() {
        let edited = add_links(
            Path::new("m"),
            STARTER,
            &[entry("a", "~/.a"), entry("b", "~/.b")],
        )
        .unwrap();
        let doc: toml::Table = toml::from_str(&edited).unwrap();
        assert_eq!(doc["link"].as_array().unwrap().len(), 2);
        assert!(edited.starts_with(STARTER), "{edited}");
        assert!(
            edited.ends_with("source = \"b\"\ntarget = \"~/.b\"\n"),
            "{edited}"
        );
    }

    #[test]
    fn a_comment_stays_one_line() {
        let odd = entry(
            "x\non_conflict = \"overwrite\"",
            "~/.x\non_conflict = \"overwrite\"",
        );
        let edited = add_links(Path::new("m"), "", &[odd]).unwrap();
        assert!(
            edited.starts_with("# adopted from ~/.x\\non_conflict = \"overwrite\"\n[[link]]\n"),
            "{edited}"
        );
        let doc: toml::Table = toml::from_str(&edited).unwrap();
        let link = doc["link"][0].as_table().unwrap();
        assert_eq!(link.len(), 2, "{edited}");
        assert_eq!(
            link["target"].as_str(),
            Some("~/.x\non_conflict = \"overwrite\"")
        );
    }

    #[test]
    fn an_empty_manifest_gets_its_first_entry() {
        let edited = add_links(Path::new("m"), "", &[entry("a", "~/.a")]).unwrap();
        assert_eq!(
            edited,
            "# adopted from ~/.a\n[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n"
        );
    }
}
