//! The recorded links of a state, looked up by target: the records in one vector, and a table
//! of their positions by target. A target's path is held once (in its record, not again as a
//! key), and the table holds four bytes a record, not the record: at 10,000 links the state
//! is the largest thing a run holds after its plan.

use super::{Record, RecordRef};
use hashbrown::HashTable;
use std::path::Path;

/// Records by target: at most one per target.
#[derive(Debug, Clone, Default)]
pub struct Links {
    records: Vec<Record>,
    /// Where each record is in `records`, found by the hash of its target.
    index: HashTable<u32>,
}

fn hash(target: &Path) -> u64 {
    super::hash_path(target)
}

impl Links {
    /// Room for `capacity` records if it can be had (else none: the set grows as it fills).
    pub fn with_capacity(capacity: usize) -> Links {
        let mut links = Links::default();
        links.reserve(capacity);
        links
    }

    /// Room for `additional` more records if it can be had (else the set grows as it fills):
    /// grown by doubling, a first apply's 10,000 records would take room for 16,384, and
    /// hash each target again at every doubling.
    pub fn reserve(&mut self, additional: usize) {
        if self.records.try_reserve_exact(additional).is_ok() {
            let records = &self.records;
            let _ = self
                .index
                .try_reserve(additional, |&i| hash(&records[i as usize].target));
        }
    }

    /// `records`, in their order, with a table of them built once: each target hashed once,
    /// and no table grown. A target recorded twice (a file edited by hand) is taken as
    /// [`Links::insert`] takes it: the later record, at the earlier one's place.
    pub fn from_records(records: Vec<Record>) -> Links {
        let mut index = HashTable::new();
        if index
            .try_reserve(records.len(), |&i: &u32| hash(&records[i as usize].target))
            .is_ok()
        {
            for (i, record) in records.iter().enumerate() {
                let target_hash = hash(&record.target);
                let same = |&j: &u32| *records[j as usize].target == *record.target;
                if index.find(target_hash, same).is_some() {
                    let mut links = Links::with_capacity(records.len());
                    links.extend(records);
                    return links;
                }
                let at = u32::try_from(i).expect("fewer than 2^32 links");
                index.insert_unique(target_hash, at, |&j| hash(&records[j as usize].target));
            }
            return Links { records, index };
        }
        let mut links = Links::default();
        links.extend(records);
        links
    }

    /// Where the record for `target` is among [`Links::values`], if there is one (see
    /// [`Links::at`]).
    pub fn position(&self, target: &Path) -> Option<usize> {
        // A first apply asks an empty state about each of its targets, three times: no hash.
        if self.records.is_empty() {
            return None;
        }
        self.position_hashed(target, hash(target))
    }

    fn position_hashed(&self, target: &Path, hash: u64) -> Option<usize> {
        self.index
            .find(hash, |&i| *self.records[i as usize].target == *target)
            .map(|&i| i as usize)
    }

    /// The record at `position` among [`Links::values`].
    pub fn at(&self, position: usize) -> &Record {
        &self.records[position]
    }

    pub fn get(&self, target: &Path) -> Option<&Record> {
        self.position(target).map(|i| &self.records[i])
    }

    pub fn contains_key(&self, target: &Path) -> bool {
        self.position(target).is_some()
    }

    /// Record `record`, replacing any record for the same target; returns the one replaced.
    pub fn insert(&mut self, record: Record) -> Option<Record> {
        // Hashed once, for the lookup and the insertion both.
        let target_hash = hash(&record.target);
        if let Some(i) = self.position_hashed(&record.target, target_hash) {
            return Some(std::mem::replace(&mut self.records[i], record));
        }
        self.push_hashed(record, target_hash);
        None
    }

    /// Record `record` unless its target's record already says the same (a no-op run
    /// compares thousands, and builds no record); returns whether the records changed. The
    /// target is hashed once, for the lookup and any insertion both.
    pub fn update(&mut self, record: RecordRef<'_>) -> bool {
        let target_hash = hash(record.target);
        match self.position_hashed(record.target, target_hash) {
            Some(i) if record.matches(&self.records[i]) => return false,
            Some(i) => self.records[i] = record.to_record(),
            None => self.push_hashed(record.to_record(), target_hash),
        }
        true
    }

