"""The zoo's trained models as committed: cards, bundles that still decode like their
Keras models, card metrics that `keras-s2s evaluate` reproduces, zoo names as MODEL,
and the quickstart."""

import json
import os
import re
import shutil

import pytest

from keras_s2s.cli import main
from keras_s2s.data.named import data_root
from keras_s2s.zoo.trained import (
    CARD_MARKDOWN,
    TRAINED,
    bundle_dir,
    list_trained,
    model_dir,
    read_card,
    resolve,
    held_out_pairs,
)

CHECK_SENTENCES = 50
TASK_ZOO = [name for name in list_trained() if "task" in TRAINED[name]]
CORPUS_ZOO = [name for name in list_trained() if "corpus" in TRAINED[name]]


def _needs_data(name):
    """Skips a test of a zoo model trained on a corpus that is not on this machine."""
    corpus = TRAINED[name].get("corpus")
    if corpus and not os.path.isdir(os.path.join(data_root(), corpus)):
        pytest.skip(f"{name} is measured on the {corpus} corpus, which is not at "
                    f"{os.path.join(data_root(), corpus)} (set KERAS_S2S_DATA)")


def _test_sources(card, count):
    _needs_data(card["name"])
    return [source for source, _ in held_out_pairs(card)[:count]]


def _quantized(name):
    return TRAINED[name].get("export", {}).get("quantize", "none") != "none"


def test_the_zoo_has_six_or_more_trained_models_covering_attention():
    names = list_trained()
    assert len(names) >= 6
    dates = {TRAINED[n]["config"]["attention"] for n in names if TRAINED[n].get("task") == "dates"}
    assert dates == {"none", "dot", "general", "concat", "bahdanau"}
    reverse = {TRAINED[n]["config"]["attention"] for n in names
               if TRAINED[n].get("task") == "reverse"}
    assert {"none", "bahdanau"} <= reverse


@pytest.mark.parametrize("name", list_trained())
def test_every_trained_model_is_committed_with_its_card(name):
    from keras_s2s.trained_model import read_meta

    card = read_card(name)
    meta = read_meta(model_dir(name))
    assert card["name"] == name and card["data"] == meta["data"]
    for key, value in TRAINED[name]["config"].items():
        assert meta["model"][key] == value, key
    metrics = card["metrics"]
    if "task" in card["data"]:
        assert metrics["n"] == card["data"]["test_size"]
    assert 0.0 <= metrics["exact_match"] <= 1.0
    assert sum(b["n"] for b in metrics["by_source_length"].values()) == metrics["n"]
    with open(os.path.join(model_dir(name), CARD_MARKDOWN), encoding="utf-8") as f:
        markdown = f.read()
    shown = f"{metrics['wer']:.2%}" if "wer" in metrics else f"{metrics['exact_match']:.4f}"
    assert shown in markdown and f"# {name}" in markdown
    assert f"keras-s2s zoo build {name}" in markdown  # how to reproduce it
    assert os.path.isfile(os.path.join(bundle_dir(name), "bundle.json"))
    # Float exports decode like Keras; int8 weights may move a token now and then.
    assert min(card["bundle"]["token_agreement"].values()) >= (
        0.97 if _quantized(name) else 0.99)


@pytest.mark.slow
@pytest.mark.parametrize("name", list_trained())
def test_every_committed_bundle_decodes_like_its_keras_model(name):
    from keras_s2s import runtime
    from keras_s2s.trained_model import TrainedModel

    from keras_s2s.export import token_agreement

    card = read_card(name)
    sources = _test_sources(card, CHECK_SENTENCES)
    reference = [h[0].tokens for h in TrainedModel.load(model_dir(name)).decode(sources)]
    bundle = runtime.Bundle(bundle_dir(name))  # verifies every file's sha256
    for backend in ("tflite", "onnx"):
        translator = runtime.load(bundle.path, backend=backend)
        files = bundle.meta["formats"][backend]["files"]
        for whole_loop in (False, True)[:2 if "translate" in files else 1]:
            tokens = [h[0].tokens for h in translator.decode(sources, whole_loop=whole_loop)]
            if _quantized(name):  # as measured at export, on the same first sources
                found = token_agreement(reference, tokens)["token_agreement"]
                assert found >= card["bundle"]["token_agreement"][f"{backend}/step"] - 0.02
            else:
                assert tokens == reference, (backend, whole_loop)


