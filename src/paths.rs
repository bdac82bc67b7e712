//! Pure path arithmetic: `~` and `$VAR` expansion in targets, lexical normalisation, relative
//! spellings, `~`-shortened display, and a lossless serde form for paths that are not UTF-8.
//!
//! Nothing here touches the filesystem, so everything here is unit-tested directly.

pub use crate::shared_path::SharedPath;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Component, Path, PathBuf};

/// Expand `~`, `~/…`, `$VAR`, `${VAR}` and `${VAR:-default}` in a manifest path; `$$` is a
/// literal `$` (see [`escape_dollars`]).
///
/// `~user` is refused rather than looked up: a manifest arrives by `git pull`, and another
/// user's home is never a place it may write to. `lookup` returns a variable's value; an unset
/// (or empty) variable without a default is an error naming it.
pub fn expand(
    raw: &str,
    home: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<PathBuf, String> {
    let substituted = substitute_vars(raw, home, lookup)?;
    expand_tilde(&substituted, home)
}

fn expand_tilde(text: &str, home: &Path) -> Result<PathBuf, String> {
    if text == "~" {
        return Ok(home.to_path_buf());
    }
    if let Some(rest) = text.strip_prefix("~/") {
        // `~//x` is `~/x`: joined as it is, `/x` would replace the home.
        return Ok(home.join(rest.trim_start_matches('/')));
    }
    if let Some(rest) = text.strip_prefix('~') {
        let user = rest.split('/').next().unwrap_or("");
        return Err(format!(
            "`~{user}` names another user's home directory, which dotlink never expands; write `~/…` for your own home"
        ));
    }
    Ok(PathBuf::from(text))
}

fn substitute_vars(
    raw: &str,
    home: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(literal) = after.strip_prefix('$') {
            out.push('$');
            rest = literal;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body
                .find('}')
                .ok_or_else(|| format!("unclosed `${{` in `{raw}`: write `${{NAME}}`"))?;
            let inner = &body[..end];
            let (name, default) = match inner.find(":-") {
                Some(i) => (&inner[..i], Some(&inner[i + 2..])),
                None => (inner, None),
            };
            check_var_name(name, raw)?;
            match (lookup(name).filter(|v| !v.is_empty()), default) {
                (Some(value), _) => out.push_str(&value),
                (None, Some(default)) => {
                    let expanded = expand(default, home, lookup)?;
                    out.push_str(&expanded.to_string_lossy());
                }
                (None, None) => return Err(unset_var(name)),
            }
            rest = &body[end + 1..];
        } else {
            let len = after
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                .count();
            let name = &after[..len];
            check_var_name(name, raw)?;
            match lookup(name).filter(|v| !v.is_empty()) {
                Some(value) => out.push_str(&value),
                None => return Err(unset_var(name)),
            }
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// A name as a manifest path must spell it so that [`expand`] gives it back: `$` doubled.
pub fn escape_dollars(name: &str) -> String {
    name.replace('$', "$$")
}

fn check_var_name(name: &str, raw: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && !name.as_bytes()[0].is_ascii_digit()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{raw}` has a `$` that is not a variable: write `$NAME`, `${{NAME}}` or `${{NAME:-default}}`, or `$$` for a `$` itself"
        ))
    }
}

fn unset_var(name: &str) -> String {
    format!(
        "environment variable `{name}` is not set; set it, or give a default with `${{{name}:-default}}`"
    )
}

/// Whether a link text can lead only to a directory: one that ends in `/` or `/.` (the kernel
/// refuses to follow it to anything else), although as a [`Path`] it equals the text without.
pub fn names_a_directory(text: &Path) -> bool {
    let bytes = text.as_os_str().as_bytes();
    bytes.ends_with(b"/") || bytes.ends_with(b"/.") || bytes == b"."
}

/// Whether `path` has a `..` after a name (`a/../b`), which only the filesystem can resolve:
/// `a` may be missing, a file, or a link elsewhere.
pub fn dotdot_after_a_name(path: &Path) -> bool {
    let mut named = false;
    path.components().any(|c| match c {
        Component::ParentDir => named,
        Component::Normal(_) => {
            named = true;
            false
        }
        _ => false,
    })
}

/// An absolute path from the user (`$HOME`, `$XDG_STATE_HOME`, `--manifest`) in its plain
/// form, with each `..` meaning what it means to the kernel: after a symlink, the parent of
/// where the link leads, not of its spelling (`lnk/../home` with `lnk -> real/sub` is
/// `real/home`). Only a path with a `..` touches the filesystem: the part up to its last `..`
/// is resolved, the rest normalised. `None` when that part does not exist (the kernel would
/// refuse the path too).
pub fn resolve_dotdots(path: &Path) -> Option<PathBuf> {
    let parts: Vec<Component> = path.components().collect();
    let Some(last) = parts.iter().rposition(|c| *c == Component::ParentDir) else {
        return Some(normalize(path));
    };
    let (up_to, rest) = parts.split_at(last + 1);
    let real = up_to.iter().collect::<PathBuf>().canonicalize().ok()?;
    Some(normalize(&real.join(rest.iter().collect::<PathBuf>())))
}

/// Resolve `.` and `..` without touching the filesystem. `..` at the root stays at the root.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::with_capacity(path.as_os_str().len());
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() && !path.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Whether `path` is in its plain form, the one `Path::components` gives back: no separator at
/// its end (but the root's), doubled, or around a `.` component. Checked in one pass.
pub fn is_plain(path: &[u8]) -> bool {
    (path.len() < 2 || !path.ends_with(b"/") && !path.ends_with(b"/.")) && !doubled_or_dot(path)
}

/// Whether a separator in `path` is followed by another or by `./`. Every record of the state
/// is checked on every run: sixteen bytes are compared at once where SSE2 is (every x86_64).
fn doubled_or_dot(path: &[u8]) -> bool {
    let mut start = 0;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
        };
        // Bit j: `//` or `/./` starts at byte `at + j`, for the fourteen starts whose three
        // bytes are all in the block.
        let block = |at: usize| {
            // SAFETY: SSE2 is part of x86_64; the unaligned load reads `path[at..at + 16]`,
            // which the callers keep within `path`.
            let (slashes, dots) = unsafe {
                let bytes = _mm_loadu_si128(path.as_ptr().add(at).cast());
                (
                    _mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'/' as i8))) as u32,
                    _mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'.' as i8))) as u32,
                )
            };
            slashes & (slashes >> 1 | dots >> 1 & slashes >> 2) & 0x3fff
        };
        if path.len() >= 16 {
            // Blocks overlap by two, so the next begins at the first start not yet checked.
            while start + 16 <= path.len() {
                if block(start) != 0 {
                    return true;
                }
                start += 14;
            }
            // The last sixteen bytes, for the starts the blocks above left.
            let last = path.len() - 16;
            return start < path.len() && block(last) >> (start - last) != 0;
        }
    }
    path[start..]
        .windows(3)
        .any(|w| w[0] == b'/' && (w[1] == b'/' || w[1] == b'.' && w[2] == b'/'))
}

