//! The Spark job's equality test: `contrib/spark/test_equality.py` runs the job in local[2]
//! and checks that its clusters are exactly those of `mukarrar cluster`.
//!
//! It needs Java 17 and a Python with pyspark: `MUKARRAR_SPARK_PYTHON` names that Python
//! (`.ci/run` creates one in `.venv-spark`), else `python3` is used if it imports pyspark;
//! without them the test is skipped, or fails where they are required (see main.rs).
//! `MUKARRAR_SPARK_BIN` chooses the binary under test (a release build runs it faster); by
//! default it is the one `cargo test` built.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Need, Test};

pub const TESTS: &[Test] = &[Test {
    name: "sign_spark::spark_job_finds_the_clusters_of_cluster",
    needs: &[Need::Java, Need::Pyspark],
    ignored: None,
    run: spark_job_finds_the_clusters_of_cluster,
}];

fn spark_job_finds_the_clusters_of_cluster() {
    let python = crate::spark_python().unwrap_or_else(|why| panic!("{why}"));
    let binary = std::env::var_os("MUKARRAR_SPARK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_mukarrar")));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new(&python)
        .arg(root.join("contrib/spark/test_equality.py"))
        .arg("--mukarrar")
        .arg(&binary)
        .current_dir(root)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", Path::new(&python).display()));
    assert!(
        status.success(),
        "the Spark job's clusters differ from those of `mukarrar cluster` (see above)"
    );
}
