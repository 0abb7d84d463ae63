#!/usr/bin/env python3
"""Checks that the Spark job finds exactly the clusters of `mukarrar cluster`.

    python contrib/spark/test_equality.py --mukarrar target/release/mukarrar [--shared DIR]

Runs the job in local[2] over the bundled samples, constructed headlines that need every part
of the short-text rule, one story as article, teasers and headline (cross-length matching) with
the look-alikes it must keep apart, stories with reworded copies that only the word check of
long texts joins, the mixed-length dev set when present, a few thousand documents of the labelled dev sets (`DIR/eval/dev`, by
default `../shared` next to the repository; generated documents when it is absent), a file of
awkward records (blank lines, invalid JSON, missing and repeated ids, empty texts, exact
copies, ids that need CSV quoting) and a Parquet copy of one input, and compares every CSV row
with those of `mukarrar cluster` given the same flags; it also checks that invalid records and
repeated ids stop the job where they stop `cluster`, and that the flags the job cannot follow
are refused. Inputs are read in small splits, so documents are signed in several partitions and
positions cross split boundaries. Exits 1 on the first difference, printing it; `cargo test`
runs this when MUKARRAR_SPARK_PYTHON names a Python with pyspark (see contrib/spark/README.md).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import mukarrar_spark as job  # noqa: E402  (after the path is set)

CORPUS_DOCS = 3000


def cluster_csv(binary: str, path: Path, flags: list[str]) -> str:
    done = subprocess.run(
        [binary, "cluster", str(path), "--format", "csv", "-q", *flags],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise AssertionError(f"mukarrar cluster failed: {done.stderr}")
    return done.stdout


def cluster_error(binary: str, path: Path, flags: list[str]) -> str:
    done = subprocess.run(
        [binary, "cluster", str(path), "--format", "csv", "-q", *flags],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2, f"mukarrar cluster should fail on {path}"
    return done.stderr.strip().removeprefix("error: ")


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def describe(got: list[list[str]], want: list[list[str]]) -> str:
    """What differs, as clusters (members and representative) and then as rows."""

    def clusters(rs: list[list[str]]) -> dict[str, tuple[frozenset[str], str]]:
        members: dict[str, set[str]] = {}
        reps: dict[str, str] = {}
        for r in rs[1:]:
            members.setdefault(r[0], set()).add(r[1])
            if r[3] == "true":
                reps[r[0]] = r[1]
        return {c: (frozenset(m), reps.get(c, "")) for c, m in members.items()}

    g, w = clusters(got), clusters(want)
    lines = [
        f"spark: {len(got) - 1} rows in {len(g)} clusters; cluster: {len(want) - 1} rows in {len(w)} clusters"
    ]
    gs, ws = set(g.values()), set(w.values())
    for m, rep in sorted(ws - gs, key=lambda x: sorted(x[0]))[:5]:
        lines.append(f"  only in cluster: rep {rep}, members {sorted(m)}")
    for m, rep in sorted(gs - ws, key=lambda x: sorted(x[0]))[:5]:
        lines.append(f"  only in spark:   rep {rep}, members {sorted(m)}")
    shown = 0
    for i, (a, b) in enumerate(zip(got, want)):
        if a != b and shown < 5:
            lines.append(f"  row {i}: spark {a} != cluster {b}")
            shown += 1
    return "\n".join(lines)


LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"


def generated_docs(n: int, seed: int = 7, words: tuple[int, int] = (5, 120)) -> list[dict]:
    """Arabic-looking documents of `words` words, about a third of them edited copies of
    earlier ones; some hold numbers."""
    rng = random.Random(seed)
    vocab = ["".join(rng.choice(LETTERS) for _ in range(rng.randint(2, 7))) for _ in range(3000)]
    vocab += [str(k) for k in range(1, 30)]
    docs: list[dict] = []
    for i in range(n):
        if docs and rng.random() < 0.35:
            base = rng.choice(docs[-200:])["text"].split(" ")
            for _ in range(rng.randint(0, max(1, len(base) // 8))):
                base[rng.randrange(len(base))] = rng.choice(vocab)
            if rng.random() < 0.3:
                base = base[: max(3, int(len(base) * 0.7))]
            text = " ".join(base)
        else:
            text = " ".join(rng.choice(vocab) for _ in range(rng.randint(*words)))
        docs.append({"id": f"g{i}", "text": text})
    return docs


def write_jsonl(path: Path, docs: list[dict]) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    return path


def first_lines(src: Path, dest: Path, n: Optional[int] = None) -> Path:
    """The first `n` lines of a gzip file (all of them without `n`), uncompressed: Spark
    splits an uncompressed file, not a gzip one."""
    with gzip.open(src, "rt", encoding="utf-8") as f, open(dest, "w", encoding="utf-8") as out:
        for i, line in enumerate(f):
            if i == n:
                break
            out.write(line)
    return dest


def short_texts(dest: Path) -> tuple[Path, list[tuple[str, str, bool]]]:
    """Headlines that only the whole short-text rule clusters as `cluster` does, and the pairs
    that `cluster` must put in one cluster (True) or not (False), so that the test checks it
    still covers each case.

    - Word order: `order-2` has the words of `order-1` with its halves swapped (an equal
      signature and word set), `order-3` shares a run of 8 words with `order-2` but only 5
      with `order-1`, and a word-set similarity of 0.62 with both: it joins through the run
      with `order-2`, which must therefore be banded itself.
    - Numbers: `numbers-2` has the words of `numbers-1` with its two numbers swapped (an equal
      signature, different numbers); `numbers-3` is `numbers-2` and one more word.
    - The run's length: 14 shared words in a row suffice between 20-word texts (⌈0.7 × 20⌉
      = 14), 13 do not; 7 do not between 11-word texts (⌈0.7 × 11⌉ = 8), 8 do.
    - Exact copies, which the job collapses, of texts above.
    """
    rng = random.Random(5)
    seen: set[str] = set()

    def fresh(k: int) -> list[str]:
        out = []
        while len(out) < k:
            w = "".join(rng.choice(LETTERS) for _ in range(rng.randint(4, 7)))
            if w not in seen:
                seen.add(w)
                out.append(w)
        return out

    order = "وزير الخارجية يبحث مع نظيره الفرنسي تطورات الأوضاع في المنطقة".split()
    numbers = "الحكومة تعلن حزمة جديدة من 3 قرارات و 5 مشاريع في الرياض اليوم".split()
    swapped = [{"3": "5", "5": "3"}.get(w, w) for w in numbers]
    twenty, eleven = fresh(20), fresh(11)
    texts = [
        ("order-1", order),
        ("order-2", order[5:] + order[:5]),
        ("order-3", order[5:] + order[:3] + ["خلال", "اتصال", "هاتفي"]),
        ("numbers-1", numbers),
        ("numbers-2", swapped),
        ("numbers-3", swapped + ["الأحد"]),
        ("run14-1", twenty),
        ("run14-2", twenty[:14] + fresh(6)),
        ("run13", twenty[:13] + fresh(7)),
        ("run8-1", eleven),
        ("run8-2", eleven[:8] + fresh(3)),
        ("run7", eleven[:7] + fresh(4)),
        ("order-2-copy", None),
        ("numbers-1-copy", None),
        ("run14-2-copy", None),
    ]
    by_id = dict(texts)
    lines = []
    for doc_id, words in texts:
        words = words or by_id[doc_id.removesuffix("-copy")]
        lines.append(json.dumps({"id": doc_id, "title": " ".join(words)}, ensure_ascii=False))
    dest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expect = [
        ("order-1", "order-3", True),
        ("numbers-2", "numbers-3", True),
        ("numbers-1", "numbers-2", False),
        ("numbers-1", "numbers-1-copy", True),
        ("run14-1", "run14-2", True),
        ("run14-1", "run13", False),
        ("run8-1", "run8-2", True),
        ("run8-1", "run7", False),
    ]
    return dest, expect


def cross_lengths(dest: Path) -> tuple[Path, list[tuple[str, str, bool]]]:
    """One story as an article, a short and a long teaser and a bare headline, which
    cross-length matching puts in one cluster, next to what it must keep apart: a look-alike
    headline with another number, and an article whose "read also" footer lists another
    story's headline (that headline stands alone as a record too)."""
    rng = random.Random(9)

    def words(k: int) -> list[str]:
        return ["".join(rng.choice(LETTERS) for _ in range(rng.randint(3, 7))) for _ in range(k)]

    title = words(6) + ["3"] + words(2)
    body = words(120)
    other_title = words(8)
    footer_title = words(7)
    footer_body = words(90)
    records = [
        {"id": "article", "title": " ".join(title), "text": " ".join(body)},
        {"id": "teaser-short", "title": " ".join(title) + " - سبق", "text": " ".join(body[:12])},
        {"id": "teaser-long", "title": " ".join(title), "text": " ".join(body[:50])},
        {"id": "headline", "text": " ".join(title)},
        {"id": "headline-5", "text": " ".join("5" if w == "3" else w for w in title)},
        {
            "id": "footer-article",
            "title": " ".join(footer_title),
            "text": " ".join(footer_body) + "\nاقرأ أيضا: " + " ".join(other_title),
        },
        {"id": "other-headline", "text": " ".join(other_title)},
    ]
    write_jsonl(dest, records)
    expect = [
        ("article", "teaser-short", True),
        ("article", "teaser-long", True),
        ("article", "headline", True),
        ("article", "headline-5", False),
        ("footer-article", "other-headline", False),
    ]
    return dest, expect


