"""Building the zoo from recipes on named corpora: `--corpus`, recorded by name and found
again on another machine; adopting a model trained elsewhere (`zoo build --trained`),
checked against the recipe; bundles with int8 weights and only the step graphs."""

import json
import os

import pytest

from keras_s2s.cli import main
from keras_s2s.data.named import CORPORA, DATA_ENV, corpus_files
from keras_s2s.zoo.trained import model_dir

TINY = ["--epochs", "1", "--units", "8", "--embedding-dim", "8", "--batch-size", "16",
        "--quiet", "--no-tensorboard"]
SPANISH = ["hola", "gracias", "buenos días", "la casa", "el perro", "un gato", "tengo frío",
           "vamos a casa"]
ENGLISH = ["hello", "thanks", "good morning", "the house", "the dog", "a cat", "I am cold",
           "let's go home"]


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    """A data folder with a small spa-eng corpus (English<TAB>Spanish, as the real one)."""
    root = tmp_path / "data"
    (root / "spa-eng").mkdir(parents=True)
    for split, repeat in (("train", 12), ("dev", 2), ("test", 1)):
        lines = [f"{en}\t{es}" for en, es in zip(ENGLISH, SPANISH)] * repeat
        (root / "spa-eng" / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv(DATA_ENV, str(root))
    return root


def test_train_on_a_named_corpus_records_its_name_and_evaluate_finds_it(data_root, tmp_path,
                                                                      capsys):
    out = tmp_path / "model"
    assert main(["train", "--corpus", "spa-eng", "--out", str(out), "--level", "word"]
                + TINY) == 0
    with open(out / "s2s.json", encoding="utf-8") as f:
        assert json.load(f)["data"] == {"corpus": "spa-eng"}  # no machine's paths
    capsys.readouterr()
    assert main(["evaluate", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == len(SPANISH)  # the corpus's test split
    # Another machine keeps its corpora elsewhere: the same record finds them there.
    moved = tmp_path / "elsewhere"
    os.rename(data_root, moved)
    os.environ[DATA_ENV] = str(moved)
    assert main(["evaluate", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == len(SPANISH)


def test_named_corpora_explain_what_is_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=f"spa-eng corpus is not at .*set {DATA_ENV}"):
        corpus_files("spa-eng")
    with pytest.raises(ValueError, match="Unknown corpus 'spa_eng': choose from cmudict"):
        corpus_files("spa_eng")
    assert main(["train", "--corpus", "spa-eng", "--task", "dates", "--out",
                 str(tmp_path / "m")]) == 2
    assert "Give one of --task, --corpus or training files" in capsys.readouterr().err
    assert all(corpus["license"] for corpus in CORPORA.values())


def test_zoo_build_adopts_only_a_model_trained_from_the_recipe(tmp_path):
    from keras_s2s.zoo.build import adopt

    # dates_dot's directory is not dates_bahdanau's recipe: the difference is named.
    with pytest.raises(ValueError, match="attention='dot' \\(the recipe: 'bahdanau'\\)"):
        adopt("dates_bahdanau", model_dir("dates_dot"))
    with pytest.raises(ValueError, match="the recipe: the reverse task"):
        adopt("reverse_none", model_dir("dates_none"))
    trained = adopt("dates_bahdanau", model_dir("dates_bahdanau"))
    assert trained.meta["model"]["attention"] == "bahdanau"


def test_zoo_build_trained_takes_one_name(capsys):
    assert main(["zoo", "build", "dates_dot", "dates_none", "--trained", "somewhere"]) == 2
    assert "--trained adopts one model directory: give exactly one NAME" in \
        capsys.readouterr().err


def test_a_bundle_with_int8_weights_and_only_the_step_graphs(tmp_path, capsys):
    """`export --quantize dynamic --no-whole-loop`: what the zoo ships for a large model.
    ONNX gets int8 weights too, and the bundle says what it lacks."""
    from keras_s2s import runtime
    from keras_s2s.runtime import BundleError

    float_out, small_out = tmp_path / "float", tmp_path / "small"
    assert main(["export", "dates_general", "--out", str(float_out), "--formats",
                 "tflite,onnx", "--no-whole-loop", "--check", "0"]) == 0
    assert main(["export", "dates_general", "--out", str(small_out), "--formats",
                 "tflite,onnx", "--quantize", "dynamic", "--no-whole-loop", "--check",
                 "30", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert set(report["checks"]) == {"tflite/step", "onnx/step"}  # no whole-loop graphs
    assert min(c["token_agreement"] for c in report["checks"].values()) >= 0.99
    files = sorted(os.listdir(small_out))
    assert "translate.onnx" not in files and "beam.tflite" not in files
    with open(small_out / "bundle.json", encoding="utf-8") as f:
        formats = json.load(f)["formats"]
    assert formats["onnx"]["quantization"] == "dynamic"
    assert set(formats["onnx"]["files"]) == set(formats["tflite"]["files"]) == {
        "encoder", "decoder_step"}
    for role in ("encoder", "decoder_step"):  # int8 weights: well under half the size
        assert (small_out / f"{role}.onnx").stat().st_size < 0.5 * (
            float_out / f"{role}.onnx").stat().st_size
    translator = runtime.load(str(small_out), backend="onnx")
    assert translator.translate(["Nov. 23rd, 2026"]) == ["2026-11-23"]
    with pytest.raises(BundleError, match="translate"):
        translator.decode(["Nov. 23rd, 2026"], whole_loop=True)


def test_translate_names_the_input_it_could_not_read(capsys):
    assert main(["translate", "dates_bahdanau", "--backend", "onnx", "Nov. 23rd, 2026",
                 "☃ Nov. 23rd, 2026 日"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 2
    assert captured.err.splitlines() == [
        "Note: input 2 has 2 token(s) outside the model's vocabulary, read as unknown: "
        "'☃', '日'."]


def test_unknown_words_of_each_tokenizer_level():
    from keras_s2s.text.pytokenizer import PyTokenizer
    from keras_s2s.text.tokenizer import learn_vocabulary

    texts = ["the cat sat", "the dog sat", "a cat ran"]
    word = PyTokenizer(learn_vocabulary(texts, "word", 100), "word")
    assert word.unknown("The cat flew, the cat flew!") == ["The", "flew", ",", "!"]
    char = PyTokenizer(learn_vocabulary(texts, "char", 100), "char")
    assert char.unknown("cats!") == ["!"]
    subword = PyTokenizer(learn_vocabulary(texts * 20, "subword", 100), "subword")
    assert subword.unknown("cat xyz") == ["xyz"]  # no piece spells x, y or z


def test_a_pronouncing_dictionary_is_scored_per_word_against_every_pronunciation(
        tmp_path, monkeypatch, capsys):
    """cmudict: words (lower-cased characters) -> ARPAbet phonemes (kept as written);
    `evaluate` decodes each word once and reports WER and PER with and without stress."""
    root = tmp_path / "data"
    (root / "cmudict").mkdir(parents=True)
    lexicon = [("hello", "HH AH0 L OW1"), ("hello", "HH EH0 L OW1"), ("yellow", "Y EH1 L OW0"),
               ("low", "L OW1"), ("hollow", "HH AA1 L OW0"), ("fellow", "F EH1 L OW0")]
    for split in ("train", "dev", "test"):
        lines = [f"{word}\t{phonemes}" for word, phonemes in lexicon] * (10 if split == "train" else 1)
        (root / "cmudict" / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv(DATA_ENV, str(root))
    out = tmp_path / "g2p"
    assert main(["train", "--corpus", "cmudict", "--source-level", "char", "--target-level",
                 "word", "--source-lowercase", "--out", str(out)] + TINY) == 0
    with open(out / "s2s.json", encoding="utf-8") as f:
        tokenizer = json.load(f)["tokenizer"]
    assert tokenizer["source"] == {"level": "char", "lowercase": True}
    assert tokenizer["target"] == {"level": "word", "lowercase": False}
    capsys.readouterr()
    assert main(["evaluate", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 5  # words, not the 6 lines
    for key in ("wer", "per", "wer_no_stress", "per_no_stress"):
        assert 0.0 <= result[key] <= 1.0 if key.startswith("wer") else result[key] >= 0.0
    assert result["exact_match"] == round(1 - result["wer"], 4)
    assert main(["evaluate", str(out)]) == 0
    assert "WER" in capsys.readouterr().out


def test_a_bundle_cut_down_to_its_device_formats_still_verifies(tmp_path):
    import shutil

    from keras_s2s import runtime
    from keras_s2s.export import remove_formats
    from keras_s2s.runtime import BundleError
    from keras_s2s.zoo.trained import bundle_dir

    copy = tmp_path / "bundle"
    shutil.copytree(bundle_dir("dates_bahdanau"), copy)
    with pytest.raises(ValueError, match="no coreml|Unknown or no formats"):
        remove_formats(str(copy), ["coreml"])
    assert remove_formats(str(copy), ["tflite", "onnx"]) == ["model.keras", "saved_model"]
    assert not (copy / "saved_model").exists() and not (copy / "model.keras").exists()
    bundle = runtime.Bundle(str(copy))  # every listed file still matches its sha256
    assert set(bundle.meta["formats"]) == {"tflite", "onnx"}
    assert {key.split("/")[0] for key in bundle.meta["checks"]} == {"tflite", "onnx"}
    assert runtime.load(str(copy), backend="onnx").translate(["Nov. 23rd, 2026"]) == ["2026-11-23"]
    with pytest.raises(BundleError, match="no keras export"):
        runtime.Bundle(str(copy), formats=["keras"])
    with pytest.raises(ValueError, match="has no keras export to keep"):
        remove_formats(str(copy), ["keras"])


def test_zoo_card_rewrites_a_card_from_the_committed_bundle(tmp_path, monkeypatch):
    """`keras-s2s zoo card NAME`: no export, no training; the formats the recipe no longer
    ships leave the bundle, the decode speed is measured, the card says both."""
    import shutil

    from keras_s2s.runtime import Bundle
    from keras_s2s.zoo.build import refresh_card
    from keras_s2s.zoo.trained import TRAINED, bundle_dir, read_card

    root = tmp_path / "zoo"
    shutil.copytree(model_dir("dates_dot"), root / "saved_models" / "dates_dot")
    shutil.copytree(bundle_dir("dates_dot"), root / "export" / "dates_dot")
    kept = (root / "export" / "dates_dot" / "encoder.onnx").read_bytes()
    onnx_roles = sorted(Bundle(str(root / "export" / "dates_dot")).meta["formats"]["onnx"]["files"])
    # A recipe that now ships ONNX only.
    monkeypatch.setitem(TRAINED["dates_dot"], "export", {"formats": ["onnx"]})
    lines = []
    card = refresh_card("dates_dot", str(root), log=lines.append)
    assert set(Bundle(str(root / "export" / "dates_dot")).meta["formats"]) == {"onnx"}
    assert not (root / "export" / "dates_dot" / "encoder.tflite").exists()
    # The device files kept are the committed ones.
    assert (root / "export" / "dates_dot" / "encoder.onnx").read_bytes() == kept
    assert card["bundle"]["files"] == {"onnx": onnx_roles}
    assert card["decode_speed"]["onnx"] > 0 and "tflite" not in card["decode_speed"]
    assert card == read_card("dates_dot", str(root))
    markdown = (root / "saved_models" / "dates_dot" / "README.md").read_text(encoding="utf-8")
    assert "Decode speed, greedy at batch 1" in markdown and "| onnx |" in markdown
    assert "| tflite |" not in markdown
    assert any("removed" in line and "encoder.tflite" in line for line in lines)
