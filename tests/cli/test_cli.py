"""The `keras-s2s` CLI end to end: train, evaluate, translate, on tasks and real corpora."""

import json
import os
import subprocess
import sys

import matplotlib.image
import pytest

from keras_s2s.cli import main
from keras_s2s.evaluation import evaluate
from keras_s2s.tasks import task_splits
from keras_s2s.trained_model import TrainedModel
from keras_s2s.training import train_task

from conftest import SHARED_DATA as SHARED

needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"the shared corpora are not at {SHARED}"
)
TINY = ["--units", "8", "--embedding-dim", "8", "--epochs", "1", "--quiet",
        "--no-tensorboard"]
TINY_TASK = TINY + ["--train-size", "200", "--dev-size", "20", "--test-size", "30",
                    "--max-length", "5"]


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("cli") / "tiny")
    assert main(["train", "--task", "reverse", "--attention", "bahdanau",
                 "--attention-placement", "bahdanau", "--cell", "lstm", "--bidirectional",
                 "--out", out] + TINY_TASK) == 0
    return out


def test_train_writes_a_complete_model_directory(tiny_model_dir):
    assert sorted(os.listdir(tiny_model_dir)) == [
        "checkpoints", "history.json", "model.keras", "s2s.json", "source_vocab.txt",
        "target_vocab.txt"]
    meta = json.load(open(os.path.join(tiny_model_dir, "s2s.json")))
    assert meta["status"] == "trained"
    assert meta["model"]["attention"] == "bahdanau"
    assert meta["model"]["cell"] == "lstm" and meta["model"]["bidirectional"]
    assert meta["data"]["task"] == {"name": "reverse", "num_symbols": 16, "min_length": 1,
                                    "max_length": 5}
    assert meta["tokenizer"]["source"]["level"] == "word"
    history = json.load(open(os.path.join(tiny_model_dir, "history.json")))
    assert len(history["loss"]) == 1 and len(history["val_loss"]) == 1