def reworded_copies(dest: Path, stories: int = 30) -> Path:
    """Stories of 120 words, each with a copy that has every fifth word replaced: a quarter of
    their word 3-grams survive (similarity about 0.25, below the threshold) while two thirds
    of their words are shared, so only the word check of long texts (`reworded`) puts the
    two in one cluster. Other stories' copies share no words with them."""
    rng = random.Random(11)

    def word() -> str:
        return "".join(rng.choice(LETTERS) for _ in range(rng.randint(4, 8)))

    records = []
    for i in range(stories):
        body = [word() for _ in range(120)]
        copy = [word() if j % 5 == 0 else w for j, w in enumerate(body)]
        records.append({"id": f"story{i}", "text": " ".join(body)})
        records.append({"id": f"story{i}-reworded", "text": " ".join(copy)})
    return write_jsonl(dest, records)


def reworded_together(text: str, stories: int = 30) -> int:
    """How many stories of `reworded_copies` share a cluster with their copy."""
    where = clusters_of(text)
    return sum(
        1
        for i in range(stories)
        if f"story{i}" in where and where[f"story{i}"] == where.get(f"story{i}-reworded")
    )


def clusters_of(text: str) -> dict[str, str]:
    """Each clustered document's cluster id in a CSV report."""
    return {r[1]: r[0] for r in rows(text)[1:]}


