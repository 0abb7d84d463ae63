//! A fuzz driver on stable Rust: feeds every input reader and the normalizer random and
//! mutated inputs for a fixed time, and fails on any panic.
//!
//! `cargo run --release --example fuzz -- [--seconds N] [--seed S] [--out DIR] [--bin PATH]`
//! (`scripts/fuzz` runs it). Targets, each given an equal share of the time:
//!
//! - `jsonl`, `csv`, `tsv`: the readers over mutated records, through `input::from_reader`;
//! - `gzip`: mutated JSON Lines, compressed, and the compressed bytes mutated again (corrupt
//!   and truncated streams, several members);
//! - `textdir`: a folder of mutated `.txt` files under mutated names (invalid UTF-8 included);
//! - `stdin`: the `mukarrar cluster -` process with mutated JSON Lines (plain or gzip) on its
//!   standard input, which must exit with 0 or 2;
//! - `normalize`: every profile, `explain`, and signing (word and char shingles) over mutated
//!   Arabic text and random code points.
//!
//! Every case must end without a panic; a reader may (and mostly should) report errors. A
//! case that panics is saved under `--out` (default `target/fuzz-failures`) and counted; the
//! driver exits with status 1 when any did. It prints the cases run per target, and the
//! slowest case of each, for BENCHMARKS.md.

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mukarrar::input::{self, Format, InputConfig};
use mukarrar::normalize::{Normalizer, Profile};
use mukarrar::pipeline::{Scratch, Settings, Signer};
use mukarrar::shingle::ShingleKind;

/// A deterministic xorshift generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// The largest input a case makes: enough for long lines and fields, small enough for many
/// cases a second.
const MAX_LEN: usize = 1 << 16;

/// Byte strings that readers and the normalizer treat specially.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b"\"\"",
    b"\n",
    b"\r\n",
    b"\r",
    b",",
    b"\t",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"\\",
    b"\\u",
    b"\\ud800",
    b"\\udc00",
    b"\\ud83d\\ude00",
    b"\\u0000",
    b"\\n",
    b"\xff",
    b"\xc3",
    b"\xe2\x80",
    b"\xef\xbb\xbf",
    b"\x1f\x8b",
    b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03",
    b"\x00",
    b"\x1b[2J",
    b"null",
    b"true",
    b"1e999",
    b"-0",
    b"18446744073709551616",
    b"\"id\":",
    b"\"title\":",
    b"\"text\":",
    b"\"meta\":{\"id\":",
    "ة".as_bytes(),
    "أ".as_bytes(),
    "ـ".as_bytes(),
    "\u{64b}\u{650}\u{651}".as_bytes(),
    "\u{200f}".as_bytes(),
    "\u{fdf2}".as_bytes(),
    "\u{feff}".as_bytes(),
    "ی".as_bytes(),
    "٣٤".as_bytes(),
    "عاجل | ".as_bytes(),
    " - واس".as_bytes(),
    "&amp;&#1575;&#x627;".as_bytes(),
    "(صور)".as_bytes(),
    "إضافة أولى".as_bytes(),
];

/// Seeds built in, so the driver runs on a machine with nothing else.
const JSONL_SEEDS: &[&str] = &[
    "{\"id\":\"a\",\"title\":\"مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار بغزة\"}\n\
     {\"id\":\"b\",\"title\":\"مجلس الامن يصوت اليوم\",\"text\":\"نص الخبر\\nسطر ثان\"}\n",
    "{\"meta\":{\"id\":7},\"title\":null,\"text\":\"عاجل | خبر - واس\"}\r\n\r\n{\"id\":1.5,\"text\":\"x\"}\n",
    "\u{feff}{\"id\":\"c\",\"title\":\"ترامب يصف مكالمته مع بوتين بالجيدة\",\"date\":\"2024-01-01\"}",
];
const CSV_SEEDS: &[&str] = &[
    "id,title,text\na,\"مجلس الأمن، يصوت\",\"سطر\nسطر \"\"مقتبس\"\"\"\nb,خبر,نص\n",
    "\u{feff}title,id\r\n\"عاجل | خبر\",1\r\n,2\r\n",
    "id,title\na,\"text\nb,c\nd,e\n",
];
const TSV_SEEDS: &[&str] = &[
    "id\ttitle\ttext\na\tمجلس الأمن\tنص \"x\"\nb\t\t\n",
    "title\n\u{1b}]0;x\u{7}\n",
];
const TEXT_SEEDS: &[&str] = &[
    "مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار بغزة",
    "الرياض - واس\nقال وزير الصحة إن ٣٤ حالة سُجِّلت اليوم ... (صور)",
    "Breaking: the council votes today on a resolution",
];

