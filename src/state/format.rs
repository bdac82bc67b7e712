//! The state file's format. Version 2 is a text file read line by line, without building a tree
//! of values: a header naming the manifest, the home and the repository, then one line per link
//! and per directory, sorted, with paths relative to the home (targets, directories) and to the
//! repository (sources) wherever they lie below them:
//!
//! ```text
//! dotlink-state 2
//! manifest  /home/me/dotfiles/dotlink.toml
//! home  /home/me
//! repo  /home/me/dotfiles
//! s  .config/nvim/init.lua  nvim/init.lua  ../../dotfiles/nvim/init.lua
//! h  .gitconfig  git/gitconfig  2049:1234567
//! d  .config/nvim  2049:1234600
//! ```
//!
//! `s` is a symlink (target, source, the text it stores), `h` a hard link (target, source, the
//! device and inode it shares), `d` a directory dotlink made (and the device and inode it had
//! when made: not in a line an older dotlink wrote, and ignored by one that reads it). Fields
//! are separated by tabs (shown as spaces above) and escaped by [`paths::escape_field`]; a
//! field starting with `/` is absolute. Version 1 was JSON with four absolute paths per link; it is still read, and the
//! first writing run replaces it.

use super::{DirId, Links, Record, State};
use crate::link_text;
use crate::manifest::Method;
use crate::paths;
use crate::paths::SharedPath;
use serde::Deserialize;
use std::ffi::OsStr;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The version this dotlink writes.
pub(crate) const VERSION: u32 = 2;

const MAGIC: &str = "dotlink-state ";

/// Why a state file could not be read.
pub(crate) enum Unreadable {
    /// Written by a dotlink that knows a format this one does not.
    OtherVersion(u32),
    Damaged(String),
    /// Reading it failed.
    Io(io::Error),
}

/// Write `state` for the manifest at `manifest`, with paths relative to `home` and to the
/// manifest's directory. Sorted, so the file is the same for the same state.
pub(crate) fn write(
    state: &State,
    manifest: &Path,
    home: &Path,
    out: &mut dyn Write,
) -> io::Result<()> {
    let repo = manifest.parent().unwrap_or(Path::new("/"));
    let mut line = Vec::with_capacity(256);
    line.extend_from_slice(format!("{MAGIC}{VERSION}\n").as_bytes());
    for (key, path) in [("manifest", manifest), ("home", home), ("repo", repo)] {
        line.extend_from_slice(key.as_bytes());
        line.push(b'\t');
        paths::escape_field(path.as_os_str(), &mut line);
        line.push(b'\n');
    }
    out.write_all(&line)?;
    // In the directory order, the planner's: `status` looks at the targets in the order they
    // are read, without sorting them first. A first apply records them in that order, and
    // they are written as they are, with no list of them made (80 KB at 10,000 links).
    let records = state.links.values();
    let in_order = records
        .clone()
        .map(|r| paths::by_directory(&r.target))
        .is_sorted();
    let sorted: Option<Vec<&Record>> = (!in_order).then(|| {
        let mut links: Vec<&Record> = records.clone().collect();
        paths::sort_by_directory(&mut links, |r| &r.target);
        links
    });
    let links: Box<dyn Iterator<Item = &Record>> = match &sorted {
        Some(links) => Box::new(links.iter().copied()),
        None => Box::new(records),
    };
    let mut texts = link_text::Texts::default();
    for record in links {
        line.clear();
        line.extend_from_slice(match record.method {
            Method::Symlink => b"s\t",
            Method::Hardlink => b"h\t",
        });
        push_below(&mut line, &record.target, home);
        line.push(b'\t');
        push_below(&mut line, &record.source, repo);
        line.push(b'\t');
        match record.method {
            // The whole text, the default one too: what a link holds is in the file.
            Method::Symlink => match &record.own_text {
                Some(own) => paths::escape_field(own.as_os_str(), &mut line),
                None => {
                    if let Some(text) = texts.default_text(&record.target, &record.source) {
                        paths::escape_field(text.as_os_str(), &mut line);
                    }
                }
            },
            Method::Hardlink => {
                if let Some((dev, ino)) = record.inode() {
                    line.extend_from_slice(format!("{dev}:{ino}").as_bytes());
                }
            }
        }
        line.push(b'\n');
        out.write_all(&line)?;
    }
    for (dir, id) in state.dirs.iter() {
        line.clear();
        line.extend_from_slice(b"d\t");
        push_below(&mut line, dir, home);
        if let Some(DirId { dev, ino, born }) = id {
            line.extend_from_slice(format!("\t{dev}:{ino}").as_bytes());
            // When it was made, where known: a field older versions do not read.
            if born != 0 {
                line.extend_from_slice(format!("\t{born}").as_bytes());
            }
        }
        line.push(b'\n');
        out.write_all(&line)?;
    }
    Ok(())
}