def check_cases(name: str, text: str, expect: list[tuple[str, str, bool]]) -> None:
    """Fails unless `cluster`'s report puts each pair together (True) or not (False)."""
    where = clusters_of(text)
    for a, b, together in expect:
        same = a in where and where.get(a) == where.get(b)
        if same != together:
            print(
                f"FAIL {name}: cluster has {a} and {b} {'apart' if together else 'together'}; "
                "the test no longer covers that case",
                file=sys.stderr,
            )
            raise SystemExit(1)


def awkward_records(dest: Path) -> Path:
    """Records that exercise every rule about what a document is and what its id is."""
    story = "مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار في غزة بعد أسابيع من المفاوضات"
    other = "ترامب يصف مكالمته مع بوتين بالجيدة ويقول إن الحرب ستنتهي قريبا بحسب البيت الأبيض"
    lines = [
        json.dumps({"id": "a,comma", "title": story}, ensure_ascii=False),
        "",
        "not json at all",
        json.dumps({"title": story + " والتفاصيل"}, ensure_ascii=False),  # id from the line
        "   ",
        json.dumps({"id": 'say "hi"', "title": story}, ensure_ascii=False),
        json.dumps({"id": "empty-1", "title": "؟ ، ..."}, ensure_ascii=False),
        json.dumps({"id": "empty-2", "title": " ؟ "}, ensure_ascii=False),
        json.dumps({"id": "a,comma", "title": other}, ensure_ascii=False),  # repeated id
        json.dumps({"id": 42, "title": other}, ensure_ascii=False),
        json.dumps({"id": None, "title": other + " اليوم"}, ensure_ascii=False),  # id from the line
        json.dumps({"id": "no-text"}, ensure_ascii=False),
    ]
    for i in range(6):  # exact copies: one twin class
        lines.append(
            json.dumps({"id": f"copy-{i}", "title": other, "text": story}, ensure_ascii=False)
        )
    lines.append(json.dumps({"id": " spaced ", "title": story}, ensure_ascii=False) + "\r")
    dest.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    return dest


