//! The streaming filter: documents in, each decided at once as the first of its story or a
//! repeat of an earlier one.
//!
//! A document is a **duplicate** exactly when an earlier document still in the window (or,
//! with an index, stored in the index) is an LSH candidate of it (shares a band key under the
//! same [`Settings::lsh`]) and [`Settings::linked`] holds for the pair: the edges of
//! `cluster`'s graph. So with a window larger than the input, a document is a duplicate
//! exactly when an earlier member of its `cluster` group is linked to it as a candidate, and
//! the first document of every group is first-seen. Duplicates stay in the window too: a later
//! copy that matches only a duplicate is found, as `cluster` would join it.
//!
//! - **duplicate_of** is the earliest such document (the smallest position; indexed documents
//!   that were there before the run come before the run's own).
//! - **cluster_id** names the story: a first-seen document's own position, and for a duplicate
//!   the `cluster_id` of the document it repeats (for an indexed document, its cluster in the
//!   index). Positions count the valid documents of the run from 0, as `cluster` numbers its
//!   clusters; with an index they continue the index's positions, so the ids of stories first
//!   seen in the run are the positions those documents take in the index with `--add`.
//!   When a document links two stories that were first seen apart, it joins the earlier one,
//!   while `cluster` would report both as one cluster: the filter cannot take back what it has
//!   already written.
//! - **similarity** is [`Settings::similarity`] to `duplicate_of`.
//!
//! Memory is bounded by the window ([`WindowLimit`]): the last N documents, or the documents
//! dated within D days of the newest date seen, or both. Evicted documents take their
//! signatures and band keys with them (`src/filter/window.rs`). A window that holds more than
//! a memory budget keeps its oldest documents in a temporary database on disk
//! ([`Engine::spill_beyond`], `src/filter/cold.rs`), with the same decisions.
//!
//! [`run`] drives a whole stream: a reader thread parses documents and hands over whatever is
//! ready, signing runs in parallel over those, decisions are made one document at a time in
//! input order (while the records that arrived meanwhile are signed), and the outputs are
//! flushed whenever no more input is waiting, so that in a live feed each document goes out as
//! soon as it is decided, while a fast pipe is written in large blocks.

mod cold;
mod date;
mod window;

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cluster::Verify;
use crate::document::Document;
use crate::error::{Error, Location, RecordError, Result};
use crate::index::{Appender, Index, IndexMatch, Unmatched};
use crate::pipeline::{numbered, Input, Scratch, Settings, Signer};
use crate::progress::{Progress, Stage};
use crate::settings::{Linkage, Signed, Traits};

pub use date::parse as parse_date;
use window::Window;

/// The window when none is given: the last 100,000 documents (a peak of about 270 MB with the
/// default settings, see BENCHMARKS.md).
pub const DEFAULT_WINDOW: usize = 100_000;

/// Which earlier documents a new one is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowLimit {
    /// Keep at most this many documents (the most recent ones); `None`: no count limit.
    pub documents: Option<usize>,
    /// Keep the documents dated at most this many days before the newest date seen so far;
    /// `None`: no date limit. Documents then need a date.
    pub days: Option<f64>,
}

impl Default for WindowLimit {
    fn default() -> WindowLimit {
        WindowLimit {
            documents: Some(DEFAULT_WINDOW),
            days: None,
        }
    }
}

/// The earlier document that a duplicate repeats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Earlier {
    /// Its position.
    pub position: u64,
    /// Its id.
    pub id: String,
    /// Its story.
    pub cluster_id: u64,
    /// The duplicate's similarity to it.
    pub similarity: f64,
    /// True when it was found in the index rather than in the window.
    pub in_index: bool,
}

/// The decision about one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The document's position: its number among the valid documents of the run, from 0,
    /// plus the index's first free position when an index is used.
    pub position: u64,
    /// The story it belongs to.
    pub cluster_id: u64,
    /// The earlier document it repeats; `None` for a first-seen document.
    pub duplicate_of: Option<Earlier>,
}

impl Decision {
    /// True for a duplicate.
    pub fn is_duplicate(&self) -> bool {
        self.duplicate_of.is_some()
    }
}

