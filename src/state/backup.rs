//! Backup sets: where the `backup` policy puts what was in the way of a link.
//!
//! Each run that backs something up gets its own set, `backup_dir/<UTC timestamp>/`, holding
//! every displaced file at its path relative to the home directory (targets outside the home
//! under `@root/`, and a home path whose first name is `@root`, `@@root`, … with one more
//! `@`), and an index beside it, `<UTC timestamp>.json`, naming what went where and
//! which link took its place. A set is never reused, so an earlier backup is never overwritten.
//!
//! This module owns the layout and reads it; the applier writes it (`apply::backup`).

use crate::error::{Error, Result};
use crate::paths::serde_path;
use serde::{Deserialize, Serialize};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// One thing moved into a backup set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackedUp {
    /// Where it was.
    #[serde(with = "serde_path")]
    pub target: PathBuf,
    /// Where it is now.
    #[serde(with = "serde_path")]
    pub backup: PathBuf,
    /// The source of the link that took its place.
    #[serde(with = "serde_path")]
    pub source: PathBuf,
}

/// A name for a new backup set in `backup_dir` that no earlier set uses.
pub fn new_set(backup_dir: &Path, now: SystemTime) -> PathBuf {
    let stamp = utc_stamp(now);
    let mut candidate = backup_dir.join(&stamp);
    let mut n = 1;
    // Its index's name must be free too: the index is written over whatever is there.
    while candidate.symlink_metadata().is_ok() || index_path(&candidate).symlink_metadata().is_ok()
    {
        n += 1;
        candidate = backup_dir.join(format!("{stamp}-{n}"));
    }
    candidate
}

/// Where `target` goes inside `set`: its path relative to home, or under `@root/` when it is
/// outside the home directory.
pub fn destination(set: &Path, target: &Path, home: &Path) -> PathBuf {
    // By bytes: the targets are normalised, and a bootstrap backs up thousands.
    match crate::paths::below(target, home) {
        // A first name of one or more `@` and `root` gets one more `@` (`~/@root/x` goes to
        // `@@root/x`), so only targets outside the home are under `@root/`: no place in a
        // set is another's, or inside another's (`~/@root/tmp`, a directory, and `/tmp/y`).
        // Any other name keeps its length: a name may be 255 bytes long.
        Some(relative) if is_at_root(relative) => {
            let mut escaped = std::ffi::OsString::from("@");
            escaped.push(relative);
            crate::paths::join(set, Path::new(&escaped))
        }
        Some(relative) => crate::paths::join(set, relative),
        None => set
            .join("@root")
            .join(target.strip_prefix("/").unwrap_or(target)),
    }
}

/// `place` in `set` with `suffix` on its first name below the set (`<set>/@root.2/x/y` for
/// `<set>/@root/x/y`): a place apart from everything under the first name.
pub fn with_first_name_suffix(set: &Path, place: &Path, suffix: &str) -> PathBuf {
    let relative = crate::paths::below(place, set).unwrap_or(place);
    let mut names = relative.components();
    let mut first = names
        .next()
        .map_or_else(Default::default, |c| c.as_os_str().to_owned());
    first.push(suffix);
    set.join(first).join(names.as_path())
}

/// Whether the first name of `relative` is one or more `@` and then `root`.
fn is_at_root(relative: &Path) -> bool {
    let bytes = relative.as_os_str().as_bytes();
    let first = bytes.split(|&b| b == b'/').next().unwrap_or_default();
    first
        .strip_suffix(b"root")
        .is_some_and(|ats| !ats.is_empty() && ats.iter().all(|&b| b == b'@'))
}

/// The index file beside a set directory.
pub fn index_path(set: &Path) -> PathBuf {
    crate::paths::with_suffix(set, ".json")
}

/// What a set's index names (nothing when it has no index, or one that cannot be read).
pub fn read_index(set: &Path) -> Vec<BackedUp> {
    parse_index(set).unwrap_or_default()
}

/// A set's index, if it has one that can be read.
fn parse_index(set: &Path) -> Option<Vec<BackedUp>> {
    fs::read(index_path(set))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
}

/// One backup set, as `restore` sees it.
#[derive(Debug, Clone)]
pub struct BackupSet {
    /// The set's name, its UTC timestamp.
    pub name: String,
    pub dir: PathBuf,
    /// What is in it that has not been restored yet.
    pub entries: Vec<BackedUp>,
    /// Its directory holds something, but its index is missing or cannot be read: what is in
    /// it cannot be put back by `restore`, only by hand.
    pub unindexed: bool,
}