class Checker:
    def __init__(self, spark, binary: str, work: Path):
        self.spark = spark
        self.binary = binary
        self.work = work
        self.count = 0

    def job(self, inputs: list[Path], flags: list[str], **kw) -> list[list[str]]:
        self.count += 1
        out = self.work / f"out-{self.count}.csv"
        opts = job.Options(
            inputs=[str(p) for p in inputs],
            output=str(out),
            single_file=True,
            mukarrar=self.binary,
            mukarrar_flags=flags,
            checkpoint_dir=str(self.work / "checkpoints"),
            log=lambda m: None,
            **kw,
        )
        job.run(self.spark, opts)
        return rows(out.read_text(encoding="utf-8"))

    def same(
        self,
        name: str,
        path: Path,
        flags: list[str],
        cluster_flags: list[str] = (),
        expect: list[tuple[str, str, bool]] = (),
        **kw,
    ) -> None:
        started = time.perf_counter()
        text = cluster_csv(self.binary, path, [*flags, *cluster_flags])
        check_cases(name, text, expect)
        want = rows(text)
        inputs = kw.pop("inputs", [path])
        got = self.job(inputs, flags, **kw)
        if got != want:
            print(f"FAIL {name}\n{describe(got, want)}", file=sys.stderr)
            raise SystemExit(1)
        clusters = len({r[0] for r in want[1:]})
        print(
            f"ok   {name}: {len(want) - 1} rows, {clusters} clusters ({time.perf_counter() - started:.1f}s)"
        )

    def refuses(self, name: str, flags: list[str], words: str) -> None:
        """The job refuses `flags` (which `cluster` accepts) with a message holding `words`."""
        try:
            self.job([REPO / "samples" / "headlines.jsonl"], flags)
        except job.JobError as e:
            if words not in str(e):
                print(f"FAIL {name}: job says\n  {e}", file=sys.stderr)
                raise SystemExit(1)
            print(f"ok   {name}: {e}")
            return
        print(f"FAIL {name}: the job accepted {flags}", file=sys.stderr)
        raise SystemExit(1)

    def fails_like_cluster(self, name: str, path: Path, flags: list[str]) -> None:
        want = cluster_error(self.binary, path, flags)
        try:
            self.job([path], flags)
        except job.JobError as e:
            got = str(e)
        else:
            print(f"FAIL {name}: the job accepted {path}", file=sys.stderr)
            raise SystemExit(1)
        # cluster names the path as given; the job names it as Spark sees it (absolute).
        where_what = want.split(": ", 1)
        if not (got.split(": ", 1)[0].endswith(where_what[0]) and where_what[1] in got):
            print(f"FAIL {name}: job says\n  {got}\ncluster says\n  {want}", file=sys.stderr)
            raise SystemExit(1)
        print(f"ok   {name}: {got}")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--mukarrar", required=True, help="the mukarrar binary to test")
    ap.add_argument(
        "--shared", default=str(REPO.parent / "shared"), help="folder with eval/dev/*.jsonl.gz"
    )
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    a = ap.parse_args()
    binary = os.path.abspath(a.mukarrar)

    from pyspark.sql import SparkSession

    started = time.perf_counter()
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("mukarrar-equality-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        # Small splits: several partitions per file, and splits that end mid-file.
        .config("spark.sql.files.maxPartitionBytes", str(1024 * 1024))
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.files.openCostInBytes", "0")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    print(f"spark session started in {time.perf_counter() - started:.1f}s")
    work = Path(tempfile.mkdtemp(prefix="mukarrar-spark-test-"))
    try:
        check = Checker(spark, binary, work)
        check.same(
            "samples/labelled.jsonl, containment, longest",
            REPO / "samples" / "labelled.jsonl",
            ["--measure", "containment", "--representative", "longest", "--threshold", "0.6"],
        )
        check.same(
            "samples/headlines.jsonl, defaults (two headlines linked by a shared run only)",
            REPO / "samples" / "headlines.jsonl",
            [],
            expect=[("seed-similar-01", "seed-similar-02", True)],
        )
        short, expect = short_texts(work / "short.jsonl")
        check.same(
            "short texts: word order, numbers, run lengths, copies", short, [], expect=expect
        )

        cross, expect = cross_lengths(work / "cross.jsonl")
        check.same(
            "cross lengths: article, teasers, headline, look-alike, read-also footer",
            cross,
            [],
            cluster_flags=["--include-singletons"],
            include_singletons=True,
            expect=expect,
        )

        reworded = reworded_copies(work / "reworded.jsonl")
        together = reworded_together(cluster_csv(binary, reworded, []))
        if together < 20:
            print(
                f"FAIL reworded copies: cluster joins only {together} of 30 stories with their "
                "copy; the test no longer covers the word check",
                file=sys.stderr,
            )
            return 1
        check.same(f"reworded copies ({together} of 30 joined by the word check)", reworded, [])

        dev = Path(a.shared) / "eval" / "dev"
        if (dev / "mixed.jsonl.gz").exists():
            mixed = first_lines(dev / "mixed.jsonl.gz", work / "mixed.jsonl")
            check.same("mixed lengths (dev set), defaults", mixed, [])
        if (dev / "articles.jsonl.gz").exists():
            articles = first_lines(dev / "articles.jsonl.gz", work / "articles.jsonl", CORPUS_DOCS)
            headlines = first_lines(dev / "headlines.jsonl.gz", work / "headlines.jsonl")
            source = "dev sets"
        else:
            articles = write_jsonl(work / "articles.jsonl", generated_docs(CORPUS_DOCS))
            headlines = write_jsonl(
                work / "headlines.jsonl", generated_docs(CORPUS_DOCS, seed=11, words=(4, 30))
            )
            source = "generated"
        with open(headlines, encoding="utf-8") as f:
            n_headlines = sum(1 for _ in f)
        # Spark's defaults: adaptive query execution on (the other runs turn it off, which
        # makes small runs quicker).
        spark.conf.set("spark.sql.adaptive.enabled", "true")
        check.same(f"{CORPUS_DOCS} articles ({source}), defaults, adaptive", articles, [])
        spark.conf.set("spark.sql.adaptive.enabled", "false")
        check.same(f"{n_headlines} headlines ({source}), defaults", headlines, [])
        check.same(
            f"{n_headlines} headlines ({source}), --ignore-numbers, longest",
            headlines,
            ["--ignore-numbers", "--representative", "longest"],
        )
        check.same(
            f"{n_headlines} headlines ({source}), char shingles, containment, longest, 160 "
            "slots, singletons",
            headlines,
            [
                "--shingle",
                "char",
                "--measure",
                "containment",
                "--representative",
                "longest",
                "--threshold",
                "0.7",
                "--num-perm",
                "160",
            ],
            cluster_flags=["--include-singletons"],
            include_singletons=True,
        )
        check.same(
            f"{n_headlines} headlines ({source}), --short-words 0 (every text long)",
            headlines,
            ["--short-words", "0", "--threshold", "0.5"],
        )
        check.refuses(
            "--linkage representative is refused", ["--linkage", "representative"], "linkage"
        )
        check.refuses("--boilerplate-df is refused", ["--boilerplate-df", "3"], "boilerplate")

        awkward = awkward_records(work / "awkward.jsonl")
        check.same(
            "awkward records in 3 range partitions, --skip-invalid, singletons",
            awkward,
            [],
            cluster_flags=["--skip-invalid", "--include-singletons"],
            skip_invalid=True,
            include_singletons=True,
            sign_partitions=3,
        )
        check.fails_like_cluster("awkward records stop at the first invalid one", awkward, [])
        repeated = work / "repeated.jsonl"
        repeated.write_text(
            '{"id": "x", "title": "أ"}\n{"id": "x", "title": "ب"}\nnot json\n', encoding="utf-8"
        )
        check.fails_like_cluster("a repeated id before an invalid record stops there", repeated, [])

        parquet = work / "articles.parquet"
        spark.read.json(str(articles)).coalesce(1).write.parquet(str(parquet))
        # 160 slots: Jaccard estimates k/160 such as 0.50625, whose rounding to four decimals
        # depends on the exact binary value.
        check.same(
            "articles as Parquet, 160 slots",
            articles,
            ["--num-perm", "160"],
            inputs=[parquet],
            input_format="parquet",
        )
    finally:
        spark.stop()
        if not a.keep:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
    print(f"all equal ({time.perf_counter() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
