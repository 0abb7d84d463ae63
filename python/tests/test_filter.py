"""`mukarrar.Filter`: the decisions of `mukarrar filter`, in memory and with an index."""

import json
import shutil

import pytest

import mukarrar
from conftest import SAMPLES, run, texts_and_ids


def feed():
    """The two samples one after the other, as the README's filter example reads them."""
    texts, ids = [], []
    for name in ("labelled.jsonl", "headlines.jsonl"):
        t, i = texts_and_ids(SAMPLES / name)
        texts += t
        ids += i
    return texts, ids


def cli_decisions(cli, *flags):
    lines = (SAMPLES / "labelled.jsonl").read_text() + (SAMPLES / "headlines.jsonl").read_text()
    out = run(cli, "filter", "--annotate", *flags, input=lines)
    return [(r["duplicate_of"], r["cluster_id"], r["similarity"]) for r in map(json.loads, out.splitlines())]


def decisions(ds):
    return [(d.duplicate_of, d.cluster_id, d.similarity) for d in ds]


@pytest.mark.parametrize("window", [100_000, 5])
def test_decisions_are_the_command_lines(cli, window):
    texts, ids = feed()
    f = mukarrar.Filter(window=window)
    got = [f.check(t, i) for t, i in zip(texts, ids)]
    assert decisions(got) == cli_decisions(cli, "--window", window)
    if window > len(texts):
        # A window over the whole feed keeps what `mukarrar cluster` finds duplicate.
        lines = (SAMPLES / "labelled.jsonl").read_text() + (SAMPLES / "headlines.jsonl").read_text()
        clustered = json.loads(run(cli, "cluster", "-", "--format", "json", input=lines))["stats"]
        assert sum(d.is_duplicate for d in got) == f.stats["duplicates"] == clustered["duplicates"] > 10
    assert f.stats["documents"] == len(texts) and f.stats["window"] == min(window, len(texts))
    again = mukarrar.Filter(window=window)
    assert decisions(again.check_many(texts, ids)) == decisions(got)


def test_a_decision_reads_as_python():
    f = mukarrar.Filter()
    first = f.check("مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار بغزة")
    repeat = f.check("مجلس الامن يصوت اليوم على قرار لوقف دائم لاطلاق النار بغزة", id="b")
    assert not first and not first.is_duplicate and first.duplicate_of is None and first.similarity is None
    assert repeat and repeat.duplicate_of == "0" and repeat.duplicate_position == 0
    assert (repeat.cluster_id, repeat.position, repeat.similarity, repeat.in_index) == (0, 1, 1.0, False)
    assert "duplicate_of='0'" in repr(repeat) or 'duplicate_of="0"' in repr(repeat)


def test_settings_are_the_command_lines(cli):
    texts, ids = feed()
    f = mukarrar.Filter(threshold=0.6, short_threshold=0.5)
    got = f.check_many(texts, ids)
    assert decisions(got) == cli_decisions(cli, "--threshold", "0.6", "--short-threshold", "0.5")
    assert f.settings["short"]["threshold"] == 0.5


def test_what_a_stream_cannot_do_is_refused():
    with pytest.raises(ValueError, match="--linkage representative"):
        mukarrar.Filter(linkage="representative")
    with pytest.raises(ValueError, match="--boilerplate-df"):
        mukarrar.Filter(boilerplate_df=3)
    with pytest.raises(ValueError, match="--window must be at least 1"):
        mukarrar.Filter(window=0)
    with pytest.raises(ValueError, match="give db=PATH too"):
        mukarrar.Filter(add=True)
    with pytest.raises(mukarrar.InputError, match=r"texts\[1\]: expected a string"):
        mukarrar.Filter().check_many(["نص", None])
    with pytest.raises(TypeError, match="id must be a str or an int"):
        mukarrar.Filter().check("نص", id=1.5)
    f = mukarrar.Filter()
    f.close()
    with pytest.raises(ValueError, match="the filter is closed"):
        f.check("نص")


def make_index(cli, path):
    run(cli, "index", "create", path)
    run(cli, "index", "add", path, SAMPLES / "labelled.jsonl")


def test_with_an_index_the_decisions_are_the_command_lines(cli, tmp_path):
    db = tmp_path / "news.db"
    make_index(cli, db)
    texts, ids = texts_and_ids(SAMPLES / "headlines.jsonl")
    want = run(cli, "filter", "--annotate", "--db", db, SAMPLES / "headlines.jsonl")
    want = [(r["duplicate_of"], r["cluster_id"], r["similarity"]) for r in map(json.loads, want.splitlines())]
    with mukarrar.Filter(db=db) as f:
        assert decisions(f.check_many(texts, ids)) == want
    with pytest.raises(ValueError, match="other settings than those given"):
        mukarrar.Filter(db=db, threshold=0.9)
    mukarrar.Filter(db=db, threshold=0.3).close()  # the index's own value is no change
    with pytest.raises(mukarrar.IndexFileError, match="no index here"):
        mukarrar.Filter(db=tmp_path / "missing.db")


def test_add_stores_what_the_command_line_stores(cli, tmp_path):
    ours, theirs = tmp_path / "ours.db", tmp_path / "theirs.db"
    make_index(cli, ours)
    shutil.copy(ours, theirs)
    texts, ids = texts_and_ids(SAMPLES / "headlines.jsonl")
    run(cli, "filter", "--db", theirs, "--add", "--batch-size", "4", SAMPLES / "headlines.jsonl")
    with mukarrar.Filter(db=ours, add=True, batch_size=4) as f:
        for t, i in zip(texts, ids):
            f.check(t, i)
        assert f.stats["batches"] == 2  # 8 documents committed, 3 waiting
    stats = f.stats
    assert stats["stored"] + stats["not_stored"] == stats["first_seen"] == 9
    assert stats["batches"] == 3  # the last committed by the end of the block
    export = [json.loads(run(cli, "index", "export", db, "--format", "json", "--include-singletons"))
              for db in (ours, theirs)]
    assert export[0]["clusters"] == export[1]["clusters"]
    assert export[0]["stats"] == export[1]["stats"]


def test_a_window_beyond_the_memory_limit_decides_as_in_memory(tmp_path):
    texts, ids = feed()
    want = mukarrar.Filter(window=len(texts))
    got = mukarrar.Filter(window=len(texts), memory_limit=1, temp_dir=tmp_path)
    assert decisions(got.check_many(texts, ids)) == decisions(want.check_many(texts, ids))
    assert want.stats["spilled"] == 0 and got.stats["spilled"] > len(texts) // 2
    assert got.stats["duplicates"] == want.stats["duplicates"] > 10
    got.close()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="temp_dir"):
        mukarrar.Filter(temp_dir=tmp_path / "missing")