/// The decision engine: the window and the rule, one document at a time, in memory.
///
/// ```
/// use mukarrar::filter::{Engine, WindowLimit};
/// use mukarrar::pipeline::{Scratch, Settings, Signer};
/// use mukarrar::settings::Signed;
///
/// let settings = Settings::default();
/// let signer = Signer::new(&settings);
/// let mut engine = Engine::new(&settings, WindowLimit::default()).unwrap();
/// let mut scratch = Scratch::default();
/// let texts = [
///     "مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار بغزة",
///     "ترامب يصف مكالمته مع بوتين بالجيدة",
///     "مجلس الامن يصوت اليوم على قرار لوقف دائم لاطلاق النار بغزة",
/// ];
/// let mut decisions = Vec::new();
/// for (i, text) in texts.iter().enumerate() {
///     let mut sig = vec![0; signer.num_perm()];
///     let traits = signer.sign_into(text, &mut scratch, &mut sig);
///     let doc = Signed { sig: &sig, traits, words: &scratch.words, set: None };
///     decisions.push(engine.decide(&i.to_string(), &doc, None, None).unwrap());
/// }
/// assert!(!decisions[0].is_duplicate() && !decisions[1].is_duplicate());
/// let repeat = decisions[2].duplicate_of.as_ref().unwrap();
/// assert_eq!((repeat.id.as_str(), decisions[2].cluster_id), ("0", 0));
/// ```
#[derive(Debug)]
pub struct Engine {
    settings: Settings,
    limit: WindowLimit,
    window: Window,
    base: u64,
    seq: u64,
    newest: Option<i64>,
    evicted: u64,
    /// The band numbers and keys of the document being decided ([`crate::cross::Heads::stored_keys`]).
    keys: Vec<(usize, u64)>,
    heads: crate::cross::Heads,
    /// True once the window has taken the size it keeps when full.
    reserved: bool,
    /// Beyond the budget: how many documents the window keeps in memory, and where the
    /// older ones go ([`Engine::spill_beyond`]).
    spill: Option<(usize, crate::spill::Budget)>,
    /// The older documents of the window, on disk, once the budget was exceeded.
    cold: Option<cold::Cold>,
    /// Documents moved to disk so far.
    spilled: u64,
}

impl Engine {
    /// An engine deciding by `settings` over a window of `limit`.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the settings are invalid, ask for boilerplate suppression or
    /// representative linkage (both depend on documents that come later), or the window is
    /// empty.
    pub fn new(settings: &Settings, limit: WindowLimit) -> Result<Engine> {
        settings.validate()?;
        if settings.boilerplate_df > 0 {
            return Err(Error::Config(
                "--boilerplate-df counts lines over the whole corpus, which a stream never \
                 sees at once: drop it"
                    .into(),
            ));
        }
        if settings.linkage != Linkage::Single {
            return Err(Error::Config(
                "--linkage representative regroups clusters as later documents arrive, while \
                 the filter decides each document once: use --linkage single (the default)"
                    .into(),
            ));
        }
        if limit.documents == Some(0) {
            return Err(Error::Config("--window must be at least 1".into()));
        }
        if let Some(days) = limit.days {
            if !(days.is_finite() && days > 0.0) {
                return Err(Error::Config(format!(
                    "--window-days {days} must be a positive number of days"
                )));
            }
        }
        Ok(Engine {
            settings: settings.clone(),
            limit,
            window: Window::new(settings),
            base: 0,
            seq: 0,
            newest: None,
            evicted: 0,
            keys: Vec::new(),
            heads: crate::cross::Heads::new(settings),
            reserved: false,
            spill: None,
            cold: None,
            spilled: 0,
        })
    }

    /// Keeps the window in memory up to `budget`'s bytes, about; beyond them, its oldest
    /// documents go to a temporary database in the budget's folder, where lookups still find
    /// them (`src/filter/cold.rs`). The decisions are the same, the lookups slower.
    ///
    /// # Errors
    ///
    /// [`Error::Config`], starting with the folder, when its name is not UTF-8, which the
    /// database needs: it opens only once the window outgrows memory, mid-run, so what would
    /// stop it then is refused now.
    pub fn spill_beyond(&mut self, budget: crate::spill::Budget) -> Result<()> {
        if budget.dir.to_str().is_none() {
            return Err(Error::Config(format!(
                "{}: the folder's name is not UTF-8, which the window's temporary database \
                 needs; choose another folder",
                budget.dir.display()
            )));
        }
        let per_document = Window::bytes_per_document(&self.settings);
        let in_memory = (budget.bytes / per_document).clamp(1, usize::MAX as u64) as usize;
        self.spill = Some((in_memory, budget));
        Ok(())
    }

