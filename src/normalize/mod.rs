//! Arabic normalization: the first stage of the pipeline.
//!
//! Copies of the same story differ in spelling conventions and encoding noise long before they
//! differ in content: أ/ا, ى/ي, ة/ه, hamza seats, diacritics, tatweel, Persian and Urdu
//! letters (ی ک, and ڤ پ گ چ for sounds Arabic lacks), presentation forms from PDFs, bidi and zero-width controls, Arabic-Indic digits, quote
//! styles. One changed token destroys up to *k* word shingles, so this stage maps all those
//! variants to one form before shingling.
//!
//! The rules (R1–R19, listed for users with examples in `docs/normalization.md`) are data (module `rules`): each says which
//! code points it maps or deletes, or which neighbour-dependent step it takes. The enabled
//! rules compile into one table (module `table`) that holds, for every code point, the
//! composition of all per-character rules in order, and the text is normalized in a single
//! pass over it (module `pass`) with an ASCII fast path. Only NFKC composition of marks, R12
//! (ي before ء), R14 (`.`/`,` between digits), R19 (script boundaries) and R3 (whitespace)
//! look at neighbours. `explain` runs the same rules one at a time (module `reference`), and
//! the tests hold the single pass to that rule-by-rule result.
//!
//! The output is words separated by exactly one ASCII space, with no leading or trailing
//! space: the shingler splits on that space.
//!
//! Profiles:
//! - [`Profile::Default`]: every rule, in the documented order.
//! - [`Profile::Light`]: what Lucene's `ArabicNormalizer` does (آ أ إ → ا, ى → ي, ة → ه,
//!   tatweel and the eight harakat deleted), plus whitespace.
//! - [`Profile::None`]: whitespace only.
//!
//! Single rules can be switched on or off with [`Normalizer::builder`].
//!
//! One detail of R12 worth knowing: it maps ؤ and ئ to ء *before* it drops
//! the ي (or ى) written before a ء, and drops a whole run of them. Done the other way round, the
//! output keeps يء wherever ي met a seat (بيئة → بيءه, يؤكد → يءكد), and normalizing the output
//! again would change it. This way the output is a fixed point, and the misspelling شيئ joins
//! شيء.
//!
//! ```
//! use mukarrar::normalize::{Normalizer, Profile};
//!
//! let n = Normalizer::new(Profile::Default);
//! assert_eq!(n.normalize("«أعلنت» الوزارةُ عن ٣٫٥ مليون"), "اعلنت الوزاره عن 3.5 مليون");
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

mod chars;
pub mod entities;
mod pass;
mod reference;
mod rules;
mod table;
pub mod title;

use rules::RuleDef;
use table::Compiled;

/// A named set of normalization rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Profile {
    /// The recommended rules for near-duplicate detection (R1–R19, R9b included).
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
            .ok_or_else(|| {
                format!("unknown normalization profile `{s}` (expected default, light or none)")
            })
    }
}

/// One change made by a rule, as reported by [`Normalizer::explain`].
///
/// Its `Display` form reads `R6 alef variants → bare alef: "أ" → "ا"`, written as
/// [`visible`] writes texts: marks as themselves, invisible characters as `⟨U+200D⟩`.
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

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: \"{}\" → \"{}\"",
            self.rule,
            self.description,
            visible(&self.from),
            visible(&self.to)
        )
    }
}

/// `text` as a reader can see it on a terminal: letters and marks as themselves, a mark that
/// has no letter to sit on (a deleted fatha, say) on a dotted circle (`◌َ`), and characters
/// that show nothing (controls, bidi and zero-width marks, whitespace other than the space)
/// spelled `⟨U+200F⟩`.
///
/// ```
/// use mukarrar::normalize::visible;
///
/// assert_eq!(visible("\u{064E}"), "◌\u{064E}");
/// assert_eq!(visible("ناصَرَ"), "ناصَرَ");
/// assert_eq!(visible("\u{200F}قال"), "⟨U+200F⟩قال");
/// ```
pub fn visible(text: &str) -> String {
    use unicode_general_category::{get_general_category, GeneralCategory as Gc};
    let mut out = String::with_capacity(text.len());
    // Whether the last character written can carry a mark.
    let mut base = false;
    for c in text.chars() {
        let gc = get_general_category(c);
        let hidden = c != ' ' && (c.is_whitespace() || matches!(gc, Gc::Control | Gc::Format));
        if hidden {
            let _ = fmt::Write::write_fmt(&mut out, format_args!("⟨U+{:04X}⟩", c as u32));
            base = false;
            continue;
        }
        let mark = matches!(gc, Gc::NonspacingMark | Gc::EnclosingMark | Gc::SpacingMark);
        if mark && !base {
            out.push('\u{25CC}');
        }
        out.push(c);
        base = c != ' ';
    }
    out
}

/// A rule as listed by [`Normalizer::rules`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    /// The rule id (e.g. `R12`), as used by [`NormalizerBuilder::rule`].
    pub id: &'static str,
    /// What the rule does.
    pub description: &'static str,
}

/// Normalizes text by a profile's rules.
///
/// Cheap to clone (the compiled table is shared) and safe to share between threads.
#[derive(Debug, Clone)]
pub struct Normalizer {
    profile: Profile,
    compiled: Arc<Compiled>,
}

