"""`mukarrar.Index`: the file `mukarrar index` uses, and the same reports."""

import json

import pytest

import mukarrar
from conftest import SAMPLES, run, texts_and_ids


def without_seconds(report):
    report = json.loads(json.dumps(report))
    report["stats"].pop("seconds", None)
    report["params"].pop("inputs", None)
    return report


def cli_json(cli, *args):
    return json.loads(run(cli, *args, "--format", "json"))


def test_add_query_export_are_the_command_lines(cli, tmp_path):
    ours, theirs = tmp_path / "ours.db", tmp_path / "theirs.db"
    run(cli, "index", "create", theirs, "--threshold", "0.4")
    with mukarrar.Index.create(ours, threshold=0.4) as index:
        for name in ("labelled.jsonl", "headlines.jsonl"):
            texts, ids = texts_and_ids(SAMPLES / name)
            got = index.add(texts, ids, batch_size=10)
            want = cli_json(cli, "index", "add", theirs, SAMPLES / name, "--batch-size", "10")
            assert without_seconds(got) == without_seconds(want)
        texts, ids = texts_and_ids(SAMPLES / "headlines.jsonl")
        got = index.query([t + " عاجل" for t in texts], [i + "-q" for i in ids], include_singletons=True)
        assert not got["committed"] and got["stats"]["new"] == len(texts)
        exported = index.export()
        want = cli_json(cli, "index", "export", theirs)
        assert [(c.id, c.representative, [(m.id, m.similarity) for m in c]) for c in exported] == [
            (c["id"], c["representative"], [(m["id"], m["similarity"]) for m in c["members"]])
            for c in want["clusters"]
        ]
        assert exported.stats["documents"] == want["stats"]["documents"] == 45
        stats = index.stats()
        assert stats["documents"] == 45 and stats["path"] == str(ours) and stats["batches"] == 4 + 2  # 34 and 11 documents, 10 a batch
        assert index.settings["threshold"] == 0.4
        with pytest.raises(ValueError, match="export names documents by id"):
            exported.labels()
    # The command line reads what Python wrote.
    assert cli_json(cli, "index", "stats", ours)["documents"] == 45


def test_remove_by_ids_and_by_date(tmp_path):
    texts, ids = texts_and_ids(SAMPLES / "labelled.jsonl")
    with mukarrar.Index.create(tmp_path / "i.db") as index:
        index.add(texts, ids, first_seen="2024-01-01")
        index.add(["خبر جديد تماما عن الطقس في الرياض"], ["late"], first_seen="2024-06-01")
        removal = index.remove([ids[0], "no-such-id"])
        assert removal["removed"] == 1 and removal["not_found"] == ["no-such-id"]
        removal = index.remove(before="2024-03-01")
        assert removal["removed"] == len(ids) - 1 and removal["indexed"] == 1
        with pytest.raises(ValueError, match="either ids or before"):
            index.remove()


def test_duplicate_ids_follow_the_policy(tmp_path):
    with mukarrar.Index.create(tmp_path / "i.db") as index:
        index.add(["نص أول عن المطر"], ["a"])
        assert index.add(["نص آخر عن الشمس"], ["a"])["stats"]["skipped"] == 1
        assert index.add(["نص آخر عن الشمس"], ["a"], on_duplicate="replace")["stats"]["replaced"] == 1
        with pytest.raises(mukarrar.InputError, match=r"ids\[0\]"):
            index.add(["نص ثالث"], ["a"], on_duplicate="error")
        with pytest.raises(ValueError, match="unknown duplicate-id policy `keep`"):
            index.add(["x"], ["b"], on_duplicate="keep")


def test_index_errors_are_index_file_errors(cli, tmp_path):
    missing = tmp_path / "missing.db"
    with pytest.raises(mukarrar.IndexFileError, match="no index here; create one with `mukarrar index create"):
        mukarrar.Index(missing)
    db = tmp_path / "i.db"
    mukarrar.Index.create(db).close()
    with pytest.raises(mukarrar.IndexFileError, match="already exists"):
        mukarrar.Index.create(db)
    not_an_index = tmp_path / "x.db"
    not_an_index.write_text("hello")
    with pytest.raises(mukarrar.IndexFileError) as raised:
        mukarrar.Index(not_an_index)
    assert issubclass(mukarrar.IndexFileError, mukarrar.Error)
    assert str(raised.value).startswith(str(not_an_index))
    with pytest.raises(ValueError, match="--verify exact needs every document's shingle set"):
        mukarrar.Index.create(tmp_path / "e.db", verify="exact")
    readonly = mukarrar.Index(db, readonly=True)
    with pytest.raises(mukarrar.IndexFileError):
        readonly.add(["نص"], ["a"])
    readonly.close()
    with pytest.raises(ValueError, match="the index is closed"):
        readonly.stats()
