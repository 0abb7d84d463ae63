"""The Python code in README.md and docs/python.md runs as written and prints what it shows.

A block's expected output is the run of `# ` comment lines that ends it."""

import contextlib
import io
import json
import re

import pytest

import mukarrar
from conftest import ROOT, SAMPLES, need, records


def blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def expected_output(block):
    lines = block.rstrip("\n").split("\n")
    tail = []
    while lines and lines[-1].startswith("# "):
        tail.insert(0, lines.pop()[2:])
    return tail


def run_block(block, **names):
    out = io.StringIO()
    namespace = dict(names)
    with contextlib.redirect_stdout(out):
        exec(compile(block, "<docs>", "exec"), namespace)
    return out.getvalue().splitlines(), namespace


def test_the_readme_quick_start_runs_as_written():
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## From Python", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    printed, _ = run_block(block)
    assert printed == expected_output(block) != []


def docs_block(containing):
    found = [b for b in blocks(ROOT / "docs" / "python.md") if containing in b]
    assert len(found) == 1, containing
    return found[0]


def test_the_guides_first_example_prints_what_it_shows():
    block = docs_block("for cluster in result:")
    printed, _ = run_block(block)
    assert printed == expected_output(block) != []


def test_the_pandas_recipe_runs(tmp_path, monkeypatch):
    need("pandas")
    monkeypatch.chdir(tmp_path)
    rows = records(SAMPLES / "labelled.jsonl")
    with open("news.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({"id": r["id"], "title": r.get("title") or r.get("text")}, ensure_ascii=False) + "\n")
    _, ns = run_block(docs_block("deduplicated = df[result.keep()]"))
    assert len(ns["deduplicated"]) == len(rows) - ns["result"].stats["duplicates"]
    assert ns["df"]["story"].nunique() == len(ns["deduplicated"])


def test_the_datasets_recipe_decides_as_the_filter_does():
    block = docs_block("ds.filter(")

    class Dataset:
        """The part of datasets.Dataset the recipe uses, over the sample texts."""

        def __init__(self, rows):
            self.rows = rows

        def filter(self, keep, batched=False, batch_size=1000):
            if not batched:
                return Dataset([r for r in self.rows if keep(r)])
            kept = []
            for i in range(0, len(self.rows), batch_size):
                part = self.rows[i:i + batch_size]
                flags = keep({"text": [r["text"] for r in part]})
                kept += [r for r, k in zip(part, flags) if k]
            return Dataset(kept)

    rows = [{"text": r.get("title") or r.get("text")} for r in records(SAMPLES / "labelled.jsonl")]

    class datasets:
        @staticmethod
        def load_dataset(*_args, **_kwargs):
            return Dataset(rows)

    block = block.replace("from datasets import load_dataset\n", "load_dataset = datasets.load_dataset\n")
    _, ns = run_block(block, datasets=datasets)
    one_by_one = mukarrar.Filter()
    want = [r for r in rows if not one_by_one.check(r["text"]).is_duplicate]
    assert ns["unique"].rows == want and len(want) < len(rows)


def test_the_nightly_recipe_runs_twice(tmp_path):
    pd = need("pandas")
    _, ns = run_block(docs_block("def tonight("))
    docs = [{"url": r["id"], "text": r.get("title") or r.get("text")} for r in records(SAMPLES / "labelled.jsonl")]
    with contextlib.redirect_stdout(io.StringIO()):
        first = ns["tonight"](tmp_path / "news.db", docs[:20])
        second = ns["tonight"](tmp_path / "news.db", docs)
    assert isinstance(second, pd.DataFrame) and len(second) >= len(first)
    with mukarrar.Index(tmp_path / "news.db") as index:
        assert index.stats()["documents"] == len(docs)


def test_the_other_functions_block_runs():
    _, ns = run_block(docs_block("mukarrar.params(0.7, 128)"))
    assert (ns["p"].bands, ns["p"].rows) == (14, 9)
    assert [c.rule for c in ns["changes"]] == ["R12"]
    assert mukarrar.normalize("عاجل | مسئول: &quot;الوضع مستقر&quot;") == "الوضع مستقر"
