//! Per-document decision latency of the streaming filter's engine with a full window.
//!
//! ```sh
//! cargo bench --bench filter_latency -- /tmp/c1m.jsonl        # a corpus (JSONL, or .gz)
//! cargo bench --bench filter_latency                          # generated documents
//! ```
//!
//! Signs `window + measured` documents of the corpus (default 100,000 + 20,000), fills the
//! window with the first `window` decisions, then times each of the next `measured`
//! documents one by one: the decision alone ([`Engine::decide`]: band keys, lookups,
//! verification of the candidates, insertion and eviction), and signing plus decision (what a
//! document costs from its text to its fate). Prints the median, the 99th percentile and the
//! maximum of each. Set `MUKARRAR_WINDOW` and `MUKARRAR_MEASURED` to change the sizes.

use std::time::Instant;

use mukarrar::filter::{Engine, WindowLimit};
use mukarrar::input::{self, InputConfig};
use mukarrar::pipeline::{Scratch, Settings, Signer};
use mukarrar::settings::{Signed, Traits};
use rayon::prelude::*;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Generated texts: new stories of random words and edited copies of recent ones.
fn generated(n: usize) -> Vec<(String, String)> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let word = |n: u64| format!("w{}", n % 20_000);
    let mut texts: Vec<String> = Vec::with_capacity(n);
    for i in 0..n {
        let text = if i > 10 && next() % 10 < 3 {
            let base = &texts[i - 1 - (next() % 10) as usize];
            let mut words: Vec<String> = base.split(' ').map(String::from).collect();
            let at = (next() % words.len() as u64) as usize;
            words[at] = word(next());
            words.join(" ")
        } else {
            let len = 40 + (next() % 200) as usize;
            (0..len).map(|_| word(next())).collect::<Vec<_>>().join(" ")
        };
        texts.push(text);
    }
    texts
        .into_iter()
        .enumerate()
        .map(|(i, t)| (format!("g{i}"), t))
        .collect()
}

fn corpus(path: &str, n: usize) -> Vec<(String, String)> {
    input::open(path, &InputConfig::default())
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .take(n)
        .map(|d| d.map(|d| (d.id, d.text)))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

struct Doc {
    id: String,
    sig: Vec<u32>,
    traits: Traits,
    words: Vec<u64>,
    text: String,
}

impl Doc {
    fn signed(&self) -> Signed<'_> {
        Signed {
            sig: &self.sig,
            traits: self.traits,
            words: &self.words,
            set: None,
        }
    }
}

/// Median, 99th percentile, maximum, and how many took over a millisecond.
fn percentiles(mut v: Vec<f64>) -> (f64, f64, f64, usize) {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    let slow = v.iter().filter(|&&us| us > 1000.0).count();
    (at(0.5), at(0.99), v[v.len() - 1], slow)
}

fn main() {
    let path = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let window = env("MUKARRAR_WINDOW", 100_000);
    let measured = env("MUKARRAR_MEASURED", 20_000);
    let n = window + measured;
    let texts = match &path {
        Some(p) => corpus(p, n),
        None => generated(n),
    };
    assert!(
        texts.len() >= n,
        "the corpus holds only {} documents",
        texts.len()
    );
    let settings = Settings::default();
    let signer = Signer::new(&settings);
    let started = Instant::now();
    let docs: Vec<Doc> = texts
        .into_par_iter()
        .map_init(Scratch::default, |scratch, (id, text)| {
            let mut sig = vec![0; signer.num_perm()];
            let traits = signer.sign_into(&text, scratch, &mut sig);
            Doc {
                id,
                sig,
                traits,
                words: scratch.words.clone(),
                text,
            }
        })
        .collect();
    eprintln!(
        "signed {} documents in {:.1} s ({})",
        docs.len(),
        started.elapsed().as_secs_f64(),
        path.as_deref().unwrap_or("generated")
    );
    let limit = WindowLimit {
        documents: Some(window),
        days: None,
    };
    let mut engine = Engine::new(&settings, limit).unwrap();
    let started = Instant::now();
    for d in &docs[..window] {
        engine.decide(&d.id, &d.signed(), None, None).unwrap();
    }
    eprintln!(
        "filled a window of {} in {:.1} s",
        engine.window_len(),
        started.elapsed().as_secs_f64()
    );

    let mut decide = Vec::with_capacity(measured);
    let mut whole = Vec::with_capacity(measured);
    let mut scratch = Scratch::default();
    let mut sig = vec![0; signer.num_perm()];
    let mut duplicates = 0;
    for d in &docs[window..] {
        let t0 = Instant::now();
        let traits = signer.sign_into(&d.text, &mut scratch, &mut sig);
        let t1 = Instant::now();
        let doc = Signed {
            sig: &sig,
            traits,
            words: &scratch.words,
            set: None,
        };
        let decision = engine.decide(&d.id, &doc, None, None).unwrap();
        let t2 = Instant::now();
        duplicates += usize::from(decision.is_duplicate());
        decide.push((t2 - t1).as_secs_f64() * 1e6);
        whole.push((t2 - t0).as_secs_f64() * 1e6);
    }
    assert_eq!(engine.window_len(), window);
    let (m, p99, max, slow) = percentiles(decide);
    let (wm, wp99, wmax, wslow) = percentiles(whole);
    println!(
        "window {window}, {measured} documents timed one by one ({duplicates} duplicates, {} \
         evicted)",
        engine.evicted()
    );
    println!(
        "decide        median {m:8.1} µs   p99 {p99:8.1} µs   max {max:9.1} µs   over 1 ms: {slow}"
    );
    println!(
        "sign+decide   median {wm:8.1} µs   p99 {wp99:8.1} µs   max {wmax:9.1} µs   over 1 ms: \
         {wslow}"
    );
}
