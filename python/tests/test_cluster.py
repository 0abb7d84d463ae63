"""`mukarrar.cluster`: the same groups and similarities as `mukarrar cluster`, from every
kind of input, with every setting; and its errors."""

import json
import re

import pytest

import mukarrar
from conftest import SAMPLES, cli_error, dev_set, need, run, texts_and_ids

SAMPLE_FILES = sorted(SAMPLES.glob("*.jsonl"))


def cli_report(cli, path, *flags):
    return json.loads(run(cli, "cluster", path, "--format", "json", *flags))


def same_as_cli(result, report):
    """Asserts that a Python result is the command line's report: clusters, representatives,
    members, similarities (exactly), counts and settings."""
    got = [
        {
            "id": c.id,
            "size": c.size,
            "representative": c.representative,
            "members": [(m.id, m.similarity, m.is_representative) for m in c.members],
        }
        for c in result
    ]
    want = [
        {
            "id": c["id"],
            "size": c["size"],
            "representative": c["representative"],
            "members": [(m["id"], m["similarity"], m["is_representative"]) for m in c["members"]],
        }
        for c in report["clusters"]
    ]
    assert got == want
    counts = {k: v for k, v in result.stats.items() if k != "seconds"}
    assert counts == {k: v for k, v in report["stats"].items() if k != "seconds"}
    params = dict(report["params"])
    del params["inputs"]
    assert result.params == params


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_samples_give_the_command_lines_clusters(cli, path):
    texts, ids = texts_and_ids(path)
    result = mukarrar.cluster(texts, ids=ids)
    assert len(result) > 0
    same_as_cli(result, cli_report(cli, path))


def test_the_dev_headlines_give_the_command_lines_clusters(cli):
    path = dev_set("headlines.jsonl.gz")
    texts, ids = texts_and_ids(path)
    result = mukarrar.cluster(texts, ids=ids)
    assert len(result) > 100
    same_as_cli(result, cli_report(cli, path))


# One value other than the default for every setting, as keyword and as flag.
SETTINGS = {
    "normalize": "light",
    "shingle": "char",
    "ngram": 4,
    "keep_title_tags": True,
    "short_words": 10,
    "short_threshold": 0.6,
    "ignore_numbers": True,
    "short_run_words": 5,
    "cross_words": 40,
    "cross_containment": 0.7,
    "lead_words": 40,
    "boilerplate_df": 3,
    "lead_weight": 2,
    "num_perm": 64,
    "word_sketch": 32,
    "seed": 9,
    "threshold": 0.5,
    "word_low": 0.3,
    "word_threshold": 0.6,
    "lsh_objective": "recall",
    "bands": 16,
    "rows": 4,
    "measure": "containment",
    "verify": "exact",
    "linkage": "representative",
    "representative": "longest",
}


def flags(**settings):
    out = []
    for name, value in settings.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            out.append(flag)
        else:
            out += [flag, str(value)]
    return out


def test_every_setting_is_a_keyword_named_as_its_flag(cli):
    help_text = run(cli, "cluster", "--help")
    sections = re.split(r"\n(?=[A-Z][a-z]+:\n)", help_text)
    names = []
    for section in sections:
        if section.split(":")[0] in ("Signatures", "Matching", "Clustering"):
            names += [n.replace("-", "_") for n in re.findall(r"^  (?:-\w, |    )--([\w-]+)", section, re.M)]
    assert names == list(mukarrar.SETTINGS)
    assert sorted(SETTINGS) == sorted(names)


@pytest.mark.parametrize("name", list(SETTINGS))
def test_each_setting_means_what_its_flag_means(cli, name):
    path = SAMPLES / "labelled.jsonl"
    texts, ids = texts_and_ids(path)
    value = SETTINGS[name]
    result = mukarrar.cluster(texts, ids=ids, **{name: value})
    same_as_cli(result, cli_report(cli, path, *flags(**{name: value})))
    assert result.params != mukarrar.cluster(texts, ids=ids).params


def test_settings_together_mean_what_their_flags_mean(cli):
    path = SAMPLES / "labelled.jsonl"
    texts, ids = texts_and_ids(path)
    chosen = {"threshold": 0.4, "shingle": "char", "linkage": "representative", "num_perm": 256}
    same_as_cli(mukarrar.cluster(texts, ids=ids, **chosen), cli_report(cli, path, *flags(**chosen)))


