//! A corpus generator for measuring mukarrar on ordinary and on hostile input: streams any
//! number of JSON Lines documents to standard output, as fast as it can write them.
//!
//! ```text
//! cargo run --release --example gen -- MODE N [--words W] [--seed S] > corpus.jsonl
//! ```
//!
//! Modes (every document has `id` `dN` and `title` or `title` + `text`):
//!
//! - `news`: ordinary news: new articles of about W words, 20 % of them edited copies of an
//!   article written shortly before (words dropped, a dateline added), so clusters form.
//! - `distinct`: W-word articles that match nothing (the baseline for `article`).
//! - `article`: N copies of one W-word article (a scraper emitting one page for every URL).
//! - `headlines`: distinct headlines of made-up words, as many as the `headline` one has (its
//!   baseline).
//! - `headline`: N copies of one breaking-news headline ("عاجل: …").
//! - `mix`: `news` and `article` copies interleaved, one each in turn (a flood in a feed).
//! - `boilerplate`: documents made only of boilerplate lines (rights reserved, follow us,
//!   read also), drawn from a handful: many exact copies and many near-copies.
//! - `footer`: short distinct bodies that all end with one long shared footer.
//!
//! Texts are made from a vocabulary of real Arabic words and made-up words of Arabic letters,
//! so normalization and shingling do the work they do on news; the same arguments give the
//! same output.

use std::io::{self, BufWriter, Write};

/// Common words of Arabic news.
const COMMON: &[&str] = &[
    "في",
    "من",
    "على",
    "إلى",
    "عن",
    "أن",
    "التي",
    "الذي",
    "مع",
    "هذا",
    "هذه",
    "بعد",
    "قبل",
    "بين",
    "كما",
    "وقال",
    "قال",
    "أكد",
    "الرئيس",
    "الحكومة",
    "وزير",
    "وزارة",
    "المملكة",
    "السعودية",
    "الرياض",
    "جدة",
    "مصر",
    "القاهرة",
    "الأمم",
    "المتحدة",
    "مجلس",
    "الأمن",
    "اليوم",
    "أمس",
    "العام",
    "الماضي",
    "الجاري",
    "خلال",
    "حيث",
    "وذلك",
    "عدد",
    "أكثر",
    "أيضا",
    "المدينة",
    "الشرطة",
    "الدولة",
    "المنطقة",
    "الاقتصاد",
    "النفط",
    "السوق",
    "الأسهم",
    "مليون",
    "مليار",
    "ريال",
    "دولار",
    "المباراة",
    "الفريق",
    "النادي",
    "الدوري",
    "الهلال",
    "النصر",
    "الأهلي",
    "الاتحاد",
    "المنتخب",
    "الوطني",
    "التعليم",
    "الصحة",
    "المستشفى",
    "الطلاب",
    "الجامعة",
    "المشروع",
    "التنمية",
    "البرنامج",
    "الخطة",
    "الاجتماع",
    "القمة",
    "المؤتمر",
    "الصحفي",
    "البيان",
    "الرسمي",
    "مصدر",
    "مسؤول",
    "المتحدث",
    "باسم",
    "وكالة",
    "الأنباء",
    "العربية",
    "الدولي",
    "العالم",
    "الحرب",
    "السلام",
    "اتفاق",
    "قرار",
    "الجديد",
];

/// Letters that made-up words are spelt with.
const LETTERS: &[char] = &[
    'ا', 'ب', 'ت', 'ث', 'ج', 'ح', 'خ', 'د', 'ذ', 'ر', 'ز', 'س', 'ش', 'ص', 'ض', 'ط', 'ظ', 'ع', 'غ',
    'ف', 'ق', 'ك', 'ل', 'م', 'ن', 'ه', 'و', 'ي', 'ة', 'أ', 'إ', 'ى',
];

const BOILERPLATE: &[&str] = &[
    "جميع الحقوق محفوظة لصحيفة الأخبار اليومية",
    "تابعونا على تويتر وفيسبوك وإنستغرام",
    "اقرأ أيضا: أخبار متعلقة بالموضوع",
    "للاشتراك في النشرة البريدية اضغط هنا",
    "الآراء الواردة تعبر عن رأي كاتبها",
    "حمل تطبيق الصحيفة على هاتفك الذكي",
];

/// splitmix64: small, fast and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Appends one word: a common one a third of the time, otherwise one of about a billion
/// made-up words of 3 to 7 letters.
fn word(rng: &mut Rng, out: &mut String) {
    if rng.chance(33) {
        out.push_str(COMMON[rng.below(COMMON.len())]);
    } else {
        made_up(rng, out);
    }
}

/// Appends a made-up word of 3 to 7 letters.
fn made_up(rng: &mut Rng, out: &mut String) {
    for _ in 0..3 + rng.below(5) {
        out.push(LETTERS[rng.below(LETTERS.len())]);
    }
}

