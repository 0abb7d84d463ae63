//! Progress bars and warnings on stderr, behind the library's `Progress` trait.
//!
//! Bars are drawn only when stderr is a terminal and `--quiet` is not given; otherwise the
//! bar is hidden and callers never have to ask.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use mukarrar::progress::{Progress, Stage};

/// How many skipped-record warnings are printed before they are only counted.
const MAX_WARNINGS: usize = 20;

/// Progress on stderr.
pub struct Bars {
    quiet: bool,
    draw: bool,
    bar: Mutex<Option<ProgressBar>>,
    warnings: AtomicUsize,
}

impl Bars {
    pub fn new(quiet: bool) -> Bars {
        Bars {
            quiet,
            draw: !quiet && std::io::stderr().is_terminal(),
            bar: Mutex::new(None),
            warnings: AtomicUsize::new(0),
        }
    }

    /// Prints a line on stderr without tearing a bar.
    pub fn message(&self, line: &str) {
        if self.quiet {
            return;
        }
        match self.bar.lock().unwrap().as_ref() {
            Some(bar) => bar.suspend(|| stderr_line(line)),
            None => stderr_line(line),
        }
    }
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
    fn start(&self, stage: Stage, total: Option<u64>) {
        if !self.draw {
            return;
        }
        let bar = match total {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template(
                    "{prefix:>14} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta}",
                )
                .unwrap()
                .progress_chars("=> "),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template(
                    "{prefix:>14} {spinner} {human_pos} documents, {per_sec}, {elapsed_precise}",
                )
                .unwrap(),
            ),
        };
        bar.set_prefix(stage.name());
        bar.enable_steady_tick(Duration::from_millis(120));
        *self.bar.lock().unwrap() = Some(bar);
    }

    fn advance(&self, n: u64) {
        if let Some(bar) = self.bar.lock().unwrap().as_ref() {
            bar.inc(n);
        }
    }

    fn finish(&self, _stage: Stage) {
        if let Some(bar) = self.bar.lock().unwrap().take() {
            bar.finish_and_clear();
        }
    }

    fn warn(&self, error: &mukarrar::Error) {
        let n = self.warnings.fetch_add(1, Ordering::Relaxed) + 1;
        if n <= MAX_WARNINGS {
            self.message(&format!("warning: skipped {error}"));
        } else if n == MAX_WARNINGS + 1 {
            self.message("warning: more records skipped; the summary gives the count");
        }
    }
}
