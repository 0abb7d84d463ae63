//! Per-document records for distributed runs: what `mukarrar sign` writes for each document.
//!
//! Normalizing, shingling, signing and banding are pure functions of one document, so on a
//! cluster they run inside the engine's map tasks, and only grouping by band key and
//! connected components need the engine's shuffle. [`SignedDoc`] is the record that crosses
//! from the one to the other: one JSON object per line, in input order.
//!
//! The numbers an engine joins on or compares are written as *signed* integers with the bits
//! of the unsigned values: band keys as `i64`, signature slots as `i32`. Java, Spark and
//! Parquet have no unsigned types (Spark reads an unsigned 64-bit column as
//! `decimal(20,0)`), and equality, the only operation that matters here, is unchanged.
//!
//! [`KeyedLines`] serves map tasks that must match every output line to its input line: each
//! input line carries a key in front of the record, and the key comes back in the output.

use std::collections::VecDeque;
use std::io::{self, BufRead, Read};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::cross::Heads;
use crate::document::Document;
use crate::lsh::LshParams;
use crate::pipeline::{Scratch, Settings, Signer};
use crate::settings::Traits;

/// One signed document, as `mukarrar sign` writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedDoc {
    /// The input line's key (keyed input only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The record's line (or CSV record) number in its input, 1-based, as in messages.
    pub line: u64,
    /// The document's position among the documents of its input, 0-based: the number that
    /// `cluster` derives cluster ids from.
    pub pos: u64,
    /// The document's id.
    pub id: String,
    /// True when the record had no id and `id` is its line number.
    pub id_from_line: bool,
    /// The number of distinct shingles (0 when empty).
    pub n: u32,
    /// The length of the original text in characters (what `--representative longest`
    /// compares).
    pub chars: u64,
    /// True when nothing was left after normalization: such a document has no band keys and
    /// is never clustered.
    pub empty: bool,
    /// True for a short text (fewer words than `--short-words`): short texts are compared
    /// only with short texts, exactly, on their words (`w`).
    #[serde(default)]
    pub short: bool,
    /// Fingerprint of a short text's numbers (signed 64-bit; 0 when it holds none): two short
    /// texts whose fingerprints are both non-zero and differ are never duplicates.
    #[serde(default)]
    pub numbers: i64,
    /// The hashes of the words that verification reads, in order, as signed 64-bit integers:
    /// every word of a short text, the opening `cross.words` words of a long one (absent for
    /// a long text without cross-length matching).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub w: Vec<i64>,
    /// How many of the words `w` form the head (cross-length matching; 0 without it).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub h: u16,
    /// Fingerprint of the head's numbers (signed 64-bit; 0 when it holds none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hn: i64,
    /// One band key per LSH band, as signed 64-bit integers; empty for an empty document.
    pub b: Vec<i64>,
    /// One band key per LSH band of the head's words (cross-length candidates: a document
    /// meets another when its `hb[i]` equals the other's `hb[i]`); absent without
    /// cross-length matching.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hb: Vec<i64>,
    /// The signature as signed 32-bit integers (only on request): the MinHash slots, then
    /// the word sketch of a long text ([`crate::settings::Reword`]; an unused slot is -1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig: Option<Vec<i32>>,
}

fn is_zero<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// Turns documents into [`SignedDoc`]s: the [`Signer`] of a run's settings, and its bands.
#[derive(Debug, Clone)]
pub struct RecordSigner {
    signer: Signer,
    lsh: LshParams,
    heads: Heads,
    with_signature: bool,
}

impl RecordSigner {
    /// A signer for `settings` (which must be valid); `with_signature` keeps each document's
    /// signature in its record.
    pub fn new(settings: &Settings, with_signature: bool) -> RecordSigner {
        RecordSigner {
            signer: Signer::new(settings),
            lsh: settings.lsh,
            heads: Heads::new(settings),
            with_signature,
        }
    }

