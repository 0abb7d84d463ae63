//! README.md's commands run as written: each ```sh block runs in a fresh folder holding a copy
//! of `samples/`, with the `mukarrar` this build made first on the PATH, and must succeed.
//!
//! A block that cannot run here has its own fence: ```sh build (commands that build or test
//! mukarrar itself, which `.ci/run` runs) and ```sh your-files (commands over the reader's own
//! files). The Python quick start is run by the Python tests (python/tests/test_docs.py).

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

/// The fences of shell blocks that this test does not run, and why.
const NOT_RUN_HERE: &[(&str, &str)] = &[
    ("sh build", "builds or tests mukarrar itself"),
    ("sh your-files", "reads the reader's own files"),
];

/// A fenced block: the line of its opening fence, its info string and its text.
struct Block {
    line: usize,
    info: String,
    body: String,
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in markdown.lines().enumerate() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => {
                open = Some(Block {
                    line: i + 1,
                    info: info.trim().to_string(),
                    body: String::new(),
                })
            }
            (Some(_), Some("")) => blocks.extend(open.take()),
            (Some(block), _) => {
                block.body.push_str(line);
                block.body.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "README.md: a code block is not closed");
    blocks
}

fn readme() -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

#[test]
fn every_sh_block_of_the_readme_runs_as_written() {
    let bin = Path::new(env!("CARGO_BIN_EXE_mukarrar"));
    let mut path = vec![bin.parent().unwrap().to_path_buf()];
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(path).unwrap();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");

    let mut ran = 0;
    let mut failures = Vec::new();
    for block in blocks(&readme()).iter().filter(|b| b.info == "sh") {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&samples, &dir.path().join("samples"));
        // Stop at the first command that fails, also inside a pipeline where the shell can.
        let script = format!(
            "set -e\nif (set -o pipefail) 2>/dev/null; then set -o pipefail; fi\n{}",
            block.body
        );
        let out = Command::new("sh")
            .arg("-c")
            .arg(&script)
            .current_dir(dir.path())
            .env("PATH", &path)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        ran += 1;
        if !out.status.success() {
            failures.push(format!(
                "README.md:{} ({}):\n{}stdout:\n{}\nstderr:\n{}",
                block.line,
                out.status,
                block.body,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(ran >= 3, "only {ran} sh blocks in README.md");
}

#[test]
fn every_shell_block_of_the_readme_is_run_here_or_says_why_not() {
    let shells = ["sh", "bash", "shell", "console", "zsh"];
    let unmarked: Vec<String> = blocks(&readme())
        .iter()
        .filter(|b| shells.contains(&b.info.split_whitespace().next().unwrap_or("")))
        .filter(|b| b.info != "sh" && !NOT_RUN_HERE.iter().any(|(fence, _)| b.info == *fence))
        .map(|b| format!("README.md:{}: ```{}", b.line, b.info))
        .collect();
    assert!(
        unmarked.is_empty(),
        "shell blocks with a fence this test does not know (```sh runs here; {}):\n{}",
        NOT_RUN_HERE
            .iter()
            .map(|(fence, why)| format!("```{fence}: {why}"))
            .collect::<Vec<_>>()
            .join("; "),
        unmarked.join("\n")
    );
}

#[test]
fn the_block_reader_finds_fences_and_their_lines() {
    let md = "text\n```sh\nmukarrar cluster a\n```\n\n```sh your-files\nmukarrar x\n```\n";
    let found = blocks(md);
    assert_eq!(found.len(), 2);
    assert_eq!((found[0].line, found[0].info.as_str()), (2, "sh"));
    assert_eq!(found[0].body, "mukarrar cluster a\n");
    assert_eq!(found[1].info, "sh your-files");
}

/// The quick start shows the report that `mukarrar cluster samples/headlines.jsonl` prints on
/// a terminal, then the summary on stderr (whose times vary): the report is today's.
#[test]
fn the_quick_start_shows_the_report_as_it_is_printed() {
    let shown = blocks(&readme())
        .into_iter()
        .find(|b| b.info.is_empty() && b.body.starts_with("cluster 0"))
        .expect("README.md: no block of `mukarrar cluster` output")
        .body;
    // The report is the part before the summary, whose lines start with a count.
    let report: Vec<&str> = shown
        .lines()
        .take_while(|l| !l.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    let printed = crate::support::run(&[
        "cluster",
        crate::support::sample("headlines.jsonl").to_str().unwrap(),
        "--format",
        "text",
    ]);
    let printed: Vec<&str> = printed.lines().map(str::trim_end).collect();
    assert_eq!(report, printed);
}
