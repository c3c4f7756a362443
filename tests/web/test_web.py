"""The browser runtime (`web/`) in a real headless Chromium: the JavaScript tokenizer
passes the conformance files, and every zoo bundle decodes held-out sources to the
Keras model's tokens with ONNX Runtime Web (greedy step by step and whole loop, beam
search in JavaScript and the beam graph, n-best lists with scores); the demo page
answers bad input with a clear message.

The expected values are computed here in Python (Keras, tensorflow-text) and written
as fixtures; `web/test/run_browser.mjs` serves them with the page, runs Chromium, and
prints what the page found. Without Node.js, the npm packages (`scripts/setup.sh`
installs them) or Chromium, the tests skip and say which is missing."""

import json
import os
import shutil
import subprocess

import pytest

from keras_s2s.zoo.trained import TRAINED, bundle_dir, list_trained, model_dir, read_card

from conftest import REPO

pytestmark = pytest.mark.slow

WEB = os.path.join(REPO, "web")
RUNNER = os.path.join(WEB, "test", "run_browser.mjs")
PARITY_SENTENCES = 100
BEAM = {"beam_size": 4, "n_best": 4, "length_penalty": 0.6}
SCORE_TOLERANCE = 1e-4
NO_BROWSER = 3  # run_browser.mjs's exit status when there is no Chromium


def run_browser(mode, fixtures, timeout=900):
    """Runs `web/test/run_browser.mjs MODE` over a fixtures directory; its JSON report."""
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed: the browser tests need it (apt-get install nodejs).")
    if not os.path.isdir(os.path.join(WEB, "node_modules", "playwright-core")):
        pytest.skip("web/node_modules is missing: run `npm ci --prefix web` (scripts/setup.sh does).")
    done = subprocess.run(["node", RUNNER, mode, "--fixtures", str(fixtures)], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO)
    if done.returncode == NO_BROWSER:
        pytest.skip(done.stderr.strip())
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def onnx_bundles():
    """The zoo models whose bundles the browser can run (an ONNX export)."""
    names = []
    for name in list_trained():
        with open(os.path.join(bundle_dir(name), "bundle.json"), encoding="utf-8") as f:
            if "onnx" in json.load(f)["formats"]:
                names.append(name)
    return names


def web_bundles():
    """The browser bundles whose held-out data is here for the parity checks."""
    return [name for name in onnx_bundles() if has_data(name)]


def held_out_sources(name, count=PARITY_SENTENCES):
    from keras_s2s.zoo.trained import held_out_pairs

    return [source for source, _ in held_out_pairs(read_card(name))[:count]]


def has_data(name):
    """Whether the held-out data of a zoo model is on this machine (a model trained on
    a corpus of ../shared is measured on it)."""
    from keras_s2s.data.named import data_root

    corpus = TRAINED[name].get("corpus")
    return not corpus or os.path.isdir(os.path.join(data_root(), corpus))


def onnx_quantized(name):
    with open(os.path.join(bundle_dir(name), "bundle.json"), encoding="utf-8") as f:
        return json.load(f)["formats"]["onnx"].get("quantization", "none") != "none"


def keras_reference(name):
    """What the model decodes on the held-out sources: greedy tokens and texts, and the
    beam search n-best lists with scores. The Keras model's, or for a bundle with int8
    ONNX weights (which Keras does not have) ONNX Runtime's on the same files: the
    browser must run them as native ONNX Runtime does."""
    from keras_s2s.trained_model import TrainedModel

    if onnx_quantized(name):
        from keras_s2s import runtime

        model = runtime.load(bundle_dir(name), backend="onnx")
    else:
        model = TrainedModel.load(model_dir(name))
    sources = held_out_sources(name)
    greedy = [hypotheses[0].tokens for hypotheses in model.decode(sources)]
    beam = model.decode(sources, **BEAM)
    return {
        "sources": sources,
        "greedy": greedy,
        "texts": model.detokenize(greedy),
        "beam": {**BEAM, "hypotheses": [
            [{"tokens": h.tokens, "score": h.score, "ranking_score": h.ranking_score,
              "finished": h.finished} for h in hypotheses] for hypotheses in beam]},
    }