struct Mutator {
    rng: Rng,
    seeds: Vec<Vec<u8>>,
}

impl Mutator {
    /// A seed with one to eight mutations.
    fn case(&mut self, seeds: &[&str]) -> Vec<u8> {
        let mut data = if !self.seeds.is_empty() && self.rng.chance(3) {
            let seed = &self.seeds[self.rng.below(self.seeds.len())];
            let start = self.rng.below(seed.len());
            let len = self.rng.below(4096).min(seed.len() - start);
            seed[start..start + len].to_vec()
        } else {
            seeds[self.rng.below(seeds.len())].as_bytes().to_vec()
        };
        let rounds = 1 + self.rng.below(8);
        for _ in 0..rounds {
            self.mutate(&mut data, seeds);
        }
        data.truncate(MAX_LEN);
        data
    }

    fn mutate(&mut self, data: &mut Vec<u8>, seeds: &[&str]) {
        let at = |rng: &mut Rng, data: &Vec<u8>| rng.below(data.len() + 1);
        match self.rng.below(8) {
            0 if !data.is_empty() => {
                let i = self.rng.below(data.len());
                data[i] ^= 1 << self.rng.below(8);
            }
            1 | 2 => {
                let token = TOKENS[self.rng.below(TOKENS.len())];
                let i = at(&mut self.rng, data);
                data.splice(i..i, token.iter().copied());
            }
            3 if !data.is_empty() => {
                let i = self.rng.below(data.len());
                let n = self.rng.below(64).min(data.len() - i);
                data.drain(i..i + n);
            }
            4 if !data.is_empty() => {
                // Repeat a range, now and then many times (long lines, long fields).
                let i = self.rng.below(data.len());
                let n = (1 + self.rng.below(256)).min(data.len() - i);
                let piece = data[i..i + n].to_vec();
                let times = if self.rng.chance(8) {
                    1 + self.rng.below(500)
                } else {
                    1
                };
                for _ in 0..times {
                    if data.len() + piece.len() > MAX_LEN {
                        break;
                    }
                    data.splice(i..i, piece.iter().copied());
                }
            }
            5 => {
                let other = seeds[self.rng.below(seeds.len())].as_bytes();
                let i = at(&mut self.rng, data);
                data.splice(i..i, other.iter().copied());
            }
            6 if !data.is_empty() => {
                let i = self.rng.below(data.len());
                data.truncate(i);
            }
            _ => {
                let i = at(&mut self.rng, data);
                let b = self.rng.next() as u8;
                data.insert(i, b);
            }
        }
    }

    /// A random string of code points, mostly Arabic.
    fn random_text(&mut self) -> String {
        let n = self.rng.below(200);
        (0..n)
            .map(|_| {
                let c = match self.rng.below(6) {
                    0 => 0x600 + self.rng.below(0x100) as u32,
                    1 => 0xFB50 + self.rng.below(0x2B0) as u32,
                    2 => 0xFE70 + self.rng.below(0x90) as u32,
                    3 => 0x2000 + self.rng.below(0x70) as u32,
                    4 => self.rng.below(0x80) as u32,
                    _ => self.rng.below(0x11_0000) as u32,
                };
                char::from_u32(c).unwrap_or('\u{fffd}')
            })
            .collect()
    }
}

fn config(rng: &mut Rng) -> InputConfig {
    let mut cfg = InputConfig {
        keep_raw: rng.chance(2),
        ..InputConfig::default()
    };
    if rng.chance(4) {
        cfg.id_field = "meta.id".into();
    }
    if rng.chance(4) {
        cfg.text_fields = vec!["text".into(), "title".into(), "body".into()];
    }
    if rng.chance(3) {
        cfg.keep_fields = vec!["date".into(), "id".into()];
    }
    cfg
}

/// Reads every record of `reader`, touching each document; at most one whole-input error
/// ends it. Returns the number of items.
fn drain(reader: input::Reader) -> usize {
    let mut n = 0;
    for item in reader {
        n += 1;
        if let Ok(doc) = item {
            std::hint::black_box((&doc.id, doc.text.len(), &doc.raw, doc.fields.len()));
        }
    }
    n
}

