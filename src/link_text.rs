//! Link texts: the text dotlink gives a relative symlink, and which texts need not be held.
//!
//! A relative symlink at `target` to `source` gets its source seen from the target's directory
//! (`../../dotfiles/nvim/init.lua`): its *default text*, a function of the two paths alone. A
//! state record and a plan's link hold a text of their own only where it is not the default
//! one (an absolute link, a link kept as the user spelled it, a target reached through a
//! symlinked directory); the default is derived again where it is needed. At 100,000 links the
//! texts were 6.6 MB of a run's memory, held from the state's reading to the end.
//!
//! Ownership is proven by the text byte for byte (`plan::inspect::holds`), so there is one
//! derivation ([`Texts`]) for the state's reading and writing, the survey, the planner and the
//! applier.

use crate::paths;
use crate::paths::SharedPath;
use std::borrow::Cow;
use std::cell::RefCell;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Builds relative link texts. Consecutive links usually share both directories, so the path
/// arithmetic runs once per pair of directories, and each text is built in a buffer kept
/// between calls.
#[derive(Debug, Default)]
pub struct Texts {
    /// The last pair of directories (the link's, the source's) and the path between them.
    dir: Vec<u8>,
    source_dir: Vec<u8>,
    between: Vec<u8>,
    known: bool,
    text: Vec<u8>,
}

impl Texts {
    /// `source_dir` seen from `dir`, computed once per pair of directories.
    fn between(&mut self, dir: &Path, source_dir: &Path) -> &[u8] {
        let (dir_bytes, source_bytes) = (
            dir.as_os_str().as_bytes(),
            source_dir.as_os_str().as_bytes(),
        );
        if !(self.known && self.dir == dir_bytes && self.source_dir == source_bytes) {
            let between = paths::relative(source_dir, dir);
            self.between.clear();
            self.between
                .extend_from_slice(between.as_os_str().as_bytes());
            self.dir.clear();
            self.dir.extend_from_slice(dir_bytes);
            self.source_dir.clear();
            self.source_dir.extend_from_slice(source_bytes);
            self.known = true;
        }
        &self.between
    }

    /// The relative text of a link in `dir` to `source`: `source`'s directory seen from `dir`,
    /// then its name. None where `source` has no directory and name of its own (`/`, `a/..`).
    pub fn relative(&mut self, source: &Path, dir: &Path) -> Option<&Path> {
        let (Some(source_dir), Some(name)) = paths::parent_and_name(source) else {
            return None;
        };
        self.between(dir, source_dir);
        let parts = Parts {
            between: &self.between,
            name: name.as_bytes(),
        };
        self.text.clear();
        parts.join_into(&mut self.text);
        Some(Path::new(OsStr::from_bytes(&self.text)))
    }

    /// The default text of a symlink at `target` to `source` (see the module's doc): from
    /// `target`'s directory as spelled.
    pub fn default_text(&mut self, target: &Path, source: &Path) -> Option<&Path> {
        self.relative(source, paths::parent(target)?)
    }

    /// The default text of a symlink at `target` to `source` in its two parts, not built: the
    /// source's directory seen from the target's, and the source's name ([`Parts::are`]).
    pub fn default_parts<'s>(&'s mut self, target: &Path, source: &'s Path) -> Option<Parts<'s>> {
        self.parts_in(paths::parent(target)?, source)
    }

    /// [`Texts::default_parts`] for a target whose directory, as spelled, is `dir`.
    pub fn parts_in<'s>(&'s mut self, dir: &Path, source: &'s Path) -> Option<Parts<'s>> {
        let (Some(source_dir), Some(name)) = paths::parent_and_name(source) else {
            return None;
        };
        Some(Parts {
            between: self.between(dir, source_dir),
            name: name.as_bytes(),
        })
    }

    /// Whether `text` is, byte for byte, the default text of a symlink at `target` to
    /// `source`.
    pub fn is_default(&mut self, text: &[u8], target: &Path, source: &Path) -> bool {
        self.default_parts(target, source)
            .is_some_and(|parts| parts.are(text))
    }

    /// `text` as it is held for a symlink at `target` to `source`: none where it is the
    /// default text.
    pub fn own(&mut self, text: &Path, target: &Path, source: &Path) -> Option<SharedPath> {
        (!self.is_default(text.as_os_str().as_bytes(), target, source)).then(|| text.into())
    }
}

/// A relative link text in two parts: built by [`Parts::join_into`], or compared without
/// being built (every link of a run with nothing to do is compared so, twice).
#[derive(Debug, Clone, Copy)]
pub struct Parts<'a> {
    between: &'a [u8],
    name: &'a [u8],
}

impl Parts<'_> {
    /// Whether a separator goes between the parts: unless `between` is empty (the source is in
    /// the link's directory) or ends in one.
    fn separator(&self) -> bool {
        !self.between.is_empty() && !self.between.ends_with(b"/")
    }

    /// The text: `between`, the separator, `name`.
    fn join_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.between);
        if self.separator() {
            out.push(b'/');
        }
        out.extend_from_slice(self.name);
    }

    /// Whether `text` is these parts joined ([`Parts::join_into`]).
    pub fn are(&self, text: &[u8]) -> bool {
        let separator = usize::from(self.separator());
        text.len() == self.between.len() + separator + self.name.len()
            && text.starts_with(self.between)
            && (separator == 0 || text[self.between.len()] == b'/')
            && text.ends_with(self.name)
    }
}