# Tokenizer settings no zoo bundle has (they are char- or word-level, cased): learned
# here on the dates task's sources, the awkward Unicode and, when ../shared has it,
# Spanish and English from Tatoeba.
OTHER_TOKENIZERS = [("word", True), ("subword", True), ("subword", False), ("char", True)]


def tokenizer_texts():
    from keras_s2s.tasks import task_splits
    from keras_s2s.text.description import AWKWARD_TEXTS

    texts = [s for s, _ in task_splits({"task": {"name": "dates"}, "train_size": 300,
                                        "dev_size": 10, "test_size": 10, "seed": 1})[0]]
    spa_eng = os.path.join(REPO, "..", "shared", "data", "spa-eng", "train.tsv")
    if os.path.isfile(spa_eng):
        with open(spa_eng, encoding="utf-8") as f:
            texts += [column for line, _ in zip(f, range(1500)) for column in line.rstrip("\n").split("\t")[:2]]
    return texts + AWKWARD_TEXTS


def write_tokenizer_fixture(directory, level, lowercase, texts):
    from keras_s2s.export import conformance_cases
    from keras_s2s.text import description
    from keras_s2s.text.pytokenizer import PyTokenizer
    from keras_s2s.text.tokenizer import learn_vocabulary

    vocab = learn_vocabulary(texts, level, max_size=600, lowercase=lowercase)
    tokenizer = PyTokenizer(vocab, level, lowercase)
    name = f"{level}{'_lowercase' if lowercase else ''}"
    settings = {side: {"level": level, "lowercase": lowercase} for side in ("source", "target")}
    sample = texts[::7][:300]
    for kind, value in (("description", description.tokenizer_description(tokenizer, tokenizer)),
                        ("conformance", conformance_cases(vocab, vocab, settings, sample, sample))):
        with open(os.path.join(directory, f"{name}.{kind}.json"), "w", encoding="utf-8") as f:
            json.dump(value, f)
    return {"name": name, "description": f"/fixtures/{name}.description.json",
            "conformance": f"/fixtures/{name}.conformance.json"}


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    fixtures = tmp_path_factory.mktemp("web_fixtures")
    models = []
    for name in web_bundles():
        with open(fixtures / f"{name}.json", "w", encoding="utf-8") as f:
            json.dump(keras_reference(name), f)
        models.append({"name": name, "bundle": f"/export/{name}/", "parity": f"/fixtures/{name}.json"})
    texts = tokenizer_texts()
    tokenizers = [write_tokenizer_fixture(fixtures, level, lowercase, texts)
                  for level, lowercase in OTHER_TOKENIZERS]
    with open(fixtures / "plan.json", "w", encoding="utf-8") as f:
        json.dump({"threads": 1, "models": models, "tokenizers": tokenizers}, f)
    return run_browser("suite", fixtures)


def test_the_browser_suite_ran_every_zoo_bundle_without_errors(suite):
    assert "fatal" not in suite, suite.get("fatal")
    assert suite["errors"] == []
    assert [m["name"] for m in suite["models"]] == web_bundles()
    assert len(suite["models"]) >= 6
    assert suite["consoleErrors"] == []


def model_result(suite, name):
    [found] = [m for m in suite["models"] if m["name"] == name]
    return found


@pytest.mark.parametrize("name", web_bundles())
def test_each_bundle_passes_its_tokenizer_conformance_file_in_the_browser(suite, name):
    check = model_result(suite, name)["conformance"]
    assert check["cases"] >= 300
    assert check["wrong"] == 0, check["examples"]


@pytest.mark.parametrize("setting", [f"{level}{'_lowercase' if lower else ''}"
                                     for level, lower in OTHER_TOKENIZERS])
def test_word_subword_and_lowercase_tokenizers_conform_in_the_browser(suite, setting):
    [check] = [t for t in suite["tokenizers"] if t["name"] == setting]
    assert check["cases"] >= 300
    assert check["wrong"] == 0, check["examples"]