/// Every backup set in `backup_dir`, oldest first.
pub fn list(backup_dir: &Path) -> Vec<BackupSet> {
    let Ok(read) = fs::read_dir(backup_dir) else {
        return Vec::new();
    };
    let mut sets: Vec<BackupSet> = read
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            // Sets are named by their UTC timestamp: 20261124T201530Z (or …Z-2).
            let looks_right = name.len() >= 16
                && name.as_bytes()[8] == b'T'
                && name[..8].bytes().all(|b| b.is_ascii_digit());
            looks_right.then(|| {
                let dir = e.path();
                let index = parse_index(&dir);
                let unindexed =
                    index.is_none() && fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_some());
                let entries = index
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|b| b.backup.symlink_metadata().is_ok())
                    .collect();
                BackupSet {
                    name,
                    dir,
                    entries,
                    unindexed,
                }
            })
        })
        .collect();
    sets.sort_by(|a, b| a.name.cmp(&b.name));
    sets
}

/// The set called `name` (or at that path), or the newest one.
pub fn find(backup_dir: &Path, name: Option<&str>) -> Result<BackupSet> {
    let sets = list(backup_dir);
    let found = match name {
        None => sets.into_iter().rev().find(|s| !s.entries.is_empty()),
        Some(name) => {
            let wanted = Path::new(name)
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or(name);
            let wanted = wanted.trim_end_matches(".json");
            sets.into_iter().find(|s| s.name == wanted)
        }
    };
    found.ok_or_else(|| {
        let what = name.map_or("no backup to restore".to_string(), |n| {
            format!("no backup set `{n}`")
        });
        Error::failure(format!("{what} in {}", backup_dir.display()))
            .with_hint("`dotlink restore --list` shows the backups there are")
    })
}

/// `YYYYMMDDTHHMMSSZ` in UTC (ISO 8601 basic format: sorts by time, safe in file names).
pub fn utc_stamp(now: SystemTime) -> String {
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn stamps_are_utc_basic_format() {
        assert_eq!(utc_stamp(UNIX_EPOCH), "19700101T000000Z");
        // 2026-11-24 20:15:30 UTC
        let t = UNIX_EPOCH + Duration::from_secs(1_795_551_330);
        assert_eq!(utc_stamp(t), "20261124T201530Z");
        // A leap day.
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(utc_stamp(t), "20000229T000000Z");
    }

    #[test]
    fn new_sets_never_reuse_a_name() {
        let dir = tempfile::tempdir().unwrap();
        let first = new_set(dir.path(), UNIX_EPOCH);
        std::fs::create_dir(&first).unwrap();
        let second = new_set(dir.path(), UNIX_EPOCH);
        assert_ne!(first, second);
        assert!(second.ends_with("19700101T000000Z-2"));
        // Nor a name whose index's name is taken.
        std::fs::write(index_path(&second), "someone else's").unwrap();
        assert!(new_set(dir.path(), UNIX_EPOCH).ends_with("19700101T000000Z-3"));
    }

    #[test]
    fn destinations_keep_the_path_below_home() {
        let set = Path::new("/b/S");
        assert_eq!(
            destination(set, Path::new("/h/.config/x"), Path::new("/h")),
            PathBuf::from("/b/S/.config/x")
        );
        assert_eq!(
            destination(set, Path::new("/etc/x"), Path::new("/h")),
            PathBuf::from("/b/S/@root/etc/x")
        );
        // Only targets outside the home are under `@root/`.
        assert_eq!(
            destination(set, Path::new("/h/@root/etc"), Path::new("/h")),
            PathBuf::from("/b/S/@@root/etc")
        );
        assert_eq!(
            destination(set, Path::new("/h/@@root"), Path::new("/h")),
            PathBuf::from("/b/S/@@@root")
        );
        assert_eq!(
            with_first_name_suffix(set, Path::new("/b/S/@root/etc/x"), ".2"),
            PathBuf::from("/b/S/@root.2/etc/x")
        );
        for kept in ["@x", "@rootx", "@roo", "x@root", "root"] {
            assert_eq!(
                destination(set, &Path::new("/h").join(kept), Path::new("/h")),
                set.join(kept)
            );
        }
        assert_eq!(
            destination(set, Path::new("/h/x@"), Path::new("/h")),
            PathBuf::from("/b/S/x@")
        );
    }
}