    /// Documents of the window moved to disk so far ([`Engine::spill_beyond`]).
    pub fn spilled(&self) -> u64 {
        self.spilled
    }

    /// The settings decisions are made by.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The position the next document will take.
    pub fn next_position(&self) -> u64 {
        self.base + self.seq
    }

    /// Makes the next position at least `next_free` (an index's first free position), so
    /// that positions continue the index's.
    pub fn align(&mut self, next_free: u64) {
        if self.next_position() < next_free {
            self.base = next_free - self.seq;
        }
    }

    /// Documents in the window now (in memory and on disk).
    pub fn window_len(&self) -> usize {
        self.window.len() + self.cold.as_ref().map_or(0, cold::Cold::len)
    }

    /// Candidate pairs verified against the window so far (each window document at most once
    /// per decision, and none after the first linked one).
    pub fn verified(&self) -> u64 {
        self.window.verified() + self.cold.as_ref().map_or(0, cold::Cold::verified)
    }

    /// Documents evicted from the window so far.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Decides about the next document of the stream and adds it to the window.
    ///
    /// `date` (seconds since 1970) is needed with a date window, and ignored otherwise.
    /// `indexed` is the index's earliest match for the document ([`Index::first_match`]),
    /// when there is an index: the earlier of it and the window's match is the one repeated.
    ///
    /// # Errors
    ///
    /// Only with [`Engine::spill_beyond`]: [`Error::Io`] when the window's temporary database
    /// fails. The window may then miss documents: the engine must not decide any more.
    pub fn decide(
        &mut self,
        id: &str,
        doc: &Signed<'_>,
        date: Option<i64>,
        indexed: Option<IndexMatch>,
    ) -> Result<Decision> {
        let position = self.next_position();
        self.seq += 1;
        let date = self.limit.days.and(date);
        if let (Some(days), Some(d)) = (self.limit.days, date) {
            let newest = self.newest.map_or(d, |n| n.max(d));
            self.newest = Some(newest);
            let cutoff = newest.saturating_sub((days * 86_400.0).round() as i64);
            self.evicted += self.window.evict_before(cutoff) as u64;
            if let Some(cold) = self.cold.as_mut() {
                self.evicted += cold.evict_before(cutoff)? as u64;
            }
        }
        self.keys = self.heads.stored_keys(doc);
        // Every document on disk is older than every document in memory: its earliest
        // linked document, if any, is the window's.
        let on_disk = match self.cold.as_mut() {
            Some(cold) => cold.first_linked(doc, &self.keys, &self.settings)?,
            None => None,
        };
        let in_window = match on_disk {
            Some(found) => Some(Earlier {
                position: found.position,
                id: found.id,
                cluster_id: found.cluster_id,
                similarity: found.similarity,
                in_index: false,
            }),
            None => self
                .window
                .first_linked(doc, &self.keys, &self.settings)
                .map(|slot| {
                    let e = self.window.entry(slot);
                    Earlier {
                        position: e.position,
                        id: e.id.clone(),
                        cluster_id: e.cluster_id,
                        similarity: self.settings.similarity(&self.window.signed(slot), doc),
                        in_index: false,
                    }
                }),
        };
        let in_index = indexed.map(|m| Earlier {
            position: m.position,
            id: m.id,
            cluster_id: m.cluster,
            similarity: m.similarity,
            in_index: true,
        });
        let duplicate_of = match (in_window, in_index) {
            (Some(w), Some(i)) => Some(if i.position < w.position { i } else { w }),
            (w, i) => w.or(i),
        };
        let cluster_id = duplicate_of.as_ref().map_or(position, |e| e.cluster_id);
        let entry = window::entry(position, cluster_id, id, doc, date);
        self.window.insert(entry, doc.sig, &self.keys);
        if let Some(n) = self.limit.documents {
            // The oldest go first: those on disk, then those in memory.
            let mut excess = self.window_len().saturating_sub(n);
            if let Some(cold) = self.cold.as_mut() {
                let gone = cold.evict_oldest(excess)?;
                self.evicted += gone as u64;
                excess -= gone;
            }
            if excess > 0 {
                let keep = self.window.len() - excess;
                self.evicted += self.window.evict_to(keep) as u64;
            }
        }
        // The maps take the size they keep when the part of the window in memory first fills
        // (see `Window::reserve_for`).
        let in_memory = self.spill.as_ref().map(|(n, _)| *n);
        if let Some(full) = self.limit.documents.into_iter().chain(in_memory).min() {
            if self.window.len() >= full && !self.reserved {
                self.window.reserve_for(full);
                self.reserved = true;
            }
        }
        if let Some((in_memory, budget)) = &self.spill {
            while self.window.len() > *in_memory {
                let Some((entry, sig, keys)) = self.window.take_oldest() else {
                    break;
                };
                let cold = match self.cold.as_mut() {
                    Some(cold) => cold,
                    None => self
                        .cold
                        .insert(cold::Cold::open(&self.settings, &budget.dir)?),
                };
                cold.push(&entry, &sig, &keys)?;
                self.spilled += 1;
            }
        }
        Ok(Decision {
            position,
            cluster_id,
            duplicate_of,
        })
    }
}