@pytest.mark.parametrize("name", web_bundles())
def test_the_browser_decodes_like_the_keras_model(suite, name):
    result = model_result(suite, name)
    with open(os.path.join(bundle_dir(name), "bundle.json"), encoding="utf-8") as f:
        whole_loop = "translate" in json.load(f)["formats"]["onnx"]["files"]
    assert ("greedyWholeLoop" in result) == whole_loop  # the graph ran if it is there
    for check in ["greedy", "texts"] + (["greedyWholeLoop"] if whole_loop else []):
        assert result[check]["sentences"] == PARITY_SENTENCES
        assert result[check]["wrong"] == 0, (check, result[check]["examples"])
    # JavaScript beam search, and the ONNX beam graph
    for check in ("beam", "beamGraph")[: 2 if whole_loop else 1]:
        assert result[check]["sentences"] == PARITY_SENTENCES
        assert result[check]["wrong"] == 0, (check, result[check]["examples"])
        assert result[check]["finishedDiffer"] == 0
        assert result[check]["maxScoreDifference"] < SCORE_TOLERANCE, check


# === The demo page ===

DEMO_BUNDLE = "dates_bahdanau"


def copy_bundle(source, target):
    """The files the browser reads of a bundle (no SavedModel, Keras or TFLite)."""
    os.makedirs(target)
    for name in os.listdir(source):
        if name.endswith((".json", ".txt", ".onnx")):
            shutil.copy(os.path.join(source, name), target)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from keras_s2s.runtime.bundle import sha256

    fixtures = tmp_path_factory.mktemp("web_demo")
    source = bundle_dir(DEMO_BUNDLE)
    # A flipped byte in the step graph.
    copy_bundle(source, fixtures / "damaged")
    with open(fixtures / "damaged" / "decoder_step.onnx", "r+b") as f:
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xFF]))
    # Another model's tokenizer, with bundle.json's checksums made to match: the
    # vocabulary sizes give it away.
    copy_bundle(source, fixtures / "mismatched")
    shutil.copy(os.path.join(bundle_dir("reverse_bahdanau"), "tokenizer.json"), fixtures / "mismatched")
    with open(fixtures / "mismatched" / "bundle.json", encoding="utf-8") as f:
        meta = json.load(f)
    meta["files"]["tokenizer.json"] = sha256(str(fixtures / "mismatched" / "tokenizer.json"))
    with open(fixtures / "mismatched" / "bundle.json", "w", encoding="utf-8") as f:
        json.dump(meta, f)
    # What a device needs for step-by-step decoding, and nothing else.
    os.makedirs(fixtures / "cut_down")
    for name in ("bundle.json", "tokenizer.json", "encoder.onnx", "decoder_step.onnx"):
        shutil.copy(os.path.join(source, name), fixtures / "cut_down")
    # A copy without its encoder.
    copy_bundle(source, fixtures / "incomplete")
    os.remove(fixtures / "incomplete" / "encoder.onnx")
    return run_browser("demo", fixtures)["scenarios"]


def keras_beam(name, text):
    from keras_s2s.trained_model import TrainedModel

    model = TrainedModel.load(model_dir(name))
    hypotheses = model.decode([text], beam_size=4, n_best=4, length_penalty=0.6)[0]
    return model.detokenize([hypotheses[0].tokens])[0], hypotheses


def test_the_demo_page_translates_like_keras_with_nbest_and_attention(demo):
    found = demo["translate"]
    assert found["state"] == "done", found["status"]
    output, hypotheses = keras_beam(DEMO_BUNDLE, "Nov. 23rd, 2026")
    assert found["output"] == output == "2026-11-23"
    assert found["nbestRows"] == 4
    assert [float(score) for score in found["nbestScores"]] == pytest.approx(
        [h.score for h in hypotheses], abs=1e-3)
    assert found["heatmapRows"] == len(hypotheses[0].tokens)  # one row per output token
    assert "ms for this sentence" in found["timing"]
    assert found["pageErrors"] == []
    greedy = demo["greedy"]
    assert greedy["state"] == "done" and greedy["output"] == "1976-07-04"
    assert greedy["nbestRows"] == 1 and greedy["heatmapRows"] == 10


def test_the_demo_page_runs_a_bundle_cut_down_to_the_two_step_graphs(demo):
    found = demo["cut_down"]
    assert found["state"] == "done", found["status"]
    assert found["output"] == "2026-11-23"


def test_the_demo_page_explains_where_attention_is_missing(demo):
    assert demo["beam_graph"]["state"] == "done"
    assert demo["beam_graph"]["heatmapRows"] == 0
    assert "beam graph returns no attention" in demo["beam_graph"]["attentionNote"]
    assert demo["no_attention"]["state"] == "done"
    assert "no attention" in demo["no_attention"]["attentionNote"]


