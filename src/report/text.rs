//! The report for people: each cluster, its members' ids, similarity and first words.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::Report;

/// `s` with its control characters (C0, DEL, C1) escaped as `\n`, `\r`, `\t` or `\u{1b}`,
/// so that an id, a file name or a text shown on a terminal can neither move the cursor,
/// retitle the window or clear the screen nor break a line of the layout. Everything else,
/// Arabic and its direction marks included, is kept as it is.
///
/// ```
/// use mukarrar::report::printable;
/// assert_eq!(printable("a\x1b]0;x\x07\nb"), "a\\u{1b}]0;x\\u{7}\\nb");
/// assert_eq!(printable("خبر عاجل"), "خبر عاجل");
/// ```
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// One member of a cluster as a line of a text report.
pub(crate) struct MemberLine<'a> {
    pub id: &'a str,
    pub similarity: f64,
    pub preview: &'a str,
    /// Empty after normalization: said instead of the (blank) preview.
    pub empty: bool,
}

impl MemberLine<'_> {
    /// Writes `  MARKS ID  SIMILARITY  FIRST WORDS`, the id padded to `width`.
    pub(crate) fn write(&self, out: &mut dyn Write, marks: &str, width: usize) -> io::Result<()> {
        let preview = if self.empty {
            "(empty after normalization)".into()
        } else {
            printable(self.preview)
        };
        writeln!(
            out,
            "  {marks} {:<width$}  {:.3}  {}",
            printable(self.id),
            self.similarity,
            preview
        )
    }
}

pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let width = report
        .clusters
        .iter()
        .flat_map(|c| c.members.iter().map(|m| printable(&m.id).chars().count()))
        .max()
        .unwrap_or(0)
        .min(40);
    for (i, c) in report.clusters.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let noun = if c.size == 1 { "document" } else { "documents" };
        writeln!(out, "cluster {} ({} {noun})", c.id, c.size)?;
        for m in &c.members {
            let mark = if m.is_representative { "*" } else { " " };
            let line = MemberLine {
                id: &m.id,
                similarity: m.similarity,
                preview: &m.preview,
                empty: m.empty,
            };
            line.write(out, mark, width)?;
        }
    }
    if report.clusters.is_empty() {
        writeln!(out, "no clusters")?;
    }
    Ok(())
}