/// `path` in its plain form (see [`is_plain`]); as it is when it already is.
pub fn plain(path: PathBuf) -> PathBuf {
    if is_plain(path.as_os_str().as_bytes()) {
        path
    } else {
        path.components().collect()
    }
}

/// True when a relative path climbs out of where it starts (`..` at its top after normalising).
pub fn escapes(relative: &Path) -> bool {
    relative.is_absolute() || normalize(relative).components().next() == Some(Component::ParentDir)
}

/// The relative spelling of `to` as seen from the directory `from_dir`; both absolute. Its
/// buffer is exactly as long as the path, as it is held per link.
pub fn relative(to: &Path, from_dir: &Path) -> PathBuf {
    let (to_bytes, from_bytes) = (to.as_os_str().as_bytes(), from_dir.as_os_str().as_bytes());
    let plain = |p: &[u8]| p.first() == Some(&b'/') && is_plain(p) && !has_dotdot(p);
    if plain(to_bytes) && plain(from_bytes) {
        return PathBuf::from(OsString::from_vec(relative_plain(to_bytes, from_bytes)));
    }
    let mut path = pathdiff::diff_paths(to, from_dir).unwrap_or_else(|| to.to_path_buf());
    path.shrink_to_fit();
    path
}

/// Whether `path` has a `..` component.
pub fn has_dotdot(path: &[u8]) -> bool {
    // Found from the dots, not by splitting at every separator: every path of the state is
    // checked on every run.
    memchr::memchr_iter(b'.', path).any(|at| {
        path.get(at + 1) == Some(&b'.')
            && (at == 0 || path[at - 1] == b'/')
            && (at + 2 == path.len() || path[at + 2] == b'/')
    })
}

/// [`relative`] for absolute paths in their plain form without `..`, by bytes: what
/// `pathdiff` gives, without parsing both into components (5,000 instructions a call, once
/// for each pair of directories a plan links between).
fn relative_plain(to: &[u8], from: &[u8]) -> Vec<u8> {
    let same = to.iter().zip(from).take_while(|(a, b)| a == b).count();
    let ends_at = |p: &[u8], k: usize| k == p.len() || p[k] == b'/';
    // The common part ends at a separator of both (`/a/b` and `/a/c` share `/a`, and `/ab`
    // and `/a` share only the root).
    let common = if ends_at(to, same) && ends_at(from, same) {
        same
    } else {
        to[..same].iter().rposition(|&b| b == b'/').unwrap_or(0)
    };
    let ups = from[common..]
        .split(|b| *b == b'/')
        .filter(|p| !p.is_empty())
        .count();
    let rest = to[common..].strip_prefix(b"/").unwrap_or(&to[common..]);
    let mut out = Vec::with_capacity(ups * 3 + rest.len());
    for i in 0..ups {
        if i > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(b"..");
    }
    if !rest.is_empty() {
        if ups > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(rest);
    }
    out
}