    /// Signs `doc`, the document at position `pos` of its input; `id_from_line` says its id is
    /// its line number. `scratch` and `sig` are reusable buffers.
    pub fn sign(
        &self,
        doc: &Document,
        pos: u64,
        id_from_line: bool,
        scratch: &mut Scratch,
        sig: &mut Vec<u32>,
    ) -> SignedDoc {
        sig.resize(self.signer.num_perm(), 0);
        let traits = self.signer.sign_into(&doc.text, scratch, sig);
        let empty = traits.is_empty();
        let head = crate::settings::head_words(&scratch.words, &traits);
        let hb = if empty {
            Vec::new()
        } else {
            self.heads.keys(head)
        };
        let b = if empty {
            Vec::new()
        } else {
            (0..self.lsh.bands)
                .map(|band| self.lsh.band_key(sig, band) as i64)
                .collect()
        };
        SignedDoc {
            key: None,
            line: doc.line,
            pos,
            id: doc.id.clone(),
            id_from_line,
            n: traits.shingles,
            chars: doc.text.chars().count() as u64,
            empty,
            short: traits.short,
            numbers: traits.numbers as i64,
            w: scratch.words.iter().map(|&h| h as i64).collect(),
            h: traits.head,
            hn: traits.head_numbers as i64,
            b,
            hb: hb.into_iter().map(|k| k as i64).collect(),
            sig: self
                .with_signature
                .then(|| sig.iter().map(|&v| v as i32).collect()),
        }
    }
}

impl SignedDoc {
    /// What verification needs besides the signature.
    pub fn traits(&self) -> Traits {
        Traits {
            shingles: self.n,
            short: self.short,
            numbers: self.numbers as u64,
            head: self.h,
            head_numbers: self.hn as u64,
        }
    }

    /// A short text's word hashes with their unsigned values.
    pub fn words(&self) -> Vec<u64> {
        self.w.iter().map(|&w| w as u64).collect()
    }

    /// The signature with its unsigned values, when it was kept.
    pub fn signature(&self) -> Option<Vec<u32>> {
        self.sig
            .as_ref()
            .map(|s| s.iter().map(|&v| v as u32).collect())
    }
}

/// Why an input line of a keyed run produced no document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SkipReason {
    /// The record was blank.
    Blank,
    /// The record was invalid (and invalid records are skipped).
    Invalid,
}

/// The output line of a keyed input line that produced no document, so that every input line
/// has exactly one output line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedLine {
    /// The input line's key.
    pub key: String,
    /// The line number in the input, 1-based.
    pub line: u64,
    /// Why there is no document.
    pub skipped: SkipReason,
    /// What was wrong with an invalid record (without its location).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The keys of lines that [`KeyedLines`] has passed on, in line order, shared with whoever
/// consumes the records.
#[derive(Debug, Clone, Default)]
pub struct KeyQueue(Arc<Mutex<VecDeque<(u64, String)>>>);

impl KeyQueue {
    fn push(&self, line: u64, key: String) {
        self.0.lock().expect("key queue").push_back((line, key));
    }

    /// Takes the keys of every line up to and including `line`: the lines before it (which
    /// produced no record: they were blank) and `line`'s own key.
    pub fn take_through(&self, line: u64) -> (Vec<(u64, String)>, Option<String>) {
        let mut queue = self.0.lock().expect("key queue");
        let mut before = Vec::new();
        while let Some((l, _)) = queue.front() {
            if *l > line {
                break;
            }
            let (l, key) = queue.pop_front().expect("front exists");
            if l == line {
                return (before, Some(key));
            }
            before.push((l, key));
        }
        (before, None)
    }

    /// Takes every key left (lines after the last record: blank ones).
    pub fn take_rest(&self) -> Vec<(u64, String)> {
        self.0.lock().expect("key queue").drain(..).collect()
    }
}

/// Reads `KEY<TAB>RECORD` lines as the records alone, queueing each line's key in a
/// [`KeyQueue`] under its line number.
///
/// Line numbers stay those of the input, so a reader over `KeyedLines` reports each record
/// (or its error) under a line whose key [`KeyQueue::take_through`] gives back. A line
/// without a tab is an [`io::ErrorKind::InvalidData`] error, as is a key that is not UTF-8.
#[derive(Debug)]
pub struct KeyedLines<R> {
    inner: R,
    keys: KeyQueue,
    key: Vec<u8>,
    in_key: bool,
    line: u64,
}

impl<R: BufRead> KeyedLines<R> {
    /// Splits the lines of `inner`; the keys go to the returned queue.
    pub fn new(inner: R) -> (KeyedLines<R>, KeyQueue) {
        let keys = KeyQueue::default();
        let lines = KeyedLines {
            inner,
            keys: keys.clone(),
            key: Vec::new(),
            in_key: true,
            line: 0,
        };
        (lines, keys)
    }

    fn bad(&self, what: &str) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "keyed input line {} {what} (expected KEY<TAB>RECORD)",
                self.line
            ),
        )
    }
}