def test_inputs_of_every_kind_give_the_same_clusters():
    texts, ids = texts_and_ids(SAMPLES / "labelled.jsonl")
    want = mukarrar.cluster(texts, ids=ids)

    def shape(result):
        return [[(m.id, m.similarity) for m in c.members] for c in result]

    assert shape(mukarrar.cluster(iter(texts), ids=iter(ids))) == shape(want)
    assert shape(mukarrar.cluster((t for t in texts), ids=tuple(ids))) == shape(want)
    pd = need("pandas")
    frame = pd.DataFrame({"text": texts, "id": ids})
    assert shape(mukarrar.cluster(frame["text"], ids=frame["id"])) == shape(want)
    pa = need("pyarrow")
    assert shape(mukarrar.cluster(pa.array(texts), ids=pa.chunked_array([ids[:5], ids[5:]]))) == shape(want)


def test_a_generator_is_streamed_not_copied():
    pulled = []

    def texts():
        for i in range(5000):
            pulled.append(i)
            yield f"خبر رقم {i} عن موضوع {i % 7}"

    result = mukarrar.cluster(texts(), short_words=0)
    assert result.stats["documents"] == 5000 == len(pulled)


def test_results_read_as_python_objects():
    texts, ids = texts_and_ids(SAMPLES / "headlines.jsonl")
    result = mukarrar.cluster(texts)  # no ids: positions
    assert len(result) == len(result.groups) == result.stats["clusters"] == 2
    first = result[0]
    assert result[-1].id == result.groups[-1].id
    assert first.id == 0 and first.representative == 0 and len(first) == first.size == 2
    assert [m.index for m in first] == [m.id for m in first.members] == [0, 10]
    assert first.members[0].is_representative and first.members[0].similarity == 1.0
    labels = result.labels()
    assert labels[10] == 0 and labels[5] == 5 and len(labels) == len(texts)
    keep = result.keep()
    assert keep.count(False) == result.stats["duplicates"] == 2 and not keep[10]
    assert "2 clusters over 11 documents" in repr(result)
    with pytest.raises(IndexError):
        result[2]


def test_ids_keep_their_python_type():
    texts, _ = texts_and_ids(SAMPLES / "headlines.jsonl")
    ids = [1000 + i for i in range(len(texts))]
    result = mukarrar.cluster(texts, ids=ids)
    assert result[0].representative == 1000 and result[0].members[1].id == 1010


def test_tables_have_the_csv_reports_rows(cli):
    pd = need("pandas")
    pa = need("pyarrow")
    path = SAMPLES / "labelled.jsonl"
    texts, ids = texts_and_ids(path)
    result = mukarrar.cluster(texts, ids=ids)
    frame = result.to_pandas()
    csv_rows = [line.split(",") for line in run(cli, "cluster", path, "--format", "csv").splitlines()[1:]]
    rows = [
        [str(r.cluster_id), r.doc_id, round(r.similarity, 4), "true" if r.is_representative else "false"]
        for r in frame.itertuples()
    ]
    # The CSV report writes similarities with four decimals.
    assert rows == [[r[0], r[1], float(r[2]), r[3]] for r in csv_rows]
    assert list(frame.columns) == ["cluster_id", "doc_id", "index", "similarity", "is_representative"]
    table = result.to_arrow()
    assert table.num_rows == len(frame) and table.column("doc_id").to_pylist() == list(frame.doc_id)


def test_bad_texts_and_ids_are_input_errors():
    with pytest.raises(mukarrar.InputError, match=r"^texts\[1\]: expected a string, found None$"):
        mukarrar.cluster(["نص", None])
    with pytest.raises(mukarrar.InputError, match=r"texts\[2\]: expected a string, found a float"):
        mukarrar.cluster(["نص", "نص", float("nan")])
    with pytest.raises(mukarrar.InputError, match=r"texts\[0\]: expected a string, found bytes"):
        mukarrar.cluster([b"x"])
    with pytest.raises(mukarrar.InputError, match=r"^ids\[2\]: duplicate id `a` \(first seen at ids\[0\]\)$"):
        mukarrar.cluster(["x", "y", "z"], ids=["a", "b", "a"])
    with pytest.raises(mukarrar.InputError, match=r"^ids\[1\]: expected a string, found"):
        mukarrar.cluster(["x", "y"], ids=["a", 1.5])
    assert issubclass(mukarrar.InputError, mukarrar.Error)


def test_wrong_shapes_are_type_and_value_errors():
    with pytest.raises(TypeError, match="iterable of strings, not a single str"):
        mukarrar.cluster("نص واحد")
    with pytest.raises(TypeError, match="iterable of strings, not int"):
        mukarrar.cluster(5)
    with pytest.raises(ValueError, match=r"ids has fewer items than texts \(2 ids\)"):
        mukarrar.cluster(["a", "b", "c"], ids=["x", "y"])
    with pytest.raises(ValueError, match=r"ids has more items than texts \(2\)"):
        mukarrar.cluster(["a", "b"], ids=["x", "y", "z"])


