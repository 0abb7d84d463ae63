//! Turning a path (or standard input) into a stream of bytes.
//!
//! Every reader gets its bytes the same way: the file or standard input, counted as it is
//! consumed (for progress bars), and decompressed when the first two bytes are the gzip magic
//! number. Looking at the bytes rather than the name means `foo.jsonl` that is really gzip, or a
//! compressed pipe on standard input, both read correctly.

use std::io::{self, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::{Error, Location};

/// Read-buffer size for input files: large enough that system calls and decompressor calls
/// are a small share of the work.
pub(crate) const BUFFER_SIZE: usize = 256 * 1024;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A shared count of the input bytes consumed so far (compressed bytes for gzip input).
///
/// Cloning gives another handle on the same count, so a progress display on another thread can
/// poll it while a [`Reader`](super::Reader) is being iterated.
#[derive(Debug, Clone, Default)]
pub struct ByteCounter(Arc<AtomicU64>);

impl ByteCounter {
    /// The number of bytes consumed so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
}

/// A reader that adds every byte it hands out to a [`ByteCounter`].
struct Counting<R> {
    inner: R,
    counter: ByteCounter,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.add(n as u64);
        Ok(n)
    }
}

/// An input's bytes, decompressed when needed.
pub(crate) struct Stream {
    /// The (decompressed) bytes. Not buffered: each reader adds the buffering it needs.
    pub(crate) bytes: Box<dyn Read + Send>,
    /// Whether the input is gzip-compressed.
    pub(crate) gzip: bool,
}

/// Wraps `raw` in a byte counter and, when it starts with the gzip magic number, a gzip
/// decoder (multi-member, like `zcat`).
pub(crate) fn stream<R: Read + Send + 'static>(raw: R, counter: ByteCounter) -> io::Result<Stream> {
    let mut counted = Counting {
        inner: raw,
        counter,
    };
    let mut head = [0u8; 2];
    let mut filled = 0;
    while filled < head.len() {
        match counted.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let gzip = head[..filled] == GZIP_MAGIC;
    let rest = io::Cursor::new(head[..filled].to_vec()).chain(counted);
    let bytes: Box<dyn Read + Send> = if gzip {
        Box::new(flate2::bufread::MultiGzDecoder::new(
            BufReader::with_capacity(BUFFER_SIZE, rest),
        ))
    } else {
        Box::new(rest)
    };
    Ok(Stream { bytes, gzip })
}

/// The error for a failure while reading an input that opened fine: the input cannot be read
/// any further, so this is a whole-input error that says how far reading got.
pub(crate) fn read_error(source: &str, line: u64, gzip: bool, err: &io::Error) -> Error {
    let message = if gzip
        && matches!(
            err.kind(),
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
        ) {
        format!("corrupt or truncated gzip data: {err}")
    } else {
        format!("read error: {err}")
    };
    Error::Input {
        location: Location::line(source, line),
        message,
    }
}
