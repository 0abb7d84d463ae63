"""Ctrl-C interrupts a long call, and calls from several Python threads run at once (the GIL
is released while the library works)."""

import faulthandler
import os
import signal
import threading

import pytest

import mukarrar
from conftest import SAMPLES, texts_and_ids


def endless():
    """A feed that never ends: only an interruption stops a call that reads it."""
    i = 0
    while True:
        i += 1
        yield f"خبر رقم {i} عن حدث {i * 7919 % 10007} في مدينة {i % 97}"


def interrupt_soon():
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


@pytest.fixture
def watchdog():
    # Python keeps SIGINT ignored when it started ignored (a command run in the background of
    # a script, `nohup`): Ctrl-C then never reaches the call, so give it Python's handler.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    # A call that ignores Ctrl-C would read forever: end the run with a traceback instead.
    faulthandler.dump_traceback_later(120, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_interrupts_cluster(watchdog):
    interrupt_soon()
    with pytest.raises(KeyboardInterrupt):
        mukarrar.cluster(endless())


def test_ctrl_c_interrupts_index_add_and_keeps_committed_batches(watchdog, tmp_path):
    def ids():
        i = 0
        while True:
            i += 1
            yield f"doc-{i}"

    with mukarrar.Index.create(tmp_path / "i.db") as index:
        interrupt_soon()
        with pytest.raises(KeyboardInterrupt):
            index.add(endless(), ids(), batch_size=500)
        documents = index.stats()["documents"]
        assert documents % 500 == 0  # whole batches, the interrupted one rolled back


def test_calls_from_several_threads_give_each_the_same_result():
    texts, ids = texts_and_ids(SAMPLES / "labelled.jsonl")
    texts = texts * 50
    ids = [f"{i}-{n}" for n in range(50) for i in ids]
    want = [[m.id for m in c] for c in mukarrar.cluster(texts, ids=ids)]
    results = [None] * 4

    def work(k):
        results[k] = [[m.id for m in c] for c in mukarrar.cluster(texts, ids=ids)]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [want] * 4


def test_one_filter_shared_by_threads_decides_each_document_once():
    texts = [f"خبر رقم {i % 100} عن حدث مهم في مدينة {i % 100}" for i in range(400)]
    f = mukarrar.Filter()

    def work(part):
        for t in part:
            f.check(t)

    threads = [threading.Thread(target=work, args=(texts[k::4],)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert f.stats["documents"] == 400 and f.stats["first_seen"] == 100
