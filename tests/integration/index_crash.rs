//! Crash safety and concurrent readers of `mukarrar index`: a writer killed with SIGKILL at
//! random moments leaves the index as of its last commit, and a reader working while a writer
//! adds sees one committed state at a time.

use crate::support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use support::*;
use tempfile::TempDir;

const BATCH: usize = 25;

/// Starts `mukarrar index add` with small batches; a thread sends each batch number the child
/// reports as committed, and ends when the child's stderr closes.
fn spawn_add(
    db: &Path,
    input: &Path,
) -> (
    std::process::Child,
    mpsc::Receiver<u64>,
    std::thread::JoinHandle<()>,
) {
    let mut child = Command::new(bin())
        .args(["index", "add", s(db), s(input), "--format", "csv", "-o"])
        .arg(db.with_extension("report.csv"))
        .args(["--batch-size", &BATCH.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("committed batch ") {
                let _ = tx.send(rest.split(':').next().unwrap().parse().unwrap());
            }
        }
    });
    (child, rx, reader)
}

/// A seed from the clock (printed by the tests that use it, to replay a failure).
fn clock_seed() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1
}

/// `n` generated documents written to `in.jsonl` in `dir`.
fn input_of(dir: &TempDir, n: usize, seed: u64) -> (Vec<String>, std::path::PathBuf) {
    let lines = corpus(n, seed);
    let input = dir.path().join("in.jsonl");
    write_lines(&input, &lines);
    (lines, input)
}

fn batch_count(db: &Path) -> usize {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM batches", [], |r| r.get(0))
        .unwrap();
    n as usize
}

/// Checks that the index is sound and holds exactly the first whole batches of `ids`, one
/// `batches` row each, and returns how many.
fn whole_batches(db: &Path, ids: &[String]) -> usize {
    assert_eq!(integrity(db), "ok");
    let stored = stored_ids(db);
    assert!(
        stored.len() % BATCH == 0 || stored.len() == ids.len(),
        "{} documents stored: not whole batches of {BATCH}",
        stored.len()
    );
    assert_eq!(
        stored,
        ids[..stored.len()],
        "the stored ids are a prefix of the input"
    );
    let held = stored.len().div_ceil(BATCH);
    assert_eq!(batch_count(db), held);
    held
}

#[test]
fn a_writer_killed_at_random_moments_leaves_the_last_commit() {
    let dir = TempDir::new().unwrap();
    let lines = corpus(3000, 11);
    let ids: Vec<String> = (0..lines.len()).map(|i| format!("g{i:05}")).collect();
    let input = dir.path().join("in.jsonl");
    write_lines(&input, &lines);
    let once = run(&[
        "cluster",
        s(&input),
        "--format",
        "csv",
        "--normalize",
        "none",
    ]);
    let db = dir.path().join("i.db");

    let seed = clock_seed();
    let mut rng = Rng(seed);
    let mut kills = 0;
    let mut held_after = Vec::new();
    while kills < 21 {
        if !db.exists() {
            run(&["index", "create", s(&db), "--normalize", "none"]);
        }
        let before = batch_count(&db);
        let (mut child, commits, reader) = spawn_add(&db, &input);
        let mut reported = 0;
        if rng.below(4) == 0 {
            // Any moment, start-up and the first batch included.
            std::thread::sleep(Duration::from_millis(rng.below(400)));
        } else {
            // A moment while batches are being written.
            if commits.recv_timeout(Duration::from_secs(20)).is_ok() {
                reported += 1;
            }
            std::thread::sleep(Duration::from_millis(rng.below(200)));
        }
        if child.try_wait().unwrap().is_none() {
            kills += 1;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();
        reported += commits.try_iter().count();
        let held = whole_batches(&db, &ids);
        // Every batch reported committed is there, and at most one more (committed, then
        // killed before it was reported).
        assert!(
            held >= before + reported && held <= before + reported + 1,
            "seed {seed}: {before} batches before, {reported} reported, {held} held"
        );
        held_after.push(held);
        if held * BATCH >= ids.len() {
            // Completed through kills and restarts: the same clusters as one run; start over.
            let export = run(&["index", "export", s(&db), "--format", "csv"]);
            assert_eq!(export, once, "seed {seed}");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", s(&db)));
            }
        }
    }
    eprintln!("seed {seed}: {kills} kills; batches held after each run: {held_after:?}");

    // Running the same input again completes it, and the result is the one-run result.
    if !db.exists() {
        run(&["index", "create", s(&db), "--normalize", "none"]);
    }
    run(&["index", "add", s(&db), s(&input)]);
    assert_eq!(stored_ids(&db), ids);
    assert_eq!(integrity(&db), "ok");
    let export = run(&["index", "export", s(&db), "--format", "csv"]);
    assert_eq!(export, once, "seed {seed}");
}

