//! The recorded links of a state, looked up by target. Each record is its own key (a set keyed
//! by the record's target), so a target's path is held once, not once in the key and again in
//! the record: at 10,000 links that is a tenth of a run's memory.

use super::{Fnv, Record};
use std::borrow::Borrow;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::path::Path;

/// Records by target: at most one per target.
#[derive(Debug, Clone, Default)]
pub struct Links(HashSet<ByTarget, BuildHasherDefault<Fnv>>);

/// A record keyed, hashed and compared by its target alone.
#[derive(Debug, Clone)]
struct ByTarget(Record);

impl Hash for ByTarget {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Must hash exactly as the `Path` it borrows as does.
        self.0.target.as_path().hash(state);
    }
}

impl PartialEq for ByTarget {
    fn eq(&self, other: &Self) -> bool {
        self.0.target == other.0.target
    }
}

impl Eq for ByTarget {}

impl Borrow<Path> for ByTarget {
    fn borrow(&self) -> &Path {
        &self.0.target
    }
}

impl Links {
    /// Room for `capacity` records if it can be had (else none: the set grows as it fills).
    pub fn with_capacity(capacity: usize) -> Links {
        let mut links = Links::default();
        let _ = links.0.try_reserve(capacity);
        links
    }

    pub fn get(&self, target: &Path) -> Option<&Record> {
        self.0.get(target).map(|r| &r.0)
    }

    pub fn contains_key(&self, target: &Path) -> bool {
        self.0.contains(target)
    }

    /// Record `record`, replacing any record for the same target; returns the one replaced.
    pub fn insert(&mut self, record: Record) -> Option<Record> {
        self.0.replace(ByTarget(record)).map(|r| r.0)
    }

    pub fn remove(&mut self, target: &Path) -> Option<Record> {
        self.0.take(target).map(|r| r.0)
    }

    pub fn values(&self) -> impl Iterator<Item = &Record> + Clone {
        self.0.iter().map(|r| &r.0)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Later records replace earlier ones for the same target.
impl Extend<Record> for Links {
    fn extend<I: IntoIterator<Item = Record>>(&mut self, records: I) {
        for record in records {
            self.insert(record);
        }
    }
}

impl Links {
    pub fn into_records(self) -> impl Iterator<Item = Record> {
        self.0.into_iter().map(|r| r.0)
    }
}

impl FromIterator<Record> for Links {
    fn from_iter<I: IntoIterator<Item = Record>>(records: I) -> Links {
        let mut links = Links::default();
        links.extend(records);
        links
    }
}

/// Equal when they hold the same records (every field, not only the targets).
impl PartialEq for Links {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.values().all(|r| other.get(&r.target) == Some(r))
    }
}

impl Eq for Links {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Method;
    use std::path::PathBuf;

    fn record(target: &str, source: &str) -> Record {
        Record {
            target: PathBuf::from(target),
            source: PathBuf::from(source),
            method: Method::Symlink,
            spelling: None,
            inode: None,
        }
    }

    #[test]
    fn one_record_per_target_and_the_later_one_wins() {
        let mut links = Links::default();
        assert_eq!(links.insert(record("/h/a", "/r/1")), None);
        assert_eq!(
            links.insert(record("/h/a", "/r/2")),
            Some(record("/h/a", "/r/1"))
        );
        links.extend([record("/h/b", "/r/3"), record("/h/a", "/r/4")]);
        assert_eq!(links.len(), 2);
        assert_eq!(links.get(Path::new("/h/a")), Some(&record("/h/a", "/r/4")));
        assert!(links.contains_key(Path::new("/h/b")));
        assert_eq!(
            links.remove(Path::new("/h/b")),
            Some(record("/h/b", "/r/3"))
        );
        assert!(!links.contains_key(Path::new("/h/b")));
    }

    #[test]
    fn equality_compares_whole_records() {
        let mut a = Links::default();
        let mut b = Links::default();
        a.insert(record("/h/a", "/r/1"));
        b.insert(record("/h/a", "/r/2"));
        assert_ne!(a, b);
        b.insert(record("/h/a", "/r/1"));
        assert_eq!(a, b);
    }
}
