#!/usr/bin/env python3
"""Near-duplicate clusters of a corpus on Apache Spark, equal to those of `mukarrar cluster`.

    spark-submit --files target/release/mukarrar contrib/spark/mukarrar_spark.py \\
        INPUT... --output OUT [options] [-- MUKARRAR_FLAGS...]

The per-document work (normalize, shingle, MinHash, LSH band keys) runs in the executors as
`mukarrar sign`, through `RDD.pipe`. Everything else is Spark SQL, without Python UDFs:
grouping by band key, verifying candidate pairs with mukarrar's duplicate rule
(`Settings::linked`: long texts by the estimate from their signatures, short texts by their
words and numbers), connected components by alternating large-star and small-star steps
(Kiveris et al., 2014), representatives and each member's similarity to its representative.
The result is written with the CSV contract of `mukarrar cluster`
(`cluster_id,doc_id,similarity,is_representative`), or as Parquet.

Every parameter (shingles, signature length, bands × rows, thresholds, measure, the
short-text rule, representative) comes from `mukarrar sign --print-settings` with the flags
given after `--`, so the job follows mukarrar's defaults and flags; the same flags go to every
`sign` task. See README.md next to this file.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Optional
from urllib.parse import unquote

from pyspark import SparkFiles, StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
)

# One line of `mukarrar sign --keyed --with-signature` output: a document, or a line that
# produced none (`skipped` is "blank" or "invalid").
SIGNED_SCHEMA = StructType(
    [
        StructField("key", StringType()),
        StructField("line", LongType()),
        StructField("pos", LongType()),
        StructField("id", StringType()),
        StructField("id_from_line", BooleanType()),
        StructField("n", LongType()),
        StructField("chars", LongType()),
        StructField("empty", BooleanType()),
        StructField("short", BooleanType()),
        StructField("numbers", LongType()),
        StructField("w", ArrayType(LongType())),
        StructField("h", IntegerType()),
        StructField("hn", LongType()),
        StructField("b", ArrayType(LongType())),
        StructField("hb", ArrayType(LongType())),
        StructField("sig", ArrayType(IntegerType())),
        StructField("skipped", StringType()),
        StructField("error", StringType()),
    ]
)

# Line numbers within a file stay below 2^40; the file's rank goes above them in `ord`.
LINE_BITS = 40

# Documents per shuffle partition when the job sizes shuffles itself: about 50 MB of band
# keys (documents × bands × 20 bytes) with the default 25 bands.
ROWS_PER_SHUFFLE_PARTITION = 100_000

# A partition of input larger than this (as stored: gzip counts compressed) is split up for
# signing when there are fewer partitions than cores.
LARGE_PARTITION_BYTES = 256 * 1024 * 1024


class JobError(Exception):
    """A problem with the input or the options, reported without a traceback."""


@dataclass
class Options:
    """What a run reads, writes and how."""

    inputs: list[str]
    output: str
    input_format: str = "jsonl"
    output_format: str = "csv"
    single_file: bool = False
    include_singletons: bool = False
    skip_invalid: bool = False
    mukarrar: str = "mukarrar"
    mukarrar_flags: list[str] = field(default_factory=list)
    sign_threads: int = 1
    sign_partitions: Optional[int] = None
    shuffle_partitions: Optional[int] = None
    checkpoint_dir: Optional[str] = None
    local_checkpoints: bool = False
    overwrite: bool = False
    log: Callable[[str], None] = lambda message: print(
        f"mukarrar-spark: {message}", file=sys.stderr
    )


@dataclass
class Result:
    """Counts and timings of a run."""

    settings: dict[str, Any]
    stats: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


# ── the mukarrar binary ──────────────────────────────────────────────────────────────────


def driver_binary(spark: SparkSession, name: str) -> Optional[str]:
    """The binary as the driver sees it: a path, a file shipped with --files, or on PATH."""
    if os.sep in name:
        return os.path.abspath(name) if os.access(name, os.X_OK) else None
    try:
        shipped = SparkFiles.get(name)
        if os.access(shipped, os.X_OK):
            return shipped
    except Exception:  # no SparkContext file server yet, or not shipped
        pass
    return shutil.which(name)


def sign_command(spark: SparkSession, opts: Options) -> tuple[str, dict[str, str]]:
    """The `RDD.pipe` command and environment that run `mukarrar sign` in an executor.

    `RDD.pipe` starts the command with exactly the environment it is given, so PATH is passed
    on. The executor tries, in order: the driver's path to the binary (local mode, shared
    file systems), `./NAME` (where `spark-submit --files` puts it on YARN, Kubernetes and
    standalone executors), then NAME on PATH.
    """
    name = opts.mukarrar
    driver_path = driver_binary(spark, name) or ""
    base = os.path.basename(name)
    flags = [
        "--quiet",
        "--threads",
        str(opts.sign_threads),
        "sign",
        "--keyed",
        "--with-signature",
        "--skip-invalid",
        *opts.mukarrar_flags,
    ]
    script = (
        'for b in "$MUKARRAR_BIN" "./$MUKARRAR_NAME"; do '
        'if [ -n "$b" ] && [ -x "$b" ]; then exec "$b" "$@"; fi; done; '
        'exec "$MUKARRAR_NAME" "$@"'
    )
    command = shlex.join(["/bin/sh", "-c", script, "mukarrar", *flags])
    env = {
        "PATH": os.environ.get("PATH", "") + ":/usr/local/bin:/usr/bin:/bin",
        "MUKARRAR_BIN": driver_path,
        "MUKARRAR_NAME": base,
    }
    return command, env


def read_settings(spark: SparkSession, opts: Options) -> dict[str, Any]:
    """Every parameter of the run, as mukarrar resolves the flags (`sign --print-settings`)."""
    binary = driver_binary(spark, opts.mukarrar)
    if binary is None:
        raise JobError(
            f"cannot find the mukarrar binary `{opts.mukarrar}` on the driver: give its path "
            "with --mukarrar, ship it with `spark-submit --files`, or put it on PATH"
        )
    done = subprocess.run(
        [binary, "sign", "--print-settings", *opts.mukarrar_flags],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise JobError(f"mukarrar rejected the flags: {done.stderr.strip()}")
    settings = json.loads(done.stdout)
    if settings["verify"] != "estimate":
        raise JobError(
            "--verify exact needs every shingle set in one place; the Spark job verifies "
            "from signatures only (drop --verify exact)"
        )
    if settings.get("linkage", "single") != "single":
        raise JobError(
            f"--linkage {settings['linkage']} merges clusters one verified pair at a time, in "
            "order of similarity; the Spark job finds connected components (single linkage "
            "only: drop --linkage)"
        )
    if settings.get("boilerplate_df", 0) > 0:
        raise JobError(
            "--boilerplate-df counts lines over the whole corpus before signing, which "
            "`mukarrar sign` cannot do one document at a time (drop --boilerplate-df)"
        )
    if settings["measure"] not in ("jaccard", "containment"):
        raise JobError(f"unknown measure `{settings['measure']}` in mukarrar's settings")
    if settings["representative"] not in ("first", "longest"):
        raise JobError(
            f"unknown representative `{settings['representative']}` in mukarrar's settings"
        )
    return settings


# ── the duplicate rule, exactly as `Settings::linked` and `Settings::similarity` ─────────

# What the rule looks at in each document of a pair: distinct shingles (0 when empty),
# short or long, the fingerprint of a short text's numbers, the word hashes in order (every
# word of a short text, the opening `cross.words` of a long one) and how many distinct words
# they are, the signature, and the head (how many of the words, the fingerprint of its
# numbers) for cross-length matching.
RULE_COLUMNS = ("n", "short", "numbers", "w", "d", "sig", "h", "hn")


@dataclass(frozen=True)
class Side:
    """One document of a pair: its `RULE_COLUMNS` in a joined row."""

    n: Column
    short: Column
    numbers: Column
    w: Column
    d: Column
    sig: Column
    h: Column
    hn: Column

    @staticmethod
    def named(suffix: str) -> "Side":
        """The side whose columns are `RULE_COLUMNS` with `suffix` (see `rule_columns`)."""
        return Side(*(F.col(f"{c}{suffix}") for c in RULE_COLUMNS))


def rule_columns(by_pos: DataFrame, key: str, suffix: str, *more: str) -> DataFrame:
    """`by_pos` with `pos` as `key`, the rule's columns renamed for `Side.named(suffix)`, and
    the `more` columns as they are."""
    return by_pos.select(
        F.col("pos").alias(key),
        *(F.col(c).alias(f"{c}{suffix}") for c in RULE_COLUMNS),
        *more,
    )


def estimate(settings: dict[str, Any], a: Side, b: Side) -> Column:
    """The measure estimated from signatures and shingle counts, in double precision with the
    same operations, in the same order, as `Measure::estimate`.

    Jaccard is the fraction of equal slots. Containment turns it into an intersection size,
    J (|A| + |B|) / (1 + J), over the smaller set, at most 1.
    """
    k = int(settings["minhash"]["num_perm"])
    sa, sb = F.slice(a.sig, 1, k), F.slice(b.sig, 1, k)
    equal = F.aggregate(
        F.zip_with(sa, sb, lambda x, y: F.when(x == y, 1).otherwise(0)),
        F.lit(0),
        lambda acc, v: acc + v,
    )
    j = F.when(F.size(sa) == 0, F.lit(0.0)).otherwise(
        equal.cast("double") / F.size(sa).cast("double")
    )
    if settings["measure"] == "jaccard":
        return j
    smaller = F.least(a.n, b.n)
    inter = j * (a.n.cast("double") + b.n.cast("double")) / (F.lit(1.0) + j)
    return F.when(smaller == 0, F.lit(0.0)).otherwise(
        F.least(inter / smaller.cast("double"), F.lit(1.0))
    )


# An unused slot of a word sketch (`EMPTY_SLOT`, u32::MAX) as the signed 32-bit integer
# `mukarrar sign` writes.
EMPTY_SLOT = -1


def reworded(settings: dict[str, Any], a: Side, b: Side, similarity: Column) -> Column:
    """`Settings::reworded`: two long texts whose `similarity` is below the threshold but at
    least `reword.low` are duplicates when their word sets' Jaccard similarity, estimated
    from the word sketches that end their signatures (`sketch_jaccard`), reaches
    `reword.threshold`: of the slots that either sketch filled, the share where both hold
    the same value."""
    reword = settings.get("reword", {"sketch": 0})
    k = int(reword["sketch"])
    if k == 0:
        return F.lit(False)
    n = int(settings["minhash"]["num_perm"])
    wa, wb = F.slice(a.sig, n + 1, k), F.slice(b.sig, n + 1, k)

    def count(pick) -> Column:
        return F.aggregate(
            F.zip_with(wa, wb, lambda x, y: F.when(pick(x, y), 1).otherwise(0)),
            F.lit(0),
            lambda acc, v: acc + v,
        )

    used = count(lambda x, y: (x != F.lit(EMPTY_SLOT)) | (y != F.lit(EMPTY_SLOT)))
    equal = count(lambda x, y: ((x != F.lit(EMPTY_SLOT)) | (y != F.lit(EMPTY_SLOT))) & (x == y))
    jaccard = F.when(used == 0, F.lit(0.0)).otherwise(
        equal.cast("double") / used.cast("double")
    )
    return (
        (F.size(a.sig) > n)
        & (F.size(b.sig) > n)
        & (similarity >= F.lit(float(reword["low"])))
        & (jaccard >= F.lit(float(reword["threshold"])))
    )


def word_jaccard(a: Side, b: Side) -> Column:
    """Jaccard similarity of the sets of words of two word-hash sequences (`word_jaccard`):
    the words they share (`array_intersect` drops repeated ones, as Rust's sort and dedup
    do) over the distinct words of both, |A| + |B| − |A ∩ B|, as `minhash::jaccard` divides.
    Each side's distinct word count `d` is counted once per document."""
    return words_jaccard(a.w, a.d, b.w, b.d)