/// Options of a [`run`].
#[derive(Debug, Clone, Default)]
pub struct FilterOptions {
    /// The window.
    pub window: WindowLimit,
    /// The field holding each document's date (needed with a date window; the inputs must
    /// keep it: [`crate::input::InputConfig::keep_fields`]).
    pub date_field: Option<String>,
    /// Write every document to the kept output, each with the added fields.
    pub annotate: bool,
    /// Skip invalid records (counted, and passed to [`Progress::warn`]) instead of failing.
    /// A skipped record is written nowhere.
    pub skip_invalid: bool,
    /// With an index: store the first-seen documents in it.
    pub add: bool,
    /// With `add`: commit after this many input records (0 counts as 1), and whenever the
    /// input has been idle for a second.
    pub batch_size: usize,
    /// Memory for the window; beyond it, its oldest documents go to a temporary database
    /// ([`Engine::spill_beyond`]). `None`: the window stays in memory.
    pub budget: Option<crate::spill::Budget>,
}

/// Where decided documents go.
pub struct Outputs<'a> {
    /// First-seen documents (every document with [`FilterOptions::annotate`]).
    pub kept: &'a mut dyn Write,
    /// Duplicates, when they are kept apart; `None` drops them (they are still counted).
    pub duplicates: Option<&'a mut dyn Write>,
    /// The name of the duplicates output, for messages.
    pub duplicates_name: String,
}

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum End {
    /// The input ended.
    #[default]
    Input,
    /// The stop flag was raised (a signal).
    Stopped,
    /// The kept output was closed by its reader (`| head`).
    OutputClosed,
}

/// Counts of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FilterStats {
    /// Input records read (documents and invalid records).
    pub read: usize,
    /// Documents decided.
    pub documents: usize,
    /// First-seen documents.
    pub first_seen: usize,
    /// Duplicates.
    pub duplicates: usize,
    /// Duplicates whose `duplicate_of` is an indexed document.
    pub duplicates_of_indexed: usize,
    /// Invalid records skipped (written nowhere).
    pub invalid: usize,
    /// Documents empty after normalization (first-seen, never compared).
    pub empty: usize,
    /// Documents evicted from the window.
    pub evicted: u64,
    /// Candidate pairs verified against the window.
    #[serde(default)]
    pub verified: u64,
    /// Documents in the window at the end (in memory and on disk).
    pub window: usize,
    /// Documents of the window moved to disk, beyond the memory budget.
    #[serde(default)]
    pub spilled: u64,
    /// First-seen documents stored in the index.
    pub stored: usize,
    /// First-seen documents not stored because their id was already indexed.
    pub not_stored: usize,
    /// Index batches committed.
    pub batches: usize,
    /// Why the run ended.
    pub end: End,
    /// Seconds from start to end.
    pub seconds: f64,
}

/// Records handed from the reader thread at most this many at a time.
const BATCH: usize = 512;
/// Below this many documents ready, signing stays on the calling thread.
const PARALLEL_MIN: usize = 8;
/// How often an idle run looks at the stop flag.
const POLL: Duration = Duration::from_millis(100);
/// With `add`, an open batch is committed once the input has been idle this long.
const IDLE_COMMIT: Duration = Duration::from_secs(1);

/// A signed document, owned.
struct SignedDoc {
    sig: Vec<u32>,
    traits: Traits,
    words: Vec<u64>,
    set: Option<Vec<u64>>,
}

impl SignedDoc {
    /// The document as verification sees it.
    fn signed(&self) -> Signed<'_> {
        Signed {
            sig: &self.sig,
            traits: self.traits,
            words: &self.words,
            set: self.set.as_deref(),
        }
    }
}

