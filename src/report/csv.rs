//! The CSV contract: `cluster_id,doc_id,similarity,is_representative`, read by evaluation
//! scripts and other tools.

use std::io::{self, Write};

use super::Report;

/// The header row.
pub const HEADER: [&str; 4] = ["cluster_id", "doc_id", "similarity", "is_representative"];

pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record(HEADER).map_err(into_io)?;
    for c in &report.clusters {
        let id = c.id.to_string();
        for m in &c.members {
            let sim = format!("{:.4}", m.similarity);
            let rep = if m.is_representative { "true" } else { "false" };
            w.write_record([id.as_str(), m.id.as_str(), sim.as_str(), rep])
                .map_err(into_io)?;
        }
    }
    w.flush()
}

fn into_io(e: ::csv::Error) -> io::Error {
    match e.into_kind() {
        ::csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}
