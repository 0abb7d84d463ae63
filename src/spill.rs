//! Temporary files for runs larger than memory: records read back by number, and band keys
//! sorted on disk.
//!
//! Every file here is created already unlinked (`tempfile::tempfile_in`): it has no name in
//! the folder from the moment it exists, so nothing is left behind however the process ends —
//! success, error, SIGINT or `kill -9`. The space is returned when the file is closed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

/// Where temporary files go and how much memory a run may hold before it writes to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    /// Bytes of documents, signatures and band keys a run keeps in memory before spilling.
    pub bytes: u64,
    /// The folder of the temporary files.
    pub dir: PathBuf,
}

impl Budget {
    /// A budget of `bytes` with temporary files in `dir` (the system's temporary folder when
    /// `None`).
    pub fn new(bytes: u64, dir: Option<PathBuf>) -> Budget {
        Budget {
            bytes,
            dir: dir.unwrap_or_else(std::env::temp_dir),
        }
    }

    /// A budget of `bytes` (default: [`Budget::default_bytes`]) with temporary files in `dir`
    /// (default: the system's temporary folder), after checking that `dir` is a folder; the
    /// error starts with the folder's name.
    pub fn checked(bytes: Option<u64>, dir: Option<PathBuf>) -> Result<Budget, String> {
        if let Some(dir) = &dir {
            match std::fs::metadata(dir) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => return Err(format!("{}: not a folder", dir.display())),
                Err(e) => return Err(format!("{}: {e}", dir.display())),
            }
        }
        Ok(Budget::new(
            bytes.unwrap_or_else(Budget::default_bytes),
            dir,
        ))
    }

    /// The default budget: half the machine's physical memory where it can be read
    /// (`/proc/meminfo`), else 4 GiB.
    pub fn default_bytes() -> u64 {
        physical_memory().map_or(4 << 30, |m| m / 2)
    }
}

/// The machine's physical memory in bytes, where the system says it (Linux).
pub fn physical_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn temp_file(dir: &Path) -> io::Result<File> {
    tempfile::tempfile_in(dir).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "cannot create a temporary file in {} ({e}); choose another folder with \
                 --temp-dir",
                dir.display()
            ),
        )
    })
}

fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < buf.len() {
            let n = std::os::windows::fs::FileExt::seek_read(
                file,
                &mut buf[done..],
                offset + done as u64,
            )?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            done += n;
        }
        Ok(())
    }
}

/// The alignment of what an [`Appender`] writes around the page cache: the largest logical
/// block of the file systems O_DIRECT is used on.
const ALIGN: usize = 4096;

/// Appends to a temporary file through a buffer of its own, written around the page cache
/// where the system allows it (O_DIRECT on Linux) and through it elsewhere.
///
/// Why: a spilled run writes its documents and band keys once and reads back only some of
/// them, yet buffered writes put every byte in the page cache first. At tens of millions of
/// documents that is tens of gigabytes of cache pages taken from free memory; on a virtual
/// machine each such page first touched costs the kernel far more than the copy (on the 2-core
/// machine of BENCHMARKS.md, 6 GiB of buffered writes take 21 s of system time, with O_DIRECT
/// 1.1 s). Buffered reads of a file written this way are served from the disk, coherently.
///
/// O_DIRECT wants the buffer, the offset and the length aligned to the file system's block:
/// whole buffers are written at aligned offsets, and flushing writes the last
/// partial block padded, then cuts the file to its length; the tail stays in the buffer and is
/// written again, at the same offset, with what follows. A file system that refuses O_DIRECT
/// (at `fcntl` or at the first write) gets ordinary writes.
pub(crate) struct Appender {
    file: File,
    /// Holds `capacity + ALIGN` bytes: `start..start + capacity` is aligned.
    buf: Vec<u8>,
    start: usize,
    capacity: usize,
    /// Bytes in the buffer.
    len: usize,
    /// The file offset of the buffer's first byte (a multiple of `capacity`).
    at: u64,
    direct: bool,
}

