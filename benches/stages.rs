//! Throughput of each pipeline stage, in bytes of original text per second.
//!
//! The texts are the first 2,000 articles of `../shared/corpus/saudinewsnet-dev.jsonl.gz`
//! when that file is present, otherwise the bundled `samples/labelled.jsonl` repeated.

use std::hint::black_box;
use std::io::{BufRead, BufReader};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mukarrar::cluster;
use mukarrar::lsh::{self, LshParams, Objective};
use mukarrar::minhash::{MinHashConfig, MinHasher};
use mukarrar::normalize::{Normalizer, Profile};
use mukarrar::pipeline::{self, Input, RunOptions, Scratch, Settings, Signer};
use mukarrar::progress::NoProgress;
use mukarrar::shingle::{ShingleConfig, ShingleKind, Shingler};
use mukarrar::Document;

fn texts() -> Vec<String> {
    let corpus = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/saudinewsnet-dev.jsonl.gz"
    );
    let read = |r: Box<dyn BufRead>, limit: usize| -> Vec<String> {
        r.lines()
            .take(limit)
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(&l.unwrap()).unwrap();
                format!(
                    "{}\n{}",
                    v["title"].as_str().unwrap_or(""),
                    v["text"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    if let Ok(f) = std::fs::File::open(corpus) {
        let gz = flate2::read::MultiGzDecoder::new(f);
        return read(Box::new(BufReader::new(gz)), 2000);
    }
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/labelled.jsonl");
    let one = read(
        Box::new(BufReader::new(std::fs::File::open(sample).unwrap())),
        usize::MAX,
    );
    one.iter().cycle().take(2000).cloned().collect()
}

fn stages(c: &mut Criterion) {
    let texts = texts();
    let bytes: u64 = texts.iter().map(|t| t.len() as u64).sum();
    let normalizer = Normalizer::new(Profile::Default);
    let normalized: Vec<String> = texts.iter().map(|t| normalizer.normalize(t)).collect();
    let word = Shingler::new(ShingleConfig {
        kind: ShingleKind::Word,
        n: 3,
        seed: 1,
    });
    let chars = Shingler::new(ShingleConfig {
        kind: ShingleKind::Char,
        n: 5,
        seed: 1,
    });
    let shingles: Vec<Vec<u64>> = normalized
        .iter()
        .map(|t| {
            let mut v = Vec::new();
            word.shingles(t, &mut v);
            v
        })
        .collect();
    let minhasher = MinHasher::new(MinHashConfig::default());
    let k = minhasher.num_perm();
    let signatures: Vec<u32> = shingles.iter().flat_map(|s| minhasher.sign(s)).collect();
    let params = LshParams::choose(0.5, k, Objective::Area);

    let mut g = c.benchmark_group("stages");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(20);
    g.bench_function("normalize", |b| {
        let mut out = String::new();
        b.iter(|| {
            for t in &texts {
                normalizer.normalize_into(black_box(t), &mut out);
            }
        })
    });
    g.bench_function("shingle_word3", |b| {
        let mut out = Vec::new();
        b.iter(|| {
            for t in &normalized {
                out.clear();
                word.shingles(black_box(t), &mut out);
            }
        })
    });
    g.bench_function("shingle_char5", |b| {
        let mut out = Vec::new();
        b.iter(|| {
            for t in &normalized {
                out.clear();
                chars.shingles(black_box(t), &mut out);
            }
        })
    });
    g.bench_function("minhash", |b| {
        let mut sig = vec![0u32; k];
        b.iter(|| {
            for s in &shingles {
                minhasher.sign_into(black_box(s), &mut sig);
            }
        })
    });
    g.bench_function("sign_document", |b| {
        // The whole per-document stage: references, title tags, normalize, shingle, sign.
        let signer = Signer::new(&Settings::default());
        let mut scratch = Scratch::default();
        let mut sig = vec![0u32; signer.num_perm()];
        b.iter(|| {
            for t in &texts {
                signer.sign_into(black_box(t), &mut scratch, &mut sig);
            }
        })
    });
    g.bench_function("lsh", |b| {
        b.iter(|| {
            lsh::buckets(params, texts.len(), &|_| true, &|i| {
                &signatures[i * k..(i + 1) * k]
            })
        })
    });
    g.bench_function("band_verify", |b| {
        b.iter(|| {
            let sig = |i: usize| &signatures[i * k..(i + 1) * k];
            let linked = |a: u32, b: u32| {
                mukarrar::minhash::estimate(sig(a as usize), sig(b as usize)) >= 0.5
            };
            cluster::link_bands(params, texts.len(), &|_| true, &sig, &linked)
        })
    });
    let buckets = lsh::buckets(params, texts.len(), &|_| true, &|i| {
        &signatures[i * k..(i + 1) * k]
    });
    g.bench_function("cluster", |b| {
        b.iter(|| {
            let sim = |a: u32, b: u32| {
                mukarrar::minhash::estimate(
                    &signatures[a as usize * k..(a as usize + 1) * k],
                    &signatures[b as usize * k..(b as usize + 1) * k],
                )
            };
            let mut uf = cluster::link(texts.len(), &buckets, &|a, b| sim(a, b) >= 0.5);
            cluster::groups(uf.groups(), cluster::Representative::First, &|_| 0, &sim)
        })
    });
    g.bench_function("end_to_end", |b| {
        b.iter(|| {
            let docs: Vec<mukarrar::Result<Document>> = texts
                .iter()
                .enumerate()
                .map(|(i, t)| Ok(Document::new(i.to_string(), t.clone())))
                .collect();
            pipeline::run(
                vec![Input::new("bench", docs.into_iter())],
                &Settings::default(),
                &RunOptions::default(),
                &NoProgress,
            )
            .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