fn sign(signer: &Signer, exact: bool, text: &str, scratch: &mut Scratch) -> SignedDoc {
    let mut sig = vec![0; signer.num_perm()];
    let traits = signer.sign_into(text, scratch, &mut sig);
    SignedDoc {
        sig,
        traits,
        words: scratch.words.clone(),
        set: exact.then(|| scratch.shingles.clone()),
    }
}

/// Filters the documents of `inputs` in order: each is decided ([`Engine::decide`]) and
/// written at once to `outputs`, which are flushed whenever no more input is waiting.
///
/// Record errors stop the run (after writing what was decided) unless
/// `options.skip_invalid`; ids are not checked for uniqueness (a feed that sends an item
/// again sends a duplicate). With `index`, documents are also checked against it (its
/// settings must be `settings`), and with `options.add` first-seen documents are stored in
/// it. The run ends when the input ends, when `stop` is raised (checked between documents
/// and every 100 ms while the input is idle), or when the kept output is closed; in every
/// case what was decided is flushed and, with `add`, committed.
///
/// Must be called inside the rayon pool that should do the signing. The reader thread is
/// left behind if the run ends before the input does (it may be blocked reading).
pub fn run(
    inputs: Vec<Input>,
    settings: &Settings,
    options: &FilterOptions,
    index: Option<&Index>,
    outputs: Outputs<'_>,
    stop: &AtomicBool,
    progress: &dyn Progress,
) -> Result<FilterStats> {
    let started = Instant::now();
    let mut engine = Engine::new(settings, options.window)?;
    if let Some(budget) = &options.budget {
        engine.spill_beyond(budget.clone())?;
    }
    if options.window.days.is_some() && options.date_field.is_none() {
        return Err(Error::Config(
            "--window-days needs --date-field: the field holding each document's date".into(),
        ));
    }
    if let Some(index) = index {
        if index.settings() != settings {
            return Err(Error::Config(
                "the filter's settings differ from the index's: use the index's settings".into(),
            ));
        }
        engine.align(index.next_position()?);
    }
    let (names, docs) = numbered(inputs);
    let rx = spawn_reader(docs)?;
    let signer = Signer::new(settings);
    let exact = settings.verify == Verify::Exact;
    let mut state = State {
        engine,
        options,
        index,
        appender: (options.add && index.is_some()).then(|| Appender::new(&names)),
        outputs,
        names,
        stats: FilterStats::default(),
        line: Vec::new(),
    };
    progress.start(Stage::Sign, None);
    let result = state
        .main_loop(&rx, &signer, exact, stop, progress)
        .map(|end| match end {
            // A signal that came as the input ended still says how the run ended.
            End::Input if stop.load(Ordering::Relaxed) => End::Stopped,
            end => end,
        });
    progress.finish(Stage::Sign);
    let result = result.and_then(|end| {
        state.stats.end = end;
        state.finish()
    });
    if result.is_err() {
        // Keep what was decided: flush it, and commit what is stored of it.
        let _ = state.flush();
        let _ = state.commit();
        if let (Some(a), Some(index)) = (state.appender.as_mut(), state.index) {
            a.rollback(index);
        }
    }
    result?;
    state.stats.evicted = state.engine.evicted();
    state.stats.verified = state.engine.verified();
    state.stats.window = state.engine.window_len();
    state.stats.spilled = state.engine.spilled();
    state.stats.seconds = started.elapsed().as_secs_f64();
    Ok(state.stats)
}

type Item = (usize, Result<Document>);

/// A batch of records as the signing stage hands them on: each valid document with its
/// signature.
type SignedBatch = Vec<(usize, Result<(Document, SignedDoc)>)>;

/// Moves the records that are waiting (up to [`BATCH`] in all) into `batch`; notes when the
/// input has ended.
fn gather(rx: &Receiver<Item>, batch: &mut Vec<Item>, input_done: &mut bool) {
    while batch.len() < BATCH {
        match rx.try_recv() {
            Ok(item) => batch.push(item),
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Disconnected) => {
                *input_done = true;
                break;
            }
        }
    }
}

fn spawn_reader(docs: impl Iterator<Item = Item> + Send + 'static) -> Result<Receiver<Item>> {
    let (tx, rx) = sync_channel::<Item>(4 * BATCH);
    std::thread::Builder::new()
        .name("mukarrar-read".into())
        .spawn(move || {
            for item in docs {
                if tx.send(item).is_err() {
                    return;
                }
            }
        })
        .map_err(|e| Error::io("<reader thread>", e))?;
    Ok(rx)
}