@pytest.mark.slow
@pytest.mark.parametrize("name", list_trained())
def test_every_committed_beam_graph_is_beam_search_on_its_bundle(name):
    """On the held-out set, each format's whole-loop beam graph gives the n-best lists of
    `keras_s2s.decoding.beam_search` over the same bundle's step graph, token for
    token, with scores within 1e-4."""
    from keras_s2s import runtime

    sources = _test_sources(read_card(name), CHECK_SENTENCES)
    bundle = runtime.Bundle(bundle_dir(name))
    with_graph = [backend for backend, meta in bundle.meta["formats"].items()
                  if backend == "savedmodel" or "beam" in meta.get("files", {})]
    if not with_graph:
        pytest.skip(f"{name} is committed without the whole-loop graphs (its recipe)")
    assert bundle.meta["beam_size"] == 4
    for backend in with_graph:
        translator = runtime.load(bundle_dir(name), backend=backend)
        for penalty in (0.0, 1.0):
            options = {"beam_size": 4, "n_best": 4, "length_penalty": penalty}
            graph = translator.decode(sources, whole_loop=True, **options)
            python = translator.decode(sources, **options)
            assert [[h.tokens for h in hs] for hs in graph] == \
                [[h.tokens for h in hs] for hs in python], (backend, penalty)
            for found, expected in zip(graph, python):
                for a, b in zip(found, expected):
                    assert a.finished == b.finished
                    assert abs(a.score - b.score) < 1e-4, (backend, penalty)
                    assert abs(a.ranking_score - b.ranking_score) < 1e-4, (backend, penalty)


