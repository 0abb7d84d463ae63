//! Tests that need programs besides Rust: headless Chromium for the HTML report
//! (`browser.rs`), Java and pyspark for the Spark job (`sign_spark.rs`).
//!
//! This binary has its own runner (`harness = false`) so that a test whose program is missing
//! is reported as *skipped*, with the reason and the way to enable it, and counted apart from
//! the tests that passed:
//!
//! ```text
//! test browser::the_headlines_report_loads_with_no_errors_and_no_requests ... skipped: Chromium not found (…)
//! test result: ok. 1 passed; 0 failed; 7 skipped; 2 ignored; 0 filtered out
//! ```
//!
//! Where the environment says the programs are there — `CI` set to anything non-empty, or
//! `MUKARRAR_REQUIRE=1` — a missing program fails the test instead. `MUKARRAR_CHROMIUM` and
//! `MUKARRAR_SPARK_PYTHON` name the programs, or `none` to run as if they were absent.
//!
//! The runner reads the usual arguments of `cargo test -- ARGS`: name filters, `--exact`,
//! `--skip NAME`, `--ignored`, `--include-ignored`, `--list`; the others are accepted and
//! have no effect (tests run one at a time, output is not captured).

mod browser;
mod cdp;
mod sign_spark;

use std::fmt::Write as _;
use std::io::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// A program a test needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Chromium,
    Java,
    Pyspark,
}

/// One test: its name (`module::function`), what it needs, whether it runs only when asked
/// (`--ignored`, with the reason), and its body, which panics to fail.
pub struct Test {
    pub name: &'static str,
    pub needs: &'static [Need],
    pub ignored: Option<&'static str>,
    pub run: fn(),
}

/// Whether a missing program is a failure here rather than a skip.
fn required() -> Option<&'static str> {
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        Some("CI is set")
    } else if std::env::var_os("MUKARRAR_REQUIRE").is_some_and(|v| v == "1") {
        Some("MUKARRAR_REQUIRE=1")
    } else {
        None
    }
}

/// Where Chromium is (`cdp::find_chromium`), or why there is none.
pub fn chromium() -> Result<PathBuf, String> {
    cdp::find_chromium().map_err(|why| {
        format!("{why} (apt-get install chromium, or MUKARRAR_CHROMIUM=/path/to/chromium)")
    })
}

/// The Python that runs the Spark job: `$MUKARRAR_SPARK_PYTHON`, else `python3` if it imports
/// pyspark.
pub fn spark_python() -> Result<PathBuf, String> {
    const HOW: &str = "python3 -m venv .venv-spark && .venv-spark/bin/pip install -r \
                       contrib/spark/requirements.txt, then MUKARRAR_SPARK_PYTHON=.venv-spark/bin/python";
    match std::env::var_os("MUKARRAR_SPARK_PYTHON") {
        Some(v) if v == "none" => Err(format!("MUKARRAR_SPARK_PYTHON=none ({HOW})")),
        Some(v) if !v.is_empty() => Ok(PathBuf::from(v)),
        _ => {
            let imports = Command::new("python3")
                .args(["-c", "import pyspark"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if imports {
                Ok(PathBuf::from("python3"))
            } else {
                Err(format!(
                    "pyspark not found: MUKARRAR_SPARK_PYTHON is not set and python3 does not \
                     import pyspark ({HOW})"
                ))
            }
        }
    }
}

/// Java for Spark: `$JAVA_HOME/bin/java`, else `java` on the PATH.
fn java() -> Result<PathBuf, String> {
    const HOW: &str = "apt-get install openjdk-17-jre-headless, or JAVA_HOME=/path/to/jdk";
    if let Some(home) = std::env::var_os("JAVA_HOME").filter(|h| !h.is_empty()) {
        let java = Path::new(&home).join("bin/java");
        return if java.is_file() {
            Ok(java)
        } else {
            Err(format!("Java not found: no {} ({HOW})", java.display()))
        };
    }
    on_path(&["java"]).ok_or_else(|| format!("Java not found on the PATH ({HOW})"))
}

/// The first of `names` found in a folder of the PATH.
pub fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

fn check(need: Need) -> Result<(), String> {
    match need {
        Need::Chromium => chromium().map(drop),
        Need::Java => java().map(drop),
        Need::Pyspark => spark_python().map(drop),
    }
}

/// What `cargo test -- ARGS` asked for.
#[derive(Default)]
struct Options {
    filters: Vec<String>,
    skip: Vec<String>,
    exact: bool,
    ignored: bool,
    include_ignored: bool,
    list: bool,
    bench: bool,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Options {
        let mut o = Options::default();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--exact" => o.exact = true,
                "--ignored" => o.ignored = true,
                "--include-ignored" => o.include_ignored = true,
                "--list" => o.list = true,
                "--bench" => o.bench = true,
                "--skip" => o.skip.extend(args.next()),
                // libtest options with a value, which this runner has no use for.
                "--test-threads" | "--color" | "--format" | "--logfile" | "-Z"
                | "--shuffle-seed" => {
                    args.next();
                }
                a if a.starts_with("--skip=") => o.skip.push(a["--skip=".len()..].to_string()),
                a if a.starts_with('-') => {}
                _ => o.filters.push(arg),
            }
        }
        o
    }

    fn selects(&self, name: &str) -> bool {
        let hit = |f: &String| {
            if self.exact {
                name == f
            } else {
                name.contains(f.as_str())
            }
        };
        (self.filters.is_empty() || self.filters.iter().any(hit)) && !self.skip.iter().any(hit)
    }
}