thread_local! {
    /// For [`text`]: the applier derives each link's text as it makes it, in the plan's order.
    static TEXTS: RefCell<Texts> = RefCell::default();
}

/// The text of a symlink at `target` to `source` that holds `own` (see [`Texts::own`]): `own`,
/// or the default text derived again. A default that cannot be derived (never held so) is
/// empty, which no symlink stores.
pub fn text<'a>(own: Option<&'a SharedPath>, target: &Path, source: &Path) -> Cow<'a, Path> {
    match own {
        Some(own) => Cow::Borrowed(&**own),
        None => Cow::Owned(with_text(None, target, source, Path::to_path_buf)),
    }
}

/// `f` given the [`text`] of a symlink at `target` to `source` that holds `own`, built in a
/// buffer of this thread, not allocated (the applier makes, and journals, every link's text).
/// `f` must not ask for another text.
pub fn with_text<R>(
    own: Option<&SharedPath>,
    target: &Path,
    source: &Path,
    f: impl FnOnce(&Path) -> R,
) -> R {
    match own {
        Some(own) => f(own),
        None => TEXTS.with_borrow_mut(|texts| {
            f(texts.default_text(target, source).unwrap_or(Path::new("")))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_text_is_the_source_seen_from_the_targets_directory() {
        let mut texts = Texts::default();
        let t = |texts: &mut Texts, target: &str, source: &str| {
            texts
                .default_text(Path::new(target), Path::new(source))
                .map(|p| p.to_str().unwrap().to_string())
        };
        assert_eq!(
            t(&mut texts, "/h/.config/a/f", "/h/dots/a/f").as_deref(),
            Some("../../dots/a/f")
        );
        // Memoised per pair of directories: another name in the same pair, then another pair.
        assert_eq!(
            t(&mut texts, "/h/.config/a/g", "/h/dots/a/g").as_deref(),
            Some("../../dots/a/g")
        );
        assert_eq!(
            t(&mut texts, "/h/.vimrc", "/h/dots/vimrc").as_deref(),
            Some("dots/vimrc")
        );
        assert_eq!(t(&mut texts, "/h/x", "/h/y").as_deref(), Some("y"));
        assert_eq!(t(&mut texts, "/h/x", "/").as_deref(), None);
        assert!(texts.is_default(
            b"dots/vimrc",
            Path::new("/h/.vimrc"),
            Path::new("/h/dots/vimrc")
        ));
        // Byte for byte: the same path spelled otherwise is not the default text.
        assert!(!texts.is_default(
            b"dots//vimrc",
            Path::new("/h/.vimrc"),
            Path::new("/h/dots/vimrc")
        ));
        assert!(!texts.is_default(
            b"./dots/vimrc",
            Path::new("/h/.vimrc"),
            Path::new("/h/dots/vimrc")
        ));
        // The parts, compared unbuilt, say what the built text says, for every text near it.
        let pairs = [
            ("/h/.config/a/f", "/h/dots/a/f"),
            ("/h/x", "/h/y"),
            ("/h/x", "/y"),
        ];
        for (target, source) in pairs {
            let (target, source) = (Path::new(target), Path::new(source));
            let built = texts.default_text(target, source).unwrap();
            let built = built.as_os_str().as_bytes().to_vec();
            let mut near = vec![
                built.clone(),
                built[1..].to_vec(),
                built[..built.len() - 1].to_vec(),
                [&built[..], b"/"].concat(),
                [b"./", &built[..]].concat(),
            ];
            near.push(
                built
                    .iter()
                    .map(|&b| if b == b'/' { b'x' } else { b })
                    .collect(),
            );
            for text in near {
                let parts = texts.default_parts(target, source).unwrap();
                let said = String::from_utf8_lossy(&text).to_string();
                assert_eq!(parts.are(&text), text == built, "{said}");
            }
        }
    }

    #[test]
    fn only_a_text_other_than_the_default_is_held() {
        let mut texts = Texts::default();
        let (target, source) = (Path::new("/h/.config/f"), Path::new("/h/dots/f"));
        assert_eq!(texts.own(Path::new("../dots/f"), target, source), None);
        let own = texts.own(Path::new("/h/dots/f"), target, source);
        assert_eq!(own.as_deref(), Some(Path::new("/h/dots/f")));
        assert_eq!(text(own.as_ref(), target, source), Path::new("/h/dots/f"));
        assert_eq!(text(None, target, source), Path::new("../dots/f"));
        // An empty text (a record whose text was lost) is held, and matches no link.
        let empty = texts.own(Path::new(""), target, source);
        assert_eq!(empty.as_deref(), Some(Path::new("")));
        assert_eq!(text(None, target, Path::new("/")), Path::new(""));
    }
}