    /// Add `record`, whose target (hashed to `target_hash`) has none yet.
    fn push_hashed(&mut self, record: Record, target_hash: u64) {
        let at = u32::try_from(self.records.len()).expect("fewer than 2^32 links");
        let records = &self.records;
        self.index
            .insert_unique(target_hash, at, |&i| hash(&records[i as usize].target));
        self.records.push(record);
    }

    pub fn remove(&mut self, target: &Path) -> Option<Record> {
        let records = &self.records;
        let entry = self
            .index
            .find_entry(hash(target), |&i| *records[i as usize].target == *target)
            .ok()?;
        let (at, _) = entry.remove();
        let last = self.records.len() - 1;
        if at as usize != last {
            // The last record moves into the gap: its entry follows it.
            let moved = hash(&self.records[last].target);
            let slot = self
                .index
                .find_mut(moved, |&i| i as usize == last)
                .expect("every record has an entry");
            *slot = at;
        }
        Some(self.records.swap_remove(at as usize))
    }

    pub fn values(&self) -> impl Iterator<Item = &Record> + Clone {
        self.records.iter()
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn into_records(self) -> impl Iterator<Item = Record> {
        self.records.into_iter()
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

impl FromIterator<Record> for Links {
    fn from_iter<I: IntoIterator<Item = Record>>(records: I) -> Links {
        let mut links = Links::default();
        links.extend(records);
        links
    }
}

/// Equal when they hold the same records (every field, not only the targets), in any order.
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

    fn record(target: &str, source: &str) -> Record {
        Record {
            target: Path::new(target).into(),
            source: Path::new(source).into(),
            method: Method::Symlink,
            own_text: None,
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
    fn room_made_for_more_keeps_every_record_found() {
        let mut links = Links::default();
        let name = |i: usize| format!("/h/{i}");
        for i in 0..50 {
            links.insert(record(&name(i), "/r/x"));
        }
        links.reserve(1000);
        for i in 50..1050 {
            links.insert(record(&name(i), "/r/x"));
        }
        assert_eq!(links.len(), 1050);
        assert!((0..1050).all(|i| links.contains_key(Path::new(&name(i)))));
    }

    #[test]
    fn an_update_changes_only_what_says_something_else() {
        let mut links = Links::default();
        let (a, a2) = (record("/h/a", "/r/1"), record("/h/a", "/r/2"));
        assert!(links.update(a.as_ref()));
        assert!(!links.update(a.as_ref()));
        assert!(links.update(a2.as_ref()));
        assert_eq!(links.len(), 1);
        assert_eq!(links.get(Path::new("/h/a")), Some(&a2));
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

    #[test]
    fn removing_keeps_every_other_record_found() {
        let mut links = Links::with_capacity(3);
        let name = |i: usize| format!("/h/{i}");
        for i in 0..200 {
            links.insert(record(&name(i), "/r/x"));
        }
        // Remove from the front, the middle and the end, so records move into the gaps.
        for i in (0..200).filter(|i| i % 3 == 0).chain([199, 100]) {
            let gone = links.remove(Path::new(&name(i)));
            assert_eq!(gone.map(|r| r.target), Some(Path::new(&name(i)).into()));
        }
        assert_eq!(links.remove(Path::new("/h/0")), None);
        for i in 0..200 {
            let kept = i % 3 != 0 && i != 199 && i != 100;
            assert_eq!(links.contains_key(Path::new(&name(i))), kept, "{i}");
            if kept {
                assert_eq!(
                    &*links.get(Path::new(&name(i))).unwrap().target,
                    Path::new(&name(i))
                );
            }
        }
        assert_eq!(links.len(), links.values().count());
        links.insert(record("/h/0", "/r/y"));
        assert_eq!(
            &*links.get(Path::new("/h/0")).unwrap().source,
            Path::new("/r/y")
        );
    }
}