fn main() -> ExitCode {
    let options = Options::parse(std::env::args().skip(1));
    if options.bench {
        return ExitCode::SUCCESS;
    }
    let tests = [browser::TESTS, cdp::TESTS, sign_spark::TESTS, TESTS]
        .into_iter()
        .flatten();
    let (selected, filtered_out): (Vec<&Test>, Vec<&Test>) = tests
        .into_iter()
        .partition(|t| options.selects(t.name) && (!options.ignored || t.ignored.is_some()));
    if options.list {
        for t in &selected {
            println!("{}: test", t.name);
        }
        return ExitCode::SUCCESS;
    }

    let required = required();
    let (mut passed, mut skipped, mut ignored) = (0, 0, 0);
    let mut failed: Vec<&str> = Vec::new();
    let n = selected.len();
    println!("\nrunning {n} test{}", if n == 1 { "" } else { "s" });
    for t in &selected {
        let run_ignored = options.ignored || options.include_ignored;
        if let Some(why) = t.ignored.filter(|_| !run_ignored) {
            println!("test {} ... ignored, {why}", t.name);
            ignored += 1;
            continue;
        }
        let missing: Vec<String> = t.needs.iter().filter_map(|&n| check(n).err()).collect();
        if !missing.is_empty() {
            let why = missing.join("; ");
            match required {
                Some(because) => {
                    println!("test {} ... FAILED: required ({because}): {why}", t.name);
                    failed.push(t.name);
                }
                None => {
                    println!("test {} ... skipped: {why}", t.name);
                    skipped += 1;
                }
            }
            continue;
        }
        print!("test {} ... ", t.name);
        std::io::stdout().flush().ok();
        if catch_unwind(AssertUnwindSafe(t.run)).is_ok() {
            println!("ok");
            passed += 1;
        } else {
            println!("FAILED");
            failed.push(t.name);
        }
    }

    let mut summary = String::new();
    if !failed.is_empty() {
        summary.push_str("\nfailures:\n");
        for name in &failed {
            writeln!(summary, "    {name}").unwrap();
        }
    }
    if skipped > 0 {
        writeln!(
            summary,
            "\n{skipped} skipped: a program they need is missing (see each line); where CI is set \
             or MUKARRAR_REQUIRE=1, that is a failure"
        )
        .unwrap();
    }
    let status = if failed.is_empty() { "ok" } else { "FAILED" };
    println!(
        "{summary}\ntest result: {status}. {passed} passed; {} failed; {skipped} skipped; \
         {ignored} ignored; {} filtered out\n",
        failed.len(),
        filtered_out.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

const TESTS: &[Test] = &[Test {
    name: "runner::every_test_function_is_listed",
    needs: &[],
    ignored: None,
    run: every_test_function_is_listed,
}];

/// `#[test]` does nothing in this binary (it has no libtest harness): a function so marked
/// would never run. Each test is listed in its module's `TESTS` instead.
fn every_test_function_is_listed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/external");
    let mut marked = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.starts_with("#[test]") || line.starts_with("#[ignore") {
                    marked.push(format!("{}:{}: {line}", path.display(), i + 1));
                }
            }
        }
    }
    assert!(
        marked.is_empty(),
        "these attributes have no effect in tests/external (no libtest harness); list the \
         function in its module's TESTS instead:\n{}",
        marked.join("\n")
    );
}
