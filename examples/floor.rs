//! The floor of end-to-end time: read a corpus once and hash every word once.
//!
//! `cargo run --release --example floor -- CORPUS [--decompressed]` reads CORPUS (gzip is
//! decompressed on the fly; with `--decompressed` the file is read as is), splits it on ASCII
//! whitespace and hashes every word with xxh3, on one thread. No JSON parsing, no
//! normalization, no MinHash: any deduplicator that reads the same file must do at least this
//! much. `scripts/bench-peers` reports mukarrar's end-to-end time as a multiple of it.

use std::fs::File;
use std::io::{BufReader, Read};
use std::time::Instant;

use xxhash_rust::xxh3::xxh3_64;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| {
        eprintln!("usage: floor CORPUS [--decompressed]");
        std::process::exit(2);
    });
    let raw = args.next().as_deref() == Some("--decompressed");
    let started = Instant::now();
    let file = File::open(&path).unwrap_or_else(|e| {
        eprintln!("floor: {path}: {e}");
        std::process::exit(2);
    });
    let mut input: Box<dyn Read> = if raw {
        Box::new(file)
    } else {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
            1 << 20,
            file,
        )))
    };
    let mut buf = vec![0u8; 1 << 20];
    let mut carry: Vec<u8> = Vec::new();
    let (mut bytes, mut words, mut acc) = (0u64, 0u64, 0u64);
    loop {
        let n = input.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        bytes += n as u64;
        carry.extend_from_slice(&buf[..n]);
        // Hash every complete word; keep a trailing partial word for the next read.
        let cut = carry
            .iter()
            .rposition(|b| b.is_ascii_whitespace())
            .map_or(0, |i| i + 1);
        for w in carry[..cut].split(|b| b.is_ascii_whitespace()) {
            if !w.is_empty() {
                acc ^= xxh3_64(w);
                words += 1;
            }
        }
        carry.drain(..cut);
    }
    if !carry.is_empty() {
        acc ^= xxh3_64(&carry);
        words += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{{\"seconds\": {secs:.4}, \"bytes\": {bytes}, \"words\": {words}, \"checksum\": {acc}}}"
    );
}