def test_the_demo_page_runs_with_two_threads(demo):
    # The page is cross-origin isolated (web/serve.mjs), so ONNX Runtime Web may use
    # the threads asked for.
    found = demo["two_threads"]
    assert found["state"] == "done" and found["threads"] == "2"
    assert "2 thread(s)" in found["timing"]
    assert found["output"] == demo["beam_graph"]["output"] == "2026-11-23"


@pytest.mark.parametrize("scenario, message", [
    ("empty", "Type a text to translate"),
    ("invisible", "no tokens this model reads"),
    ("damaged", "decoder_step.onnx does not match its sha256"),
    ("mismatched", "the tokenizer does not belong to this model"),
    ("incomplete", "encoder.onnx could not be loaded (HTTP 404)"),
    ("not_a_bundle", "no bundle is served at this address"),
    ("unknown_model", "No zoo model named no_such_model"),
])
def test_bad_input_in_the_demo_page_gets_a_clear_message(demo, scenario, message):
    found = demo[scenario]
    assert found["state"] == "error", found
    assert message in found["status"]
    assert found["seconds"] < 60


def test_long_text_and_unknown_characters_are_translated_with_a_note(demo):
    long = demo["very_long"]  # 20,000 dates of 11 characters; the last space is trimmed
    assert long["state"] == "done", long["status"]
    assert "The text has 219,999 tokens; the model reads at most 100: the first 100 were translated" in long["notes"]
    assert long["output"] == "1999-12-25"
    unknown = demo["unknown_characters"]
    assert unknown["state"] == "done", unknown["status"]
    assert "not in the model's vocabulary and were read as <unk>" in unknown["notes"]
    assert '"☃"' in unknown["notes"] and '"日"' in unknown["notes"]


def test_the_zoo_index_lists_every_browser_bundle():
    with open(os.path.join(REPO, "export", "zoo.json"), encoding="utf-8") as f:
        index = json.load(f)
    assert [m["name"] for m in index["models"]] == onnx_bundles()
    for model in index["models"]:
        card = read_card(model["name"])
        assert (model["example"], model["description"]) == (card["example"], card["description"])
        assert os.path.isfile(os.path.join(REPO, "export", model["bundle"], "bundle.json"))


class StaticServer:
    """`node web/serve.mjs` on a free port, for raw requests (sent as is, without the
    path normalization clients do)."""

    def __init__(self, *arguments):
        import re

        if shutil.which("node") is None:
            pytest.skip("Node.js is not installed.")
        self.process = subprocess.Popen(
            ["node", os.path.join(WEB, "serve.mjs"), "--port", "0", *arguments],
            stdout=subprocess.PIPE, text=True, cwd=REPO)
        self.port = int(re.search(r":(\d+)/web/", self.process.stdout.readline()).group(1))

    def get(self, path):
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()

    def close(self):
        self.process.terminate()
        self.process.wait(timeout=10)


def test_the_static_server_serves_the_page_cross_origin_isolated():
    server = StaticServer()
    try:
        status, headers, body = server.get("/web/")
        assert status == 200 and b"keras_s2s in the browser" in body
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"
        assert server.get("/web/src/index.js")[1]["Content-Type"].startswith("text/javascript")
        assert server.get("/export/dates_bahdanau/encoder.onnx")[0] == 200
        assert server.get("/web")[0] == 301  # a directory without its slash
        assert server.get("/web/no-such-file.js")[0] == 404
        assert server.get("/web/%E0%A4%A")[0] == 400  # not valid percent-encoding
    finally:
        server.close()


def test_the_static_server_serves_nothing_outside_its_root(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "page.txt").write_text("inside")
    (tmp_path / "site-sibling").mkdir()  # a name that starts with the root's
    (tmp_path / "site-sibling" / "secret.txt").write_text("outside")
    (tmp_path / "secret.txt").write_text("outside")
    server = StaticServer("--root", str(tmp_path / "site"))
    try:
        assert server.get("/page.txt")[2] == b"inside"
        for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt",
                     "/%2e%2e%2fsecret.txt", "/..%2fsite-sibling%2fsecret.txt",
                     "/../site-sibling/secret.txt"):
            status, _, body = server.get(path)
            assert status in (403, 404), path
            assert b"outside" not in body, path
    finally:
        server.close()