/// [`join`], built in `buf` (or `rest` itself, if that is the result).
pub fn join_in<'a>(base: &Path, rest: &'a Path, buf: &'a mut Vec<u8>) -> &'a Path {
    if rest.is_absolute() || base.as_os_str().is_empty() {
        return rest;
    }
    buf.clear();
    buf.extend_from_slice(base.as_os_str().as_bytes());
    push_separator(buf);
    buf.extend_from_slice(rest.as_os_str().as_bytes());
    Path::new(OsStr::from_bytes(buf))
}

/// The separator `PathBuf::push` puts before what it adds to `buf`: one, unless `buf` is
/// empty or already ends in one. For paths built in reused buffers.
pub fn push_separator(buf: &mut Vec<u8>) {
    if !buf.is_empty() && !buf.ends_with(b"/") {
        buf.push(b'/');
    }
}

/// `base.join(rest)` in a buffer exactly as long as the result. `Path::join` grows its buffer
/// by doubling, so up to half of each of the paths a run holds per link would be slack.
pub fn join(base: &Path, rest: &Path) -> PathBuf {
    if rest.is_absolute() || base.as_os_str().is_empty() {
        return rest.to_path_buf();
    }
    let mut path = PathBuf::with_capacity(base.as_os_str().len() + 1 + rest.as_os_str().len());
    path.push(base);
    path.push(rest);
    path
}

/// A path for people: `~/…` when it is under the home directory.
pub fn display(path: &Path, home: &Path) -> String {
    match below(path, home) {
        Some(rest) if rest.as_os_str().is_empty() => "~".to_string(),
        Some(rest) => format!("~/{}", escaped(rest.as_os_str())),
        None => escaped(path.as_os_str()),
    }
}

/// A name as a person may read it on one line, as `ls -b` shows it: control characters as
/// `\n`, `\t` or `\xNN`, bytes that are not UTF-8 as `\xNN`, and a backslash doubled, so a
/// file name can never forge a line of output.
pub fn escaped(name: &OsStr) -> String {
    let mut out = String::with_capacity(name.len());
    for chunk in name.as_bytes().utf8_chunks() {
        for c in chunk.valid().chars() {
            escape_char(c, &mut out);
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

/// [`escaped`] for text that may hold a name (an error message, a note).
pub fn escape_text(text: &str) -> String {
    if !text.chars().any(|c| c.is_control()) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push(c),
            _ => escape_char(c, &mut out),
        }
    }
    out
}

fn escape_char(c: char, out: &mut String) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        '\\' => out.push_str("\\\\"),
        c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
        c => out.push(c),
    }
}

/// `path.parent()` and `path.file_name()`, as std answers them, read from the end of the bytes
/// when the path ends plainly (a name after one separator, and no `.` component or separator
/// right before that): the usual case, at a fraction of the cost of std, which parses
/// components from the end for each (a sixth of a status run's instructions). Any other path
/// is asked of std.
pub fn parent_and_name(path: &Path) -> (Option<&Path>, Option<&OsStr>) {
    let bytes = path.as_os_str().as_bytes();
    if let Some(i) = last_separator(bytes) {
        let (dir, name) = (&bytes[..i], &bytes[i + 1..]);
        let plain_name = !matches!(name, [] | [b'.'] | [b'.', b'.']);
        let plain_dir = !matches!(dir, [.., b'/'] | [.., b'/', b'.'] | [b'.']);
        if plain_name && plain_dir {
            // In `/name` the separator is the root, the parent.
            let parent = if dir.is_empty() { &bytes[..1] } else { dir };
            return (
                Some(Path::new(OsStr::from_bytes(parent))),
                Some(OsStr::from_bytes(name)),
            );
        }
    }
    (path.parent(), path.file_name())
}

/// Where the last `/` in `bytes` is. A name is short: eight bytes are looked at a time from
/// the end, which finds its separator sooner than a loop over bytes (a tenth of a typical
/// `status`'s instructions, some 16 calls per link) or `memrchr`, whose vector set-up costs
/// more than the search.
fn last_separator(bytes: &[u8]) -> Option<usize> {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let mut end = bytes.len();
    while end >= 8 {
        let word = u64::from_le_bytes(bytes[end - 8..end].try_into().expect("eight bytes"));
        let diff = word ^ u64::from_ne_bytes([b'/'; 8]);
        // A byte's high bit is set exactly where it is zero: no carry crosses a byte, as each
        // sum is at most 0xfe.
        let zero = !(((diff & LOW) + LOW) | diff | LOW);
        if zero != 0 {
            // The last byte in memory is the most significant of a little-endian word.
            return Some(end - 8 + (63 - zero.leading_zeros() as usize) / 8);
        }
        end -= 8;
    }
    bytes[..end].iter().rposition(|&b| b == b'/')
}

/// `path.parent()`, by [`parent_and_name`].
pub fn parent(path: &Path) -> Option<&Path> {
    parent_and_name(path).0
}

/// `path.ancestors()`, by [`parent_and_name`].
pub fn ancestors(path: &Path) -> impl Iterator<Item = &Path> {
    std::iter::successors(Some(path), |p| parent(p))
}