@pytest.mark.slow
@pytest.mark.parametrize("name", list_trained())
def test_card_metrics_are_reproduced_by_evaluate(name, capsys):
    _needs_data(name)
    card = read_card(name)
    assert main(["evaluate", name, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    # Greedy decoding of the same test set: only float rounding could move a token.
    assert result["n"] == card["metrics"]["n"]
    assert abs(result["exact_match"] - card["metrics"]["exact_match"]) <= 0.002
    assert abs(result["bleu"] - card["metrics"]["bleu"]) <= 0.2


def test_zoo_names_work_as_model_arguments(capsys):
    assert main(["translate", "dates_bahdanau", "Nov. 23rd, 2026", "12/25/99"]) == 0
    keras_output = capsys.readouterr().out
    assert main(["translate", "dates_bahdanau", "--backend", "onnx",
                 "Nov. 23rd, 2026", "12/25/99"]) == 0
    assert capsys.readouterr().out == keras_output
    assert keras_output.splitlines()[0] == "2026-11-23"


DATES_ZOO = [name for name in list_trained() if TRAINED[name].get("task") == "dates"]


@pytest.mark.parametrize("name", DATES_ZOO)
def test_dates_cards_show_valid_dates_and_every_family(name):
    from keras_s2s.tasks.dates import DAY_FIRST_FAMILIES, FAMILIES

    card = read_card(name)
    found = card["metrics"]["dates"]
    assert card["data"]["task"]["day_first"] is True  # trained with day-first dates
    assert set(found["by_family"]) == set(FAMILIES + DAY_FIRST_FAMILIES)
    assert sum(family["n"] for family in found["by_family"].values()) == card["metrics"]["n"]
    if card["config"]["attention"] != "none":
        assert found["valid_dates"] >= 0.99
        for family, scores in found["by_family"].items():
            assert scores["exact_match"] >= 0.8, family  # a dozen to 130 sources each
    with open(os.path.join(model_dir(name), CARD_MARKDOWN), encoding="utf-8") as f:
        markdown = f.read()
    assert "valid calendar dates" in markdown and "--day-first" in markdown


def test_day_first_dates_of_every_english_locale(capsys):
    """Dates as the UK, India or Australia write them (issue 15: these came out as
    impossible dates), month first where both readings are possible, and day first
    with --day-first."""
    texts = ["20/11/1950", "22/3/76", "14/08/1905", "20-11-1950", "5/11/2026", "12/25/99"]
    assert main(["translate", "dates_bahdanau", "--backend", "onnx", *texts]) == 0
    assert capsys.readouterr().out.split() == [
        "1950-11-20", "1976-03-22", "1905-08-14", "1950-11-20", "2026-05-11", "1999-12-25"]
    assert main(["translate", "dates_bahdanau", "--backend", "onnx", "--day-first",
                 "5/11/2026", "01/02/2003", "20/11/1950", "Nov. 23rd, 2026"]) == 0
    assert capsys.readouterr().out.split() == [
        "2026-11-05", "2003-02-01", "1950-11-20", "2026-11-23"]
    assert main(["translate", "reverse_bahdanau", "--backend", "onnx", "--day-first", "a b"]) == 2
    assert "--day-first is for models trained on the dates task" in capsys.readouterr().err


def test_export_takes_a_zoo_name(tmp_path, capsys):
    out = tmp_path / "bundle"
    assert main(["export", "reverse_none", "--out", str(out), "--formats", "onnx",
                 "--check", "5"]) == 0
    with open(out / "bundle.json", encoding="utf-8") as f:
        assert json.load(f)["formats"].keys() == {"onnx"}  # only what was asked for


def test_resolve_prefers_paths_and_explains_unknown_names(tmp_path, capsys):
    assert resolve(str(tmp_path)) == str(tmp_path)
    assert resolve("dates_dot") == model_dir("dates_dot")
    assert resolve("dates_dot", backend="tflite") == bundle_dir("dates_dot")
    assert main(["translate", "dates_bahdanu", "x"]) == 2
    assert "did you mean 'dates_bahdanau'" in capsys.readouterr().err


def test_zoo_list_and_show_include_trained_models(capsys):
    assert main(["zoo", "list"]) == 0
    listing = capsys.readouterr().out
    for name in list_trained():
        assert name in listing
    assert "not built" not in listing
    assert main(["zoo", "show", "reverse_bahdanau"]) == 0
    assert "# reverse_bahdanau" in capsys.readouterr().out
    assert main(["zoo", "show", "dates_nne"]) == 2
    assert "Did you mean 'dates_none'" in capsys.readouterr().err


@pytest.mark.slow
def test_quickstart_runs_the_whole_pipeline(tmp_path, capsys):
    out = tmp_path / "quickstart"
    assert main(["quickstart", "--out", str(out), "--epochs", "2", "--sentences", "20",
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    for stage in range(1, 7):
        assert f"[{stage}/6]" in printed
    with open(out / "summary.json", encoding="utf-8") as f:
        summary = json.load(f)
    rows = {row["backend"]: row for row in summary["backends"]}
    assert list(rows) == ["keras", "savedmodel", "tflite", "onnx"]
    # Every backend decodes the same dates, so they score the same.
    assert len({row["exact_match"] for row in rows.values()}) == 1
    assert all(row["kib"] > 0 and row["ms_per_sentence"] > 0 for row in rows.values())
    assert (out / "attention.png").stat().st_size > 0
    assert (out / "bundle" / "bundle.json").is_file()
    assert "| backend | exact match | size (KiB) | ms / sentence |" in printed
    # The suggested next command runs as printed, also where .venv is not activated.
    command = printed.split("Next: ", 1)[1].split()[0]
    assert command == "keras-s2s" and shutil.which(command) or os.access(command, os.X_OK)
    assert re.search(r"\(\d{1,3}(,\d{3})* target tokens/s\)", printed)


@pytest.mark.parametrize("name", CORPUS_ZOO)
def test_corpus_models_translate_alike_on_every_backend(name, capsys):
    """The issue's own check, on a fresh clone (no data needed): the same output from
    Keras and from the int8 bundle on LiteRT and ONNX Runtime."""
    texts = {"spa_eng": ["¿Dónde está la estación?", "Me gusta leer libros.",
                         "Tom no sabe nadar."],
             "cmudict_g2p": ["hello", "world", "Keras"]}[name]
    outputs = {}
    for backend in ("keras", "tflite", "onnx"):
        assert main(["translate", name, "--backend", backend, *texts]) == 0
        outputs[backend] = capsys.readouterr().out
    assert outputs["tflite"] == outputs["onnx"] == outputs["keras"]
    assert len(outputs["keras"].splitlines()) == len(texts)
    card = read_card(name)
    assert card["training"]["train_seconds"] <= 90 * 60  # the training budget
    assert "License" in open(os.path.join(model_dir(name), CARD_MARKDOWN), encoding="utf-8").read()


def test_the_pronouncing_model_lists_alternatives_with_scores(capsys):
    """Lexicon building: `--n-best 4` prints four pronunciations of each word, best
    first, with their scores."""
    assert main(["translate", "cmudict_g2p", "--backend", "onnx", "--n-best", "4", "read",
                 "hello"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert [row[0] for row in rows] == ["0"] * 4 + ["1"] * 4
    for word in ("0", "1"):
        scores = [float(row[1]) for row in rows if row[0] == word]
        assert scores == sorted(scores, reverse=True)
    phonemes = {p for row in rows for p in row[2].split()}
    assert phonemes and all(p.rstrip("012").isupper() for p in phonemes)  # ARPAbet
    assert len({row[2] for row in rows if row[0] == "0"}) == 4  # four different ones
