//! `mukarrar params`: the LSH bands × rows for a threshold, and the S-curve they give.

use crate::cli::args::LshArgs;
use crate::cli::{Global, Status};

/// Show the LSH bands × rows chosen for a threshold and the S-curve they give.
///
/// Two documents become candidates when all rows of at least one band of their signatures
/// agree; for Jaccard similarity s that happens with probability 1 − (1 − sʳ)ᵇ. The table
/// shows that probability for s = 0.1 … 1.0, so you can see how many near-misses become
/// candidates and how many true duplicates are missed before verification.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mukarrar params --threshold 0.7 --num-perm 128
  mukarrar params --threshold 0.5 --num-perm 256 --lsh-objective recall
  mukarrar params --num-perm 128 --bands 16 --rows 8")]
pub struct Args {
    #[command(flatten)]
    pub lsh: LshArgs,

    /// Signature length (MinHash permutations, 1 to 4096).
    #[arg(long, value_name = "K", default_value_t = mukarrar::minhash::MinHashConfig::default().num_perm,
          value_parser = crate::cli::args::count, allow_negative_numbers = true)]
    pub num_perm: usize,
}

pub fn run(args: &Args, _global: &Global) -> anyhow::Result<Status> {
    // Checks the threshold, --num-perm, --bands and --rows as every command does.
    let p = args.lsh.params(args.lsh.threshold, args.num_perm)?;
    let t = args.lsh.threshold;
    let mut out = String::new();
    out.push_str(&format!(
        "threshold {t}, num_perm {}, objective {}\n",
        args.num_perm, args.lsh.lsh_objective
    ));
    out.push_str(&format!(
        "bands b = {}, rows r = {} (uses {} of {} signature slots)\n",
        p.bands,
        p.rows,
        p.bands * p.rows,
        args.num_perm
    ));
    out.push_str(&format!(
        "false-positive area {:.4}, false-negative area {:.4}\n",
        p.false_positive_area(t),
        p.false_negative_area(t)
    ));
    // The word flags are checked as every command checks them.
    mukarrar::settings::Options {
        threshold: t,
        num_perm: args.num_perm,
        word_low: args.lsh.word_low,
        word_threshold: args.lsh.word_threshold,
        ..Default::default()
    }
    .settings()?;
    let low = args.lsh.word_low;
    if low < t {
        out.push_str(&format!(
            "word check: long texts from {low} to {t} are duplicates when their word sets \
             reach {}; a pair at {low} is a candidate with P {:.4}\n",
            args.lsh.word_threshold,
            p.probability(low)
        ));
    }
    out.push('\n');
    out.push_str("similarity  P(candidate)\n");
    for i in 1..=10 {
        let s = i as f64 / 10.0;
        let prob = p.probability(s);
        let bar = "#".repeat((prob * 40.0).round() as usize);
        out.push_str(&format!("{s:>10.1}  {prob:>12.4}  {bar}\n"));
    }
    crate::cli::output::write_to(None, |w| w.write_all(out.as_bytes()))?;
    Ok(Status::Ok)
}
