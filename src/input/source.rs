//! Turning a path (or standard input) into a stream of bytes.
//!
//! Every reader gets its bytes the same way: the file or standard input, counted as it is
//! consumed (for progress bars), and decompressed when its first bytes are the magic number of
//! gzip, zstd, bzip2 or xz. Looking at the bytes rather than the name means `foo.jsonl` that is
//! really compressed, or a compressed pipe on standard input, both read correctly. Files made
//! of several compressed members (`cat a.gz b.gz`, `pzstd`, `pbzip2`, `pixz`) are read whole,
//! like `zcat` does.

use std::io::{self, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::{Error, Location};

/// Read-buffer size for input files: large enough that system calls and decompressor calls
/// are a small share of the work.
pub(crate) const BUFFER_SIZE: usize = 256 * 1024;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const XZ_MAGIC: [u8; 6] = [0xfd, b'7', b'z', b'X', b'Z', 0x00];
const PARQUET_MAGIC: [u8; 4] = *b"PAR1";

/// How an input's bytes are compressed, as told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
    Bzip2,
    Xz,
}

impl Compression {
    /// The longest magic number looked at.
    const HEAD: usize = 6;

    /// The compression whose magic number `head` (the input's first bytes) starts with.
    fn detect(head: &[u8]) -> Compression {
        let zstd_skippable =
            head.len() >= 4 && head[0] & 0xf0 == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18];
        if head.starts_with(&GZIP_MAGIC) {
            Compression::Gzip
        } else if head.starts_with(&ZSTD_MAGIC) || zstd_skippable {
            Compression::Zstd
        } else if head.len() >= 4 && head.starts_with(b"BZh") && (b'1'..=b'9').contains(&head[3]) {
            Compression::Bzip2
        } else if head.starts_with(&XZ_MAGIC) {
            Compression::Xz
        } else {
            Compression::None
        }
    }

    /// The name used in messages.
    pub(crate) fn name(self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            Compression::Gzip => Some("gzip"),
            Compression::Zstd => Some("zstd"),
            Compression::Bzip2 => Some("bzip2"),
            Compression::Xz => Some("xz"),
        }
    }
}

/// A shared count of the input bytes consumed so far (compressed bytes for compressed input).
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
    /// How the input is compressed.
    pub(crate) compression: Compression,
}

/// Wraps `raw` in a byte counter and, when it starts with the magic number of gzip, zstd,
/// bzip2 or xz, the decoder (reading every member or frame, like `zcat`).
///
/// A Parquet file (`PAR1`) is refused here: it is read by columns from its end, never as a
/// stream, so it needs its own reader (a `.parquet` name or `--input-format parquet`).
pub(crate) fn stream<R: Read + Send + 'static>(raw: R, counter: ByteCounter) -> io::Result<Stream> {
    let mut counted = Counting {
        inner: raw,
        counter,
    };
    let mut head = [0u8; Compression::HEAD];
    let mut filled = 0;
    while filled < head.len() {
        match counted.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let head = &head[..filled];
    if head.starts_with(&PARQUET_MAGIC) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "this is a Parquet file, which is read as a file rather than a stream: give it a \
             .parquet name or --input-format parquet (standard input cannot be Parquet)",
        ));
    }
    let compression = Compression::detect(head);
    let rest = io::Cursor::new(head.to_vec()).chain(counted);
    let buffered = |rest| BufReader::with_capacity(BUFFER_SIZE, rest);
    let bytes: Box<dyn Read + Send> = match compression {
        Compression::None => Box::new(rest),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered(rest))),
        // A zstd decoder goes on to the next frame (and skips skippable frames) by itself.
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buffered(rest))?),
        Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(buffered(rest))),
        Compression::Xz => Box::new(lzma_rust2::XzReader::new(buffered(rest), true)),
    };
    Ok(Stream { bytes, compression })
}

/// The error for a failure while reading an input that opened fine: the input cannot be read
/// any further, so this is a whole-input error that says how far reading got.
pub(crate) fn read_error(
    source: &str,
    line: u64,
    compression: Compression,
    err: &io::Error,
) -> Error {
    let message = match compression.name() {
        Some(name)
            if matches!(
                err.kind(),
                io::ErrorKind::InvalidInput
                    | io::ErrorKind::InvalidData
                    | io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::Other
            ) =>
        {
            format!("corrupt or truncated {name} data: {err}")
        }
        _ => format!("read error: {err}"),
    };
    Error::Input {
        location: Location::line(source, line),
        message,
    }
}