def test_evaluate_json_is_one_line_with_metrics(tiny_model_dir, capsys):
    assert main(["evaluate", tiny_model_dir, "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    result = json.loads(out)
    assert result["n"] == 30
    for key in ("bleu", "chrf", "exact_match"):
        assert 0.0 <= result[key] <= 100.0
    assert result["bleu_signature"].startswith("nrefs:1|case:mixed")
    assert sum(b["n"] for b in result["by_source_length"].values()) == 30
    # The same numbers from the Python API on the regenerated test split.
    trained = TrainedModel.load(tiny_model_dir)
    again = evaluate(trained, task_splits(trained.meta["data"])[2])
    assert again["bleu"] == result["bleu"] and again["exact_match"] == result["exact_match"]


def test_evaluate_with_beam(tiny_model_dir, capsys):
    assert main(["evaluate", tiny_model_dir, "--json", "--beam", "3", "--limit", "10"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["decoding"] == "beam3" and result["n"] == 10


def test_translate_arguments_and_stdin(tiny_model_dir, capsys, monkeypatch):
    assert main(["translate", tiny_model_dir, "a b c", "d e"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    monkeypatch.setattr(sys, "stdin", _FakeStdin(b"a b c\nd e\n\xff\xfe bad utf-8\n"))
    assert main(["translate", tiny_model_dir]) == 0
    from_stdin = capsys.readouterr().out.splitlines()
    assert from_stdin[:2] == lines and len(from_stdin) == 3


def test_translate_empty_inputs_give_empty_outputs(tiny_model_dir, capsys):
    texts = ["", "a b", "  \u200b "]
    assert main(["translate", tiny_model_dir, *texts, "--beam", "2"]) == 0
    lines = capsys.readouterr().out.split("\n")
    assert len(lines) == 4 and lines[0] == lines[2] == ""
    empty, real, invisible = (h[0] for h in TrainedModel.load(tiny_model_dir).decode(texts))
    assert empty.tokens == invisible.tokens == [] and empty.attention is None
    assert real.attention is not None and real.attention.shape[1] == 2


def test_translate_nbest(tiny_model_dir, capsys):
    assert main(["translate", tiny_model_dir, "a b c", "--beam", "3", "--nbest", "3"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 3 and {r[0] for r in rows} == {"0"}
    scores = [float(r[1]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert main(["translate", tiny_model_dir, "a", "--beam", "1", "--nbest", "2"]) == 2
    assert "--beam" in capsys.readouterr().err
    # --n-best alone searches with a beam of that size and prints all of them.
    assert main(["translate", tiny_model_dir, "a b c", "--n-best", "3"]) == 0
    assert [line.split("\t")[1:] for line in capsys.readouterr().out.splitlines()] == \
        [r[1:] for r in rows]


def test_translate_attention_plot(tiny_model_dir, tmp_path, capsys):
    plot = tmp_path / "attention.png"
    assert main(["translate", tiny_model_dir, "a b c", "d e f g", "--attention-plot",
                 str(plot)]) == 0
    for path in (plot, tmp_path / "attention-2.png"):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert matplotlib.image.imread(str(path)).shape[0] > 100


def test_clear_errors(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nope"), "--json"]) == 2
    assert "does not exist" in capsys.readouterr().err
    out = str(tmp_path / "bad")
    assert main(["train", "--task", "reverse", "--attention", "none", "--input-feeding",
                 "--out", out] + TINY_TASK) == 2
    assert "input_feeding" in capsys.readouterr().err
    assert main(["train", "--out", out] + TINY) == 2
    assert "No training data" in capsys.readouterr().err
    assert main(["train", "--train", str(tmp_path / "missing.tsv"), "--out", out] + TINY) == 2
    assert "missing.tsv does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--attention", "multihead", "--out", out])
    with pytest.raises(SystemExit):
        main(["train", "--units", "0", "--out", out])


def test_existing_output_is_not_overwritten_by_accident(tiny_model_dir, capsys):
    before = os.path.getmtime(os.path.join(tiny_model_dir, "model.keras"))
    assert main(["train", "--task", "reverse", "--out", tiny_model_dir] + TINY_TASK) == 2
    assert "--resume" in capsys.readouterr().err
    assert os.path.getmtime(os.path.join(tiny_model_dir, "model.keras")) == before


def test_console_script_is_installed():
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "keras-s2s"), "train", "--help"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0
    for option in ("--attention", "--bidirectional", "--cell", "--level", "--resume",
                   "--teacher-forcing", "--source-column"):
        assert option in result.stdout


class _FakeStdin:
    def __init__(self, data):
        import io

        self.buffer = io.BytesIO(data)


@needs_shared
def test_spa_eng_tsv_end_to_end(tmp_path, capsys):
    """Train on a few hundred manythings lines (Spanish -> English), evaluate, translate."""
    corpus = SHARED / "spa-eng"
    out = str(tmp_path / "spa-eng")
    assert main(["train", "--train", str(corpus / "train.tsv"), "--dev", str(corpus / "dev.tsv"),
                 "--test", str(corpus / "test.tsv"), "--limit", "300", "--level", "word",
                 "--vocab-size", "500", "--out", out] + TINY) == 0
    capsys.readouterr()
    assert main(["evaluate", out, "--json", "--limit", "40"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 40 and "bleu" in result and "chrf" in result
    plot = tmp_path / "es.png"
    assert main(["translate", out, "¿Dónde está la estación?", "--attention-plot", str(plot)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
    assert plot.read_bytes()[:4] == b"\x89PNG"


@needs_shared
def test_multi30k_line_aligned_end_to_end(tmp_path, capsys):
    """German -> English from two line-aligned files, subword tokens."""
    corpus = SHARED / "multi30k"
    out = str(tmp_path / "multi30k")
    assert main(["train", "--train-source", str(corpus / "train.de"),
                 "--train-target", str(corpus / "train.en"),
                 "--dev-source", str(corpus / "val.de"), "--dev-target", str(corpus / "val.en"),
                 "--test-source", str(corpus / "test_2016_flickr.de"),
                 "--test-target", str(corpus / "test_2016_flickr.en"),
                 "--limit", "300", "--level", "subword", "--vocab-size", "600",
                 "--out", out] + TINY) == 0
    capsys.readouterr()
    assert main(["evaluate", out, "--json", "--limit", "30", "--beam", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 30
    assert main(["translate", out, "Ein Hund läuft im Park."]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1


@pytest.mark.slow
def test_reverse_task_attention_beats_the_bottleneck(tmp_path, capsys):
    """The seed's claim: attention removes the bottleneck of the final encoder state;
    and the command's defaults train a built-in task to convergence: `keras-s2s train
    --task reverse --attention dot` with no other flag reaches 0.95 exact match (issue 15:
    it stopped at 0.84 with a fixed 10 epochs). The bottleneck model, there to show the
    gap, gets the same defaults within 8 epochs (it plateaus early; a shorter test)."""
    results = {}
    for attention, budget in (("dot", []), ("none", ["--epochs", "8"])):
        out = str(tmp_path / attention)
        assert main(["train", "--task", "reverse", "--attention", attention, "--out", out,
                     "--quiet", "--no-tensorboard", *budget]) == 0
        capsys.readouterr()
        assert main(["evaluate", out, "--json"]) == 0
        results[attention] = json.loads(capsys.readouterr().out)
    longest = list(results["dot"]["by_source_length"])[-1]
    with_attention = results["dot"]["by_source_length"][longest]["exact_match"]
    without = results["none"]["by_source_length"][longest]["exact_match"]
    print(f"\nreverse, exact match: dot attention {results['dot']['exact_match']:.3f} "
          f"(sources of {longest} symbols: {with_attention:.3f}), none "
          f"{results['none']['exact_match']:.3f} ({without:.3f})")
    assert results["dot"]["exact_match"] >= 0.95
    assert without < with_attention - 0.3


@pytest.mark.slow
def test_dates_model_reaches_99_percent(tmp_path):
    """A small model learns the dates task (held-out strings) in about a minute of CPU."""
    trained = train_task(
        "dates", str(tmp_path / "dates"),
        {"units": 64, "embedding_dim": 32, "attention": "bahdanau",
         "attention_placement": "bahdanau", "bidirectional": True},
        epochs=6, patience=2, verbose=0, tensorboard=False, log=lambda m: None,
    )
    test = task_splits(trained.meta["data"])[2]
    result = evaluate(trained, test)
    print(f"\ndates: exact match {result['exact_match']:.4f} on {result['n']} held-out dates")
    assert result["n"] == 1000
    assert result["exact_match"] >= 0.99
    # Dates as people write them, beyond the held-out split's own strings.
    examples = ["Nov. 23rd, 2026", "11/23/2026", "23.11.2026", "2026-11-23",
                "monday, november 23, 2026", "the 23rd of November, 2026"]
    assert trained.translate(examples) == ["2026-11-23"] * len(examples)