impl Appender {
    /// An appender to the empty `file` through a buffer of `capacity` bytes (a multiple of
    /// [`ALIGN`]).
    pub(crate) fn new(file: File, capacity: usize) -> Appender {
        assert!(capacity > 0 && capacity % ALIGN == 0);
        let buf = vec![0u8; capacity + ALIGN];
        let start = buf.as_ptr().align_offset(ALIGN);
        let direct = set_direct(&file, true);
        Appender {
            file,
            buf,
            start,
            capacity,
            len: 0,
            at: 0,
            direct,
        }
    }

    fn append(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            // A full buffer is written when more comes (or at the flush), so that a write
            // that failed leaves it full and is tried again rather than lost.
            if self.len == self.capacity {
                self.write_out(self.capacity)?;
                self.at += self.capacity as u64;
                self.len = 0;
            }
            let n = data.len().min(self.capacity - self.len);
            let from = self.start + self.len;
            self.buf[from..from + n].copy_from_slice(&data[..n]);
            self.len += n;
            data = &data[n..];
        }
        Ok(())
    }

    /// Writes out what is buffered: everything appended before is in the file after, which
    /// can then be read as any file (O_DIRECT is turned off: it belongs to the open file that
    /// clones of it share, and the writes that remain are few).
    fn flush_all(&mut self) -> io::Result<()> {
        if self.len > 0 {
            if self.direct {
                let padded = self.len.next_multiple_of(ALIGN);
                self.buf[self.start + self.len..self.start + padded].fill(0);
                self.write_out(padded)?;
            } else {
                self.write_out(self.len)?;
            }
            self.file.set_len(self.at + self.len as u64)?;
        }
        if self.direct {
            self.direct = false;
            set_direct(&self.file, false);
        }
        Ok(())
    }

    /// The file, for reading (after [`Write::flush`]).
    pub(crate) fn file(&self) -> &File {
        &self.file
    }

    fn write_out(&mut self, n: usize) -> io::Result<()> {
        let data = &self.buf[self.start..self.start + n];
        match write_at(&self.file, data, self.at) {
            Err(e) if self.direct && e.kind() == io::ErrorKind::InvalidInput => {
                // Refused by the file system: write through the page cache from here on.
                self.direct = false;
                set_direct(&self.file, false);
                write_at(&self.file, data, self.at)
            }
            other => other,
        }
    }
}

impl Write for Appender {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.append(data)?;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_all()
    }
}

/// Turns O_DIRECT on or off for `file`; true when it is on.
#[cfg(target_os = "linux")]
fn set_direct(file: &File, on: bool) -> bool {
    use rustix::fs::{fcntl_getfl, fcntl_setfl, OFlags};
    let Ok(flags) = fcntl_getfl(file) else {
        return false;
    };
    let flags = if on {
        flags | OFlags::DIRECT
    } else {
        flags - OFlags::DIRECT
    };
    fcntl_setfl(file, flags).is_ok() && on
}

#[cfg(not(target_os = "linux"))]
fn set_direct(_file: &File, _on: bool) -> bool {
    false
}

/// Tells the system that the pages of `file` read so far are not needed again, so that the
/// next band read reuses them instead of taking more of free memory (see [`Appender`]).
#[cfg(target_os = "linux")]
fn drop_cached(file: &File) {
    // Advice only: the file reads the same whatever the answer.
    let _ = rustix::fs::fadvise(file, 0, None, rustix::fs::Advice::DontNeed);
}

#[cfg(not(target_os = "linux"))]
fn drop_cached(_file: &File) {}

fn write_at(file: &File, data: &[u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, data, offset)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < data.len() {
            let n = std::os::windows::fs::FileExt::seek_write(
                file,
                &data[done..],
                offset + done as u64,
            )?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            done += n;
        }
        Ok(())
    }
}

/// Records of any length appended to a temporary file and read back by number, from any
/// thread. Memory holds one offset (8 bytes) per record.
pub struct Records {
    /// For reading: its own open file, without O_DIRECT.
    file: File,
    writer: Appender,
    ends: Vec<u64>,
}

impl Records {
    /// An empty file of records in `dir`.
    pub fn new(dir: &Path) -> io::Result<Records> {
        Records::on(temp_file(dir)?)
    }

    /// Records written to `file`, which must be empty (tests choose one that fails).
    pub(crate) fn on(file: File) -> io::Result<Records> {
        let writer = Appender::new(file.try_clone()?, 1 << 20);
        Ok(Records {
            file,
            writer,
            ends: Vec::new(),
        })
    }