def words_jaccard(wa: Column, da: Column, wb: Column, db: Column) -> Column:
    """`word_jaccard` of the sequences `wa` and `wb`, with `da` and `db` distinct words."""
    inter = F.size(F.array_intersect(wa, wb))
    union = da + db - inter
    return F.when(union == 0, F.lit(0.0)).otherwise(inter.cast("double") / union.cast("double"))


def shares_run(wa: Column, wb: Column, need: Column) -> Column:
    """True when the sequences share a run of `need` (≥ 1, at most either length)
    consecutive equal words, that is when `longest_common_run(wa, wb) >= need`: the `need`
    words from some position of the one equal those from some position of the other. Short
    texts have fewer than `short.words` words, so there are few positions to try; the slices
    are compared only where their first words are equal."""
    return F.exists(
        F.sequence(F.lit(0), F.size(wa) - need),
        lambda i: F.exists(
            F.sequence(F.lit(0), F.size(wb) - need),
            lambda j: (F.get(wa, i) == F.get(wb, j))
            & (F.slice(wa, i + 1, need) == F.slice(wb, j + 1, need)),
        ),
    )


def comparable(settings: dict[str, Any], a: Side, b: Side) -> Column:
    """`Settings::comparable`: both non-empty, both short or both long, and two short texts
    not holding different numbers (when the number check is on)."""
    c = (a.n > 0) & (b.n > 0) & (a.short == b.short)
    if settings["short"]["numbers"]:
        c = c & (~a.short | (a.numbers == 0) | (b.numbers == 0) | (a.numbers == b.numbers))
    return c


