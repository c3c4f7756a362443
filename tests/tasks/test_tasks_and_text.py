"""Built-in tasks, vocabularies, padding and atomic writes (no training)."""

import os

import numpy as np
import pytest

from keras_s2s.data.padding import pad_ids
from keras_s2s.tasks import get_task
from keras_s2s.tasks.symbols import SymbolTask
from keras_s2s.text.vocabulary import END_ID, PAD_ID, SPECIALS, UNK_ID, Vocabulary
from keras_s2s.utils.atomic import atomic_directory


def test_reverse_and_copy_targets():
    train, _, _ = get_task("reverse", max_length=6).splits(50, 5, 5, seed=1)
    assert all(target.split() == source.split()[::-1] for source, target in train)
    train, _, _ = get_task("copy", max_length=6).splits(50, 5, 5, seed=1)
    assert all(target == source for source, target in train)
    assert all(isinstance(source, str) for source, _ in train)


def test_splits_are_deterministic_and_held_out():
    task = SymbolTask("reverse", num_symbols=5, min_length=2, max_length=6)
    first = task.splits(2000, 100, 200, seed=3)
    assert first == task.splits(2000, 100, 200, seed=3)
    assert first != task.splits(2000, 100, 200, seed=4)
    train, dev, test = first
    train_sources = {s for s, _ in train}
    heldout = [s for s, _ in dev + test]
    assert len(set(heldout)) == len(heldout) == 300
    assert not train_sources & set(heldout)
    lengths = [len(s.split()) for s, _ in train]
    assert min(lengths) == 2 and max(lengths) == 6


def test_impossible_split_is_refused():
    task = SymbolTask("copy", num_symbols=2, min_length=1, max_length=2)  # 6 sequences
    with pytest.raises(ValueError, match="distinct held-out"):
        task.splits(10, 5, 5)
    with pytest.raises(ValueError, match="held out"):
        task.splits(10, 3, 3)


@pytest.mark.parametrize("bad", [{"operation": "sort"}, {"num_symbols": 1},
                                 {"min_length": 5, "max_length": 2}])
def test_bad_task_options(bad):
    with pytest.raises(ValueError):
        SymbolTask(**bad)


def test_unknown_task_name():
    with pytest.raises(ValueError, match="reverse"):
        get_task("dates-in-klingon")


def test_tasks_rebuild_from_their_config():
    for name in ("reverse", "copy", "dates"):
        task = get_task(name)
        config = task.get_config()
        again = get_task(**config)
        assert again.get_config() == config
        assert again.splits(20, 5, 5, seed=2) == task.splits(20, 5, 5, seed=2)
        assert task.level in ("char", "word")


def test_vocabulary_encode_decode_and_round_trip(tmp_path):
    vocab = Vocabulary(["a", "b", "c"])
    assert vocab.tokens[: len(SPECIALS)] == list(SPECIALS)
    ids = vocab.encode(["c", "a", "zzz"])
    assert ids == [6, 4, UNK_ID]
    assert vocab.decode([6, 4, END_ID, 5]) == ["c", "a"]
    assert vocab.decode([PAD_ID, 5, PAD_ID]) == ["b"]
    path = tmp_path / "vocab.txt"
    vocab.save(path)
    assert Vocabulary.load(path) == vocab
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_vocabulary_refuses_bad_tokens_and_files(tmp_path):
    with pytest.raises(ValueError, match="twice"):
        Vocabulary(["a", "a"])
    with pytest.raises(ValueError, match="twice"):
        Vocabulary(["<s>"])
    with pytest.raises(ValueError, match="one-line"):
        Vocabulary(["a\nb"])
    path = tmp_path / "words.txt"
    path.write_text("hello\nworld\n")
    with pytest.raises(ValueError, match="not a keras_s2s vocabulary"):
        Vocabulary.load(path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Vocabulary.load(tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="outside"):
        Vocabulary(["a"]).decode([99])


def test_pad_ids():
    out = pad_ids([[5, 6, 7], [8], []])
    np.testing.assert_array_equal(out, [[5, 6, 7], [8, 0, 0], [0, 0, 0]])
    assert out.dtype == np.int32
    assert pad_ids([[]]).shape == (1, 1)
    with pytest.raises(ValueError, match="does not fit"):
        pad_ids([[1, 2, 3]], length=2)


def test_atomic_directory_replaces_or_keeps(tmp_path):
    target = tmp_path / "model"
    with atomic_directory(target) as tmp:
        (open(os.path.join(tmp, "a.txt"), "w")).write("first")
    assert (target / "a.txt").read_text() == "first"
    with pytest.raises(RuntimeError):
        with atomic_directory(target) as tmp:
            open(os.path.join(tmp, "a.txt"), "w").write("half")
            raise RuntimeError("killed mid-write")
    assert (target / "a.txt").read_text() == "first"
    with atomic_directory(target) as tmp:
        open(os.path.join(tmp, "b.txt"), "w").write("second")
    assert sorted(os.listdir(target)) == ["b.txt"]
    assert sorted(os.listdir(tmp_path)) == ["model"]


def test_atomic_writes_get_ordinary_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        Vocabulary(["a"]).save(tmp_path / "vocab.txt")
        with atomic_directory(tmp_path / "dir") as tmp:
            open(os.path.join(tmp, "x"), "w").write("x")
    finally:
        os.umask(mask)
    assert (tmp_path / "vocab.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "dir").stat().st_mode & 0o777 == 0o755
