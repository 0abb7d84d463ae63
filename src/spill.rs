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

/// Records of any length appended to a temporary file and read back by number, from any
/// thread. Memory holds one offset (8 bytes) per record.
pub struct Records {
    file: File,
    writer: BufWriter<File>,
    ends: Vec<u64>,
}

impl Records {
    /// An empty file of records in `dir`.
    pub fn new(dir: &Path) -> io::Result<Records> {
        Records::on(temp_file(dir)?)
    }

    /// Records written to `file`, which must be empty (tests choose one that fails).
    pub(crate) fn on(file: File) -> io::Result<Records> {
        let writer = BufWriter::with_capacity(1 << 20, file.try_clone()?);
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

/// The `(band key, document)` entries of every band, written as documents are signed and
/// read back band by band in sorted order: in memory when a band fits the budget, else by an
/// external sort (sorted runs of the budget's size on disk, merged).
pub struct BandFiles {
    files: Vec<BufWriter<File>>,
    counts: Vec<u64>,
    dir: PathBuf,
}

impl BandFiles {
    /// Empty files for `bands` bands in `dir`.
    pub fn new(bands: usize, dir: &Path) -> io::Result<BandFiles> {
        let files = (0..bands)
            .map(|_| Ok(BufWriter::with_capacity(64 << 10, temp_file(dir)?)))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(BandFiles {
            files,
            counts: vec![0; bands],
            dir: dir.to_path_buf(),
        })
    }

    /// Adds `doc`'s key of `band`.
    pub fn push(&mut self, band: usize, key: u64, doc: u32) -> io::Result<()> {
        self.counts[band] += 1;
        write_entries(&mut self.files[band], &[(key, doc)])
    }

    /// Bytes written (not counting the sorted runs of an external sort).
    pub fn bytes(&self) -> u64 {
        self.counts.iter().sum::<u64>() * ENTRY_BYTES as u64
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
        let mut file = file.get_ref().try_clone()?;
        file.seek(SeekFrom::Start(0))?;
        let mut input = BufReader::with_capacity(1 << 20, file);
        if n <= chunk {
            let mut entries = read_entries(&mut input, n)?;
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
            let mut entries = read_entries(&mut input, take)?;
            left -= take;
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

fn read_entries(input: &mut impl Read, n: usize) -> io::Result<Vec<Entry>> {
    let mut entries = Vec::with_capacity(n);
    for _ in 0..n {
        match read_entry(input)? {
            Some(e) => entries.push(e),
            None => return Err(io::ErrorKind::UnexpectedEof.into()),
        }
    }
    Ok(entries)
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