/// A path's place in the directory order: its directory's bytes, then its name's.
pub type DirectoryKey<'a> = (&'a [u8], &'a [u8]);

/// The key of the directory order: a path's directory, then its name, as bytes. In it each
/// directory's entries are one run, and a directory comes before everything below it (its
/// bytes are a prefix of theirs); a path without both sorts by its whole spelling, first.
pub fn by_directory(path: &Path) -> DirectoryKey<'_> {
    match parent_and_name(path) {
        (Some(dir), Some(name)) => (dir.as_os_str().as_bytes(), name.as_bytes()),
        _ => (b"", path.as_os_str().as_bytes()),
    }
}

/// Sort `items` into the directory order ([`by_directory`]) of the path each holds, keys
/// taken once each. The planner sorts the declared links so; the survey, the dead-link scan
/// and the plan's own order then find them sorted, which each checks in one pass.
pub fn sort_by_directory<T>(items: &mut [T], path: impl Fn(&T) -> &Path) {
    // Each key made once for the check (a state's records are read in this order).
    if items
        .iter()
        .map(|item| by_directory(path(item)))
        .is_sorted()
    {
        return;
    }
    // Each directory's bytes are compared among the directories only, once each: the items
    // are then sorted by their directory's rank and their name. Comparing whole keys at every
    // step of the sort (long directories, alike for most of their length) was seven
    // percent of a `status` of 10,000 links.
    let mut ids: std::collections::HashMap<&[u8], u32, foldhash::fast::FixedState> =
        std::collections::HashMap::default();
    let mut last: Option<(&[u8], u32)> = None;
    // Each item's directory and the length of its name (the end of its path), by its place:
    // eight bytes an item, where a slice of the name took sixteen more (the lists made here
    // are held beside the items, at 100,000 links a state's records while it is written).
    let order: Vec<(u32, u32)> = items
        .iter()
        .map(|item| {
            let (dir, name) = by_directory(path(item));
            // Neighbours mostly share their directory: it is looked up once for the run.
            let id = match last {
                Some((same, id)) if same == dir => id,
                _ => {
                    let next = ids.len() as u32;
                    *ids.entry(dir).or_insert(next)
                }
            };
            last = Some((dir, id));
            (id, name.len() as u32)
        })
        .collect();
    let mut dirs: Vec<(&[u8], u32)> = ids.into_iter().collect();
    dirs.sort_unstable();
    let mut rank = vec![0u32; dirs.len()];
    for (r, &(_, id)) in dirs.iter().enumerate() {
        rank[id as usize] = r as u32;
    }
    // The items bucketed by their directory's rank (counted, then placed), then each
    // directory's few sorted by name: a sort of all of them compared (rank, name) pairs at
    // every step.
    let mut starts = vec![0usize; dirs.len() + 1];
    for &(id, _) in &order {
        starts[rank[id as usize] as usize + 1] += 1;
    }
    for r in 1..starts.len() {
        starts[r] += starts[r - 1];
    }
    let mut next = starts.clone();
    let mut from: Vec<u32> = vec![0; order.len()];
    for (i, &(id, _)) in order.iter().enumerate() {
        let at = &mut next[rank[id as usize] as usize];
        from[*at] = i as u32;
        *at += 1;
    }
    let name = |i: &u32| {
        let bytes = path(&items[*i as usize]).as_os_str().as_bytes();
        &bytes[bytes.len() - order[*i as usize].1 as usize..]
    };
    for run in starts.windows(2) {
        from[run[0]..run[1]].sort_unstable_by(|a, b| name(a).cmp(name(b)).then(a.cmp(b)));
    }
    // Put each item where it belongs by swaps, as `sort_by_cached_key` does: the item for
    // place `i` is at `from[i]`, unless that place was swapped away earlier, then followed.
    for i in 0..from.len() {
        let mut at = from[i];
        while (at as usize) < i {
            at = from[at as usize];
        }
        from[i] = at;
        items.swap(i, at as usize);
    }
}

/// `path` relative to `base`, for normalised absolute paths (what dotlink builds by joining).
/// `Path::strip_prefix` says the same but compares component by component; this compares
/// bytes, which matters when it runs for every file of a large tree.
pub fn below<'a>(path: &'a Path, base: &Path) -> Option<&'a Path> {
    let (path_bytes, base_bytes) = (path.as_os_str().as_bytes(), base.as_os_str().as_bytes());
    let rest = path_bytes.strip_prefix(base_bytes)?;
    let rest = match rest {
        [] => rest,
        [b'/', rest @ ..] => rest,
        _ if base_bytes.ends_with(b"/") => rest,
        _ => return None,
    };
    Some(Path::new(OsStr::from_bytes(rest)))
}