impl<R: BufRead> Read for KeyedLines<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                if self.in_key && !self.key.is_empty() {
                    self.line += 1;
                    return Err(self.bad("has no tab"));
                }
                return Ok(0);
            }
            if self.in_key {
                match buf.iter().position(|&b| b == b'\t' || b == b'\n') {
                    Some(i) if buf[i] == b'\t' => {
                        self.key.extend_from_slice(&buf[..i]);
                        self.inner.consume(i + 1);
                        self.line += 1;
                        let key = String::from_utf8(std::mem::take(&mut self.key))
                            .map_err(|_| self.bad("has a key that is not UTF-8"))?;
                        self.keys.push(self.line, key);
                        self.in_key = false;
                    }
                    Some(_) => {
                        self.line += 1;
                        return Err(self.bad("has no tab"));
                    }
                    None => {
                        self.key.extend_from_slice(buf);
                        let n = buf.len();
                        self.inner.consume(n);
                    }
                }
                continue;
            }
            let take = buf.len().min(out.len());
            let (n, line_end) = match buf[..take].iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (take, false),
            };
            out[..n].copy_from_slice(&buf[..n]);
            self.inner.consume(n);
            if line_end {
                self.in_key = true;
            }
            return Ok(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &str, chunk: usize) -> io::Result<(String, Vec<(u64, String)>)> {
        // A tiny buffer makes keys and records straddle reads.
        let inner = io::BufReader::with_capacity(chunk, input.as_bytes());
        let (mut lines, keys) = KeyedLines::new(inner);
        let mut out = String::new();
        lines.read_to_string(&mut out)?;
        Ok((out, keys.take_rest()))
    }

    #[test]
    fn keys_are_split_from_records() {
        for chunk in [1, 2, 3, 7, 1024] {
            let (out, keys) = split("a\t{\"x\":1}\nbb\t\n\t{}\nc\t{\"y\":2}", chunk).unwrap();
            assert_eq!(out, "{\"x\":1}\n\n{}\n{\"y\":2}", "chunk {chunk}");
            let want: Vec<(u64, String)> = vec![
                (1, "a".into()),
                (2, "bb".into()),
                (3, "".into()),
                (4, "c".into()),
            ];
            assert_eq!(keys, want, "chunk {chunk}");
        }
    }

    #[test]
    fn a_line_without_a_tab_is_an_error() {
        let err = split("a\t{}\nno tab here\n", 4).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("line 2 has no tab"), "{err}");
        let err = split("a\t{}\nlast", 4).unwrap_err();
        assert!(err.to_string().contains("line 2 has no tab"), "{err}");
    }

    #[test]
    fn take_through_returns_the_blank_lines_before() {
        let q = KeyQueue::default();
        for (l, k) in [(1, "a"), (2, "b"), (3, "c"), (5, "e")] {
            q.push(l, k.into());
        }
        assert_eq!(q.take_through(1), (vec![], Some("a".into())));
        assert_eq!(
            q.take_through(3),
            (vec![(2, "b".to_string())], Some("c".into()))
        );
        assert_eq!(q.take_through(4), (vec![], None));
        assert_eq!(q.take_rest(), vec![(5, "e".to_string())]);
    }

    #[test]
    fn signed_doc_matches_the_signer_and_band_keys() {
        let settings = Settings::default();
        let signer = Signer::new(&settings);
        let records = RecordSigner::new(&settings, true);
        let mut doc = Document::new("x", "مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار");
        doc.line = 7;
        let (mut scratch, mut buf) = (Scratch::default(), Vec::new());
        let s = records.sign(&doc, 3, false, &mut scratch, &mut buf);
        let mut sig = vec![0u32; signer.num_perm()];
        let mut own = Scratch::default();
        let traits = signer.sign_into(&doc.text, &mut own, &mut sig);
        assert_eq!(s.n, traits.shingles);
        // A headline is a short text: its traits and words travel with the record.
        assert!(s.short && traits.short);
        assert_eq!(s.numbers as u64, traits.numbers);
        let words: Vec<u64> = s.w.iter().map(|&w| w as u64).collect();
        assert_eq!(words, own.words);
        assert_eq!(words.len(), 10);
        assert_eq!(s.signature().unwrap(), sig);
        assert_eq!(s.b.len(), settings.lsh.bands);
        for (band, &key) in s.b.iter().enumerate() {
            assert_eq!(key as u64, settings.lsh.band_key(&sig, band));
        }
        assert_eq!((s.line, s.pos, s.empty), (7, 3, false));
        assert_eq!(s.chars, doc.text.chars().count() as u64);

        let lean = RecordSigner::new(&settings, false);
        let blank = Document::new("y", " ؟ ");
        let e = lean.sign(&blank, 4, false, &mut scratch, &mut buf);
        assert!(e.empty && e.b.is_empty() && e.n == 0 && e.sig.is_none());
    }
}