impl Normalizer {
    /// A normalizer for `profile`.
    pub fn new(profile: Profile) -> Normalizer {
        Normalizer {
            profile,
            compiled: table::compiled(rules::profile_rules(profile).to_vec()),
        }
    }

    /// A builder, to switch single rules of a profile on or off.
    ///
    /// ```
    /// use mukarrar::normalize::{Normalizer, Profile};
    ///
    /// let n = Normalizer::builder().profile(Profile::Default).rule("R12", false).build()?;
    /// assert_eq!(n.normalize("مسئول"), "مسئول");
    /// # Ok::<(), String>(())
    /// ```
    pub fn builder() -> NormalizerBuilder {
        NormalizerBuilder::default()
    }

    /// The profile this normalizer started from.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The rules this normalizer applies, in order.
    pub fn rules(&self) -> Vec<RuleInfo> {
        self.compiled
            .rules
            .iter()
            .map(|r| RuleInfo {
                id: r.id,
                description: r.description,
            })
            .collect()
    }

    /// Every rule id any profile knows, in pipeline order, with the default description.
    pub fn all_rules() -> Vec<RuleInfo> {
        rules::DEFAULT_RULES
            .iter()
            .map(|r| RuleInfo {
                id: r.id,
                description: r.description,
            })
            .collect()
    }

    /// A short name for the rule set: the profile, then the rules switched off (`-R12`) or on
    /// (`+R13`) relative to it, e.g. `default -R12`. Equal names mean equal output.
    pub fn spec(&self) -> String {
        let base = rules::profile_rules(self.profile);
        let mine = &self.compiled.rules;
        let mut spec = self.profile.name().to_string();
        for r in base {
            if !mine.iter().any(|m| std::ptr::eq(*m, *r)) {
                spec.push_str(" -");
                spec.push_str(r.id);
            }
        }
        for r in mine {
            if !base.iter().any(|b| std::ptr::eq(*b, *r)) {
                spec.push_str(" +");
                spec.push_str(r.id);
            }
        }
        spec
    }

    /// Normalizes `text` into `out` (cleared first).
    pub fn normalize_into(&self, text: &str, out: &mut String) {
        pass::run(&self.compiled, text, out);
    }

    /// Normalizes `text`.
    pub fn normalize(&self, text: &str) -> String {
        let mut out = String::new();
        self.normalize_into(text, &mut out);
        out
    }

    /// The changes each rule makes to `text`, in rule order, one per distinct (rule, from, to).
    ///
    /// This runs the rules one at a time over the whole text, so it is much slower than
    /// [`Normalizer::normalize`]; it is meant for looking at single texts.
    pub fn explain(&self, text: &str) -> Vec<Change> {
        let mut log = Vec::new();
        reference::normalize(&self.compiled.rules, text, Some(&mut log));
        log
    }

    /// The rule-by-rule result, which [`Normalizer::normalize`] must equal.
    #[cfg(test)]
    fn reference(&self, text: &str) -> String {
        reference::normalize(&self.compiled.rules, text, None)
    }
}

/// Builds a [`Normalizer`] from a profile and single-rule switches.
#[derive(Debug, Clone, Default)]
pub struct NormalizerBuilder {
    profile: Profile,
    switches: Vec<(String, bool)>,
}

impl NormalizerBuilder {
    /// The profile to start from (default: [`Profile::Default`]).
    pub fn profile(mut self, profile: Profile) -> NormalizerBuilder {
        self.profile = profile;
        self
    }

    /// Switches rule `id` (e.g. `"R12"`) on or off. A rule switched on that the profile lacks
    /// takes its place in the pipeline order. Later switches of the same rule win.
    pub fn rule(mut self, id: &str, enabled: bool) -> NormalizerBuilder {
        self.switches.push((id.to_string(), enabled));
        self
    }

    /// The normalizer, or a message naming an unknown rule id or a rule that cannot be
    /// switched off.
    pub fn build(self) -> Result<Normalizer, String> {
        let mut chosen: Vec<&'static RuleDef> = rules::profile_rules(self.profile).to_vec();
        for (id, enabled) in &self.switches {
            if rules::rank(id).is_none() {
                let known: Vec<_> = rules::rule_ids().collect();
                return Err(format!(
                    "unknown normalization rule `{id}` (known rules: {})",
                    known.join(", ")
                ));
            }
            if id == "R3" && !enabled {
                return Err(
                    "rule R3 (whitespace) cannot be switched off: the output is always words \
                     separated by single spaces"
                        .to_string(),
                );
            }
            let present = chosen.iter().position(|r| r.id == id);
            match (present, enabled) {
                (Some(pos), false) => {
                    chosen.remove(pos);
                }
                (None, true) => {
                    // The profile's own definition of the rule if it has one (light's R6 is
                    // Lucene's), else the default one.
                    let def = rules::profile_rules(self.profile)
                        .iter()
                        .chain(rules::DEFAULT_RULES.iter())
                        .find(|r| r.id == id)
                        .expect("rank() found the id");
                    chosen.push(def);
                    chosen.sort_by_key(|r| rules::rank(r.id));
                }
                _ => {}
            }
        }
        Ok(Normalizer {
            profile: self.profile,
            compiled: table::compiled(chosen),
        })
    }
}

#[cfg(test)]
mod tests;