/// A name as one field of a line in dotlink's own files: a backslash is written `\\`, a
/// newline `\n`, a tab `\t` and a carriage return `\r`, so no name can add a line or a field
/// (or look like a line ending). Any other byte, UTF-8 or
/// not, is written as it is. [`unescape_field`] reads it back.
pub fn escape_field(name: &OsStr, out: &mut Vec<u8>) {
    // The runs between bytes to escape (a whole name, nearly always) are copied at once: the
    // state file writes three fields for every link.
    let next = |rest: &[u8]| match (
        memchr::memchr3(b'\\', b'\n', b'\t', rest),
        memchr::memchr(b'\r', rest),
    ) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let mut rest = name.as_bytes();
    while let Some(at) = next(rest) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(match rest[at] {
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\t' => b"\\t",
            _ => b"\\r",
        });
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
}

/// The name [`escape_field`] wrote as `field`.
pub fn unescape_field(field: &[u8]) -> PathBuf {
    let mut out = Vec::with_capacity(field.len());
    unescape_into(field, &mut out);
    PathBuf::from(std::ffi::OsString::from_vec(out))
}

/// [`unescape_field`], appended to `out`.
pub fn unescape_into(field: &[u8], out: &mut Vec<u8>) {
    // `memchr`, not `contains`: every field of the state is read so on every run.
    if memchr::memchr(b'\\', field).is_none() {
        out.extend_from_slice(field);
        return;
    }
    let mut bytes = field.iter();
    while let Some(&b) = bytes.next() {
        if b == b'\\' {
            match bytes.next() {
                Some(b'n') => out.push(b'\n'),
                Some(b't') => out.push(b'\t'),
                Some(b'r') => out.push(b'\r'),
                Some(&other) => out.push(other),
                None => out.push(b),
            }
        } else {
            out.push(b);
        }
    }
}

/// `path` with `suffix` appended to its last component (`a/b` + `.x` = `a/b.x`).
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(OsStr::to_os_string)
        .unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

/// Serde helpers that keep non-UTF-8 paths exact: a string when the path is UTF-8, otherwise
/// `{"bytes": [...]}`.
pub mod serde_path {
    use super::*;
    use serde::de::{self, MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::fmt;

    /// A path as it is written: a string when it is UTF-8, otherwise `{"bytes": [...]}`.
    struct Out<'a>(&'a Path);

    impl Serialize for Out<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            match self.0.to_str() {
                Some(text) => s.serialize_str(text),
                None => {
                    let mut map = s.serialize_map(Some(1))?;
                    map.serialize_entry("bytes", self.0.as_os_str().as_bytes())?;
                    map.end()
                }
            }
        }
    }

    /// A path as it is read (without the buffering an untagged enum would need: state files
    /// hold thousands of paths).
    struct In(PathBuf);

    impl<'de> Deserialize<'de> for In {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<In, D::Error> {
            d.deserialize_any(InVisitor)
        }
    }

    struct InVisitor;

    impl<'de> Visitor<'de> for InVisitor {
        type Value = In;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a path: a string, or {\"bytes\": [...]}")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<In, E> {
            Ok(In(PathBuf::from(text)))
        }

        fn visit_string<E: de::Error>(self, text: String) -> Result<In, E> {
            Ok(In(PathBuf::from(text)))
        }

        fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<In, M::Error> {
            let mut bytes: Option<Vec<u8>> = None;
            while let Some(key) = map.next_key::<String>()? {
                if key != "bytes" {
                    return Err(de::Error::unknown_field(&key, &["bytes"]));
                }
                bytes = Some(map.next_value()?);
            }
            let bytes = bytes.ok_or_else(|| de::Error::missing_field("bytes"))?;
            Ok(In(PathBuf::from(OsString::from_vec(bytes))))
        }
    }

    pub fn serialize<P: AsRef<Path> + ?Sized, S: Serializer>(
        path: &P,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        Out(path.as_ref()).serialize(s)
    }

    /// Into a `PathBuf`, or a `SharedPath` for a path held long, shared and never grown.
    pub fn deserialize<'de, D: Deserializer<'de>, P: From<PathBuf>>(d: D) -> Result<P, D::Error> {
        In::deserialize(d).map(|p| p.0.into())
    }

    /// The same for `Option<PathBuf>`.
    pub mod option {
        use super::*;

        pub fn serialize<P: AsRef<Path>, S: Serializer>(
            path: &Option<P>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            path.as_ref().map(|p| Out(p.as_ref())).serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>, P: From<PathBuf>>(
            d: D,
        ) -> Result<Option<P>, D::Error> {
            Option::<In>::deserialize(d).map(|p| p.map(|p| p.0.into()))
        }
    }

    /// The same for a list of paths.
    pub mod vec {
        use super::*;

        pub fn serialize<P: AsRef<Path>, S: Serializer>(
            paths: &[P],
            s: S,
        ) -> Result<S::Ok, S::Error> {
            s.collect_seq(paths.iter().map(|p| Out(p.as_ref())))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
            Vec::<In>::deserialize(d).map(|v| v.into_iter().map(|p| p.0).collect())
        }
    }
}

