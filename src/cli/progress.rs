//! Progress bars and warnings on stderr, behind the library's `Progress` trait.
//!
//! Bars are drawn only when stderr is a terminal and `--quiet` is not given; otherwise the
//! bar is hidden and callers never have to ask. A stage shows only what is known of it: its
//! name and elapsed time until work is counted, then a bar (when its size is known) or a
//! count with a whole-number rate. A finished stage's line is erased, so that what stays on
//! the screen at the end is the summary, never a stale `0/42`.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{HumanCount, ProgressBar, ProgressState, ProgressStyle};
use mukarrar::progress::Progress;

/// How many skipped-record warnings are printed before they are only counted.
const MAX_WARNINGS: usize = 20;

/// Progress on stderr.
pub struct Bars {
    quiet: bool,
    draw: bool,
    bar: Mutex<Option<Stage>>,
    warnings: AtomicUsize,
    /// The first record skipped, for a message about a run that read nothing.
    first_warning: Mutex<Option<String>>,
}

/// The stage on screen.
struct Stage {
    bar: ProgressBar,
    /// Its size, when known.
    total: Option<u64>,
    /// Whether any work was counted yet (until then only the name and time are shown).
    counted: bool,
}

impl Bars {
    pub fn new(quiet: bool) -> Bars {
        Bars {
            quiet,
            draw: !quiet && std::io::stderr().is_terminal(),
            bar: Mutex::new(None),
            warnings: AtomicUsize::new(0),
            first_warning: Mutex::new(None),
        }
    }

    /// The first skipped record's error, if any record was skipped.
    pub fn first_warning(&self) -> Option<String> {
        self.first_warning.lock().unwrap().clone()
    }

    /// Prints a line on stderr without tearing a bar.
    pub fn message(&self, line: &str) {
        if self.quiet {
            return;
        }
        match self.bar.lock().unwrap().as_ref() {
            Some(stage) => stage.bar.suspend(|| stderr_line(line)),
            None => stderr_line(line),
        }
    }
}

/// The styles of a stage: before anything is counted, with a known size, and counting
/// documents of an unknown total.
fn style(kind: Style) -> ProgressStyle {
    let template = match kind {
        Style::Waiting => "{prefix:>14} {spinner} {elapsed}",
        Style::Bar => "{prefix:>14} [{bar:30}] {human_pos}/{human_len} {elapsed} eta {eta}",
        Style::Count => "{prefix:>14} {spinner} {human_pos} documents, {rate}, {elapsed}",
    };
    ProgressStyle::with_template(template)
        .expect("the templates are valid")
        .progress_chars("=> ")
        .with_key(
            "rate",
            |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}/s", rate(state.per_sec()));
            },
        )
}

#[derive(Clone, Copy)]
enum Style {
    Waiting,
    Bar,
    Count,
}

/// A rate as a whole number with thousands separators (`5,595`), the way people read it.
fn rate(per_second: f64) -> HumanCount {
    HumanCount(if per_second.is_finite() && per_second > 0.0 {
        per_second.round() as u64
    } else {
        0
    })
}

/// Writes `line` and a line break to stderr, its control characters escaped (an id or a file
/// name cannot drive the terminal). A failed write (stderr a full disk or a closed pipe) is
/// ignored: a message is never worth a panic or a changed exit status.
pub fn stderr_line(line: &str) {
    labelled_stderr_line("", line);
}

/// [`stderr_line`] after `label`, which is written as it is (it may hold colour codes).
pub fn labelled_stderr_line(label: &str, line: &str) {
    let line = mukarrar::report::printable(line);
    let mut err = std::io::stderr().lock();
    let _ = err
        .write_all(label.as_bytes())
        .and_then(|()| err.write_all(line.as_bytes()))
        .and_then(|()| err.write_all(b"\n"));
}

impl Progress for Bars {
    fn start(&self, stage: mukarrar::progress::Stage, total: Option<u64>) {
        if !self.draw {
            return;
        }
        let bar = ProgressBar::new(total.unwrap_or(0)).with_style(style(Style::Waiting));
        bar.set_prefix(stage.name());
        bar.enable_steady_tick(Duration::from_millis(120));
        let mut current = self.bar.lock().unwrap();
        // A stage that was never finished must not stay on the screen under the next one.
        if let Some(old) = current.replace(Stage {
            bar,
            total,
            counted: false,
        }) {
            old.bar.finish_and_clear();
        }
    }

    fn advance(&self, n: u64) {
        if let Some(stage) = self.bar.lock().unwrap().as_mut() {
            if !stage.counted {
                stage.counted = true;
                let kind = if stage.total.is_some() {
                    Style::Bar
                } else {
                    Style::Count
                };
                stage.bar.set_style(style(kind));
            }
            stage.bar.inc(n);
        }
    }

    fn finish(&self, _stage: mukarrar::progress::Stage) {
        if let Some(stage) = self.bar.lock().unwrap().take() {
            stage.bar.finish_and_clear();
        }
    }

    fn warn(&self, error: &mukarrar::Error) {
        self.first_warning
            .lock()
            .unwrap()
            .get_or_insert_with(|| error.to_string());
        let n = self.warnings.fetch_add(1, Ordering::Relaxed) + 1;
        if n <= MAX_WARNINGS {
            self.message(&format!("warning: skipped {error}"));
        } else if n == MAX_WARNINGS + 1 {
            self.message("warning: more records skipped; the summary gives the count");
        }
    }
}

impl Drop for Bars {
    /// A run that stops early (an error, an interruption) takes its bar off the screen too.
    fn drop(&mut self) {
        if let Some(stage) = self.bar.get_mut().unwrap().take() {
            stage.bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_whole_numbers() {
        assert_eq!(rate(5_595.173_2).to_string(), "5,595");
        assert_eq!(rate(0.4).to_string(), "0");
        assert_eq!(rate(f64::NAN).to_string(), "0");
        assert_eq!(rate(f64::INFINITY).to_string(), "0");
    }
}