/// Signs a batch of records: in parallel on the current rayon pool when there are enough.
fn sign_batch(
    signer: &Signer,
    exact: bool,
    batch: Vec<Item>,
    scratch: &mut Scratch,
) -> SignedBatch {
    if batch.len() >= PARALLEL_MIN {
        batch
            .into_par_iter()
            .map_init(Scratch::default, |scratch, (n, item)| {
                (n, item.map(|d| signed_doc(signer, exact, d, scratch)))
            })
            .collect()
    } else {
        batch
            .into_iter()
            .map(|(n, item)| (n, item.map(|d| signed_doc(signer, exact, d, scratch))))
            .collect()
    }
}

fn signed_doc(
    signer: &Signer,
    exact: bool,
    doc: Document,
    scratch: &mut Scratch,
) -> (Document, SignedDoc) {
    let s = sign(signer, exact, &doc.text, scratch);
    (doc, s)
}

/// How a write failed.
enum WriteError {
    /// The kept output's reader went away.
    Closed,
    Other(Error),
}

struct State<'a, 'o> {
    engine: Engine,
    options: &'a FilterOptions,
    index: Option<&'a Index>,
    appender: Option<Appender>,
    outputs: Outputs<'o>,
    names: Vec<String>,
    stats: FilterStats,
    line: Vec<u8>,
}