/// Every path of up to `len` of `a`, `.` and `/` (the empty one too): the spellings that path
/// arithmetic done on bytes must treat as std does.
#[cfg(test)]
pub fn every_spelling(len: usize) -> Vec<String> {
    every_sequence(b"a./", len)
        .into_iter()
        .map(|s| String::from_utf8(s).expect("ASCII"))
        .collect()
}

/// Every sequence of up to `len` bytes of `alphabet` (the empty one too), shortest first.
#[cfg(test)]
pub fn every_sequence(alphabet: &[u8], len: usize) -> Vec<Vec<u8>> {
    let mut all = vec![Vec::new()];
    let mut from = 0;
    for _ in 0..len {
        let longer: Vec<Vec<u8>> = all[from..]
            .iter()
            .flat_map(|s| alphabet.iter().map(move |&b| [s.as_slice(), &[b]].concat()))
            .collect();
        from = all.len();
        all.extend(longer);
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every absolute path of one to three of `names`, shortest first.
    fn paths_of(names: &[&str]) -> Vec<PathBuf> {
        let mut all: Vec<PathBuf> = Vec::new();
        let mut level: Vec<PathBuf> = vec![PathBuf::from("/")];
        for _ in 0..3 {
            level = level
                .iter()
                .flat_map(|p| names.iter().map(move |n| p.join(n)))
                .collect();
            all.extend(level.iter().cloned());
        }
        all
    }

    /// The spelling by bytes is `pathdiff`'s for every pair of plain absolute paths of up to
    /// three names from `a`, `ab`, `b` and the root (names that share a prefix, a path inside
    /// another, the same path).
    #[test]
    fn a_dotdot_after_a_symlink_is_the_kernels() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("real/sub")).unwrap();
        std::os::unix::fs::symlink("real/sub", root.join("lnk")).unwrap();
        // The part after the last `..` need not exist, and is only normalised.
        assert_eq!(
            resolve_dotdots(&root.join("lnk/../home/./x")),
            Some(root.join("real/home/x"))
        );
        assert_eq!(
            resolve_dotdots(&root.join("lnk/..")),
            Some(root.join("real"))
        );
        // Without a `..`, nothing is looked at: symlinks stay as spelled.
        assert_eq!(
            resolve_dotdots(&root.join("lnk/./x/")),
            Some(root.join("lnk/x"))
        );
        assert_eq!(resolve_dotdots(&root.join("missing/../x")), None);
    }

    #[test]
    fn a_relative_spelling_by_bytes_is_pathdiffs() {
        let mut all = vec![PathBuf::from("/")];
        all.extend(paths_of(&["a", "ab", "b"]));
        for to in &all {
            for from in &all {
                let expected = pathdiff::diff_paths(to, from).unwrap();
                assert_eq!(relative(to, from), expected, "{to:?} from {from:?}");
            }
        }
        // Not in the plain form, or with `..`: `pathdiff` itself.
        for (to, from) in [("/a//b", "/a/c"), ("/a/./b", "/a"), ("/a/../b", "/c")] {
            let expected = pathdiff::diff_paths(to, from).unwrap_or_else(|| PathBuf::from(to));
            assert_eq!(relative(Path::new(to), Path::new(from)), expected);
        }
    }

    /// Every list of plain paths of up to three names from `a`, `a-`, `b` (`-` sorts before
    /// `/`, so byte order would split `/a`'s entries around `/a-`), in several starting
    /// orders, ends in the order of a stable sort by the key, with every item kept; and in
    /// that order a directory's entries are one run, after the directory itself.
    #[test]
    fn the_directory_order_groups_each_directory_after_itself() {
        let all = paths_of(&["a", "a-", "b"]);
        // Each path twice (the items differ by their number, and keep their order), in several
        // orders, the directory order itself among them.
        let twice: Vec<PathBuf> = all.iter().chain(&all).cloned().collect();
        let mut sorted = twice.clone();
        sorted.sort_by(|a, b| by_directory(a).cmp(&by_directory(b)));
        for (start, rotation) in [
            (&twice, 0),
            (&twice, 1),
            (&twice, 7),
            (&twice, 20),
            (&sorted, 0),
        ] {
            let mut items: Vec<(PathBuf, usize)> = start.iter().cloned().zip(0..).collect();
            items.rotate_left(rotation);
            if rotation > 0 {
                items.reverse();
            }
            let mut expected = items.clone();
            expected.sort_by(|a, b| by_directory(&a.0).cmp(&by_directory(&b.0)));
            sort_by_directory(&mut items, |(p, _)| p);
            assert_eq!(items, expected);
            let dirs: Vec<&Path> = items.iter().map(|(p, _)| parent(p).unwrap()).collect();
            for (i, (path, _)) in items.iter().enumerate() {
                let runs_of_it = dirs
                    .chunk_by(|a, b| a == b)
                    .filter(|r| r[0] == path)
                    .count();
                assert!(runs_of_it <= 1, "{path:?}'s entries are split");
                let below = dirs.iter().position(|d| d.starts_with(path));
                assert!(below.is_none_or(|b| b > i), "{path:?} after its entries");
            }
        }
    }

    #[test]
    fn a_field_is_escaped_byte_by_byte_and_read_back() {
        for name in every_sequence(b"a\\\n\t\r/", 5) {
            let mut ours = Vec::new();
            escape_field(OsStr::from_bytes(&name), &mut ours);
            // What it was before runs were copied whole: byte by byte.
            let mut one_by_one = Vec::new();
            for &b in &name {
                match b {
                    b'\\' => one_by_one.extend_from_slice(b"\\\\"),
                    b'\n' => one_by_one.extend_from_slice(b"\\n"),
                    b'\t' => one_by_one.extend_from_slice(b"\\t"),
                    b'\r' => one_by_one.extend_from_slice(b"\\r"),
                    b => one_by_one.push(b),
                }
            }
            assert_eq!(ours, one_by_one, "{name:?}");
            assert_eq!(unescape_field(&ours).as_os_str().as_bytes(), name);
        }
    }

    #[test]
    fn a_plain_path_is_one_components_give_back_unchanged() {
        let mut all = every_spelling(7);
        // Past sixteen bytes, with every spelling of up to five at every place in a block.
        for pad in 0..34 {
            for spelling in every_spelling(5) {
                all.push(format!("/{}{spelling}/yy", "x".repeat(pad)));
                all.push(format!("{}{spelling}", "x".repeat(pad)));
            }
        }
        for spelling in all {
            let path = Path::new(&spelling);
            let collected: PathBuf = path.components().collect();
            assert_eq!(
                is_plain(spelling.as_bytes()),
                collected.as_os_str() == path.as_os_str(),
                "{spelling:?}"
            );
            assert_eq!(plain(path.to_path_buf()).as_os_str(), collected.as_os_str());
        }
    }

    #[test]
    fn a_dotdot_is_found_as_components_find_it() {
        for spelling in every_spelling(7) {
            let components = Path::new(&spelling)
                .components()
                .any(|c| c == std::path::Component::ParentDir);
            assert_eq!(has_dotdot(spelling.as_bytes()), components, "{spelling:?}");
        }
    }

    #[test]
    fn the_last_separator_is_found_eight_bytes_at_a_time() {
        for bytes in every_sequence(b"a/\xaf\x2e", 6) {
            // Placed at every offset of a longer path, so each falls in a word at every byte.
            for pad in 0..9 {
                let mut padded = vec![b'x'; pad];
                padded.extend_from_slice(&bytes);
                for prefix in [&b""[..], b"/a/bc/", b"/home/u/.config/nvim/"] {
                    let path = [prefix, &padded].concat();
                    let slow = path.iter().rposition(|&b| b == b'/');
                    assert_eq!(last_separator(&path), slow, "{path:?}");
                }
            }
        }
    }

    #[test]
    fn parent_and_name_answer_as_std_does() {
        let mut all = every_spelling(7);
        all.extend(["/home/u/.config/a b/c", "../x", "a/../b", "/.x/..y/.z"].map(String::from));
        for s in &all {
            let path = Path::new(s);
            let (parent, name) = parent_and_name(path);
            assert_eq!(
                parent.map(Path::as_os_str),
                path.parent().map(Path::as_os_str),
                "{s:?}"
            );
            assert_eq!(name, path.file_name(), "{s:?}");
            assert!(ancestors(path).eq(path.ancestors()), "{s:?}");
        }
    }

    fn env(name: &str) -> Option<String> {
        match name {
            "XDG_CONFIG_HOME" => Some("/cfg".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn tilde_expands_to_home() {
        let home = Path::new("/h");
        assert_eq!(expand("~", home, &env).unwrap(), PathBuf::from("/h"));
        assert_eq!(
            expand("~/.zshrc", home, &env).unwrap(),
            PathBuf::from("/h/.zshrc")
        );
        assert_eq!(
            expand("/etc/x", home, &env).unwrap(),
            PathBuf::from("/etc/x")
        );
        // More than one separator after `~` still means the home, never `/`.
        for doubled in ["~//.c", "~///.c"] {
            assert_eq!(expand(doubled, home, &env).unwrap(), PathBuf::from("/h/.c"));
        }
    }

    #[test]
    fn names_are_escaped_for_people() {
        use std::os::unix::ffi::OsStrExt;
        assert_eq!(escaped(OsStr::new("plain name.txt")), "plain name.txt");
        assert_eq!(escaped(OsStr::new("new\nline\ttab")), "new\\nline\\ttab");
        assert_eq!(
            escaped(OsStr::from_bytes(b"caf\xe9\x1b[31m")),
            "caf\\xe9\\x1b[31m"
        );
        assert_eq!(escaped(OsStr::new("back\\slash")), "back\\\\slash");
        assert_eq!(escaped(OsStr::new("é ✓")), "é ✓");
        assert_eq!(display(Path::new("/h/a\nb"), Path::new("/h")), "~/a\\nb");
        assert_eq!(
            escape_text("cannot read /h/a\nb: gone"),
            "cannot read /h/a\\nb: gone"
        );
    }

    #[test]
    fn a_doubled_dollar_is_a_dollar() {
        let home = Path::new("/h");
        assert_eq!(
            expand("~/.cost$$USER", home, &env).unwrap(),
            PathBuf::from("/h/.cost$USER")
        );
        assert_eq!(
            expand("~/a$$$$b${XDG_CONFIG_HOME}", home, &env).unwrap(),
            PathBuf::from("/h/a$$b/cfg")
        );
        for name in [
            "plain",
            ".cost$USER",
            "$$",
            "a$",
            "${X}",
            "~tilde",
            "q\"uote'",
        ] {
            let spelled = format!("~/{}", escape_dollars(name));
            assert_eq!(
                expand(&spelled, home, &env).unwrap(),
                home.join(name),
                "{spelled}"
            );
        }
    }

    #[test]
    fn other_users_homes_are_refused() {
        let err = expand("~root/.ssh", Path::new("/h"), &env).unwrap_err();
        assert!(err.contains("`~root`"), "{err}");
    }

    #[test]
    fn variables_expand_with_defaults() {
        let home = Path::new("/h");
        assert_eq!(
            expand("$XDG_CONFIG_HOME/nvim", home, &env).unwrap(),
            PathBuf::from("/cfg/nvim")
        );
        assert_eq!(
            expand("${XDG_CONFIG_HOME}/nvim", home, &env).unwrap(),
            PathBuf::from("/cfg/nvim")
        );
        assert_eq!(
            expand("${NOPE:-~/.config}/nvim", home, &env).unwrap(),
            PathBuf::from("/h/.config/nvim")
        );
        assert_eq!(
            expand("${EMPTY:-~/x}", home, &env).unwrap(),
            PathBuf::from("/h/x")
        );
    }

    #[test]
    fn unset_variables_are_errors_that_name_them() {
        let err = expand("$NOPE/x", Path::new("/h"), &env).unwrap_err();
        assert!(err.contains("`NOPE` is not set"), "{err}");
        assert!(
            expand("${NOPE", Path::new("/h"), &env)
                .unwrap_err()
                .contains("unclosed")
        );
        assert!(
            expand("a$/b", Path::new("/h"), &env)
                .unwrap_err()
                .contains("not a variable")
        );
    }

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(normalize(Path::new("/../x")), PathBuf::from("/x"));
        assert_eq!(normalize(Path::new("a/../../x")), PathBuf::from("../x"));
    }

    #[test]
    fn escapes_detects_climbing_out() {
        assert!(escapes(Path::new("../x")));
        assert!(escapes(Path::new("a/../../x")));
        assert!(escapes(Path::new("/abs")));
        assert!(!escapes(Path::new("a/../b")));
    }

    #[test]
    fn join_is_path_join_without_slack() {
        for (base, rest) in [
            ("/h", ".x"),
            ("/h/", "a/b"),
            ("/h", "/abs"),
            ("", "rel"),
            ("/", "x"),
        ] {
            let joined = join(Path::new(base), Path::new(rest));
            assert_eq!(joined, Path::new(base).join(rest), "{base} + {rest}");
        }
        let long = join(
            Path::new("/home/someone/.config"),
            Path::new("app/settings.toml"),
        );
        assert_eq!(long.capacity(), long.as_os_str().len());
    }

    #[test]
    fn relative_spelling() {
        assert_eq!(
            relative(Path::new("/h/dots/zsh/zshrc"), Path::new("/h")),
            PathBuf::from("dots/zsh/zshrc")
        );
        assert_eq!(
            relative(Path::new("/h/dots/nvim"), Path::new("/h/.config")),
            PathBuf::from("../dots/nvim")
        );
    }

    #[test]
    fn below_is_a_byte_wise_strip_prefix() {
        assert_eq!(
            below(Path::new("/h/a/b"), Path::new("/h")),
            Some(Path::new("a/b"))
        );
        assert_eq!(below(Path::new("/h"), Path::new("/h")), Some(Path::new("")));
        assert_eq!(below(Path::new("/hx/a"), Path::new("/h")), None);
        assert_eq!(below(Path::new("/a"), Path::new("/")), Some(Path::new("a")));
        assert_eq!(below(Path::new("/x"), Path::new("/h")), None);
    }

    #[test]
    fn display_shortens_home() {
        let home = Path::new("/h");
        assert_eq!(display(Path::new("/h/.zshrc"), home), "~/.zshrc");
        assert_eq!(display(Path::new("/h"), home), "~");
        assert_eq!(display(Path::new("/etc/x"), home), "/etc/x");
        assert_eq!(display(Path::new("/hx/y"), home), "/hx/y");
    }

    #[test]
    fn non_utf8_paths_roundtrip_through_json() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct W {
            #[serde(with = "serde_path")]
            p: PathBuf,
        }
        for p in [
            PathBuf::from("/a b/c"),
            PathBuf::from(OsString::from_vec(b"/x\xff\n".to_vec())),
        ] {
            let w = W { p };
            let json = serde_json::to_string(&w).unwrap();
            assert_eq!(serde_json::from_str::<W>(&json).unwrap(), w);
        }
    }
}