/// `words` words, a full stop every 12 or so.
fn text(rng: &mut Rng, words: usize) -> String {
    let mut out = String::with_capacity(words * 12);
    for i in 0..words {
        if i > 0 {
            out.push_str(if rng.chance(8) { ". " } else { " " });
        }
        word(rng, &mut out);
    }
    out
}

/// An edited copy: about a tenth of the words dropped, sometimes a dateline added.
fn edited(rng: &mut Rng, original: &str) -> String {
    let mut out = String::with_capacity(original.len() + 32);
    if rng.chance(50) {
        out.push_str("الرياض - واس: ");
    }
    for w in original.split(' ') {
        if !rng.chance(10) {
            out.push_str(w);
            out.push(' ');
        }
    }
    out.pop();
    out
}

fn headline() -> &'static str {
    "عاجل: مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار"
}

struct Gen {
    rng: Rng,
    words: usize,
    recent: Vec<String>,
    article: String,
    footer: String,
}

impl Gen {
    fn news(&mut self) -> String {
        if self.recent.len() >= 8 && self.rng.chance(20) {
            let i = self.rng.below(self.recent.len());
            let original = self.recent[i].clone();
            return edited(&mut self.rng, &original);
        }
        let t = text(&mut self.rng, self.words);
        if self.recent.len() < 1000 {
            self.recent.push(t.clone());
        } else {
            let i = self.rng.below(self.recent.len());
            self.recent[i] = t.clone();
        }
        t
    }

    /// The title and text of document `i` in `mode`.
    fn document(&mut self, mode: &str, i: u64) -> (String, Option<String>) {
        match mode {
            "news" => (text(&mut self.rng, 8), Some(self.news())),
            "distinct" => (
                text(&mut self.rng, 8),
                Some(text(&mut self.rng, self.words)),
            ),
            "article" => (headline().into(), Some(self.article.clone())),
            "headline" => (headline().into(), None),
            "headlines" => {
                // Made-up words only: common words shared by short texts put unrelated
                // headlines in one bucket (see BENCHMARKS.md, "Degenerate input").
                let mut t = String::new();
                for w in 0..headline().split(' ').count() {
                    if w > 0 {
                        t.push(' ');
                    }
                    made_up(&mut self.rng, &mut t);
                }
                (t, None)
            }
            "mix" if i % 2 == 1 => (headline().into(), Some(self.article.clone())),
            "mix" => (text(&mut self.rng, 8), Some(self.news())),
            "boilerplate" => {
                let n = 1 + self.rng.below(4);
                let lines: Vec<&str> = (0..n)
                    .map(|_| BOILERPLATE[self.rng.below(BOILERPLATE.len())])
                    .collect();
                (String::new(), Some(lines.join("\n")))
            }
            "footer" => {
                let body = text(&mut self.rng, 30);
                (
                    text(&mut self.rng, 8),
                    Some(format!("{body}\n{}", self.footer)),
                )
            }
            _ => unreachable!("modes are checked"),
        }
    }
}

const MODES: &[&str] = &[
    "news",
    "distinct",
    "article",
    "headlines",
    "headline",
    "mix",
    "boilerplate",
    "footer",
];

fn usage() -> ! {
    eprintln!(
        "usage: gen MODE N [--words W] [--seed S]\nmodes: {}\n(see the top of examples/gen.rs)",
        MODES.join(", ")
    );
    std::process::exit(2)
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 || !MODES.contains(&args[0].as_str()) {
        usage();
    }
    let mode = args[0].as_str();
    let n: u64 = args[1].parse().unwrap_or_else(|_| usage());
    let mut words = 300usize;
    let mut seed = 1u64;
    let mut rest = args[2..].iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().and_then(|v| v.parse::<u64>().ok());
        match (flag.as_str(), value) {
            ("--words", Some(v)) if v > 0 => words = v as usize,
            ("--seed", Some(v)) => seed = v,
            _ => usage(),
        }
    }
    let mut rng = Rng(seed);
    let article = text(&mut rng, words);
    let footer = text(&mut rng, 120);
    let mut g = Gen {
        rng,
        words,
        recent: Vec::new(),
        article,
        footer,
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    let written = (|| -> io::Result<()> {
        for i in 0..n {
            let (title, text) = g.document(mode, i);
            // The vocabulary holds no character that JSON must escape but the line break.
            write!(out, "{{\"id\":\"d{i}\",\"title\":\"{title}\"")?;
            if let Some(text) = text {
                write!(out, ",\"text\":\"{}\"", text.replace('\n', "\\n"))?;
            }
            out.write_all(b"}\n")?;
        }
        out.flush()
    })();
    match written {
        // A reader that stops early (`| head`) is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