def short_rule(settings: dict[str, Any], wa: Column, wb: Column) -> Column:
    """`Settings::short_rule` on two word sequences: the Jaccard similarity of their word
    sets reaches `short.threshold`, or (with `short.run_words` > 0) they share a run of at
    least max(run_words, ⌈run_share × shorter length⌉) consecutive words, the ceiling taken
    of the same double product as in Rust."""
    short = settings["short"]
    da, db = F.size(F.array_distinct(wa)), F.size(F.array_distinct(wb))
    ok = words_jaccard(wa, da, wb, db) >= F.lit(float(short["threshold"]))
    if short["run_words"] > 0:
        shorter = F.least(F.size(wa), F.size(wb))
        need = F.greatest(
            F.lit(int(short["run_words"])).cast("long"),
            F.ceil(F.lit(float(short["run_share"])) * shorter.cast("double")),
        )
        # Clamped for the slices' int arguments; a run longer than the shorter text is never
        # there.
        within = F.least(need, shorter.cast("long")).cast("int")
        ok = (
            F.when(ok, F.lit(True))
            .when(need > shorter, F.lit(False))
            .otherwise(shares_run(wa, wb, within))
        )
    return ok


def head(a: Side) -> Column:
    """The head's word hashes (`Signed::head`)."""
    return F.slice(a.w, 1, F.least(a.h, F.size(a.w)))


def cross_linked(settings: dict[str, Any], a: Side, b: Side) -> Column:
    """`Settings::cross_linked`: both non-empty with a head, heads without different numbers
    (with the number check) that match by the short-text rule, and one side a bare headline
    (nothing but its head) or the shorter lead (first `cross.words` words) contained at
    least `cross.containment` in the other, over distinct words."""
    cross = settings.get("cross", {"words": 0})
    if cross["words"] == 0:
        return F.lit(False)
    c = (a.n > 0) & (b.n > 0) & (a.h > 0) & (b.h > 0)
    if settings["short"]["numbers"]:
        c = c & ((a.hn == 0) | (b.hn == 0) | (a.hn == b.hn))
    la = F.array_distinct(F.slice(a.w, 1, int(cross["words"])))
    lb = F.array_distinct(F.slice(b.w, 1, int(cross["words"])))
    smaller = F.least(F.size(la), F.size(lb))
    contained = F.when(smaller == 0, F.lit(0.0)).otherwise(
        F.size(F.array_intersect(la, lb)).cast("double") / smaller.cast("double")
    ) >= F.lit(float(cross["containment"]))
    bare = (F.size(a.w) == a.h) | (F.size(b.w) == b.h)
    return F.when(~c, F.lit(False)).otherwise(
        short_rule(settings, head(a), head(b)) & (bare | contained)
    )


def linked(settings: dict[str, Any], a: Side, b: Side) -> Column:
    """`Settings::linked`: whether the pair are duplicates.

    Comparable long texts: the estimate reaches `threshold`, or the word check (`reworded`)
    passes. Comparable short texts: the short-text rule on their words. Any two texts: the
    cross-length rule.
    """
    est = estimate(settings, a, b)
    long_ok = (est >= F.lit(float(settings["threshold"]))) | reworded(settings, a, b, est)
    same_length = (
        F.when(~comparable(settings, a, b), F.lit(False))
        .when(a.short, short_rule(settings, a.w, b.w))
        .otherwise(long_ok)
    )
    return same_length | cross_linked(settings, a, b)


def similarity(settings: dict[str, Any], a: Side, b: Side) -> Column:
    """`Settings::similarity`, what the report prints: the Jaccard similarity of the heads'
    word sets for a short and a long text linked across lengths, 0 for any other pair that
    is not comparable, the Jaccard similarity of the word sets for short texts, the estimate
    for long ones."""
    ha, hb = head(a), head(b)
    heads = words_jaccard(ha, F.size(F.array_distinct(ha)), hb, F.size(F.array_distinct(hb)))
    return (
        F.when(
            ~comparable(settings, a, b),
            F.when((a.short != b.short) & cross_linked(settings, a, b), heads).otherwise(
                F.lit(0.0)
            ),
        )
        .when(a.short, word_jaccard(a, b))
        .otherwise(estimate(settings, a, b))
    )


def four_decimals(v: Column) -> Column:
    """`v` (a similarity, 0 to 1) printed with four decimals exactly as Rust's `{:.4}` does:
    the exact binary value rounded to nearest, ties to even.

    Spark's own rounding works on the shortest decimal form of a double, which differs from
    the exact value just where that form ends in a 5 (0.00625 is stored a little above it).
    So `v × 10⁴` is computed with its exact rounding error (Dekker's product, splitting `v`
    with Veltkamp's constant; 10⁴ needs no split), and the error decides the halfway cases.
    """
    scale = F.lit(10000.0)
    p = v * scale
    c = F.lit(134217729.0) * v
    hi = c - (c - v)
    lo = v - hi
    err = (hi * scale - p) + lo * scale
    f = F.floor(p)
    r = p - f
    n = (
        F.when(r > 0.5, f + 1)
        .when(r < 0.5, f)
        .when(err > 0, f + 1)
        .when(err < 0, f)
        .when(f % 2 == 0, f)
        .otherwise(f + 1)
    )
    return F.concat(
        F.floor(n / 10000).cast("string"),
        F.lit("."),
        F.lpad((n % 10000).cast("string"), 4, "0"),
    )