impl State<'_, '_> {
    /// Decides batch after batch; while one batch is decided, the records that arrived
    /// meanwhile are signed on the pool, so that deciding overlaps signing.
    fn main_loop(
        &mut self,
        rx: &Receiver<Item>,
        signer: &Signer,
        exact: bool,
        stop: &AtomicBool,
        progress: &dyn Progress,
    ) -> Result<End> {
        let mut scratch = Scratch::default();
        let mut current: Option<SignedBatch> = None;
        let mut input_done = false;
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(End::Stopped);
            }
            let mut next = Vec::new();
            gather(rx, &mut next, &mut input_done);
            if next.is_empty() && current.is_none() {
                if input_done {
                    return Ok(End::Input);
                }
                // Nothing decided is pending and nothing is waiting: what was decided goes
                // out now, then wait for input.
                if self.flush()? {
                    return Ok(End::OutputClosed);
                }
                let idle = Instant::now();
                loop {
                    match rx.recv_timeout(POLL) {
                        Ok(item) => {
                            next.push(item);
                            break;
                        }
                        Err(RecvTimeoutError::Disconnected) => return Ok(End::Input),
                        Err(RecvTimeoutError::Timeout) => {
                            if stop.load(Ordering::Relaxed) {
                                return Ok(End::Stopped);
                            }
                            if idle.elapsed() >= IDLE_COMMIT {
                                self.commit()?;
                            }
                        }
                    }
                }
                gather(rx, &mut next, &mut input_done);
            }
            let end = match current.take() {
                None => {
                    current = Some(sign_batch(signer, exact, next, &mut scratch));
                    None
                }
                Some(batch) if next.is_empty() => self.batch(batch, stop, progress)?,
                Some(batch) => {
                    let mut signed = None;
                    let end = rayon::in_place_scope(|scope| {
                        let (signed, scratch) = (&mut signed, &mut scratch);
                        scope.spawn(move |_| {
                            *signed = Some(sign_batch(signer, exact, next, scratch));
                        });
                        self.batch(batch, stop, progress)
                    });
                    current = signed;
                    end?
                }
            };
            if let Some(end) = end {
                return Ok(end);
            }
        }
    }

    /// Decides the documents of a signed batch in order.
    fn batch(
        &mut self,
        batch: SignedBatch,
        stop: &AtomicBool,
        progress: &dyn Progress,
    ) -> Result<Option<End>> {
        progress.advance(batch.len() as u64);
        for (n, item) in batch {
            if stop.load(Ordering::Relaxed) {
                return Ok(Some(End::Stopped));
            }
            self.stats.read += 1;
            let (doc, s) = match item {
                Ok(pair) => pair,
                Err(e) if e.is_record_error() && self.options.skip_invalid => {
                    self.stats.invalid += 1;
                    progress.warn(&e);
                    continue;
                }
                Err(e) => return Err(e),
            };
            match self.document(n, doc, s) {
                Ok(()) => {}
                Err(WriteError::Closed) => return Ok(Some(End::OutputClosed)),
                Err(WriteError::Other(e)) if e.is_record_error() && self.options.skip_invalid => {
                    self.stats.invalid += 1;
                    progress.warn(&e);
                }
                Err(WriteError::Other(e)) => return Err(e),
            }
        }
        Ok(None)
    }

    /// The date of `doc` from the date field, when the window needs one.
    fn date(&self, n: usize, doc: &Document) -> Result<Option<i64>> {
        let (Some(field), Some(_)) = (&self.options.date_field, self.options.window.days) else {
            return Ok(None);
        };
        let location = || Location::line(self.names[n].as_str(), doc.line).with_field(field);
        let value = doc
            .fields
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, v)| v)
            .ok_or_else(|| Error::Record {
                location: location(),
                kind: RecordError::BadDate("the field is missing".into()),
            })?;
        parse_date(value).map(Some).map_err(|why| Error::Record {
            location: location(),
            kind: RecordError::BadDate(why),
        })
    }

    /// Decides about one document, stores it when asked, and writes it.
    fn document(
        &mut self,
        n: usize,
        doc: Document,
        s: SignedDoc,
    ) -> std::result::Result<(), WriteError> {
        let date = self.date(n, &doc).map_err(WriteError::Other)?;
        let signed = s.signed();
        let decision = self
            .decide(n, &doc, &signed, date)
            .map_err(WriteError::Other)?;
        self.stats.documents += 1;
        self.stats.empty += usize::from(s.traits.is_empty());
        let duplicate = decision.is_duplicate();
        if duplicate {
            self.stats.duplicates += 1;
            if decision.duplicate_of.as_ref().is_some_and(|e| e.in_index) {
                self.stats.duplicates_of_indexed += 1;
            }
        } else {
            self.stats.first_seen += 1;
        }
        let (out, annotate): (Option<&mut dyn Write>, bool) = if self.options.annotate {
            (Some(&mut *self.outputs.kept), true)
        } else if duplicate {
            (self.outputs.duplicates.as_deref_mut(), true)
        } else {
            (Some(&mut *self.outputs.kept), false)
        };
        let Some(out) = out else {
            return Ok(());
        };
        self.line.clear();
        write_record(&mut self.line, &doc, annotate.then_some(&decision));
        out.write_all(&self.line).map_err(|e| {
            if duplicate && !self.options.annotate {
                WriteError::Other(Error::io(self.outputs.duplicates_name.as_str(), e))
            } else if e.kind() == io::ErrorKind::BrokenPipe {
                WriteError::Closed
            } else {
                WriteError::Other(Error::io("<standard output>", e))
            }
        })
    }

    /// The decision, checked against the index too when there is one (and the document
    /// stored in it when asked).
    fn decide(
        &mut self,
        n: usize,
        doc: &Document,
        signed: &Signed<'_>,
        date: Option<i64>,
    ) -> Result<Decision> {
        let Some(index) = self.index else {
            return self.engine.decide(&doc.id, signed, date, None);
        };
        if let Some(appender) = self.appender.as_mut() {
            if !appender.is_open() {
                let next = appender.begin(index)?;
                self.engine.align(next);
            }
        }
        let indexed = index.first_match(signed)?;
        let decision = self.engine.decide(&doc.id, signed, date, indexed)?;
        if let Some(appender) = self.appender.as_mut() {
            appender.record();
            if !decision.is_duplicate() {
                if index.contains_id(&doc.id)? {
                    appender.skip();
                    self.stats.not_stored += 1;
                } else {
                    let source = Location::line(self.names[n].as_str(), doc.line).to_string();
                    let preview = crate::pipeline::preview(&doc.text);
                    let unmatched = Unmatched {
                        id: &doc.id,
                        signed: *signed,
                        chars: doc.text.chars().count() as u64,
                        preview: &preview,
                        source: &source,
                    };
                    appender.append(index, decision.position, &unmatched)?;
                    self.stats.stored += 1;
                }
            }
            if appender.records() >= self.options.batch_size.max(1) {
                self.commit()?;
            }
        }
        Ok(decision)
    }

    /// Commits the open index batch, if any.
    fn commit(&mut self) -> Result<()> {
        if let (Some(appender), Some(index)) = (self.appender.as_mut(), self.index) {
            if appender.is_open()
                && appender
                    .commit(index, self.engine.next_position())?
                    .is_some()
            {
                self.stats.batches += 1;
            }
        }
        Ok(())
    }

    /// Flushes the outputs; true when the kept output turned out to be closed.
    fn flush(&mut self) -> Result<bool> {
        if let Some(d) = self.outputs.duplicates.as_deref_mut() {
            d.flush()
                .map_err(|e| Error::io(self.outputs.duplicates_name.as_str(), e))?;
        }
        match self.outputs.kept.flush() {
            Ok(()) => Ok(false),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(true),
            Err(e) => Err(Error::io("<standard output>", e)),
        }
    }

    fn finish(&mut self) -> Result<()> {
        if self.flush()? {
            self.stats.end = End::OutputClosed;
        }
        self.commit()
    }
}