fn from_bytes(bytes: Vec<u8>, format: Format, cfg: &InputConfig) {
    if let Ok(reader) = input::from_reader(Cursor::new(bytes), "fuzz", format, cfg) {
        drain(reader);
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).expect("in memory");
    enc.finish().expect("in memory")
}

/// One case of each target.
struct Targets {
    mutator: Mutator,
    folder: PathBuf,
    bin: Option<PathBuf>,
    normalizers: Vec<Normalizer>,
    signers: Vec<Signer>,
}

impl Targets {
    /// Makes one case of `target`, keeps its input in `last` (to be saved if it panics), and
    /// runs it.
    fn run(&mut self, target: &str, last: &mut Vec<u8>) {
        let m = &mut self.mutator;
        match target {
            "jsonl" | "csv" | "tsv" => {
                let (seeds, format) = match target {
                    "jsonl" => (JSONL_SEEDS, Format::Jsonl),
                    "csv" => (CSV_SEEDS, Format::Csv),
                    _ => (TSV_SEEDS, Format::Tsv),
                };
                let data = m.case(seeds);
                let cfg = config(&mut m.rng);
                last.clone_from(&data);
                from_bytes(data, format, &cfg);
            }
            "gzip" => {
                let mut data = gzip(&m.case(JSONL_SEEDS));
                if m.rng.chance(3) {
                    data.extend(gzip(&m.case(JSONL_SEEDS)));
                }
                for _ in 0..m.rng.below(4) {
                    if data.is_empty() {
                        break;
                    }
                    if m.rng.chance(3) {
                        let i = m.rng.below(data.len());
                        data.truncate(i.max(2));
                    } else {
                        let i = m.rng.below(data.len());
                        data[i] ^= 1 << m.rng.below(8);
                    }
                }
                let cfg = config(&mut m.rng);
                let format = if m.rng.chance(4) {
                    Format::Csv
                } else {
                    Format::Jsonl
                };
                last.clone_from(&data);
                from_bytes(data, format, &cfg);
            }
            "textdir" => {
                let _ = std::fs::remove_dir_all(&self.folder);
                std::fs::create_dir_all(self.folder.join("sub")).expect("scratch folder");
                last.clear();
                for _ in 0..1 + m.rng.below(4) {
                    let name = file_name(m);
                    let dir = if m.rng.chance(3) {
                        self.folder.join("sub")
                    } else {
                        self.folder.clone()
                    };
                    let body = m.case(TEXT_SEEDS);
                    let _ = std::fs::write(dir.join(&name), &body);
                    // Saved as name, NUL, contents, NUL for each file.
                    last.extend_from_slice(name.as_encoded_bytes());
                    last.push(0);
                    last.extend_from_slice(&body);
                    last.push(0);
                }
                let cfg = config(&mut m.rng);
                if let Ok(reader) = input::open(self.folder.to_str().expect("utf-8"), &cfg) {
                    drain(reader);
                }
            }
            "stdin" => {
                let mut data = m.case(JSONL_SEEDS);
                if m.rng.chance(4) {
                    data = gzip(&data);
                }
                last.clone_from(&data);
                if let Some(bin) = &self.bin {
                    stdin_case(bin, &data);
                }
            }
            _ => {
                let text = if m.rng.chance(2) {
                    m.random_text()
                } else {
                    String::from_utf8_lossy(&m.case(TEXT_SEEDS)).into_owned()
                };
                *last = text.as_bytes().to_vec();
                for n in &self.normalizers {
                    std::hint::black_box(n.normalize(&text));
                }
                std::hint::black_box(self.normalizers[0].explain(&text));
                let mut scratch = Scratch::default();
                for signer in &self.signers {
                    let mut sig = vec![0u32; signer.num_perm()];
                    std::hint::black_box(signer.sign_into(&text, &mut scratch, &mut sig));
                }
            }
        }
    }
}

/// A `.txt` file name from mutated bytes: invalid UTF-8, spaces and escapes included, no
/// `/` or NUL.
fn file_name(m: &mut Mutator) -> std::ffi::OsString {
    use std::os::unix::ffi::OsStringExt;
    let mut bytes: Vec<u8> = m
        .case(&["a", "خبر", "x y", "\u{1b}[2J"])
        .into_iter()
        .filter(|&b| b != b'/' && b != 0)
        .take(100)
        .collect();
    if bytes.is_empty() || bytes == b"." || bytes == b".." {
        bytes = b"doc".to_vec();
    }
    if !m.rng.chance(8) {
        bytes.extend_from_slice(b".txt");
    }
    std::ffi::OsString::from_vec(bytes)
}

