//! The report for people: each cluster, its members' ids, similarity and first words.

use std::io::{self, Write};

use super::Report;

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
            "(empty after normalization)"
        } else {
            self.preview
        };
        writeln!(
            out,
            "  {marks} {:<width$}  {:.3}  {}",
            self.id, self.similarity, preview
        )
    }
}

pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let width = report
        .clusters
        .iter()
        .flat_map(|c| c.members.iter().map(|m| m.id.chars().count()))
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
