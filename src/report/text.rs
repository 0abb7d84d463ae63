//! The report for people: each cluster, its members' ids, similarity and first words.

use std::io::{self, Write};

use super::Report;

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
            let mark = if m.is_representative { '*' } else { ' ' };
            let preview = if m.empty {
                "(empty after normalization)"
            } else {
                &m.preview
            };
            writeln!(
                out,
                "  {mark} {:<width$}  {:.3}  {}",
                m.id, m.similarity, preview
            )?;
        }
    }
    if report.clusters.is_empty() {
        writeln!(out, "no clusters")?;
    }
    Ok(())
}