/// Runs `mukarrar cluster -` with `data` on stdin; its exit status must be 0 or 2.
fn stdin_case(bin: &Path, data: &[u8]) {
    let mut child = Command::new(bin)
        .args(["-q", "cluster", "-", "--format", "csv", "-j", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the mukarrar binary runs");
    let mut stdin = child.stdin.take().expect("piped");
    // The child may stop reading at the first error: a closed pipe is fine.
    let _ = stdin.write_all(data);
    drop(stdin);
    let mut stderr = String::new();
    let _ = child
        .stderr
        .take()
        .expect("piped")
        .read_to_string(&mut stderr);
    let status = child.wait().expect("the child ends");
    assert!(
        matches!(status.code(), Some(0 | 2)),
        "mukarrar cluster - ended with {status}: {stderr}"
    );
}

fn main() {
    let mut seconds = 60.0f64;
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut out = PathBuf::from("target/fuzz-failures");
    let mut bin: Option<PathBuf> = None;
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().expect("a value after the flag");
        match a.as_str() {
            "--seconds" => seconds = value().parse().expect("--seconds N"),
            "--seed" => seed = value().parse().expect("--seed S"),
            "--out" => out = value().into(),
            "--bin" => bin = Some(value().into()),
            "--only" => only = Some(value()),
            _ => {
                eprintln!(
                    "usage: fuzz [--seconds N] [--seed S] [--out DIR] [--bin PATH] [--only TARGET]"
                );
                std::process::exit(2);
            }
        }
    }
    // The binary built beside this example, unless given.
    let bin = bin.or_else(|| {
        let exe = std::env::current_exe().ok()?;
        let candidate = exe.parent()?.parent()?.join("mukarrar");
        candidate.exists().then_some(candidate)
    });
    let mut seeds = Vec::new();
    for name in ["headlines.jsonl", "labelled.jsonl"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples")
            .join(name);
        if let Ok(bytes) = std::fs::read(path) {
            seeds.push(bytes);
        }
    }
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let mut char_settings = Settings::default();
    char_settings.shingle.kind = ShingleKind::Char;
    char_settings.shingle.n = 4;
    let mut targets = Targets {
        mutator: Mutator {
            rng: Rng(seed | 1),
            seeds,
        },
        folder: scratch.path().join("docs"),
        bin: bin.clone(),
        normalizers: [Profile::Default, Profile::Light, Profile::None]
            .into_iter()
            .map(Normalizer::new)
            .collect(),
        signers: vec![
            Signer::new(&Settings::default()),
            Signer::new(&char_settings),
        ],
    };
    let mut names = vec![
        "jsonl",
        "gzip",
        "csv",
        "tsv",
        "textdir",
        "stdin",
        "normalize",
    ];
    if bin.is_none() {
        eprintln!("fuzz: no mukarrar binary beside the example (--bin PATH): stdin skipped");
        names.retain(|n| *n != "stdin");
    }
    if let Some(only) = &only {
        names.retain(|n| n == only);
    }
    // Panics are counted and their inputs saved; the default hook would print each one.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("fuzz: panic: {info}");
    }));
    let share = Duration::from_secs_f64(seconds / names.len() as f64);
    let mut panics = 0usize;
    println!("| target | cases | panics | slowest case (ms) |");
    println!("|---|---:|---:|---:|");
    for name in names {
        let started = Instant::now();
        let (mut cases, mut failed, mut slowest) = (0u64, 0usize, Duration::ZERO);
        while started.elapsed() < share {
            let case_started = Instant::now();
            let mut input = Vec::new();
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                targets.run(name, &mut input);
            }));
            slowest = slowest.max(case_started.elapsed());
            cases += 1;
            if outcome.is_err() {
                failed += 1;
                let _ = std::fs::create_dir_all(&out);
                let path = out.join(format!("{name}-{seed}-{cases}.bin"));
                let _ = std::fs::write(&path, &input);
                eprintln!(
                    "fuzz: {name}: case {cases} panicked; its input (if made) is in {path:?}"
                );
            }
        }
        panics += failed;
        println!(
            "| {name} | {cases} | {failed} | {:.1} |",
            slowest.as_secs_f64() * 1e3
        );
    }
    if panics > 0 {
        std::process::exit(1);
    }
}