    /// Appends a record; it is number `len()` before the call.
    pub fn push(&mut self, record: &[u8]) -> io::Result<()> {
        self.writer.write_all(record)?;
        let end = self.ends.last().copied().unwrap_or(0) + record.len() as u64;
        self.ends.push(end);
        Ok(())
    }

    /// Writes out what is buffered: records pushed before are readable after.
    pub fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when there is no record.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Reads record `i` into `buf` (after [`Records::flush`]).
    pub fn read(&self, i: usize, buf: &mut Vec<u8>) -> io::Result<()> {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        buf.resize((self.ends[i] - start) as usize, 0);
        read_at(&self.file, buf, start)
    }

    /// Bytes written.
    pub fn bytes(&self) -> u64 {
        self.ends.last().copied().unwrap_or(0)
    }

    /// Bytes of memory held per record.
    pub const BYTES_PER_RECORD: u64 = 8;
}

/// The most sorted runs of one band merged at once.
const MAX_RUNS: usize = 256;

/// One entry of a band: the band key and the document.
pub type Entry = (u64, u32);

const ENTRY_BYTES: usize = 12;

fn write_entries(out: &mut impl Write, entries: &[Entry]) -> io::Result<()> {
    for &(key, doc) in entries {
        out.write_all(&key.to_le_bytes())?;
        out.write_all(&doc.to_le_bytes())?;
    }
    Ok(())
}