#[test]
fn a_reader_sees_one_committed_state_while_a_writer_adds() {
    let dir = TempDir::new().unwrap();
    let (lines, input) = input_of(&dir, 1500, 5);
    let probe = dir.path().join("probe.jsonl");
    // Copies of documents from all over the input, under new ids.
    let probes: Vec<String> = (0..lines.len())
        .step_by(97)
        .map(|i| lines[i].replacen("\"g", "\"probe-g", 1))
        .collect();
    write_lines(&probe, &probes);
    let db = dir.path().join("i.db");
    run(&["index", "create", s(&db), "--normalize", "none"]);

    let (mut writer, _, reader) = spawn_add(&db, &input);
    let mut exports: Vec<String> = Vec::new();
    let mut queries: Vec<String> = Vec::new();
    loop {
        let done = writer.try_wait().unwrap().is_some();
        exports.push(run(&[
            "index",
            "export",
            s(&db),
            "--format",
            "csv",
            "--include-singletons",
        ]));
        queries.push(run(&[
            "index",
            "query",
            s(&db),
            s(&probe),
            "--format",
            "json",
        ]));
        if done {
            break;
        }
    }
    assert!(writer.wait().unwrap().success());
    reader.join().unwrap();

    // Each answer is the answer for a prefix of whole batches: the export equals `cluster`
    // over that prefix, and the query equals a query against an index of just that prefix.
    let mut states = Vec::new();
    for (export, query) in exports.iter().zip(&queries) {
        let q: serde_json::Value = serde_json::from_str(query).unwrap();
        let n = export.lines().count() - 1;
        let k = q["stats"]["indexed"].as_u64().unwrap() as usize;
        for k in [n, k] {
            assert!(
                k % BATCH == 0 || k == lines.len(),
                "{k} documents: not whole batches"
            );
        }
        states.push((n, k, export, q));
    }
    let mut sizes: Vec<usize> = states.iter().flat_map(|s| [s.0, s.1]).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let expected = prefix_answers(dir.path(), &lines, &sizes, &probe);
    for (n, k, export, q) in &states {
        assert_eq!(*export, &expected[n].0, "export of {n} documents");
        let want: serde_json::Value = serde_json::from_str(&expected[k].1).unwrap();
        assert_eq!(
            q["clusters"], want["clusters"],
            "query against {k} documents"
        );
    }
    let seen: Vec<(usize, usize)> = states.iter().map(|s| (s.0, s.1)).collect();
    eprintln!("states seen (export, query): {seen:?}");
}

/// For each of `sizes` (ascending): the export of an index holding the first `size` lines, as
/// `cluster` gives it, and the answer of a query against such an index.
fn prefix_answers(
    dir: &Path,
    lines: &[String],
    sizes: &[usize],
    probe: &Path,
) -> HashMap<usize, (String, String)> {
    let db = dir.join("prefix.db");
    run(&["index", "create", s(&db), "--normalize", "none"]);
    let mut out = HashMap::new();
    let mut held = 0;
    for &n in sizes {
        let prefix = dir.join(format!("prefix-{n}.jsonl"));
        write_lines(&prefix, &lines[..n]);
        let export = if n > 0 {
            let slice = dir.join(format!("slice-{n}.jsonl"));
            write_lines(&slice, &lines[held..n]);
            run(&["index", "add", s(&db), s(&slice)]);
            held = n;
            run(&[
                "cluster",
                s(&prefix),
                "--format",
                "csv",
                "--include-singletons",
                "--normalize",
                "none",
            ])
        } else {
            "cluster_id,doc_id,similarity,is_representative\n".to_string()
        };
        let query = run(&["index", "query", s(&db), s(probe), "--format", "json"]);
        out.insert(n, (export, query));
    }
    out
}

/// `filter --db --add` killed with SIGKILL at random moments: the index stays sound, holds
/// whole batches (each batch row counts exactly its documents), and running the same input
/// again stores exactly what one uninterrupted run stores.
#[test]
fn a_filter_adding_to_an_index_killed_at_random_moments_leaves_whole_batches() {
    let dir = TempDir::new().unwrap();
    let (_, input) = input_of(&dir, 1500, 17);
    let filter = |db: &Path| {
        Command::new(bin())
            .args(["-q", "filter", s(&input), "--db", s(db), "--add"])
            .args(["--batch-size", &BATCH.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let sound = |db: &Path| {
        assert_eq!(integrity(db), "ok");
        let conn =
            rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap();
        let (stored, counted): (i64, i64) = conn
            .query_row(
                "SELECT (SELECT count(*) FROM documents), \
                 (SELECT coalesce(sum(documents), 0) FROM batches)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            stored, counted,
            "every stored document is in a committed batch"
        );
    };

    let whole = dir.path().join("whole.db");
    run(&["index", "create", s(&whole), "--normalize", "none"]);
    let started = std::time::Instant::now();
    assert!(filter(&whole).wait().unwrap().success());
    let took = started.elapsed().as_millis() as u64;
    let mut expected = stored_ids(&whole);
    expected.sort();

    let db = dir.path().join("i.db");
    run(&["index", "create", s(&db), "--normalize", "none"]);
    let seed = clock_seed();
    let mut rng = Rng(seed);
    let mut counts = Vec::new();
    for _ in 0..6 {
        let mut child = filter(&db);
        // Any moment of a run, start-up included.
        std::thread::sleep(Duration::from_millis(rng.below(took.max(1))));
        child.kill().unwrap();
        child.wait().unwrap();
        sound(&db);
        counts.push(stored_ids(&db).len());
    }
    assert!(filter(&db).wait().unwrap().success());
    sound(&db);
    let mut got = stored_ids(&db);
    got.sort();
    assert_eq!(got, expected, "seed {seed}: stored after kills {counts:?}");
    eprintln!("seed {seed}: documents stored after each kill: {counts:?}");
}