/// Writes one output line: the document's original record (a JSON object), with
/// `duplicate_of`, `cluster_id` and `similarity` inserted before its closing brace when a
/// decision is given, and a line break.
///
/// The record is copied byte for byte apart from the inserted fields (a JSON line as the
/// reader kept it: without its line break, so a CRLF line ends in `\n` here, and without a
/// byte-order mark at the start of the input); a document read without
/// a record of its own (a text file) is written as `{"id": …, "text": …}`. Fields of the same
/// names already in the record are not removed (most JSON readers keep the last).
pub fn write_record(out: &mut Vec<u8>, doc: &Document, decision: Option<&Decision>) {
    let record: Cow<'_, str> = match &doc.raw {
        Some(raw) => Cow::Borrowed(raw),
        None => Cow::Owned(serde_json::json!({ "id": doc.id, "text": doc.text }).to_string()),
    };
    let Some(decision) = decision else {
        out.extend_from_slice(record.as_bytes());
        out.push(b'\n');
        return;
    };
    let bytes = record.as_bytes();
    let close = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .filter(|&i| bytes[i] == b'}');
    let Some(close) = close else {
        // Not an object (cannot happen for records the readers accept): write it as it is.
        out.extend_from_slice(bytes);
        out.push(b'\n');
        return;
    };
    let empty = bytes[..close]
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .is_some_and(|i| bytes[i] == b'{');
    out.extend_from_slice(&bytes[..close]);
    if !empty {
        out.push(b',');
    }
    out.extend_from_slice(b"\"duplicate_of\":");
    match &decision.duplicate_of {
        Some(e) => {
            serde_json::to_writer(&mut *out, &e.id).expect("writing to a Vec");
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"cluster_id\":");
    out.extend_from_slice(decision.cluster_id.to_string().as_bytes());
    out.extend_from_slice(b",\"similarity\":");
    match &decision.duplicate_of {
        Some(e) => {
            serde_json::to_writer(&mut *out, &e.similarity).expect("writing to a Vec");
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(&bytes[close..]);
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(dup: Option<(&str, f64)>) -> Decision {
        Decision {
            position: 7,
            cluster_id: 3,
            duplicate_of: dup.map(|(id, similarity)| Earlier {
                position: 3,
                id: id.into(),
                cluster_id: 3,
                similarity,
                in_index: false,
            }),
        }
    }

    fn line(raw: Option<&str>, d: Option<&Decision>) -> String {
        let mut doc = Document::new("a\"b", "نص");
        doc.raw = raw.map(String::from);
        let mut out = Vec::new();
        write_record(&mut out, &doc, d);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn fields_go_before_the_closing_brace() {
        let raw = r#"{"id": "x", "text": "نص } \"quoted\""}  "#;
        assert_eq!(line(Some(raw), None), format!("{raw}\n"));
        let d = decision(Some(("q\"1", 0.5)));
        assert_eq!(
            line(Some(raw), Some(&d)),
            r#"{"id": "x", "text": "نص } \"quoted\"","duplicate_of":"q\"1","cluster_id":3,"similarity":0.5}  "#
                .to_string()
                + "\n"
        );
        let first = decision(None);
        assert_eq!(
            line(Some("{ }"), Some(&first)),
            "{ \"duplicate_of\":null,\"cluster_id\":3,\"similarity\":null}\n"
        );
        let out = line(Some(raw), Some(&d));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["duplicate_of"], "q\"1");
    }

    #[test]
    fn documents_without_a_record_are_written_as_objects() {
        let out = line(None, Some(&decision(None)));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["id"], "a\"b");
        assert_eq!(v["text"], "نص");
        assert_eq!(v["cluster_id"], 3);
        assert!(v["duplicate_of"].is_null());
    }
}
