"""`normalize`, `sign` and `params`: what `mukarrar normalize`, `sign` and `params` give."""

import json
import re
import sys

import pytest

import mukarrar
from conftest import SAMPLES, run, texts_and_ids

TEXTS = [
    "قال الرئيس إن «الحكومة» ستعلن ٣٫٥ مليون",
    "عاجل | مسئول: &quot;الوضع مستقر&quot; - واس",
    "بالفيديو.. أمطارٌ غزيرة على جدة (صور)",
    "The MINISTER said ـــ نعم",
]


@pytest.mark.parametrize("profile", ["default", "light", "none"])
def test_normalize_gives_the_command_lines_text(cli, profile):
    for text in TEXTS:
        want = run(cli, "normalize", "--profile", profile, text).rstrip("\n")
        assert mukarrar.normalize(text, profile=profile) == want
    kept = run(cli, "normalize", "--keep-title-tags", TEXTS[1]).rstrip("\n")
    assert mukarrar.normalize(TEXTS[1], keep_title_tags=True) == kept
    assert kept != mukarrar.normalize(TEXTS[1])


def test_explain_lists_the_command_lines_steps(cli):
    for text in TEXTS:
        lines = run(cli, "normalize", "--explain", text).splitlines()
        normalized, changes = mukarrar.normalize(text, explain=True)
        assert normalized == lines[0]
        steps = [re.match(r"\s+(\S+)\s+([^:]+):", line).groups() for line in lines[1:]]
        assert [(c.rule, c.description) for c in changes] == steps
    _, changes = mukarrar.normalize(TEXTS[1], explain=True)
    assert (changes[1].rule, changes[1].before, changes[1].after) == ("T1", "عاجل | مسئول: ", "")
    assert str(changes[1]).startswith("T1 title label removed:")


def test_normalize_refuses_an_unknown_profile():
    with pytest.raises(ValueError, match=r"unknown normalization profile `heavy` \(expected default, light or none\)"):
        mukarrar.normalize("نص", profile="heavy")


def unsigned(values, bits):
    return [v % (1 << bits) for v in values]


@pytest.mark.parametrize("settings", [{}, {"num_perm": 64, "threshold": 0.5, "seed": 3}])
def test_sign_gives_the_command_lines_signatures(cli, settings):
    path = SAMPLES / "labelled.jsonl"
    texts, _ = texts_and_ids(path)
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in settings.items()]
    lines = run(cli, "sign", path, "--with-signature", *flags).splitlines()
    assert len(lines) == len(texts)
    for text, line in zip(texts, lines):
        want = json.loads(line)
        got = mukarrar.sign(text, **settings)
        assert len(got.minhash) == settings.get("num_perm", 128)
        assert got.minhash + got.word_sketch == unsigned(want["sig"], 32)
        assert got.band_keys == unsigned(want["b"], 64)
        assert (got.shingles, got.short, got.empty) == (want["n"], want["short"], want["empty"])
        assert got.numbers == unsigned([want["numbers"]], 64)[0]
        assert got.words == unsigned(want.get("w", []), 64)


def test_sign_marks_empty_and_short_texts():
    empty = mukarrar.sign("«» ...")
    assert empty.empty and empty.shingles == 0 and empty.band_keys == []
    assert mukarrar.sign("مقتل 3 في حادث").short
    assert mukarrar.sign("مقتل 3 في حادث").numbers != mukarrar.sign("مقتل 5 في حادث").numbers
    with pytest.raises(ValueError, match="--num-perm 0 is out of range"):
        mukarrar.sign("نص", num_perm=0)


@pytest.mark.parametrize(
    "args",
    [(0.7, 128, "area", None, None), (0.5, 256, "recall", None, None), (0.3, 128, "area", 16, None),
     (0.8, 128, "area", None, 5)],
)
def test_params_gives_the_command_lines_bands(cli, args):
    threshold, num_perm, objective, bands, rows = args
    flags = ["-t", threshold, "--num-perm", num_perm, "--lsh-objective", objective]
    flags += ["--bands", bands] if bands else []
    flags += ["--rows", rows] if rows else []
    out = run(cli, "params", *flags)
    b, r = map(int, re.search(r"bands b = (\d+), rows r = (\d+)", out).groups())
    fp, fn = map(float, re.search(r"false-positive area ([\d.]+), false-negative area ([\d.]+)", out).groups())
    p = mukarrar.params(threshold, num_perm, lsh_objective=objective, bands=bands, rows=rows)
    assert (p.bands, p.rows) == (b, r)
    assert (round(p.false_positive_area, 4), round(p.false_negative_area, 4)) == (fp, fn)
    curve = re.findall(r"^\s+(\d\.\d)\s+([\d.]+)", out, re.M)
    assert [round(p.probability(float(s)), 4) for s, _ in curve] == [float(v) for _, v in curve]


def test_params_refuses_bad_values():
    with pytest.raises(ValueError, match=r"--threshold 1.5 is out of range"):
        mukarrar.params(1.5)
    with pytest.raises(ValueError, match=r"--bands 100 × --rows 3 = 300 exceeds --num-perm 128"):
        mukarrar.params(0.5, bands=100, rows=3)
    with pytest.raises(ValueError, match="unknown LSH objective `best`"):
        mukarrar.params(0.5, lsh_objective="best")


def test_the_package_says_what_it_is():
    assert mukarrar.__version__ == "0.1.0"
    assert "threshold" in mukarrar.SETTINGS
    assert all(name in dir(mukarrar) for name in mukarrar.__all__)


def test_defaults_in_signatures_are_the_command_lines(cli):
    import inspect

    try:
        window = inspect.signature(mukarrar.Filter).parameters["window"].default
    except ValueError:  # Python 3.9 reads no signature from a native class
        pytest.skip(f"Python {sys.version.split()[0]} cannot read the signature of a native class")
    assert re.search(rf"\[default:\s+{window}\s+when\s+no\s+--window-days", run(cli, "filter", "--help"))
    threshold = inspect.signature(mukarrar.params).parameters["threshold"].default
    assert re.search(rf"--threshold <T>[^\[]*\[default: {threshold}\]", run(cli, "cluster", "--help"))
