"""Corpus readers, filtering and the batch plan."""

import numpy as np
import pytest

from keras_s2s.data.corpora import read_parallel, read_tsv
from keras_s2s.data.pipeline import BatchPlan, filter_examples, make_dataset
from keras_s2s.text.vocabulary import END_ID, START_ID


def test_read_tsv_columns_and_line_endings(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_bytes("Go.\tVe.\tCC-BY\r\nHi.\tHola.\tCC-BY\n".encode())
    assert read_tsv(path) == [("Ve.", "Go."), ("Hola.", "Hi.")]
    assert read_tsv(path, source_column=0, target_column=2)[0] == ("Go.", "CC-BY")


def test_read_tsv_errors_name_the_file_and_line(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("a\tb\nonly one column\n")
    with pytest.raises(ValueError, match=r"pairs.tsv, line 2: 1 tab-separated"):
        read_tsv(path)
    with pytest.raises(ValueError, match="both column"):
        read_tsv(path, 1, 1)
    bad = tmp_path / "latin1.tsv"
    bad.write_bytes("a\tb\nse\xf1or\tsir\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"not valid UTF-8 \(line 2"):
        read_tsv(bad)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_tsv(tmp_path / "nope.tsv")
    with pytest.raises(ValueError, match="directory"):
        read_tsv(tmp_path)


def test_read_parallel(tmp_path):
    (tmp_path / "a.de").write_text("Hallo\nWelt\n")
    (tmp_path / "a.en").write_text("Hello\nWorld\n")
    (tmp_path / "b.en").write_text("Hello\n")
    assert read_parallel(tmp_path / "a.de", tmp_path / "a.en") == [("Hallo", "Hello"),
                                                                  ("Welt", "World")]
    with pytest.raises(ValueError, match="same number of lines"):
        read_parallel(tmp_path / "a.de", tmp_path / "b.en")


def test_filter_counts_what_it_drops():
    sources = [[4], [], [4, 5, 6], [4, 5]]
    targets = [[5], [5], [5], [5, 6, 7, 8]]
    kept_s, kept_t, report = filter_examples(sources, targets, 2, 3)
    assert kept_s == [[4]] and kept_t == [[5]]
    assert (report.kept, report.empty, report.too_long) == (1, 1, 2)
    assert "dropped 1 with an empty side and 2 longer" in str(report)


def _plan(seed=0, shuffle=True):
    rng = np.random.default_rng(1)
    sources = [list(rng.integers(4, 9, rng.integers(1, 30))) for _ in range(103)]
    targets = [list(rng.integers(4, 9, rng.integers(1, 30))) for _ in range(103)]
    return BatchPlan(sources, targets, 10, shuffle=shuffle, seed=seed)


def test_batch_plan_covers_every_example_once_per_epoch():
    plan = _plan()
    assert len(plan) == 11
    for epoch in range(3):
        batches = plan.batches(epoch)
        assert len(batches) == 11
        assert sorted(np.concatenate(batches).tolist()) == list(range(103))


def test_batch_plan_is_deterministic_per_seed_and_epoch():
    a, b = _plan(seed=3), _plan(seed=3)
    same = lambda x, y: all(np.array_equal(p, q) for p, q in zip(x, y))  # noqa: E731
    assert same(a.batches(2), b.batches(2))
    assert not same(a.batches(1), a.batches(2))
    assert not same(a.batches(1), _plan(seed=4).batches(1))


def test_bucketing_reduces_padding():
    def padding(plan):
        total = 0
        for indices in plan.batches(0):
            inputs, _ = plan.arrays(indices)
            total += int((inputs["source_ids"] == 0).sum())
        return total

    assert padding(_plan()) < 0.5 * padding(_plan(shuffle=False))


def test_batch_arrays_are_teacher_forcing_pairs():
    plan = BatchPlan([[4, 5], [6]], [[7, 8, 9], [10]], batch_size=2, shuffle=False)
    inputs, labels = plan.arrays([0, 1])
    np.testing.assert_array_equal(inputs["source_ids"], [[4, 5], [6, 0]])
    np.testing.assert_array_equal(inputs["target_ids"], [[START_ID, 7, 8, 9], [START_ID, 10, 0, 0]])
    np.testing.assert_array_equal(labels, [[7, 8, 9, END_ID], [10, END_ID, 0, 0]])


def test_make_dataset_reshuffles_each_pass():
    plan = _plan()
    dataset = make_dataset(plan.sources, plan.targets, 10, shuffle=True)
    first = [x["source_ids"].shape for x, _ in dataset]
    second = [x["source_ids"].shape for x, _ in dataset]
    assert len(first) == len(second) == 11 and first != second
    assert dataset.cardinality().numpy() == 11


def test_batch_plan_refuses_nothing():
    with pytest.raises(ValueError, match="filtered out"):
        BatchPlan([], [], 4)


def test_every_iterator_over_an_endless_dataset_starts_at_its_first_epoch():
    # Under a tf.distribute strategy, Keras reads a batch from a first iterator (to
    # build the model) before training starts a second one: the second must not
    # continue where the first stopped.
    sources = [[3 + i % 5] * (1 + i % 7) for i in range(40)]
    plan = BatchPlan(sources, sources, batch_size=8, seed=1)
    dataset = plan.dataset(first_epoch=2, endless=True)
    expected = [plan.arrays(indices)[1] for indices in plan.batches(2) + plan.batches(3)]
    for _ in range(2):
        labels = [batch[1].numpy() for batch in dataset.take(len(expected))]
        assert all(np.array_equal(a, b) for a, b in zip(labels, expected))