fn read_entry(input: &mut impl Read) -> io::Result<Option<Entry>> {
    let mut b = [0u8; ENTRY_BYTES];
    match input.read_exact(&mut b) {
        Ok(()) => Ok(Some((
            u64::from_le_bytes(b[..8].try_into().expect("8 bytes")),
            u32::from_le_bytes(b[8..].try_into().expect("4 bytes")),
        ))),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

/// Appends `doc`'s entry to a band file whose next document is `next`: the key, then how
/// many documents were passed over since the last entry (LEB128, one byte when none was).
/// Documents come in increasing order, so 9 bytes an entry instead of 12: a spilled run
/// writes dozens of band entries a document, and the pages a temporary file is written to
/// cost more than the bytes themselves. Returns the bytes written.
fn append_entry(out: &mut impl Write, next: &mut u64, key: u64, doc: u32) -> io::Result<usize> {
    let doc = u64::from(doc);
    assert!(doc >= *next, "band entries are appended in document order");
    let mut gap = doc - *next;
    *next = doc + 1;
    let mut b = [0u8; 8 + 5];
    b[..8].copy_from_slice(&key.to_le_bytes());
    let mut len = 8;
    loop {
        let byte = (gap & 0x7f) as u8;
        gap >>= 7;
        if gap == 0 {
            b[len] = byte;
            len += 1;
            break;
        }
        b[len] = byte | 0x80;
        len += 1;
    }
    out.write_all(&b[..len])?;
    Ok(len)
}

/// Reads `n` entries written by [`append_entry`], `next` carried from one call to the next.
fn read_appended(input: &mut impl Read, n: usize, next: &mut u64) -> io::Result<Vec<Entry>> {
    let mut entries = Vec::with_capacity(n);
    let mut key = [0u8; 8];
    for _ in 0..n {
        input.read_exact(&mut key)?;
        let mut gap = 0u64;
        let mut shift = 0;
        loop {
            let mut byte = [0u8];
            input.read_exact(&mut byte)?;
            gap |= u64::from(byte[0] & 0x7f) << shift;
            if byte[0] & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        let doc = *next + gap;
        *next = doc + 1;
        let doc = u32::try_from(doc).map_err(|_| io::Error::other("band entry out of range"))?;
        entries.push((u64::from_le_bytes(key), doc));
    }
    Ok(entries)
}

/// The `(band key, document)` entries of every band, written as documents are signed and
/// read back band by band in sorted order: in memory when a band fits the budget, else by an
/// external sort (sorted runs of the budget's size on disk, merged).
pub struct BandFiles {
    files: Vec<Appender>,
    counts: Vec<u64>,
    /// Per band: the document after the last one with an entry ([`append_entry`]).
    next: Vec<u64>,
    bytes: u64,
    dir: PathBuf,
}

impl BandFiles {
    /// Empty files for `bands` bands in `dir`.
    pub fn new(bands: usize, dir: &Path) -> io::Result<BandFiles> {
        let files = (0..bands)
            .map(|_| Ok(Appender::new(temp_file(dir)?, 256 << 10)))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(BandFiles {
            files,
            counts: vec![0; bands],
            next: vec![0; bands],
            bytes: 0,
            dir: dir.to_path_buf(),
        })
    }

    /// Adds `doc`'s key of `band`. A band's documents are pushed in increasing order.
    pub fn push(&mut self, band: usize, key: u64, doc: u32) -> io::Result<()> {
        self.counts[band] += 1;
        let written = append_entry(&mut self.files[band], &mut self.next[band], key, doc)?;
        self.bytes += written as u64;
        Ok(())
    }

    /// Bytes written (not counting the sorted runs of an external sort).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Bytes of memory one entry takes while a band is sorted.
    pub const BYTES_PER_ENTRY: u64 = std::mem::size_of::<Entry>() as u64;

    /// Calls `f` on every run of two or more equal keys of `band`, in key order, each run
    /// sorted by document: what sorting the band's entries in memory and cutting them into runs
    /// gives. At most `budget` bytes of entries are held at once.
    pub fn runs(
        &mut self,
        band: usize,
        budget: u64,
        f: &mut dyn FnMut(&[Entry]),
    ) -> io::Result<()> {
        let n = self.counts[band] as usize;
        // At most MAX_RUNS sorted runs are merged at once (each an open file): a budget
        // smaller than a band's size / MAX_RUNS is raised to that.
        let chunk = ((budget / Self::BYTES_PER_ENTRY) as usize)
            .max(n.div_ceil(MAX_RUNS))
            .max(2);
        let file = &mut self.files[band];
        file.flush()?;
        let mut file = file.file().try_clone()?;
        file.seek(SeekFrom::Start(0))?;
        let mut input = BufReader::with_capacity(1 << 20, file);
        let mut next = 0;
        if n <= chunk {
            let mut entries = read_appended(&mut input, n, &mut next)?;
            drop_cached(input.get_ref());
            entries.par_sort_unstable();
            for run in entries
                .chunk_by(|x, y| x.0 == y.0)
                .filter(|run| run.len() >= 2)
            {
                f(run);
            }
            return Ok(());
        }
        // External sort: sorted runs of `chunk` entries on disk, then a k-way merge.
        let mut sorted: Vec<BufReader<File>> = Vec::new();
        let mut left = n;
        while left > 0 {
            let take = left.min(chunk);
            let mut entries = read_appended(&mut input, take, &mut next)?;
            left -= take;
            if left == 0 {
                drop_cached(input.get_ref());
            }
            entries.par_sort_unstable();
            let mut out = BufWriter::with_capacity(64 << 10, temp_file(&self.dir)?);
            write_entries(&mut out, &entries)?;
            let mut run_file = out.into_inner().map_err(|e| e.into_error())?;
            run_file.seek(SeekFrom::Start(0))?;
            sorted.push(BufReader::with_capacity(64 << 10, run_file));
        }
        let mut heap: BinaryHeap<Reverse<(Entry, usize)>> = BinaryHeap::new();
        for (i, r) in sorted.iter_mut().enumerate() {
            if let Some(e) = read_entry(r)? {
                heap.push(Reverse((e, i)));
            }
        }
        let mut run: Vec<Entry> = Vec::new();
        while let Some(Reverse((e, i))) = heap.pop() {
            if run.first().is_some_and(|first| first.0 != e.0) {
                if run.len() >= 2 {
                    f(&run);
                }
                run.clear();
            }
            run.push(e);
            if let Some(next) = read_entry(&mut sorted[i])? {
                heap.push(Reverse((next, i)));
            }
        }
        if run.len() >= 2 {
            f(&run);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_by_number() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Records::new(dir.path()).unwrap();
        let texts: Vec<Vec<u8>> = (0..1000).map(|i| vec![i as u8; i % 37]).collect();
        for t in &texts {
            r.push(t).unwrap();
        }
        r.flush().unwrap();
        assert_eq!(r.len(), 1000);
        let mut buf = Vec::new();
        for i in [999, 0, 500, 36, 37] {
            r.read(i, &mut buf).unwrap();
            assert_eq!(buf, texts[i]);
        }
        // Unlinked from the start: the folder stays empty.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn an_appender_keeps_every_byte_across_buffers_and_flushes() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Appender::new(temp_file(dir.path()).unwrap(), 2 * ALIGN);
        let read_all = |out: &Appender| {
            let mut file = out.file().try_clone().unwrap();
            file.seek(SeekFrom::Start(0)).unwrap();
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).unwrap();
            bytes
        };
        let mut expected = Vec::new();
        for i in 0..300usize {
            // Pieces of 0 to 11,000 bytes: within a buffer, across one, across several.
            let piece: Vec<u8> = (0..(i * 37) % 11_001).map(|j| (i * 7 + j) as u8).collect();
            out.write_all(&piece).unwrap();
            expected.extend_from_slice(&piece);
            if i % 60 == 59 {
                // A flush in the middle leaves a partial block that later writes complete.
                out.flush().unwrap();
                assert_eq!(read_all(&out), expected, "after {} pieces", i + 1);
            }
        }
        out.flush().unwrap();
        assert_eq!(read_all(&out), expected);
        assert_ne!(expected.len() % ALIGN, 0);
    }

    #[test]
    fn appended_entries_read_back_with_any_gap_between_documents() {
        let docs = [
            0u32,
            1,
            2,
            129,
            130,
            16_513,
            16_514,
            3_000_000,
            u32::MAX - 1,
            u32::MAX,
        ];
        let dir = tempfile::tempdir().unwrap();
        let mut files = BandFiles::new(1, dir.path()).unwrap();
        let entries: Vec<Entry> = docs.iter().map(|&d| (u64::from(d) * 31, d)).collect();
        for &(key, doc) in &entries {
            files.push(0, key, doc).unwrap();
        }
        files.files[0].flush().unwrap();
        let mut input = files.files[0].file().try_clone().unwrap();
        let written = input.metadata().unwrap().len();
        assert_eq!(files.bytes(), written);
        // One byte of gap for a document right after the last (or 126 after), more for a
        // longer jump: 2 bytes for 16,382, 4 for 2,983,485, 5 for about 2³².
        assert_eq!(written, 10 * 8 + 1 + 1 + 1 + 1 + 1 + 2 + 1 + 4 + 5 + 1);
        input.seek(SeekFrom::Start(0)).unwrap();
        let mut next = 0;
        let first = read_appended(&mut input, 4, &mut next).unwrap();
        let rest = read_appended(&mut input, 6, &mut next).unwrap();
        assert_eq!([first, rest].concat(), entries);
    }

    fn runs_of(entries: &[Entry], budget: u64) -> Vec<Vec<Entry>> {
        let dir = tempfile::tempdir().unwrap();
        let mut files = BandFiles::new(2, dir.path()).unwrap();
        for &(k, d) in entries {
            files.push(1, k, d).unwrap();
            files.push(0, k ^ 1, d).unwrap();
        }
        let mut out = Vec::new();
        files
            .runs(1, budget, &mut |run| out.push(run.to_vec()))
            .unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        out
    }

    #[test]
    fn the_external_sort_gives_the_runs_of_the_in_memory_sort() {
        // Keys drawn from a small range so that runs cross the boundaries of sorted chunks.
        let mut x = 12345u64;
        let entries: Vec<Entry> = (0..5000u32)
            .map(|d| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 54, d)
            })
            .collect();
        let in_memory = runs_of(&entries, u64::MAX);
        assert!(in_memory.len() > 100);
        assert!(in_memory.iter().all(|r| r.len() >= 2
            && r.iter().all(|e| e.0 == r[0].0)
            && r.windows(2).all(|w| w[0].1 < w[1].1)));
        // 32 bytes: chunks of 2 entries, raised to 5000 / 256 = 20 so that at most 256 runs
        // are open at once.
        for budget in [32, 1000, 16 * 4999] {
            assert_eq!(runs_of(&entries, budget), in_memory, "budget {budget}");
        }
    }
}
