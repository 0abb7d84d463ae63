//! The window: the recent documents a new one is checked against, held in memory as an LSH
//! index that forgets.
//!
//! Each document takes a slot. Per band, a hash map sends a band key to the newest slot with
//! that key, and the slots sharing a key form a circular doubly linked chain in arrival order
//! (the newest's `newer` is the oldest), so a document can be taken out of every chain in
//! constant time whatever its age: eviction by count (oldest first) and by date (any order)
//! cost the same. Arrival order is position order, so a lookup walks the chains of its keys
//! from their oldest ends together, in position order, and stops at the first linked
//! candidate: a window full of copies of one text answers after one verification instead of
//! gathering and sorting every copy. Freed slots are reused, so the
//! memory of a full window stays where it is however long the stream runs.
//!
//! The band keys are [`Heads::stored_keys`]: the signature's bands ([`LshParams::band_key`],
//! the keys `cluster` sorts) and, with cross-length matching, the head's bands after them, so
//! two documents are candidates here exactly when they are candidates there.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use crate::cross::Heads;
#[cfg(doc)]
use crate::lsh::LshParams;
use crate::settings::{Settings, Signed, Traits};

/// No slot.
const NONE: u32 = u32::MAX;

/// A hasher for band keys, which are already xxh3 hashes: it passes them through.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed; any other input is folded in for completeness.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// A band key stored as two halves: with 4-byte alignment an entry of the map (key and slot)
/// takes 12 bytes instead of 16, and the maps are most of a full window's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key([u32; 2]);

impl Key {
    fn new(key: u64) -> Key {
        Key([key as u32, (key >> 32) as u32])
    }
}

impl std::hash::Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(u64::from(self.0[0]) | (u64::from(self.0[1]) << 32));
    }
}

type KeyMap = HashMap<Key, u32, BuildHasherDefault<KeyHasher>>;

/// The neighbours of a slot in the circular chain of one of its band keys (a slot alone with
/// its key is its own neighbour).
#[derive(Debug, Clone, Copy)]
struct Link {
    /// The next newer slot with the same key; for the newest, the oldest.
    newer: u32,
    /// The next older slot with the same key; for the oldest, the newest.
    older: u32,
}

const UNLINKED: Link = Link {
    newer: NONE,
    older: NONE,
};

/// What the window keeps of a document besides its signature.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The document's position in the stream (see [`super::Engine`]).
    pub position: u64,
    /// The story it belongs to.
    pub cluster_id: u64,
    /// Its id.
    pub id: String,
    /// Verification needs these.
    pub traits: Traits,
    pub words: Box<[u64]>,
    pub set: Option<Box<[u64]>>,
    /// Its date in seconds since 1970 (with a date window).
    pub date: Option<i64>,
    live: bool,
}

/// A document taken out of the window ([`Window::take_oldest`]): its entry, its signature and
/// its band keys.
pub(crate) type Taken = (Entry, Vec<u32>, Vec<(usize, u64)>);

/// The recent documents, indexed by band key.
#[derive(Debug)]
pub(crate) struct Window {
    heads: Heads,
    /// Band numbers: the signature's, then (with cross-length matching) the head's.
    bands: usize,
    k: usize,
    /// `k` signature values per slot.
    sigs: Vec<u32>,
    entries: Vec<Entry>,
    /// `bands` links per slot.
    links: Vec<Link>,
    /// Per band: key → newest slot with that key.
    maps: Vec<KeyMap>,
    free: Vec<u32>,
    /// Slots in arrival order, as (slot, position) so that a slot freed and reused meanwhile
    /// is recognised.
    arrival: VecDeque<(u32, u64)>,
    /// Slots by date, oldest first, when documents have dates.
    by_date: BinaryHeap<Reverse<(i64, u64, u32)>>,
    live: usize,
    /// Per slot, the number of the last lookup that reached it (each candidate is verified
    /// once per lookup, however many bands it shares).
    seen: Vec<u32>,
    lookup: u32,
    /// Per band with a hit, the chain walk of a lookup: (next slot, newest slot of the chain,
    /// band).
    cursors: Vec<(u32, u32, u32)>,
    /// Candidate pairs verified by lookups so far.
    verified: u64,
}