def test_skip_invalid_skips_and_counts():
    result = mukarrar.cluster(["خبر عن المطر", None, "خبر عن المطر", 3], skip_invalid=True)
    assert result.stats["skipped"] == 2 and result.stats["documents"] == 2
    assert result.labels() == [0, 1, 0, 3]
    assert result.keep() == [True, True, False, True]
    assert [m.index for m in result[0]] == [0, 2]


def test_an_exception_in_the_iterable_is_raised_as_it_is():
    def texts():
        yield "نص"
        raise ZeroDivisionError("from the generator")

    with pytest.raises(ZeroDivisionError, match="from the generator"):
        mukarrar.cluster(texts())


def test_bad_settings_get_the_command_lines_messages(cli):
    path = SAMPLES / "headlines.jsonl"
    cases = [
        ({"threshold": 1.5}, ["--threshold", "1.5"]),
        ({"short_threshold": 0.0}, ["--short-threshold", "0"]),
        ({"num_perm": 0}, ["--num-perm", "0"]),
        ({"ngram": 40}, ["--ngram", "40"]),
        ({"bands": 100, "rows": 3}, ["--bands", "100", "--rows", "3"]),
        ({"lead_weight": 20}, ["--lead-weight", "20"]),
    ]
    for kwargs, flag_list in cases:
        with pytest.raises(ValueError) as raised:
            mukarrar.cluster(["x"], **kwargs)
        assert str(raised.value) in cli_error(cli, "cluster", path, *flag_list), kwargs
    for name, word in [("linkage", "star"), ("normalize", "heavy"), ("measure", "cosine")]:
        with pytest.raises(ValueError) as raised:
            mukarrar.cluster(["x"], **{name: word})
        assert f"`{word}`" in str(raised.value)
        assert str(raised.value) in cli_error(cli, "cluster", path, f"--{name}", word)


def test_settings_of_the_wrong_type_or_name_are_type_errors():
    with pytest.raises(TypeError, match="unexpected keyword argument 'thresold'.*threshold"):
        mukarrar.cluster(["x"], thresold=0.5)
    with pytest.raises(TypeError, match="threshold must be a float, not str"):
        mukarrar.cluster(["x"], threshold="0.5")
    with pytest.raises(TypeError, match="num_perm must be an int, not float"):
        mukarrar.cluster(["x"], num_perm=64.0)
    with pytest.raises(TypeError, match="ignore_numbers must be True or False"):
        mukarrar.cluster(["x"], ignore_numbers=1)
    with pytest.raises(ValueError, match="short_words -1 is out of range"):
        mukarrar.cluster(["x"], short_words=-1)
    with pytest.raises(TypeError, match="linkage must be a str"):
        mukarrar.cluster(["x"], linkage=None)


def test_empty_input_gives_no_clusters():
    result = mukarrar.cluster([])
    assert len(result) == 0 and result.labels() == [] and result.stats["documents"] == 0


def test_beyond_the_memory_limit_the_clusters_are_the_same(tmp_path):
    texts, ids = texts_and_ids(SAMPLES / "labelled.jsonl")
    texts, ids = texts * 3, ids + [f"{i}-b" for i in ids] + [f"{i}-c" for i in ids]
    want = mukarrar.cluster(texts, ids=ids)
    got = mukarrar.cluster(texts, ids=ids, memory_limit=1, temp_dir=tmp_path)

    def shape(result):
        return [[(m.id, m.index, m.similarity, m.is_representative) for m in c.members] for c in result]

    # Bytes written to temporary files: none in memory.
    assert got.stats["spilled"] > 0 and "spilled" not in want.stats
    assert shape(got) == shape(want) and got.labels() == want.labels() and len(want) > 5
    assert list(tmp_path.iterdir()) == []


def test_a_temp_dir_that_is_not_a_folder_is_refused_before_reading(tmp_path):
    pulled = []

    def texts():
        pulled.append(1)
        yield "نص"

    (tmp_path / "file").write_text("x")
    for bad in (tmp_path / "file", tmp_path / "missing"):
        with pytest.raises(ValueError, match="temp_dir"):
            mukarrar.cluster(texts(), memory_limit=1, temp_dir=bad)
    with pytest.raises(ValueError, match="memory_limit"):
        mukarrar.cluster(texts(), memory_limit=0)
    assert pulled == []
