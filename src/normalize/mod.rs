//! Arabic normalization (placeholder: collapses whitespace only; the full rule set replaces it).

use std::fmt;
use std::str::FromStr;

/// A named set of normalization rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Profile {
    /// The recommended rules for near-duplicate detection (R1–R19).
    #[default]
    Default,
    /// What Lucene's `ArabicNormalizer` does.
    Light,
    /// No normalization beyond whitespace.
    None,
}

impl Profile {
    /// Every profile, in the order `--help` lists them.
    pub const ALL: [Profile; 3] = [Profile::Default, Profile::Light, Profile::None];

    /// The profile's name as written on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Default => "default",
            Profile::Light => "light",
            Profile::None => "none",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Profile, String> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| format!("unknown normalization profile `{s}` (expected default, light or none)"))
    }
}

/// One change made by a rule, as reported by [`Normalizer::explain`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The rule id (e.g. `R6`).
    pub rule: &'static str,
    /// What the rule does.
    pub description: &'static str,
    /// The text before.
    pub from: String,
    /// The text after (empty when deleted).
    pub to: String,
}

/// Normalizes text by a profile's rules.
#[derive(Debug, Clone)]
pub struct Normalizer {
    profile: Profile,
}

impl Normalizer {
    /// A normalizer for `profile`.
    pub fn new(profile: Profile) -> Normalizer {
        Normalizer { profile }
    }

    /// The profile this normalizer applies.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// Normalizes `text` into `out` (cleared first).
    pub fn normalize_into(&self, text: &str, out: &mut String) {
        out.clear();
        for w in text.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(w);
        }
    }

    /// Normalizes `text`.
    pub fn normalize(&self, text: &str) -> String {
        let mut out = String::new();
        self.normalize_into(text, &mut out);
        out
    }

    /// The changes each rule makes to `text`.
    pub fn explain(&self, _text: &str) -> Vec<Change> {
        Vec::new()
    }
}