/// How many band numbers a document can be found under: the signature's bands, and as many
/// again for the head's with cross-length matching.
pub(crate) fn band_numbers(settings: &Settings) -> usize {
    if settings.cross.on() {
        let heads = Heads::new(settings);
        heads.band_number(heads.bands())
    } else {
        settings.lsh.bands
    }
}

impl Window {
    pub(crate) fn new(settings: &Settings) -> Window {
        Window {
            heads: Heads::new(settings),
            bands: band_numbers(settings),
            k: settings.sig_len(),
            sigs: Vec::new(),
            entries: Vec::new(),
            links: Vec::new(),
            maps: (0..band_numbers(settings))
                .map(|_| KeyMap::default())
                .collect(),
            free: Vec::new(),
            arrival: VecDeque::new(),
            by_date: BinaryHeap::new(),
            live: 0,
            seen: Vec::new(),
            lookup: 0,
            cursors: Vec::new(),
            verified: 0,
        }
    }

    /// Documents in the window.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    fn sig(&self, slot: u32) -> &[u32] {
        let s = slot as usize * self.k;
        &self.sigs[s..s + self.k]
    }

    /// Candidate pairs verified by lookups so far.
    pub(crate) fn verified(&self) -> u64 {
        self.verified
    }

    /// The document in `slot` as verification sees it.
    pub(crate) fn signed(&self, slot: u32) -> Signed<'_> {
        let e = &self.entries[slot as usize];
        Signed {
            sig: self.sig(slot),
            traits: e.traits,
            words: &e.words,
            set: e.set.as_deref(),
        }
    }

    /// The entry in `slot`.
    pub(crate) fn entry(&self, slot: u32) -> &Entry {
        &self.entries[slot as usize]
    }

    /// The earliest document of the window (smallest position) that is an LSH candidate of
    /// `doc` and linked to it under `settings`, with `doc`'s band numbers and keys in `keys`
    /// ([`Heads::stored_keys`]). Candidates
    /// are verified in position order and the search stops at the first linked one.
    pub(crate) fn first_linked(
        &mut self,
        doc: &Signed<'_>,
        keys: &[(usize, u64)],
        settings: &Settings,
    ) -> Option<u32> {
        if doc.traits.is_empty() {
            return None;
        }
        self.lookup = self.lookup.wrapping_add(1);
        if self.lookup == 0 {
            // The counter wrapped: forget every mark so that none is mistaken for this lookup.
            self.seen.iter_mut().for_each(|s| *s = 0);
            self.lookup = 1;
        }
        self.cursors.clear();
        let bands = self.bands;
        for &(band, key) in keys {
            if let Some(&newest) = self.maps[band].get(&Key::new(key)) {
                let oldest = self.links[newest as usize * bands + band].newer;
                self.cursors.push((oldest, newest, band as u32));
            }
        }
        // Merge the chains by position (each is in position order from its oldest end); a
        // slot in several chains is verified once, the first time it comes up.
        while !self.cursors.is_empty() {
            let (c, _) = self
                .cursors
                .iter()
                .enumerate()
                .min_by_key(|(_, &(slot, _, _))| self.entries[slot as usize].position)
                .expect("a cursor is left");
            let (slot, newest, band) = self.cursors[c];
            if slot == newest {
                self.cursors.swap_remove(c);
            } else {
                self.cursors[c].0 = self.links[slot as usize * bands + band as usize].newer;
            }
            if self.seen[slot as usize] == self.lookup {
                continue;
            }
            self.seen[slot as usize] = self.lookup;
            self.verified += 1;
            if settings.linked(&self.signed(slot), doc) {
                return Some(slot);
            }
        }
        None
    }

    /// Adds a document with band keys `keys` (ignored for an empty document, which is never
    /// a candidate) and returns its slot.
    pub(crate) fn insert(&mut self, entry: Entry, sig: &[u32], keys: &[(usize, u64)]) -> u32 {
        let bands = self.bands;
        let (position, date, empty) = (entry.position, entry.date, entry.traits.is_empty());
        let entry = Entry {
            live: true,
            ..entry
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.entries[slot as usize] = entry;
                slot
            }
            None => {
                self.sigs.resize(self.sigs.len() + self.k, 0);
                self.links.resize(self.links.len() + bands, UNLINKED);
                self.seen.push(0);
                self.entries.push(entry);
                (self.entries.len() - 1) as u32
            }
        };
        let s = slot as usize;
        self.sigs[s * self.k..(s + 1) * self.k].copy_from_slice(sig);
        self.arrival.push_back((slot, position));
        if let Some(date) = date {
            self.by_date.push(Reverse((date, position, slot)));
        }
        self.live += 1;
        for band in 0..bands {
            self.links[s * bands + band] = UNLINKED;
        }
        if empty {
            return slot;
        }
        for &(band, key) in keys {
            let link = match self.maps[band].insert(Key::new(key), slot) {
                Some(newest) => {
                    let oldest = self.links[newest as usize * bands + band].newer;
                    self.links[newest as usize * bands + band].newer = slot;
                    self.links[oldest as usize * bands + band].older = slot;
                    Link {
                        newer: oldest,
                        older: newest,
                    }
                }
                None => Link {
                    newer: slot,
                    older: slot,
                },
            };
            self.links[s * bands + band] = link;
        }
        slot
    }

    /// Takes the document in `slot` out of the window; returns its entry (the per-document
    /// allocations moved out of the slot, whose arrays are reused) and its band keys.
    fn remove(&mut self, slot: u32) -> (Entry, Vec<(usize, u64)>) {
        let s = slot as usize;
        let bands = self.bands;
        debug_assert!(self.entries[s].live);
        self.entries[s].live = false;
        self.live -= 1;
        let keys = if self.entries[s].traits.is_empty() {
            Vec::new()
        } else {
            self.heads.stored_keys(&self.signed(slot))
        };
        for &(band, key) in &keys {
            let key = Key::new(key);
            let Link { newer, older } = self.links[s * bands + band];
            if newer == slot {
                // Alone with its key.
                self.maps[band].remove(&key);
            } else {
                self.links[older as usize * bands + band].newer = newer;
                self.links[newer as usize * bands + band].older = older;
                if let Some(newest) = self.maps[band].get_mut(&key) {
                    if *newest == slot {
                        *newest = older;
                    }
                }
            }
        }
        let e = &mut self.entries[s];
        let taken = Entry {
            position: e.position,
            cluster_id: e.cluster_id,
            id: std::mem::take(&mut e.id),
            traits: e.traits,
            words: std::mem::take(&mut e.words),
            set: e.set.take(),
            date: e.date,
            live: false,
        };
        self.free.push(slot);
        (taken, keys)
    }

    fn is_current(&self, slot: u32, position: u64) -> bool {
        let e = &self.entries[slot as usize];
        e.live && e.position == position
    }

    /// Gives every band map room for `n` documents with eviction going on, at once rather
    /// than as they churn.
    ///
    /// With keys inserted and removed at a steady count, a hash map that is more than half
    /// full of live keys doubles once to make room for its tombstones, and then stays: by
    /// taking that size when the window first fills, the memory of a full window is the
    /// memory of the whole run.
    pub(crate) fn reserve_for(&mut self, n: usize) {
        for map in &mut self.maps {
            map.reserve((2 * n + 1).saturating_sub(map.len()));
        }
    }

    /// Evicts the oldest arrivals until at most `limit` documents remain; returns how many
    /// were evicted.
    pub(crate) fn evict_to(&mut self, limit: usize) -> usize {
        let mut evicted = 0;
        while self.live > limit {
            let (slot, position) = self.arrival.pop_front().expect("live documents arrived");
            if self.is_current(slot, position) {
                self.remove(slot);
                evicted += 1;
            }
        }
        self.compact_queues();
        evicted
    }

    /// Takes the oldest arrival out of the window: its entry, its signature and its band
    /// keys.
    pub(crate) fn take_oldest(&mut self) -> Option<Taken> {
        while let Some((slot, position)) = self.arrival.pop_front() {
            if self.is_current(slot, position) {
                let sig = self.sig(slot).to_vec();
                let (entry, keys) = self.remove(slot);
                self.compact_queues();
                return Some((entry, sig, keys));
            }
        }
        None
    }

    /// Memory a document takes in the window, about: its signature, its links and map
    /// entries in every band (maps keep room for twice their keys), and its entry.
    pub(crate) fn bytes_per_document(settings: &Settings) -> u64 {
        let bands = band_numbers(settings) as u64;
        4 * settings.sig_len() as u64 + bands * (8 + 2 * 12) + 256
    }

    /// Evicts every document dated before `cutoff`; returns how many were evicted.
    pub(crate) fn evict_before(&mut self, cutoff: i64) -> usize {
        let mut evicted = 0;
        while let Some(&Reverse((date, position, slot))) = self.by_date.peek() {
            if date >= cutoff {
                break;
            }
            self.by_date.pop();
            if self.is_current(slot, position) {
                self.remove(slot);
                evicted += 1;
            }
        }
        self.compact_queues();
        evicted
    }

    /// Drops the queue entries of documents evicted through the other queue, once they
    /// outnumber the live documents, so that neither queue grows without bound.
    fn compact_queues(&mut self) {
        if self.arrival.len() > 2 * self.live + 1024 {
            let entries = &self.entries;
            self.arrival.retain(|&(slot, position)| {
                let e = &entries[slot as usize];
                e.live && e.position == position
            });
        }
        if self.by_date.len() > 2 * self.live + 1024 {
            let entries = &self.entries;
            self.by_date.retain(|&Reverse((_, position, slot))| {
                let e = &entries[slot as usize];
                e.live && e.position == position
            });
        }
    }
}

