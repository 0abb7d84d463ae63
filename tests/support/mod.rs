//! Helpers shared by the integration tests: running the binary, writing inputs, and a small
//! generator of near-duplicate documents.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub fn mukarrar() -> Command {
    Command::cargo_bin("mukarrar").unwrap()
}

pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("mukarrar")
}

pub fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name)
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Writes `content` to `name` in `dir` and returns the path as a string.
pub fn write(dir: &tempfile::TempDir, name: &str, content: &str) -> String {
    let p = dir.path().join(name);
    fs::write(&p, content).unwrap();
    p.to_string_lossy().into_owned()
}

/// Runs mukarrar quietly and returns stdout; panics with stderr on failure.
pub fn run(args: &[&str]) -> String {
    let out = mukarrar().arg("-q").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "mukarrar {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs mukarrar expecting exit status 2 and returns stderr.
pub fn fails(args: &[&str]) -> String {
    let out = mukarrar().args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "mukarrar {args:?} should fail; stdout:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

/// A deterministic xorshift generator.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn word(n: u64) -> String {
    const SYL: [&str; 16] = [
        "ka", "mi", "ru", "so", "ta", "ne", "li", "bo", "da", "fu", "ge", "ha", "jo", "pe", "qi",
        "wa",
    ];
    let mut w = String::new();
    let mut n = n + 16;
    while n > 0 {
        w.push_str(SYL[(n % 16) as usize]);
        n /= 16;
    }
    w
}

/// `n` JSONL documents (`id`, `text`): new stories, edited copies of recent ones, and now
/// and then a document made of halves of two stories, which links their clusters.
pub fn corpus(n: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut texts: Vec<Vec<String>> = Vec::new();
    let mut lines = Vec::new();
    for i in 0..n {
        let roll = rng.below(100);
        let text: Vec<String> = if texts.len() > 2 && roll < 35 {
            let base = &texts[texts.len() - 1 - rng.below(texts.len().min(40) as u64) as usize];
            let mut t = base.clone();
            for _ in 0..t.len() / 12 {
                let at = rng.below(t.len() as u64) as usize;
                t[at] = word(rng.below(3000));
            }
            if rng.below(2) == 0 {
                t.insert(0, word(rng.below(3000)));
            }
            t
        } else if texts.len() > 2 && roll < 40 {
            let a = &texts[texts.len() - 1 - rng.below(texts.len().min(40) as u64) as usize];
            let b = &texts[texts.len() - 1 - rng.below(texts.len().min(40) as u64) as usize];
            let mut t = a[..a.len() * 2 / 3].to_vec();
            t.extend_from_slice(&b[b.len() / 3..]);
            t
        } else {
            let len = 20 + rng.below(40) as usize;
            (0..len).map(|_| word(rng.below(3000))).collect()
        };
        let id = format!("g{i:05}");
        lines.push(format!(
            "{{\"id\":\"{id}\",\"text\":\"{}\"}}",
            text.join(" ")
        ));
        texts.push(text);
    }
    lines
}

/// `n` stories in the forms an aggregator receives (JSONL with `id`, `title`, `text`,
/// `group`): each an article (title, then a body), most also a teaser (the title with an
/// outlet's tag, then the body's first sentences) and a bare headline (`text` only); some
/// headlines have a look-alike that differs in a number, and some articles end with a "read
/// also" line that lists another story's title. Ids are `s{story}-{kind}`.
pub fn mixed_lengths(n: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut titles: Vec<Vec<String>> = Vec::new();
    let mut lines = Vec::new();
    let line = |id: String, title: &str, text: &str, group: &str| {
        format!(
            "{{\"id\":\"{id}\",\"title\":\"{title}\",\"text\":\"{text}\",\"group\":\"{group}\"}}"
        )
    };
    for i in 0..n {
        let mut title: Vec<String> = (0..6 + rng.below(6))
            .map(|_| word(rng.below(5000)))
            .collect();
        let number = 1 + rng.below(90);
        if rng.below(3) == 0 {
            title.insert(2, number.to_string());
        }
        let body: Vec<String> = (0..60 + rng.below(200))
            .map(|_| word(rng.below(5000)))
            .collect();
        let mut text = body.join(" ");
        if i > 0 && rng.below(4) == 0 {
            let other = &titles[rng.below(titles.len() as u64) as usize];
            text.push_str("\\n");
            text.push_str(&format!("{} {}", word(7), other.join(" ")));
        }
        let group = format!("s{i}");
        let t = title.join(" ");
        lines.push(line(format!("s{i}-article"), &t, &text, &group));
        if rng.below(4) != 0 {
            let lead = body[..8 + rng.below(40) as usize].join(" ");
            lines.push(line(
                format!("s{i}-teaser"),
                &format!("{t} - {}", word(9)),
                &lead,
                &group,
            ));
        }
        if rng.below(4) != 0 {
            lines.push(line(format!("s{i}-headline"), "", &t, &group));
            if title.contains(&number.to_string()) {
                let other: Vec<String> = title
                    .iter()
                    .map(|w| {
                        if *w == number.to_string() {
                            (number + 1).to_string()
                        } else {
                            w.clone()
                        }
                    })
                    .collect();
                lines.push(line(
                    format!("s{i}-lookalike"),
                    "",
                    &other.join(" "),
                    &format!("{group}-other"),
                ));
            }
        }
        titles.push(title);
    }
    lines
}

/// `n` stories of 120 words (JSONL with `id` and `text`), each followed by a reworded copy
/// (every fifth word replaced: about a quarter of the word 3-grams kept, two thirds of the
/// words) and by a text that quotes 30 of the story's words (from its 31st) and goes on with
/// 90 of its own (similarity 0.2 to 0.3 by the lead's weight, a seventh of the words shared). Ids are `r{story}`,
/// `r{story}-copy` and `r{story}-quote`.
pub fn reworded_stories(n: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let fresh = |rng: &mut Rng| word(rng.below(1 << 24));
    let mut lines = Vec::new();
    let line = |id: String, words: &[String]| {
        format!("{{\"id\":\"{id}\",\"text\":\"{}\"}}", words.join(" "))
    };
    for i in 0..n {
        let story: Vec<String> = (0..120).map(|_| fresh(&mut rng)).collect();
        let copy: Vec<String> = story
            .iter()
            .enumerate()
            .map(|(j, w)| {
                if j % 5 == 0 {
                    fresh(&mut rng)
                } else {
                    w.clone()
                }
            })
            .collect();
        let mut quote = story[30..60].to_vec();
        quote.extend((0..90).map(|_| fresh(&mut rng)));
        lines.push(line(format!("r{i}"), &story));
        lines.push(line(format!("r{i}-copy"), &copy));
        lines.push(line(format!("r{i}-quote"), &quote));
    }
    lines
}

pub fn write_lines(path: &Path, lines: &[String]) {
    let mut body = lines.join("\n");
    body.push('\n');
    fs::write(path, body).unwrap();
}

/// The CSV report as cluster id → sorted member ids.
pub fn clusters(csv: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        out.entry(f[0].to_string())
            .or_default()
            .push(f[1].to_string());
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

/// The ids stored in an index, by position.
pub fn stored_ids(db: &Path) -> Vec<String> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = conn
        .prepare("SELECT id FROM documents ORDER BY pos")
        .unwrap();
    let ids = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    ids
}

pub fn integrity(db: &Path) -> String {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
        .unwrap()
}

/// The number before `what` in `text` (a count of the summary on stderr).
pub fn count_before(text: &str, what: &str) -> usize {
    let at = text
        .find(what)
        .unwrap_or_else(|| panic!("no `{what}` in:\n{text}"));
    let digits: String = text[..at]
        .trim_end()
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.chars().rev().collect::<String>().parse().unwrap()
}