/// `path` relative to `base` when it lies below it, else absolute.
fn push_below(line: &mut Vec<u8>, path: &Path, base: &Path) {
    let rest = paths::below(path, base).filter(|rest| !rest.as_os_str().is_empty());
    paths::escape_field(rest.unwrap_or(path).as_os_str(), line);
}

/// The manifest a state file belongs to, and its state: version 2, or version 1 (JSON).
#[cfg(test)]
pub(crate) fn read(mut bytes: &[u8]) -> Result<(Option<PathBuf>, State), Unreadable> {
    read_from(&mut bytes)
}

/// How much of a state file is held at once: at 100,000 links the file is 11 MB, which, read
/// whole, was held beside the records being built from it, at the peak of a run.
const PIECE: usize = 256 * 1024;

/// [`read`], from `file`, a piece at a time: only a version 1 (JSON) file is read whole.
pub(crate) fn read_from(file: &mut impl io::Read) -> Result<(Option<PathBuf>, State), Unreadable> {
    read_sized(file, PIECE as u64)
}

/// [`read_from`] for a file of about `size` bytes: one smaller than a piece is read in a piece
/// its size, from the heap (a piece has a mapping of its own, made and unmade, and its pages
/// are new to the process).
pub(crate) fn read_sized(
    file: &mut impl io::Read,
    size: u64,
) -> Result<(Option<PathBuf>, State), Unreadable> {
    // One byte more than the file, so the read that finds its end is not a piece's growth.
    let piece = usize::try_from(size.saturating_add(1)).map_or(PIECE, |n| n.clamp(64, PIECE));
    let mut held = vec![0; piece];
    let mut len = 0;
    // `held[..partial]` is the start of a line not read to its end: no line end is in it.
    let mut partial = 0;
    let mut lines = Lines::default();
    let mut v2 = false;
    // Whether a byte-order mark or blank space was read past: the file is then version 1, or
    // damaged at its first line.
    let mut dropped = false;
    loop {
        if len == held.len() {
            // A line longer than a piece.
            held.resize(2 * len, 0);
        }
        let read = loop {
            match file.read(&mut held[len..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => break other.map_err(Unreadable::Io)?,
            }
        };
        len += read;
        let done = read == 0;
        if !v2 {
            // Version 1 as an editor may leave it: a byte-order mark, blank space, then `{`.
            let bom = "\u{feff}".as_bytes();
            let bytes = &held[..len];
            if !dropped && bom.starts_with(bytes) && !done {
                continue;
            }
            let after_bom = match !dropped && bytes.starts_with(bom) {
                true => bom.len(),
                false => 0,
            };
            let first = bytes[after_bom..]
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .map(|at| after_bom + at);
            match first {
                // All blank so far: let go of, not held (a file of blank space is read in
                // pieces too).
                None if !done => {
                    dropped = true;
                    len = 0;
                    continue;
                }
                Some(at) if held[at] == b'{' => {
                    held.truncate(len);
                    held.drain(..at);
                    file.read_to_end(&mut held).map_err(Unreadable::Io)?;
                    return read_json(&held);
                }
                _ if dropped || first != Some(0) => {
                    return Err(Unreadable::Damaged(
                        "line 1: not a dotlink state file".into(),
                    ));
                }
                _ => v2 = true,
            }
        }
        let (mut from, mut search) = (0, partial);
        while let Some(at) = memchr::memchr(b'\n', &held[search..len]) {
            lines.line(&held[from..search + at])?;
            from = search + at + 1;
            search = from;
        }
        if done {
            if from < len {
                lines.line(&held[from..len])?;
            }
            return lines.finish();
        }
        held.copy_within(from..len, 0);
        len -= from;
        partial = len;
    }
}

/// A version 2 state file, read a line at a time.
#[derive(Default)]
struct Lines {
    /// The lines read so far.
    count: usize,
    header: [Option<PathBuf>; 3],
    /// In the file's order; a table of them by target is built once they are all read.
    records: Vec<Record>,
    dirs: Vec<(PathBuf, Option<DirId>)>,
    /// Each path is built here, then copied into its own allocation.
    buf: Vec<u8>,
    texts: link_text::Texts,
}

impl Lines {
    fn line(&mut self, line: &[u8]) -> Result<(), Unreadable> {
        self.count += 1;
        let index = self.count;
        let damaged = |what: &str| Unreadable::Damaged(format!("line {index}: {what}"));
        if index == 1 {
            let version = line
                .strip_prefix(MAGIC.as_bytes())
                .and_then(|v| std::str::from_utf8(v).ok()?.parse::<u32>().ok())
                .ok_or_else(|| damaged("not a dotlink state file"))?;
            return match version {
                VERSION => Ok(()),
                other => Err(Unreadable::OtherVersion(other)),
            };
        }
        if line.is_empty() {
            return Ok(());
        }
        // A carriage return in a name is written escaped: one here means the file was changed.
        if line.ends_with(b"\r") {
            return Err(damaged("a carriage return ends the line"));
        }
        let mut fields = split_on(b'\t', line);
        let kind = fields.next().unwrap_or_default();
        let mut field = || fields.next().ok_or_else(|| damaged("a field is missing"));
        let header = &mut self.header;
        let buf = &mut self.buf;
        match kind {
            b"manifest" | b"home" | b"repo" => {
                let slot = match kind {
                    b"manifest" => 0,
                    b"home" => 1,
                    _ => 2,
                };
                let path = paths::unescape_field(field()?);
                if !path.is_absolute() {
                    return Err(damaged("the path is not absolute"));
                }
                header[slot] = Some(path);
            }
            b"s" | b"h" => {
                let [_, Some(home), Some(repo)] = &*header else {
                    return Err(damaged("a link before the home and the repository"));
                };
                let (target, source, last) = (field()?, field()?, field()?);
                let bad = || damaged("a path with a `..` in it");
                let target = resolve_in(target, home, buf).ok_or_else(bad)?;
                let source = resolve_in(source, repo, buf).ok_or_else(bad)?;
                let record = if kind == b"s" {
                    buf.clear();
                    paths::unescape_into(last, buf);
                    // Held only where it is not the default text. An empty one (a text not
                    // known) is held, and matches no link.
                    let text = Path::new(OsStr::from_bytes(buf));
                    let own_text = self.texts.own(text, &target, &source);
                    Record {
                        target,
                        source,
                        method: Method::Symlink,
                        own_text,
                        inode: None,
                    }
                } else {
                    Record {
                        target,
                        source,
                        method: Method::Hardlink,
                        own_text: None,
                        inode: inode(last)
                            .ok_or_else(|| damaged("not a device:inode pair"))?
                            .map(Box::new),
                    }
                };
                self.records.push(record);
            }
            b"d" => {
                let [_, Some(home), _] = &*header else {
                    return Err(damaged("a directory before the home"));
                };
                let dir =
                    resolve(field()?, home).ok_or_else(|| damaged("a path with a `..` in it"))?;
                // A directory recorded before its identity was kept has none, and one
                // recorded before its birth time was kept, or where it is not known, none.
                let id = match fields.next() {
                    Some(id) => inode(id).ok_or_else(|| damaged("not a device:inode pair"))?,
                    None => None,
                };
                // One that cannot be read is taken as not known: it only ever narrows what is
                // taken for dotlink's, and is no reason to give up the whole state.
                let born = fields
                    .next()
                    .and_then(|b| std::str::from_utf8(b).ok()?.parse().ok())
                    .unwrap_or(0);
                self.dirs
                    .push((dir, id.map(|(dev, ino)| DirId { dev, ino, born })));
            }
            other => {
                let other = String::from_utf8_lossy(other);
                return Err(damaged(&format!("unknown kind of line \"{other}\"")));
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<(Option<PathBuf>, State), Unreadable> {
        if self.count == 0 {
            return Err(Unreadable::Damaged(
                "line 1: not a dotlink state file".into(),
            ));
        }
        let state = State {
            links: Links::from_records(self.records),
            // Written in order, so collected at once: inserted one by one, each compared its
            // way down the tree component by component.
            dirs: self.dirs.into_iter().collect(),
        };
        let [manifest, ..] = self.header;
        Ok((manifest, state))
    }
}

/// `bytes` split at each `byte`, as `slice::split` splits them, found by `memchr` (a state
/// file is read on every run: a megabyte at 10,000 links).
fn split_on(byte: u8, bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(bytes);
    std::iter::from_fn(move || {
        let all = rest?;
        match memchr::memchr(byte, all) {
            Some(at) => {
                rest = Some(&all[at + 1..]);
                Some(&all[..at])
            }
            None => {
                rest = None;
                Some(all)
            }
        }
    })
}

/// A field [`push_below`] wrote against `base`; `None` for one with a `..`, which dotlink
/// never writes (its paths are normalised) and which could lead anywhere.
fn resolve(field: &[u8], base: &Path) -> Option<PathBuf> {
    resolve_in(field, base, &mut Vec::new()).map(|path| path.to_path_buf())
}

/// [`resolve`], built in `buf` (`base/`, then the unescaped field) and copied once into the
/// path's own allocation: thousands are read on every run, and a `PathBuf` turned into a
/// shared path is allocated and copied twice.
fn resolve_in(field: &[u8], base: &Path, buf: &mut Vec<u8>) -> Option<SharedPath> {
    let base = base.as_os_str().as_bytes();
    buf.clear();
    buf.extend_from_slice(base);
    paths::push_separator(buf);
    let start = buf.len();
    paths::unescape_into(field, buf);
    let path = &buf[start..];
    if paths::has_dotdot(path) {
        return None;
    }
    let whole = match path.first() == Some(&b'/') || base.is_empty() {
        true => path,
        false => &buf[..],
    };
    Some(shared_plain(whole))
}

/// `bytes` as a shared path in its plain form. A hand-edited `.x/` or `./.x` is the record of
/// `.x`: kept as spelled, a trailing `/` would make every later look at the target follow the
/// link there.
fn shared_plain(bytes: &[u8]) -> SharedPath {
    let path = Path::new(OsStr::from_bytes(bytes));
    match paths::is_plain(bytes) {
        true => SharedPath::from(path),
        false => paths::plain(path.to_path_buf()).into(),
    }
}

/// `dev:ino`, or nothing (a hard link recorded without its inode).
fn inode(field: &[u8]) -> Option<Option<(u64, u64)>> {
    if field.is_empty() {
        return Some(None);
    }
    let text = std::str::from_utf8(field).ok()?;
    let (dev, ino) = text.split_once(':')?;
    Some(Some((dev.parse().ok()?, ino.parse().ok()?)))
}

/// Version 1: JSON with absolute paths.
#[derive(Deserialize)]
struct JsonStateFile {
    version: u32,
    #[serde(with = "paths::serde_path::option", default)]
    manifest: Option<PathBuf>,
    links: Vec<Record>,
    #[serde(with = "paths::serde_path::vec", default)]
    dirs: Vec<PathBuf>,
}

fn read_json(bytes: &[u8]) -> Result<(Option<PathBuf>, State), Unreadable> {
    // Counted: each record's target and source are replaced by their plain form below.
    let file: JsonStateFile = crate::shared_path::counted_paths(|| serde_json::from_slice(bytes))
        .map_err(|e| Unreadable::Damaged(e.to_string()))?;
    if file.version != 1 {
        return Err(Unreadable::OtherVersion(file.version));
    }
    // Plain paths, as version 2 reads them. A `..`, which dotlink never wrote (a hand edit),
    // cannot be written in version 2, whose reader would refuse the whole file for it: such a
    // record is dropped (what it names is no longer taken for dotlink's), not the file.
    let plain = |path: &Path| paths::plain(path.to_path_buf());
    let dotdot = |path: &Path| paths::has_dotdot(path.as_os_str().as_bytes());
    let mut links = Links::with_capacity(file.links.len());
    for mut record in file.links {
        if dotdot(&record.target) || dotdot(&record.source) {
            continue;
        }
        record.target = plain(&record.target).into();
        record.source = plain(&record.source).into();
        links.insert(record);
    }
    let dirs = file
        .dirs
        .iter()
        .filter(|d| !dotdot(d))
        .map(|d| (plain(d), None))
        .collect();
    let state = State { links, dirs };
    Ok((file.manifest, state))
}

/// Whether `name` (a file in the state directory) is a state file of either version.
pub(crate) fn is_state_file(name: &Path) -> bool {
    let name = name.as_os_str().as_bytes();
    name.ends_with(b".state") || (name.ends_with(b".json") && !name.ends_with(b".journal.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> State {
        let mut state = State::default();
        let records = [
            Record {
                target: Path::new("/h/.config/a b\tc").into(),
                source: Path::new("/r/a\nb").into(),
                method: Method::Symlink,
                own_text: Some(Path::new("../r/a\nb").into()),
                inode: None,
            },
            Record {
                target: Path::new("/h/.x").into(),
                source: Path::new("/elsewhere/x").into(),
                method: Method::Hardlink,
                own_text: None,
                inode: Some(Box::new((2049, 77))),
            },
            Record {
                target: Path::new("/outside/.y").into(),
                source: Path::new("/r").into(),
                method: Method::Symlink,
                own_text: Some(Path::new("/r").into()),
                inode: None,
            },
        ];
        for record in records {
            state.links.insert(record);
        }
        let id = |ino, born| {
            Some(DirId {
                dev: 2049,
                ino,
                born,
            })
        };
        state.dirs.insert(Path::new("/h/.config"), id(31, 0));
        state.dirs.insert(
            Path::new("/h/.config/app"),
            id(32, 1_796_505_193_898_785_229),
        );
        state.dirs.insert(Path::new("/h/.config/old"), None);
        state
    }

    /// `state` as written for the manifest `/r/dotlink.toml` managing `/h`.
    fn written(state: &State) -> Vec<u8> {
        let mut bytes = Vec::new();
        write(
            state,
            Path::new("/r/dotlink.toml"),
            Path::new("/h"),
            &mut bytes,
        )
        .unwrap();
        bytes
    }

    /// [`sample`] as written.
    fn sample_file() -> Vec<u8> {
        written(&sample())
    }

    /// A link's default text is written whole, and read back as none held; any other text is
    /// held as it is written.
    #[test]
    fn only_a_text_other_than_the_default_is_held_and_every_text_is_written() {
        let symlink = |target: &str, source: &str, own: Option<&str>| Record {
            target: Path::new(target).into(),
            source: Path::new(source).into(),
            method: Method::Symlink,
            own_text: own.map(|t| Path::new(t).into()),
            inode: None,
        };
        let mut state = State::default();
        state.links.extend([
            symlink("/h/.config/a/f", "/r/a/f", None),
            // The default text, held: written the same, and not held once read.
            symlink("/h/.config/a/g", "/r/a/g", Some("../../../r/a/g")),
            symlink("/h/.config/a/h", "/r/a/h", Some("../../../r/a//h")),
            symlink("/h/.x", "/r/x", Some("/r/x")),
            // A text not known (an old version's record): still none known.
            symlink("/h/.y", "/r/y", Some("")),
        ]);
        let bytes = written(&state);
        let text = String::from_utf8(bytes.clone()).unwrap();
        for line in [
            "s\t.config/a/f\ta/f\t../../../r/a/f\n",
            "s\t.config/a/g\ta/g\t../../../r/a/g\n",
            "s\t.config/a/h\ta/h\t../../../r/a//h\n",
            "s\t.x\tx\t/r/x\n",
            "s\t.y\ty\t\n",
        ] {
            assert!(text.contains(line), "{line:?} in {text}");
        }
        let Ok((_, read)) = read(&bytes) else {
            panic!("not read")
        };
        assert_eq!(read, state);
        let held = |target: &str| {
            let record = read.links.get(Path::new(target)).unwrap();
            let own = record
                .own_text
                .as_ref()
                .map(|t| t.to_str().unwrap().to_string());
            (own, record.text().unwrap().to_str().unwrap().to_string())
        };
        let text = |t: &str| t.to_string();
        assert_eq!(held("/h/.config/a/f"), (None, text("../../../r/a/f")));
        assert_eq!(held("/h/.config/a/g"), (None, text("../../../r/a/g")));
        let own = text("../../../r/a//h");
        assert_eq!(held("/h/.config/a/h"), (Some(own.clone()), own));
        assert_eq!(held("/h/.x"), (Some(text("/r/x")), text("/r/x")));
        assert_eq!(held("/h/.y"), (Some(text("")), text("")));
        // A text held that is the default one says the same as none held; another does not.
        let g = read.links.get(Path::new("/h/.config/a/g")).unwrap();
        assert_eq!(
            *g,
            symlink("/h/.config/a/g", "/r/a/g", Some("../../../r/a/g"))
        );
        assert_ne!(
            *g,
            symlink("/h/.config/a/g", "/r/a/g", Some("../../../r/a/./g"))
        );
        assert_ne!(*g, symlink("/h/.config/a/g", "/r/a/g", Some("")));
    }

    #[test]
    fn records_are_written_in_the_directory_order_however_they_were_recorded() {
        let record = |target: &str| Record {
            target: Path::new(target).into(),
            source: Path::new("/r/x").into(),
            method: Method::Symlink,
            own_text: Some(Path::new("../r/x").into()),
            inode: None,
        };
        let targets = |state: &State| -> Vec<String> {
            let bytes = written(state);
            let text = String::from_utf8(bytes).unwrap();
            text.lines()
                .filter_map(|l| l.strip_prefix("s\t"))
                .map(|l| l.split('\t').next().unwrap().to_string())
                .collect()
        };
        let in_order = ["a", "b-g", "b/c", "b/d", "b/e/f"];
        let mut state = State::default();
        state
            .links
            .extend(in_order.map(|t| record(&format!("/h/{t}"))));
        assert_eq!(targets(&state), in_order);
        // Out of order: recorded so, and after a removal moved the last record into a gap.
        let mut state = State::default();
        state
            .links
            .extend(["b-g", "b/e/f", "a", "b/d", "x", "b/c"].map(|t| record(&format!("/h/{t}"))));
        state.links.remove(Path::new("/h/x"));
        assert_eq!(targets(&state), in_order);
    }

    #[test]
    fn version_2_roundtrips_with_odd_names_and_paths_outside() {
        let bytes = sample_file();
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.starts_with("dotlink-state 2\n"), "{text}");
        assert!(
            text.contains("s\t.config/a b\\tc\ta\\nb\t../r/a\\nb\n"),
            "{text}"
        );
        assert!(text.contains("h\t.x\t/elsewhere/x\t2049:77\n"), "{text}");
        assert!(text.contains("s\t/outside/.y\t/r\t/r\n"), "{text}");
        assert!(
            text.contains(
                "d\t.config\t2049:31\nd\t.config/app\t2049:32\t1796505193898785229\nd\t.config/old\n"
            ),
            "{text}"
        );
        let Ok((manifest, state)) = read(&bytes) else {
            panic!("unreadable: {text}")
        };
        assert_eq!(manifest.as_deref(), Some(Path::new("/r/dotlink.toml")));
        assert_eq!(state, sample());
    }

    #[test]
    fn a_field_resolves_as_unescaping_then_joining_it_would() {
        // What `resolve` did before it built paths in one buffer.
        let joined = |field: &[u8], base: &Path| {
            let path = paths::unescape_field(field);
            if path
                .components()
                .any(|c| c == std::path::Component::ParentDir)
            {
                return None;
            }
            Some(if field.first() == Some(&b'/') {
                path
            } else {
                paths::join(base, &path)
            })
        };
        let fields: [&[u8]; 12] = [
            b".config/a",
            b"",
            b"/abs/x",
            b"\\/abs/x",
            b"a/../b",
            b"..",
            b"a/.\\.",
            b"\\.\\./x",
            b"a\\tb\\nc\\\\d",
            b"./a//b/",
            b"a\\",
            b"...",
        ];
        for base in ["/h", "/", "", "/h/"] {
            for field in fields {
                let resolved = resolve(field, Path::new(base));
                assert_eq!(
                    resolved,
                    joined(field, Path::new(base)),
                    "{:?} in {base:?}",
                    String::from_utf8_lossy(field)
                );
                // Equal as paths is not enough: the bytes are what later calls are given.
                if let Some(path) = resolved {
                    assert!(paths::is_plain(path.as_os_str().as_bytes()), "{path:?}");
                }
            }
        }
    }

    #[test]
    fn version_1_paths_are_read_plain() {
        let file = |target: &str| {
            format!(
                r#"{{"version": 1, "links": [{{"target": "{target}", "source": "/r/./a/",
                "method": "symlink", "spelling": "../r/./a/"}}], "dirs": ["/h//d/"]}}"#
            )
        };
        let Ok((_, state)) = read(file("/h/.x/.").as_bytes()) else {
            panic!("not read")
        };
        let record = state.links.values().next().unwrap();
        assert_eq!(record.target.as_os_str(), "/h/.x");
        assert_eq!(record.source.as_os_str(), "/r/a");
        // What the link stores is kept as it is: it is compared with what `readlink` gives.
        assert_eq!(record.own_text.as_deref().unwrap().as_os_str(), "../r/./a/");
        assert_eq!(
            state.dirs.iter().collect::<Vec<_>>(),
            [(Path::new("/h/d"), None)]
        );
        // A `..` (hand-written) costs its record, not the file's other records; and the file
        // written from what was read is read again whole.
        let with_dotdot = |target: &str, dir: &str| {
            format!(
                r#"{{"version": 1, "links": [{{"target": "{target}", "source": "/r/a",
                "method": "symlink", "spelling": "../r/a"}}, {{"target": "/h/b", "source": "/r/b",
                "method": "symlink", "spelling": "../r/b"}}], "dirs": ["{dir}", "/h/d"]}}"#
            )
        };
        for (target, dir) in [("/h/x/../.y", "/h/d"), ("/h/.y", "/h/e/../d")] {
            let Ok((_, state)) = read(with_dotdot(target, dir).as_bytes()) else {
                panic!("not read")
            };
            let targets: Vec<_> = state
                .links
                .values()
                .map(|r| r.target.to_path_buf())
                .collect();
            let kept = if target.contains("..") { 1 } else { 2 };
            assert_eq!(targets.len(), kept, "{targets:?}");
            assert_eq!(
                state.dirs.iter().collect::<Vec<_>>(),
                [(Path::new("/h/d"), None)]
            );
            let bytes = written(&state);
            let Ok((_, again)) = read(&bytes) else {
                panic!("written file not read: {}", String::from_utf8_lossy(&bytes))
            };
            assert_eq!(again.links.len(), kept);
        }
    }

    #[test]
    fn split_on_splits_as_slice_split_does() {
        for text in ["", "a", "\t", "a\tb", "a\t\tb\t", "\ta", "a\tb\tc"] {
            let ours: Vec<&[u8]> = split_on(b'\t', text.as_bytes()).collect();
            let std: Vec<&[u8]> = text.as_bytes().split(|b| *b == b'\t').collect();
            assert_eq!(ours, std, "{text:?}");
        }
    }

    #[test]
    fn blank_lines_are_read_past_and_not_counted_as_records() {
        let mut bytes = sample_file();
        // Millions of blank lines once sized the table for millions of records.
        bytes.resize(bytes.len() + 4_000_000, b'\n');
        let Ok((_, state)) = read(&bytes) else {
            panic!("a padded state file is still readable")
        };
        assert_eq!(state, sample());
    }

    #[test]
    fn damaged_lines_and_other_versions_are_named() {
        let damaged = |text: &str| match read(text.as_bytes()) {
            Err(Unreadable::Damaged(why)) => why,
            _ => panic!("accepted: {text}"),
        };
        assert_eq!(damaged("garbage"), "line 1: not a dotlink state file");
        let head = "dotlink-state 2\nmanifest\t/r/m\nhome\t/h\nrepo\t/r\n";
        assert_eq!(
            damaged(&format!("{head}s\t.a\n")),
            "line 5: a field is missing"
        );
        assert_eq!(
            damaged(&format!("{head}h\t.a\tb\tnope\n")),
            "line 5: not a device:inode pair"
        );
        assert_eq!(
            damaged(&format!("{head}d\t.a\t12\n")),
            "line 5: not a device:inode pair"
        );
        assert_eq!(
            damaged("dotlink-state 2\ns\ta\tb\tc\n"),
            "line 2: a link before the home and the repository"
        );
        assert_eq!(
            damaged(&format!("{head}s\t../x\tb\tc\n")),
            "line 5: a path with a `..` in it"
        );
        assert_eq!(
            damaged(&format!("{head}s\ta\tb\tc\r\n")),
            "line 5: a carriage return ends the line"
        );
        assert_eq!(
            damaged("dotlink-state 2\nhome\t\n"),
            "line 2: the path is not absolute"
        );
        // Version 1 as an editor may leave it: a byte-order mark, a newline first.
        let v1 = "\u{feff}\n {\"version\": 1, \"links\": []}";
        assert!(read(v1.as_bytes()).is_ok());
        assert!(matches!(
            read(b"dotlink-state 3\n"),
            Err(Unreadable::OtherVersion(3))
        ));
        assert!(matches!(
            read(br#"{"version": 7, "links": []}"#),
            Err(Unreadable::OtherVersion(7))
        ));
    }

    /// A reader that gives at most `most` bytes a call, and is interrupted every other call.
    struct Dribble<'b> {
        bytes: &'b [u8],
        most: usize,
        calls: usize,
    }

    impl io::Read for Dribble<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.calls += 1;
            if self.calls.is_multiple_of(2) {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(self.most).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_file_read_a_piece_at_a_time_reads_as_a_whole() {
        // Longer than a piece, with one line longer than a piece too.
        let mut state = sample();
        for i in 0..8000 {
            state.links.insert(Record {
                target: PathBuf::from(format!("/h/.config/d{}/file{i}", i % 7)).into(),
                source: PathBuf::from(format!("/r/p/file{i}")).into(),
                method: Method::Symlink,
                own_text: Some(PathBuf::from(format!("../../r/p/file{i}")).into()),
                inode: None,
            });
        }
        let long = format!("/h/{}", "n".repeat(PIECE + 1000));
        state.links.insert(Record {
            target: Path::new(&long).into(),
            source: Path::new("/r/long").into(),
            method: Method::Hardlink,
            own_text: None,
            inode: Some(Box::new((1, 2))),
        });
        let bytes = written(&state);
        assert!(bytes.len() > 2 * PIECE);
        for most in [1, 7, 4096, PIECE - 1, usize::MAX] {
            let mut dribble = Dribble {
                bytes: &bytes,
                most,
                calls: 0,
            };
            let Ok((manifest, read)) = read_from(&mut dribble) else {
                panic!("unreadable in pieces of {most}")
            };
            assert_eq!(manifest.as_deref(), Some(Path::new("/r/dotlink.toml")));
            assert!(read == state, "pieces of {most}");
        }
        // Version 1, and a file with no line, as pieces too.
        let v1 = "\u{feff}\n {\"version\": 1, \"links\": []}";
        let mut dribble = Dribble {
            bytes: v1.as_bytes(),
            most: 1,
            calls: 0,
        };
        assert!(read_from(&mut dribble).is_ok());
        assert!(
            matches!(read(b""), Err(Unreadable::Damaged(e)) if e == "line 1: not a dotlink state file")
        );
        // Blank space first: read past a piece at a time, then version 1, or damaged at its
        // first line whatever follows.
        let blank = " \n\t".repeat(PIECE);
        let json = format!("\u{feff}{blank}{{\"version\": 1, \"links\": []}}");
        let line_1 = |e: &str| e == "line 1: not a dotlink state file";
        for most in [7, usize::MAX] {
            let mut dribble = Dribble {
                bytes: json.as_bytes(),
                most,
                calls: 0,
            };
            assert!(read_from(&mut dribble).is_ok(), "pieces of {most}");
            for file in [
                blank.clone(),
                format!("{blank}dotlink-state 2\n"),
                "\ndotlink-state 2\n".to_string(),
                "\u{feff}dotlink-state 2\n".to_string(),
            ] {
                let mut dribble = Dribble {
                    bytes: file.as_bytes(),
                    most,
                    calls: 0,
                };
                assert!(
                    matches!(read_from(&mut dribble), Err(Unreadable::Damaged(e)) if line_1(&e)),
                    "{:?}",
                    &file[..file.len().min(40)]
                );
            }
        }
    }

    #[test]
    fn a_file_read_in_a_piece_of_its_size_reads_as_a_whole() {
        let bytes = sample_file();
        let Ok((_, whole)) = read(&bytes) else {
            panic!("the sample is readable")
        };
        // The size as it was, or as it was before the file grew or shrank.
        let n = bytes.len() as u64;
        for size in [0, 1, 63, 64, 65, n / 2, n - 1, n, n + 1, u64::MAX] {
            let mut file = &bytes[..];
            let Ok((_, read)) = read_sized(&mut file, size) else {
                panic!("unreadable as {size} bytes")
            };
            assert!(read == whole, "read as {size} bytes");
        }
    }

    #[test]
    fn a_read_that_fails_half_way_is_no_state() {
        struct Failing(usize);
        impl io::Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let bytes = b"dotlink-state 2\nhome\t/h\n";
                match std::mem::replace(&mut self.0, 1) {
                    0 => {
                        buf[..bytes.len()].copy_from_slice(bytes);
                        Ok(bytes.len())
                    }
                    _ => Err(io::Error::from_raw_os_error(libc::EIO)),
                }
            }
        }
        assert!(matches!(read_from(&mut Failing(0)), Err(Unreadable::Io(_))));
    }

    #[test]
    fn a_target_recorded_twice_keeps_the_later_record_at_the_earlier_place() {
        let file = "dotlink-state 2\nhome\t/h\nrepo\t/r\n\
                    s\ta\tx\t../r/x\ns\tb\tb\t../r/b\ns\ta\ty\t../r/y\n";
        let Ok((_, state)) = read(file.as_bytes()) else {
            panic!("unreadable")
        };
        let records: Vec<(&Path, &Path)> = state
            .links
            .values()
            .map(|r| (&*r.target, &*r.source))
            .collect();
        assert_eq!(
            records,
            [
                (Path::new("/h/a"), Path::new("/r/y")),
                (Path::new("/h/b"), Path::new("/r/b"))
            ]
        );
        assert_eq!(
            state
                .links
                .get(Path::new("/h/a"))
                .unwrap()
                .source
                .as_os_str(),
            "/r/y"
        );
    }
}