/// A new window entry.
pub(crate) fn entry(
    position: u64,
    cluster_id: u64,
    id: &str,
    doc: &Signed<'_>,
    date: Option<i64>,
) -> Entry {
    Entry {
        position,
        cluster_id,
        id: id.to_string(),
        traits: doc.traits,
        words: doc.words.into(),
        set: doc.set.map(Into::into),
        date,
        live: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsh::LshParams;

    fn settings() -> Settings {
        let mut s = Settings::default();
        s.minhash.num_perm = 4;
        // Signatures of four MinHash slots, without a word sketch.
        s.reword = crate::settings::Reword::off();
        s.lsh = LshParams { bands: 2, rows: 2 };
        s.threshold = 0.5;
        s
    }

    fn traits() -> Traits {
        Traits {
            shingles: 10,
            ..Traits::default()
        }
    }

    fn keys(s: &Settings, sig: &[u32]) -> Vec<(usize, u64)> {
        (0..s.lsh.bands)
            .map(|b| (b, s.lsh.band_key(sig, b)))
            .collect()
    }

    fn add(w: &mut Window, s: &Settings, pos: u64, sig: &[u32], date: Option<i64>) -> u32 {
        let doc = Signed {
            sig,
            traits: traits(),
            words: &[],
            set: None,
        };
        let e = entry(pos, pos, &format!("d{pos}"), &doc, date);
        w.insert(e, sig, &keys(s, sig))
    }

    fn find(w: &mut Window, s: &Settings, sig: &[u32]) -> Option<u64> {
        let doc = Signed {
            sig,
            traits: traits(),
            words: &[],
            set: None,
        };
        w.first_linked(&doc, &keys(s, sig), s)
            .map(|slot| w.entry(slot).position)
    }

    #[test]
    fn finds_the_earliest_linked_candidate() {
        let s = settings();
        let mut w = Window::new(&s);
        add(&mut w, &s, 0, &[9, 9, 9, 9], None);
        add(&mut w, &s, 1, &[1, 2, 7, 7], None);
        add(&mut w, &s, 2, &[1, 2, 3, 4], None);
        // Shares band 0 with 1 and 2; 2 agrees on all four slots, 1 on two (0.5 ≥ 0.5).
        assert_eq!(find(&mut w, &s, &[1, 2, 3, 4]), Some(1));
        // Shares band 1 with 2 only, and 2 of 4 slots.
        assert_eq!(find(&mut w, &s, &[5, 6, 3, 4]), Some(2));
        // Shares no band key: not a candidate, however similar the slots.
        assert_eq!(find(&mut w, &s, &[1, 8, 3, 8]), None);
    }

    #[test]
    fn eviction_unlinks_every_chain_position() {
        let s = settings();
        let mut w = Window::new(&s);
        for pos in 0..5 {
            add(&mut w, &s, pos, &[1, 2, 3, 4], None);
        }
        assert_eq!(find(&mut w, &s, &[1, 2, 3, 4]), Some(0));
        assert_eq!(w.evict_to(3), 2);
        assert_eq!(find(&mut w, &s, &[1, 2, 3, 4]), Some(2));
        // A reused slot joins the chain again as its newest member.
        add(&mut w, &s, 5, &[1, 2, 3, 4], None);
        assert_eq!(w.len(), 4);
        assert_eq!(w.evict_to(1), 3);
        assert_eq!(find(&mut w, &s, &[1, 2, 3, 4]), Some(5));
        assert_eq!(w.evict_to(0), 1);
        assert_eq!(find(&mut w, &s, &[1, 2, 3, 4]), None);
        assert!(w.maps.iter().all(|m| m.is_empty()));
    }

    #[test]
    fn a_window_of_copies_answers_with_one_verification() {
        let s = settings();
        let mut w = Window::new(&s);
        for pos in 0..3000 {
            if pos > 0 {
                let before = w.verified();
                assert_eq!(find(&mut w, &s, &[1, 2, 3, 4]), Some(0));
                assert_eq!(w.verified() - before, 1);
            }
            add(&mut w, &s, pos, &[1, 2, 3, 4], None);
        }
    }

    #[test]
    fn chains_are_walked_in_position_order_across_bands() {
        let mut s = settings();
        s.threshold = 0.75;
        let mut w = Window::new(&s);
        // Band 0 holds 0 and 2, band 1 holds 1 and 3; only 3 agrees on three slots of four.
        add(&mut w, &s, 0, &[1, 2, 9, 9], None);
        add(&mut w, &s, 1, &[8, 8, 3, 4], None);
        add(&mut w, &s, 2, &[1, 2, 7, 7], None);
        add(&mut w, &s, 3, &[1, 6, 3, 4], None);
        let before = w.verified();
        assert_eq!(find(&mut w, &s, &[1, 2, 3, 4]), Some(3));
        assert_eq!(w.verified() - before, 4, "each candidate once");
        // Taking slots out of the middle and the ends keeps every chain whole.
        w.evict_to(2);
        let before = w.verified();
        assert_eq!(find(&mut w, &s, &[1, 2, 3, 4]), Some(3));
        assert_eq!(w.verified() - before, 2);
        add(&mut w, &s, 4, &[1, 2, 3, 4], None);
        w.evict_to(1);
        assert_eq!(find(&mut w, &s, &[1, 2, 3, 4]), Some(4));
        assert_eq!(find(&mut w, &s, &[1, 2, 9, 9]), None);
    }

    #[test]
    fn date_eviction_removes_from_the_middle_of_chains() {
        let s = settings();
        let mut w = Window::new(&s);
        add(&mut w, &s, 0, &[1, 2, 3, 4], Some(50));
        add(&mut w, &s, 1, &[1, 2, 3, 4], Some(10));
        add(&mut w, &s, 2, &[1, 2, 3, 4], Some(60));
        assert_eq!(w.evict_before(20), 1);
        assert_eq!(find(&mut w, &s, &[1, 2, 3, 4]), Some(0));
        assert_eq!(w.evict_before(55), 1);
        assert_eq!(find(&mut w, &s, &[1, 2, 3, 4]), Some(2));
        // The count queue skips what the date queue evicted.
        assert_eq!(w.evict_to(0), 1);
        assert_eq!(w.len(), 0);
    }
}