# ── connected components: alternating large-star and small-star ──────────────────────────


@dataclass
class Forest:
    """Connected components as a star forest: edges `(u, v)` where `v` is the smallest node of
    `u`'s component (its root); a root appears only as `v`."""

    edges: DataFrame
    rounds: int
    roots: int
    leaves: int


def connected_components(
    edges: DataFrame, checkpoint: Callable[[DataFrame], DataFrame], log: Callable[[str], None]
) -> Forest:
    """Connected components of the undirected graph `edges` (columns `a`, `b`; a ≠ b), by
    alternating large-star and small-star steps (Kiveris et al. 2014).

    Both steps keep the components, and a star forest is a fixed point of both, so each
    round starts by checking, in the large-star aggregate it needs anyway, whether the edges
    already form one; that check also counts roots and leaves. Each round's edges are
    checkpointed, so lineage stays short however many rounds it takes.
    """
    e = edges.select(F.greatest("a", "b").alias("u"), F.least("a", "b").alias("v"))
    rounds = 0
    while True:
        # Large-star: every node links its larger neighbours to the smallest node of its
        # closed neighbourhood.
        both = e.select(F.col("u").alias("x"), F.col("v").alias("y")).union(
            e.select(F.col("v").alias("x"), F.col("u").alias("y"))
        )
        g = (
            both.groupBy("x")
            .agg(F.collect_set("y").alias("ns"))
            .select(
                "x",
                "ns",
                F.least(F.col("x"), F.array_min("ns")).alias("m"),
                F.size(F.filter("ns", lambda y: y < F.col("x"))).alias("smaller"),
                F.size(F.filter("ns", lambda y: y > F.col("x"))).alias("larger"),
            )
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        # A star forest: no node has two smaller neighbours, and none that has a smaller
        # neighbour has a larger one. Its roots have only larger neighbours.
        smaller, larger = F.col("smaller"), F.col("larger")
        shape = g.agg(
            F.count(F.when((smaller > 1) | ((smaller == 1) & (larger > 0)), 1)),
            F.count(F.when(smaller == 0, 1)),
            F.count(F.when(smaller == 1, 1)),
        ).first()
        if shape[0] == 0:
            g.unpersist()
            return Forest(e, rounds, shape[1], shape[2])
        rounds += 1
        large = g.select(
            F.explode(F.filter("ns", lambda y: y > F.col("x"))).alias("u"),
            F.col("m").alias("v"),
        )
        # Small-star: every node links itself and its smaller neighbours to the smallest of
        # them.
        small = large.groupBy("u").agg(F.collect_set("v").alias("ns"))
        e = checkpoint(
            small.select(
                F.explode(F.array_union("ns", F.array(F.col("u")))).alias("u"),
                F.array_min("ns").alias("v"),
            )
            .where(F.col("u") != F.col("v"))
            .distinct()
        )
        g.unpersist()
        log(f"components: round {rounds}")


# ── the job ──────────────────────────────────────────────────────────────────────────────


def display_path(uri: str) -> str:
    """A file URI as a user would write the path."""
    if uri.startswith("file://"):
        return unquote(uri[len("file://") :])
    if uri.startswith("file:"):
        return unquote(uri[len("file:") :])
    return uri


class Run:
    """One run of the job; keeps track of what it cached, to release it at the end."""

    def __init__(self, spark: SparkSession, opts: Options):
        self.spark = spark
        self.opts = opts
        self.cached: list[DataFrame] = []
        self.started = time.perf_counter()
        self.mark = self.started
        self.result = Result(settings={})
        self.by_pos: Optional[DataFrame] = None

    def persist(self, df: DataFrame) -> DataFrame:
        df = df.persist(StorageLevel.MEMORY_AND_DISK)
        self.cached.append(df)
        return df

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.result.seconds[stage] = round(now - self.mark, 3)
        self.opts.log(f"{stage}: {now - self.mark:.1f}s")
        self.mark = now

    def checkpoint(self, df: DataFrame) -> DataFrame:
        """Materializes `df` and cuts its lineage (in executor storage with local checkpoints,
        else in the checkpoint folder)."""
        if self.opts.local_checkpoints:
            return df.localCheckpoint(eager=True)
        return df.checkpoint(eager=True)

    def count_signed(self, signed: DataFrame) -> int:
        """Runs the sign stage, turning a failed `mukarrar sign` into a readable error."""
        try:
            return signed.count()
        except Exception as e:  # reaches Python as a Py4J error carrying the worker's message
            found = re.search(r"exited with error code (\d+)", str(e))
            if not found:
                raise
            code = int(found.group(1))
            hint = {
                127: "the binary was not found on the executor: ship it with `spark-submit "
                "--files`, or give --mukarrar a path that exists on every node",
                126: "the binary on the executor cannot be run (permissions, or built for "
                "another platform)",
                2: "it rejected its input or flags; its message is in the executor's stderr log",
            }.get(code, "its message is in the executor's stderr log")
            raise JobError(
                f"`mukarrar sign` failed in an executor with status {code}: {hint}"
            ) from None

    def shuffle_partitions(self, lines: int) -> None:
        """Sizes shuffles by the input unless told: Spark's default of 200 partitions is
        far too many for a small corpus and too few for a large one."""
        key = "spark.sql.shuffle.partitions"
        n = self.opts.shuffle_partitions
        if n is None and not self.spark.sparkContext.getConf().contains(key):
            n = max(
                2 * self.spark.sparkContext.defaultParallelism,
                -(-lines // ROWS_PER_SHUFFLE_PARTITION),
            )
        if n is not None:
            self.spark.conf.set(key, str(n))
            self.opts.log(f"{n} shuffle partitions")

    def release(self) -> None:
        for df in self.cached:
            df.unpersist()
        self.cached.clear()

    # ── read and sign ──

    def read_lines(self) -> DataFrame:
        """Input records with their place: file, split start, row within the scan."""
        opts = self.opts
        reader = self.spark.read
        if opts.input_format == "jsonl":
            raw = reader.option("lineSep", "\n").text(opts.inputs)
            # A byte-order mark starts a file's first line (strictly: the first split's lines).
            record = F.when(
                F.col("_metadata.file_block_start") == 0,
                F.regexp_replace("value", "^\ufeff", ""),
            ).otherwise(F.col("value"))
        elif opts.input_format == "parquet":
            raw = reader.parquet(*opts.inputs)
            record = F.to_json(F.struct(*[F.col(c) for c in raw.columns]))
        else:
            raise JobError(f"unknown input format `{opts.input_format}` (jsonl or parquet)")
        lines = raw.select(
            F.col("_metadata.file_path").alias("path"),
            F.col("_metadata.file_block_start").alias("block"),
            F.monotonically_increasing_id().alias("row"),
            record.alias("record"),
        )
        parallelism = self.spark.sparkContext.defaultParallelism
        wanted = opts.sign_partitions
        have = lines.rdd.getNumPartitions()
        if wanted is None and have < parallelism:
            # Fewer partitions than cores: worth a shuffle of the text only when they are
            # large, which happens with big files Spark cannot split (gzip).
            size = int(str(lines._jdf.queryExecution().optimizedPlan().stats().sizeInBytes()))
            if size > have * LARGE_PARTITION_BYTES:
                wanted = parallelism
        if wanted is not None and wanted != have:
            # Ranges of (file, split, row): a split's lines go, in order, to consecutive
            # partitions, which positions rely on (see `positions`).
            lines = lines.repartitionByRange(wanted, "path", "block", "row").sortWithinPartitions(
                "path", "block", "row"
            )
        return lines

    def sign(self) -> DataFrame:
        """Every input line's `mukarrar sign` output, with the line's place."""
        command, env = sign_command(self.spark, self.opts)
        lines = self.read_lines()
        keyed = lines.select(
            F.concat_ws("\t", F.concat_ws(":", "block", "row", "path"), "record").alias("l")
        )
        piped = keyed.rdd.map(lambda r: r[0]).pipe(command, env=env, checkCode=True)
        signed = self.spark.read.schema(SIGNED_SCHEMA).option("mode", "FAILFAST").json(piped)
        key = F.col("key")
        words = F.coalesce(F.col("w"), F.array().cast("array<bigint>"))
        return signed.select(
            F.spark_partition_id().alias("part"),
            F.substring_index(key, ":", 1).cast("long").alias("block"),
            F.substring_index(F.substring_index(key, ":", 2), ":", -1).cast("long").alias("row"),
            F.expr("substring(key, length(substring_index(key, ':', 2)) + 2)").alias("path"),
            "pos",
            "id",
            "id_from_line",
            "n",
            "chars",
            "empty",
            # A long text's record has no `w`; a skipped line's has none of these.
            F.coalesce(F.col("short"), F.lit(False)).alias("short"),
            F.coalesce(F.col("numbers"), F.lit(0).cast("long")).alias("numbers"),
            words.alias("w"),
            F.size(F.array_distinct(words)).alias("d"),
            F.coalesce(F.col("h"), F.lit(0)).alias("h"),
            F.coalesce(F.col("hn"), F.lit(0).cast("long")).alias("hn"),
            # The head's band keys come after the signature's, as band numbers after theirs
            # (`Heads::band_number`): one list of keys to bucket.
            F.concat(
                F.coalesce(F.col("b"), F.array().cast("array<bigint>")),
                F.coalesce(F.col("hb"), F.array().cast("array<bigint>")),
            ).alias("b"),
            "sig",
            "skipped",
            "error",
        )

    # ── ids, line numbers and positions ──

    def positions(self, signed: DataFrame) -> DataFrame:
        """Documents in input order with their position, as `cluster` numbers them.

        Input order is file path, then line. The lines of one split of a file are read in
        order into one partition, or, when the job repartitions, into consecutive range
        partitions; either way each piece ("chunk": split × partition) is consecutive and in
        order within its partition, and every input line has exactly one `sign` output line.
        So a line's number within its file is the number of lines in the file's earlier chunks
        plus its row within its chunk, and a document's position is the number of documents
        in earlier chunks plus how far its `pos` (counted by `sign` over its partition) is from
        that of its chunk's first document. One small aggregate per chunk gives all of it.
        """
        spark, opts = self.spark, self.opts
        is_doc = F.col("skipped").isNull()
        splits = (
            signed.groupBy("path", "block", "part")
            .agg(
                F.count(F.lit(1)).alias("lines"),
                F.min("row").alias("first_row"),
                F.count(F.when(F.col("skipped") == "invalid", 1)).alias("invalid"),
                F.count(F.when(is_doc, 1)).alias("docs"),
                F.min(F.when(is_doc, F.col("pos"))).alias("first_pos"),
                F.count(F.when(is_doc & F.col("empty"), 1)).alias("empty"),
            )
            .collect()
        )
        skipped = sum(s["invalid"] for s in splits)
        paths = sorted({s["path"] for s in splits})
        rank = {p: i for i, p in enumerate(paths)}
        lines_before: dict[str, int] = {}
        docs_before = 0
        table = []
        for s in sorted(splits, key=lambda s: (rank[s["path"]], s["block"], s["part"])):
            done = lines_before.get(s["path"], 0)
            table.append(
                (
                    s["path"],
                    s["block"],
                    s["part"],
                    rank[s["path"]],
                    done,
                    s["first_row"],
                    docs_before,
                    s["first_pos"] or 0,
                )
            )
            lines_before[s["path"]] = done + s["lines"]
            docs_before += s["docs"]
        self.result.stats["documents"] = docs_before
        self.result.stats["empty"] = sum(s["empty"] for s in splits)
        place = spark.createDataFrame(
            table,
            "path string, block long, part int, file long, lines_before long, first_row long, "
            "docs_before long, first_pos long",
        )
        line = F.col("lines_before") + F.col("row") - F.col("first_row") + 1
        lined = (
            signed.join(F.broadcast(place), ["path", "block", "part"])
            .withColumn("line", line)
            .withColumn("ord", F.shiftleft(F.col("file"), LINE_BITS) + F.col("line"))
            .withColumn("pos", F.col("docs_before") + F.col("pos") - F.col("first_pos"))
        )
        where = F.concat(F.col("path"), F.lit(":"), F.col("line").cast("string"))

        # Without --skip-invalid, the first problem in input order stops the job, as it stops
        # `cluster`: an invalid record, or a document whose id an earlier one has.
        problems: list[tuple[int, str]] = []
        if skipped and not opts.skip_invalid:
            bad = (
                lined.where(F.col("skipped") == "invalid")
                .orderBy("ord")
                .select("ord", where.alias("at"), "error")
                .first()
            )
            problems.append((bad["ord"], f"{display_path(bad['at'])}: {bad['error']}"))

        docs = lined.where(is_doc).withColumn(
            "id",
            F.when(F.col("id_from_line"), F.col("line").cast("string")).otherwise(F.col("id")),
        )
        repeated = (
            docs.groupBy("id")
            .agg(F.count(F.lit(1)).alias("copies"), F.min("ord").alias("first_ord"))
            .where(F.col("copies") > 1)
        )
        if repeated.take(1):
            later = docs.join(repeated, "id").where(F.col("ord") > F.col("first_ord"))
            if not opts.skip_invalid:
                first = (
                    later.orderBy("ord").select("ord", "id", where.alias("at"), "first_ord").first()
                )
                seen = (
                    docs.where(F.col("ord") == first["first_ord"]).select(where.alias("at")).first()
                )
                problems.append(
                    (
                        first["ord"],
                        f"{display_path(first['at'])}: duplicate id `{first['id']}` "
                        f"(first seen at {display_path(seen['at'])})",
                    )
                )
            else:
                skipped += later.count()
                docs = docs.join(
                    F.broadcast(repeated.select("id", "first_ord")), "id", "left"
                ).where(F.col("first_ord").isNull() | (F.col("ord") == F.col("first_ord")))
                docs = self.renumber(docs)
        if problems:
            raise JobError(f"{min(problems)[1]} (--skip-invalid skips such records)")
        self.result.stats["skipped"] = skipped
        if skipped:
            opts.log(f"skipped {skipped} invalid records")
        return docs.select("pos", "id", "chars", "empty", "b", *RULE_COLUMNS)

    def renumber(self, docs: DataFrame) -> DataFrame:
        """Positions again, after repeated ids were dropped: each chunk's remaining documents
        are still consecutive and in order within their partition, so their rank is their
        distance from the chunk's first one in `monotonically_increasing_id` order."""
        docs = self.persist(
            docs.select(
                "file",
                "block",
                "part",
                "id",
                "chars",
                "empty",
                "b",
                *RULE_COLUMNS,
                F.monotonically_increasing_id().alias("seq"),
            )
        )
        counts = (
            docs.groupBy("file", "block", "part")
            .agg(
                F.count(F.lit(1)).alias("docs"),
                F.min("seq").alias("first_seq"),
                F.count(F.when(F.col("empty"), 1)).alias("empty"),
            )
            .collect()
        )
        offsets, total = [], 0
        for c in sorted(counts, key=lambda c: (c["file"], c["block"], c["part"])):
            offsets.append((c["file"], c["block"], c["part"], total, c["first_seq"]))
            total += c["docs"]
        self.result.stats["documents"] = total
        self.result.stats["empty"] = sum(c["empty"] for c in counts)
        offsets_df = self.spark.createDataFrame(
            offsets, "file long, block long, part int, docs_before long, first_seq long"
        )
        return docs.join(F.broadcast(offsets_df), ["file", "block", "part"]).withColumn(
            "pos", F.col("docs_before") + F.col("seq") - F.col("first_seq")
        )

    # ── candidates and verification ──

    def verified_edges(self, docs: DataFrame, settings: dict[str, Any]) -> DataFrame:
        """Pairs of documents that share a bucket and that `Settings::linked` links.

        Like `cluster` (`cluster::exact_copies` in the library), with one shortcut that
        changes no component: documents equal in everything the rule looks at (short or long,
        shingle count, numbers, word sequence and signature: "twins", the library's exact
        copies) are linked to each other and exactly as linked to, and as similar to, everyone
        else, and they have the same band keys. So each twin links to its class's first
        document and only that one enters the buckets: a flood of copies is one document here
        as it is in `cluster`, `filter` and `index`. The classes are found by two independent 64-bit hashes of those
        columns; every twin link is checked to join two documents that are indeed equal in all
        of them, and verified with the full rule like every other pair.
        """
        live = docs.where(~F.col("empty")).select(
            "pos",
            "b",
            F.xxhash64("short", "n", "numbers", F.size("w"), "w", "sig", "h", "hn").alias("h1"),
            F.xxhash64("sig", "w", "numbers", "n", "short", "hn", "h").alias("h2"),
        )
        # Used twice below, in one query: Spark shuffles for the window once and reuses it.
        tagged = live.select(
            "pos", "b", F.min("pos").over(Window.partitionBy("h1", "h2")).alias("first")
        )
        twins = tagged.where(F.col("pos") != F.col("first")).select(
            F.col("first").alias("a"), F.col("pos").alias("b")
        )
        keys = tagged.where(F.col("pos") == F.col("first")).select(
            "pos", F.posexplode("b").alias("band", "key")
        )
        # Most keys are unique: counting them with a window (a sort) and collecting only the
        # shared ones is about twice as fast as collecting a list for every key.
        bucket = Window.partitionBy("band", "key")
        buckets = (
            keys.withColumn("size", F.count(F.lit(1)).over(bucket))
            .where(F.col("size") >= 2)
            .groupBy("band", "key")
            .agg(F.collect_list("pos").alias("m"))
        )
        pairs = buckets.select(F.explode("m").alias("a"), "m").select(
            "a",
            F.explode(F.filter("m", lambda x: x > F.col("a"))).alias("b"),
            F.size("m").alias("size"),
        )
        # Each pair once, with the largest bucket it came from (for the statistics); twin
        # links (which never share a bucket: only a class's first document is banded) have
        # size 0.
        candidates = (
            pairs.union(twins.withColumn("size", F.lit(0)))
            .groupBy("a", "b")
            .agg(F.max("size").alias("size"))
        )
        joined = candidates.join(rule_columns(self.by_pos, "a", "_a"), "a").join(
            rule_columns(self.by_pos, "b", "_b"), "b"
        )
        a, b = Side.named("_a"), Side.named("_b")
        twin = F.col("size") == 0
        same = (
            (a.short == b.short)
            & (a.n == b.n)
            & (a.numbers == b.numbers)
            & (a.w == b.w)
            & (a.sig == b.sig)
            & (a.h == b.h)
            & (a.hn == b.hn)
        )
        edges = self.persist(
            joined.select(
                "a",
                "b",
                "size",
                linked(settings, a, b).alias("kept"),
                (twin & ~same).alias("false_twin"),
            )
        )
        counted = edges.agg(
            F.count(F.lit(1)),
            F.count(F.when(F.col("kept"), 1)),
            F.max("size"),
            F.count(F.when(F.col("false_twin"), 1)),
        ).first()
        if counted[3]:
            # Two different documents with equal 128-bit hashes: the second was never banded.
            raise JobError(
                f"{counted[3]} documents have the twin hashes of a different document (a "
                "128-bit hash collision): they were not banded, so the clusters could differ "
                "from those of `cluster`"
            )
        self.result.stats["candidate_pairs"] = counted[0]
        self.result.stats["verified_pairs"] = counted[1]
        self.result.stats["largest_bucket"] = counted[2] or 0
        return edges.where("kept").select("a", "b")

    # ── report ──

    def rows(self, docs: DataFrame, forest: DataFrame, settings: dict[str, Any]) -> DataFrame:
        """One row per clustered document (and per other document with singletons)."""
        member = (
            forest.select(F.col("u").alias("pos"), F.col("v").alias("cluster_id"))
            .union(forest.select(F.col("v").alias("pos"), F.col("v").alias("cluster_id")))
            .distinct()
        )
        if settings["representative"] == "first":
            member = member.withColumn("rep", F.col("cluster_id"))
        else:
            longest = (
                member.join(self.by_pos.select("pos", "chars"), "pos")
                .groupBy("cluster_id")
                .agg(
                    F.min(F.struct((-F.col("chars")).alias("c"), F.col("pos").alias("p"))).alias(
                        "best"
                    )
                )
                .select("cluster_id", F.col("best.p").alias("rep"))
            )
            member = member.join(longest, "cluster_id")
        joined = member.join(rule_columns(self.by_pos, "pos", "_m", "id"), "pos").join(
            rule_columns(self.by_pos, "rep", "_r"), "rep"
        )
        # As `groups` computes it: the representative first, then the member.
        sim = F.when(F.col("pos") == F.col("rep"), F.lit(1.0)).otherwise(
            similarity(settings, Side.named("_r"), Side.named("_m"))
        )
        rows = joined.select(
            "cluster_id",
            "pos",
            F.col("id").alias("doc_id"),
            sim.alias("similarity"),
            (F.col("pos") == F.col("rep")).alias("is_representative"),
        )
        if self.opts.include_singletons:
            alone = docs.join(member.select("pos"), "pos", "left_anti").select(
                F.col("pos").alias("cluster_id"),
                "pos",
                F.col("id").alias("doc_id"),
                F.lit(1.0).alias("similarity"),
                F.lit(True).alias("is_representative"),
            )
            rows = rows.union(alone)
        return rows

    def write(self, rows: DataFrame) -> None:
        opts = self.opts
        if opts.single_file:
            ordered = rows.repartition(1).sortWithinPartitions("cluster_id", "pos")
        else:
            ordered = rows.orderBy("cluster_id", "pos")
        mode = "overwrite" if opts.overwrite else "errorifexists"
        if opts.output_format == "parquet":
            out = ordered.select("cluster_id", "doc_id", "similarity", "is_representative")
        elif opts.output_format == "csv":
            out = ordered.select(
                F.col("cluster_id").cast("string").alias("cluster_id"),
                "doc_id",
                four_decimals(F.col("similarity")).alias("similarity"),
                F.when(F.col("is_representative"), "true")
                .otherwise("false")
                .alias("is_representative"),
            )
        else:
            raise JobError(f"unknown output format `{opts.output_format}` (csv or parquet)")
        target = opts.output
        if opts.single_file:
            target = f"{opts.output}.parts-{uuid.uuid4().hex[:8]}"
        writer = out.write.mode(mode)
        if opts.output_format == "csv":
            writer.options(
                header=True,
                quote='"',
                escape='"',
                emptyValue="",
                ignoreLeadingWhiteSpace=False,
                ignoreTrailingWhiteSpace=False,
                lineSep="\n",
            ).csv(target)
        else:
            writer.parquet(target)
        if opts.single_file:
            self.move_single_part(target, opts.output)

    def move_single_part(self, folder: str, dest: str) -> None:
        """Renames the one part file of `folder` to `dest` (any Hadoop file system)."""
        jvm = self.spark.sparkContext._jvm
        conf = self.spark.sparkContext._jsc.hadoopConfiguration()
        src_dir = jvm.org.apache.hadoop.fs.Path(folder)
        fs = src_dir.getFileSystem(conf)
        parts = [
            s.getPath() for s in fs.listStatus(src_dir) if s.getPath().getName().startswith("part-")
        ]
        if len(parts) != 1:
            raise JobError(f"expected one part file in {folder}, found {len(parts)}")
        dest_path = jvm.org.apache.hadoop.fs.Path(dest)
        if fs.exists(dest_path):
            if not self.opts.overwrite:
                raise JobError(f"{dest} exists (--overwrite replaces it)")
            fs.delete(dest_path, True)
        if not fs.rename(parts[0], dest_path):
            raise JobError(f"cannot move {parts[0]} to {dest}")
        fs.delete(src_dir, True)

    # ── all of it ──

    def run(self) -> Result:
        spark, opts = self.spark, self.opts
        settings = read_settings(spark, opts)
        self.result.settings = settings
        lsh = settings["lsh"]
        opts.log(
            f"threshold {settings['threshold']} ({settings['measure']}), "
            f"{lsh['bands']} bands × {lsh['rows']} rows of {settings['minhash']['num_perm']}, "
            f"representative {settings['representative']}"
        )
        short = settings["short"]
        if short["words"] > 0:
            opts.log(
                f"short texts (fewer than {short['words']} words): word-set threshold "
                f"{short['threshold']}"
                + (
                    f", or a shared run of {short['run_words']}+ words"
                    if short["run_words"]
                    else ""
                )
                + (", numbers must agree" if short["numbers"] else "")
            )
        sc = spark.sparkContext
        own_checkpoints = None
        if opts.checkpoint_dir:
            sc.setCheckpointDir(opts.checkpoint_dir)
        elif sc.getCheckpointDir() is None and not opts.local_checkpoints:
            if not sc.master.startswith("local"):
                raise JobError(
                    "give --checkpoint-dir on a shared file system (or --local-checkpoints)"
                )
            own_checkpoints = tempfile.mkdtemp(prefix="mukarrar-checkpoints-")
            sc.setCheckpointDir(own_checkpoints)
        try:
            signed = self.persist(self.sign())
            lines = self.count_signed(signed)
            self.result.stats["lines"] = lines
            self.shuffle_partitions(lines)
            self.lap("sign")

            docs = self.positions(signed)
            # What pairs and members look up by position, shuffled once and kept: the joins
            # on `pos` below then move only the pairs and members.
            self.by_pos = self.persist(
                docs.select("pos", "id", "chars", *RULE_COLUMNS).repartition("pos")
            )
            self.lap("positions")

            edges = self.verified_edges(docs, settings)
            self.lap("grouping")

            forest = connected_components(edges, self.checkpoint, opts.log)
            self.result.stats["cc_rounds"] = forest.rounds
            self.result.stats["clusters"] = forest.roots
            self.result.stats["clustered"] = forest.roots + forest.leaves
            self.result.stats["duplicates"] = forest.leaves
            self.lap("components")

            self.write(self.rows(docs, forest.edges, settings))
            self.lap("report")
        finally:
            self.release()
            if own_checkpoints:
                shutil.rmtree(own_checkpoints, ignore_errors=True)
        self.result.seconds["total"] = round(time.perf_counter() - self.started, 3)
        s = self.result.stats
        opts.log(
            f"{s['documents']} documents ({s['skipped']} skipped as invalid, {s['empty']} empty "
            f"after normalization): {s['clusters']} clusters holding {s['clustered']} documents, "
            f"{s['duplicates']} duplicates"
        )
        return self.result


def run(spark: SparkSession, opts: Options) -> Result:
    """Runs the job in `spark` (for drivers that hold a session, like the tests)."""
    return Run(spark, opts).run()


def parse_args(argv: list[str]) -> tuple[Options, Optional[str], Optional[str]]:
    """The job's options, the Spark master (if given) and the timings file (if asked for)."""
    if "--" in argv:
        cut = argv.index("--")
        own, flags = argv[:cut], argv[cut + 1 :]
    else:
        own, flags = argv, []
    ap = argparse.ArgumentParser(
        prog="mukarrar_spark.py",
        description="Cluster near-duplicate documents on Spark, as `mukarrar cluster` does. "
        "Flags after `--` go to `mukarrar sign` (and decide every parameter).",
        epilog="example: spark-submit --files target/release/mukarrar "
        "contrib/spark/mukarrar_spark.py corpus/*.jsonl.gz --output clusters "
        "-- --threshold 0.7",
    )
    ap.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="files, folders or globs Spark can read"
    )
    ap.add_argument(
        "--output", "-o", required=True, help="output folder (or file, with --single-file)"
    )
    ap.add_argument(
        "--input-format",
        choices=["jsonl", "parquet"],
        default="jsonl",
        help="JSON Lines (also .gz, .bz2) or Parquet (columns as JSON fields)",
    )
    ap.add_argument("--output-format", choices=["csv", "parquet"], default="csv")
    ap.add_argument(
        "--single-file",
        action="store_true",
        help="write one file at OUTPUT instead of a folder of parts",
    )
    ap.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    ap.add_argument(
        "--include-singletons",
        action="store_true",
        help="also report documents without duplicates, each as a cluster of one",
    )
    ap.add_argument(
        "--skip-invalid",
        action="store_true",
        help="skip invalid records and repeated ids instead of stopping",
    )
    ap.add_argument(
        "--mukarrar",
        default="mukarrar",
        metavar="PATH",
        help="the mukarrar binary: a path, or a name shipped with --files or on PATH",
    )
    ap.add_argument(
        "--sign-threads",
        type=int,
        default=1,
        metavar="N",
        help="threads per `mukarrar sign` task (match spark.task.cpus)",
    )
    ap.add_argument(
        "--sign-partitions",
        type=int,
        metavar="N",
        help="sign in N partitions, split by ranges of lines (default: as read, or one per "
        "core when fewer and larger than 256 MB, as a big gzip file is)",
    )
    ap.add_argument(
        "--shuffle-partitions",
        type=int,
        metavar="N",
        help="partitions of every shuffle (default: spark.sql.shuffle.partitions "
        "when set, else one per 100,000 documents, at least twice the parallelism)",
    )
    ap.add_argument(
        "--checkpoint-dir",
        metavar="DIR",
        help="where components are checkpointed (on a cluster: a shared file system)",
    )
    ap.add_argument(
        "--local-checkpoints",
        action="store_true",
        help="checkpoint components in executor storage: faster, not fault tolerant",
    )
    ap.add_argument("--master", help="Spark master when not started by spark-submit, e.g. local[2]")
    ap.add_argument("--timings", metavar="FILE", help="write counts and seconds per stage as JSON")
    a = ap.parse_args(own)
    opts = Options(
        inputs=a.inputs,
        output=a.output,
        input_format=a.input_format,
        output_format=a.output_format,
        single_file=a.single_file,
        include_singletons=a.include_singletons,
        skip_invalid=a.skip_invalid,
        mukarrar=a.mukarrar,
        mukarrar_flags=flags,
        sign_threads=a.sign_threads,
        sign_partitions=a.sign_partitions,
        shuffle_partitions=a.shuffle_partitions,
        checkpoint_dir=a.checkpoint_dir,
        local_checkpoints=a.local_checkpoints,
        overwrite=a.overwrite,
    )
    return opts, a.master, a.timings


def main(argv: list[str]) -> int:
    opts, master, timings = parse_args(argv)
    started = time.perf_counter()
    builder = SparkSession.builder.appName("mukarrar")
    if master:
        builder = builder.master(master)
    spark = builder.getOrCreate()
    session = time.perf_counter() - started
    opts.log(f"Spark session: {session:.1f}s")
    try:
        result = run(spark, opts)
    except JobError as e:
        print(f"mukarrar-spark: error: {e}", file=sys.stderr)
        return 2
    finally:
        spark.stop()
    result.seconds["session"] = round(session, 3)
    if timings:
        with open(timings, "w", encoding="utf-8") as f:
            json.dump(
                {"stats": result.stats, "seconds": result.seconds, "settings": result.settings},
                f,
                indent=2,
            )
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
