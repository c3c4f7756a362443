"""Export a trained model as a bundle: SavedModel, TFLite, ONNX and the `.keras` model.

    from keras_s2s.export import export_bundle
    report = export_bundle("runs/dates", "export/dates", quantize="dynamic")

Each format is written by its own module (`savedmodel`, `tflite`, `onnx`), imported
when asked for. Every export is run before it is published: the bundle's backends
decode held-out sources and their tokens are compared with the Keras model's
(`report["checks"]`). The bundle directory appears complete or not at all.
"""

import contextlib
import logging
import os
import time

import numpy as np

from keras_s2s import __version__
from keras_s2s.choices import QUANTIZATIONS
from keras_s2s.runtime.bundle import (
    BUNDLE_FILE,
    FORMAT,
    FORMAT_FILES,
    FORMAT_VERSION,
    FORMATS,
    SOURCE_VOCAB_FILE,
    TARGET_VOCAB_FILE,
    list_files,
    sha256,
)
from keras_s2s.text.vocabulary import END_ID, PAD_ID, START_ID, UNK_ID
from keras_s2s.utils.atomic import atomic_directory, write_json

MIN_AGREEMENT = 0.99  # below this token agreement with Keras, an export is flagged


def token_agreement(references, candidates):
    """Share of token positions two decodings agree on, over the longer of each pair
    (a missing token counts as a disagreement), and the share of identical sequences."""
    agree = total = same = 0
    for a, b in zip(references, candidates):
        agree += sum(x == y for x, y in zip(a, b))
        total += max(len(a), len(b))
        same += list(a) == list(b)
    n = len(references)
    return {"token_agreement": agree / total if total else 1.0,
            "sequence_agreement": same / n if n else 1.0, "sentences": n}


def _recorded_pairs(meta, split):
    """The `(source, target)` pairs of a recorded split (`[]` if the data is gone)."""
    from keras_s2s.data.recorded import recorded_split

    try:
        return recorded_split(meta.get("data", {}), split) or []
    except (OSError, ValueError):
        return []


def _sample_sources(meta, split, size):
    """Up to `size` source texts of a recorded split (`None` if the data is gone)."""
    return [source for source, _ in _recorded_pairs(meta, split)[:size]] or None


def _calibration(trained, graphs, sources):
    """Representative inputs of `decoder_step`, recorded while decoding training sources.

    The TFLite calibrator keeps the tensor shapes of its first call, and padding would
    put the attention mask's -1e4 penalty into the calibrated score range; so only the
    sources of the most common length are used, each decoded alone (batch 1).
    """
    import collections

    from keras_s2s import decoding

    ids = [row for row in trained.tokenize_sources(sources) if row]
    width = collections.Counter(len(row) for row in ids).most_common(1)[0][0]
    encoder = [{"source_ids": np.asarray([row], np.int32)} for row in ids if len(row) == width]
    steps = []
    inference = trained.inference

    def recording_step(token_ids, state, memory):
        steps.append({"token_ids": token_ids, **state, **memory})
        return inference.decode_step(token_ids, state, memory)

    for inputs in encoder:
        state, memory = inference.encode(inputs["source_ids"])
        decoding.greedy_search(recording_step, state, memory, start_id=START_ID,
                               end_id=END_ID, max_length=graphs.max_decode_length)
    return {"decoder_step": steps}


def tflite_functions(graphs):
    """Role -> `(signature key, concrete function)` of the four TFLite files."""
    return {
        "encoder": ("encode", graphs.encode_function(batch_size=1)),
        "decoder_step": ("decode_step", graphs.step_function()),
        "translate": ("translate", graphs.greedy_function(batch_size=1)),
        "beam": ("beam", graphs.beam_function(batch_size=1)),
    }


def onnx_functions(graphs):
    """Role -> `(function, input signature)` of the four ONNX files."""
    return {
        "encoder": (graphs.encode, [graphs.source_spec()]),
        "decoder_step": (graphs.decode_step, graphs.step_specs()),
        "translate": (graphs.greedy, [graphs.source_spec()]),
        "beam": (graphs.beam, graphs.beam_specs()),
    }


STEP_ROLES = ("encoder", "decoder_step")  # what a device needs to decode
WHOLE_LOOP_ROLES = ("translate", "beam")  # greedy and beam search in one graph each


def _write_tflite(graphs, directory, quantize, calibration, roles=None, applied=None,
                  whole_loop=True):
    """Writes the TFLite graphs (or only `roles`, a role -> quantization dict) and
    returns the format's metadata."""
    from keras_s2s.export import tflite

    applied = dict(applied or {})
    for role, (signature, function) in tflite_functions(graphs).items():
        if role in WHOLE_LOOP_ROLES and not whole_loop:
            continue
        if roles is not None:
            if role not in roles:
                continue
            applied[role] = roles[role]
        else:
            # The TFLite calibrator crashes (SIGSEGV, TF 2.21) on graphs with a WHILE
            # loop: with int8, the encoder and the whole loop get int8 weights (dynamic
            # range), decoder_step int8 weights and activations.
            applied[role] = ("dynamic" if quantize == "int8" and role != "decoder_step"
                             else quantize)
        model = tflite.convert(function, signature, applied[role],
                               calibration[role] if applied[role] == "int8" else None)
        flex = sorted(op for op in tflite.op_names(model) if op.startswith("Flex"))
        if flex:
            raise RuntimeError(f"The TFLite {role} needs Flex ops {flex}; exports must use builtins only.")
        with open(os.path.join(directory, FORMAT_FILES["tflite"][role]), "wb") as f:
            f.write(model)
    batch_sizes = {"encoder_batch_size": 1}
    if whole_loop:
        batch_sizes.update(translate_batch_size=1, beam_batch_size=1)
    return {**batch_sizes, "quantization": quantize, "quantization_by_file": applied}


def _write_onnx(graphs, directory, quantize="none", whole_loop=True):
    """Writes the ONNX graphs; with `quantize` `"dynamic"` or `"int8"`, their weights
    become 8-bit (ONNX Runtime's dynamic quantization: activations are quantized per
    call, with one scale per tensor, so a sentence's tokens can depend on the others in
    its batch); with `"float16"` the weights are stored as float16 and cast back to
    float32 when the graph is loaded (`onnx.float16_weights`)."""
    from keras_s2s.export import onnx as onnx_export

    applied = {"dynamic": "dynamic", "int8": "dynamic", "float16": "float16"}.get(quantize, "none")
    for role, (function, signature) in onnx_functions(graphs).items():
        if role in WHOLE_LOOP_ROLES and not whole_loop:
            continue
        model = onnx_export.convert(function, signature)
        path = os.path.join(directory, FORMAT_FILES["onnx"][role])
        with open(path, "wb") as f:
            f.write(model.SerializeToString())
        if applied == "dynamic":
            onnx_export.quantize_weights(path)
        elif applied == "float16":
            onnx_export.float16_weights(path)
    return {"opset": onnx_export.OPSET, "quantization": applied}


def step_contract(graphs):
    """The `step_contract` of `bundle.json`: names, shapes and dtypes of the graphs'
    inputs and outputs (read back by `keras_s2s.runtime.contract.StepContract`)."""
    def spec(shape, dtype):
        return {"shape": ["batch"] + [("src_len" if d is None else d) for d in shape], "dtype": dtype}

    inputs = {"token_ids": spec([], "int32")}
    outputs = {"logits": spec([graphs.model.decoder.vocab_size], "float32")}
    for name in graphs.state_names:
        inputs[name] = outputs[f"next_{name}"] = spec(graphs.input_shapes[name], "float32")
    for name in graphs.memory_names:
        inputs[name] = spec(graphs.input_shapes[name], "float32")
    if graphs.memory_names:
        outputs["attention"] = spec([None], "float32")
    return {"state": graphs.state_names, "memory": graphs.memory_names,
            "encode_inputs": {"source_ids": spec([None], "int32")},
            "step_inputs": inputs, "step_outputs": outputs,
            "greedy_outputs": {"tokens": spec([graphs.max_decode_length], "int32"),
                               "lengths": {"shape": ["batch"], "dtype": "int32"}},
            "beam_inputs": {"source_ids": spec([None], "int32"),
                            "length_penalty": {"shape": [], "dtype": "float32"}},
            "beam_outputs": {
                "tokens": spec([graphs.beam_size, graphs.max_decode_length], "int32"),
                "lengths": spec([graphs.beam_size], "int32"),
                "scores": spec([graphs.beam_size], "float32"),
                "ranking_scores": spec([graphs.beam_size], "float32"),
                "finished": spec([graphs.beam_size], "int32"),
                "count": {"shape": ["batch"], "dtype": "int32"}}}


def _write_tokenizer_files(trained, directory, size=200):
    """`tokenizer.json` (the portable description of both tokenizers) and
    `tokenizer_conformance.json` (see `conformance_cases`) for the model's held-out
    pairs."""
    from keras_s2s.text import description

    translator = trained.translator
    write_json(os.path.join(directory, description.DESCRIPTION_FILE),
               description.tokenizer_description(translator.source_tokenizer,
                                                 translator.target_tokenizer))
    pairs = _recorded_pairs(trained.meta, "test") or _recorded_pairs(trained.meta, "dev")
    cases = conformance_cases(trained.source_vocab, trained.target_vocab,
                              trained.meta["tokenizer"], [s for s, _ in pairs[:size]],
                              [t for _, t in pairs[:size]])
    write_json(os.path.join(directory, description.CONFORMANCE_FILE), cases)


def conformance_cases(source_vocab, target_vocab, settings, sources, targets):
    """The conformance file of two tokenizers: source strings (`sources`, the awkward
    texts and seeded junk: `description.conformance_texts`) with the ids they must
    become, target strings (`targets` and the awkward texts) with their ids and the text
    those ids turn back into. The expected values are computed by the tensorflow-text
    tokenizers (`settings`: `{"source": {"level", "lowercase"}, "target": ...}`)."""
    import tensorflow as tf

    from keras_s2s.text import description
    from keras_s2s.text.tokenizer import Tokenizer

    texts = description.conformance_texts(sources)
    targets = list(dict.fromkeys(list(targets) + description.AWKWARD_TEXTS))
    source = Tokenizer(source_vocab, **settings["source"])
    target = Tokenizer(target_vocab, **settings["target"])
    source_ids = source.tokenize(texts).to_list()
    target_ids = target.tokenize(targets).to_list()
    ended = tf.ragged.constant([ids + [END_ID] for ids in target_ids], dtype=tf.int32)
    decoded = [t.decode("utf-8") for t in target.detokenize(ended).numpy()]
    return {
        "format": "keras_s2s.tokenizer_conformance", "format_version": 1,
        "source": [{"text": text, "ids": ids} for text, ids in zip(texts, source_ids)],
        "target": [{"text": text, "ids": ids, "detokenized": back}
                   for text, ids, back in zip(targets, target_ids, decoded)],
    }


def _check(directory, formats, sources, reference, log, whole_loop=True):
    """Decodes `sources` on every exported backend and compares with `reference`,
    the Keras model's tokens."""
    from keras_s2s import runtime

    checks = {}
    modes = (("step", False), ("whole_loop", True))[:2 if whole_loop else 1]
    for backend in formats:
        translator = runtime.load(directory, backend=backend, verify=False)
        for mode, loop in modes:
            found = [h[0].tokens for h in translator.decode(sources, whole_loop=loop)]
            result = token_agreement(reference, found)
            checks[f"{backend}/{mode}"] = result
            log(f"  {backend:10s} {mode:10s} token agreement with Keras "
                f"{result['token_agreement']:.4f} ({result['sentences']} sentences)")
            if result["token_agreement"] < MIN_AGREEMENT:
                log(f"  WARNING: {backend} ({mode}) agrees with Keras on fewer than "
                    f"{MIN_AGREEMENT:.0%} of the tokens; check the quantization.")
        if not whole_loop:
            continue
        result = beam_agreement(translator, sources)
        checks[f"{backend}/beam"] = result
        log(f"  {backend:10s} {'beam':10s} n-best agreement of the beam graph with beam "
            f"search over the step graph {result['nbest_agreement']:.4f}, scores within "
            f"{result['max_score_difference']:.1e} ({result['sentences']} sentences)")
    return checks


def beam_agreement(translator, sources, length_penalty=0.6):
    """How the whole-loop beam graph of a translator's backend compares with
    `keras_s2s.decoding.beam_search` driving its step graph: the share of sources
    whose n-best lists (all `beam_size` hypotheses) are token for token the same, and
    the largest difference of a score."""
    k = translator.backend.beam_size
    options = {"beam_size": k, "n_best": k, "length_penalty": length_penalty}
    graph = translator.decode(sources, whole_loop=True, **options)
    python = translator.decode(sources, **options)
    same = sum([h.tokens for h in a] == [h.tokens for h in b] for a, b in zip(graph, python))
    scores = [abs(x.score - y.score) for a, b in zip(graph, python) for x, y in zip(a, b)
              if x.tokens == y.tokens]
    return {"nbest_agreement": same / len(sources) if sources else 1.0,
            "max_score_difference": max(scores, default=0.0), "sentences": len(sources)}


@contextlib.contextmanager
def _quiet_tensorflow_warnings():
    """Silences TensorFlow's Python warnings while converting: every conversion warns
    that the vocabulary tables cannot go into a v1 `CollectionDef` and that v1 signature
    helpers are deprecated, which is known and harmless here (the tests run each export)."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def export_bundle(model_dir, out, formats=FORMATS, quantize="none", check_size=100,
                  calibration_size=100, min_agreement=MIN_AGREEMENT, beam_size=4,
                  whole_loop=True, log=print):
    """Writes the bundle of the model directory `model_dir` to `out`.

    Args:
        model_dir: a directory written by `keras-s2s train`.
        out: the bundle directory to write (replaced atomically if it exists).
        formats: any of `"keras"`, `"savedmodel"`, `"tflite"`, `"onnx"`.
        quantize: `"none"`, `"dynamic"` (int8 weights), `"float16"` or `"int8"`
            (weights and activations, calibrated on `calibration_size` training
            sources) for TFLite; ONNX gets 8-bit weights with `"dynamic"` and `"int8"`
            and float16 weights (float32 arithmetic) with `"float16"`
            (`formats.onnx.quantization` in `bundle.json`).
        check_size: held-out sources decoded on every backend after export to measure
            token agreement with Keras (0: no check).
        min_agreement: with int8, if the int8 `decoder_step` (weights and activations)
            agrees with Keras on fewer tokens than this, it is converted again with int8
            weights only (`"dynamic"`), recorded in `quantization_by_file`.
        beam_size: the beam size of the whole-loop beam graph (`beam`), fixed at
            export and recorded in `bundle.json` (`beam_size`); its length penalty is an
            input.
        whole_loop: also write the whole-loop graphs (`translate`, `beam`) of TFLite
            and ONNX. Each repeats the model's weights: without them a bundle is about
            half the size and decodes step by step only.
        log: where progress lines go.

    Returns:
        The report: file sizes, the checks, and the time the export took.
    """
    from keras_s2s.export.graphs import ExportGraphs
    from keras_s2s.trained_model import MODEL_FILE, TrainedModel

    formats = list(dict.fromkeys(formats))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"Unknown or no formats {unknown}: choose from {', '.join(FORMATS)}.")
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"Unknown quantization {quantize!r}: choose one of {', '.join(QUANTIZATIONS)}.")
    if quantize != "none" and not {"tflite", "onnx"} & set(formats):
        raise ValueError("--quantize applies to TFLite and ONNX: add tflite or onnx to the "
                         "formats.")
    started = time.perf_counter()
    trained = TrainedModel.load(model_dir)
    trained.model = trained.model.with_dtype("float32")  # mixed precision exports in float32
    meta = trained.meta
    graphs = ExportGraphs(trained.model, meta["max_decode_length"], beam_size)
    calibration = None
    if quantize == "int8":
        sources = _sample_sources(meta, "train", calibration_size)
        if not sources:
            raise ValueError(
                f"int8 quantization calibrates on the training data of {model_dir}, which "
                "cannot be read any more; use --quantize dynamic or float16."
            )
        calibration = _calibration(trained, graphs, sources)

    format_meta = {}
    with atomic_directory(out) as tmp, _quiet_tensorflow_warnings():
        trained.source_vocab.save(os.path.join(tmp, SOURCE_VOCAB_FILE))
        trained.target_vocab.save(os.path.join(tmp, TARGET_VOCAB_FILE))
        _write_tokenizer_files(trained, tmp)
        for name in formats:
            log(f"Exporting {name} ...")
            extra = {}
            if name == "keras":
                # The architecture and weights without the optimizer state (a third of
                # the size).
                inference_copy = type(trained.model).from_config(trained.model.get_config())
                inference_copy.set_weights(trained.model.get_weights())
                inference_copy.save(os.path.join(tmp, MODEL_FILE))
            elif name == "savedmodel":
                from keras_s2s.export import savedmodel

                savedmodel.save(graphs, trained.source_vocab, trained.target_vocab,
                                meta["tokenizer"], os.path.join(tmp, "saved_model"))
                extra = {"signatures": ["translate", "greedy", "beam", "encode", "decode_step"]}
            elif name == "tflite":
                extra = _write_tflite(graphs, tmp, quantize, calibration,
                                      whole_loop=whole_loop)
            elif name == "onnx":
                extra = _write_onnx(graphs, tmp, quantize, whole_loop=whole_loop)
            format_meta[name] = {"files": {
                role: path for role, path in FORMAT_FILES[name].items()
                if whole_loop or role not in WHOLE_LOOP_ROLES}, **extra}
        files = {name: sha256(os.path.join(tmp, name)) for name in list_files(tmp)}
        bundle = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "keras_s2s_version": __version__,
            "model": meta["model"],
            "special_ids": {"pad": PAD_ID, "start": START_ID, "end": END_ID, "unk": UNK_ID},
            "max_decode_length": meta["max_decode_length"],
            "beam_size": graphs.beam_size if whole_loop else None,  # of the beam graph
            "max_source_length": meta.get("filter", {}).get("max_source_length"),
            "tokenizer": {
                side: {**meta["tokenizer"][side], "vocab": vocab}
                for side, vocab in (("source", SOURCE_VOCAB_FILE), ("target", TARGET_VOCAB_FILE))
            },
            "step_contract": step_contract(graphs),
            "formats": format_meta,
            "data": meta.get("data"),
            "files": files,
        }
        write_json(os.path.join(tmp, BUNDLE_FILE), bundle)
        checks = {}
        sources = _sample_sources(meta, "test", check_size) if check_size else None
        if sources:
            log(f"Checking the exports on {len(sources)} held-out sources ...")
            reference = [h[0].tokens for h in trained.decode(sources)]
            checks = _check(tmp, [f for f in formats if f != "keras"], sources, reference, log,
                            whole_loop)
            step = checks.get("tflite/step", {}).get("token_agreement", 1.0)
            if quantize == "int8" and step < min_agreement:
                log(f"The int8 decoder_step agrees on {step:.4f} of the tokens (below "
                    f"{min_agreement}): converting it again with int8 weights only ...")
                format_meta["tflite"].update(_write_tflite(
                    graphs, tmp, quantize, calibration, roles={"decoder_step": "dynamic"},
                    applied=format_meta["tflite"]["quantization_by_file"],
                    whole_loop=whole_loop))
                format_meta["tflite"]["int8_step_agreement"] = round(step, 4)
                step_file = FORMAT_FILES["tflite"]["decoder_step"]
                bundle["files"][step_file] = sha256(os.path.join(tmp, step_file))
                write_json(os.path.join(tmp, BUNDLE_FILE), bundle)
                checks.update(_check(tmp, ["tflite"], sources, reference, log, whole_loop))
        elif check_size:
            log("No held-out data recorded with the model: exports not checked.")
        bundle["checks"] = checks
        write_json(os.path.join(tmp, BUNDLE_FILE), bundle)
    sizes = {name: os.path.getsize(os.path.join(out, name)) for name in [*files, BUNDLE_FILE]}
    return {"bundle": os.path.abspath(out), "sizes": sizes, "checks": checks,
            "quantization": quantize, "seconds": round(time.perf_counter() - started, 1)}


def remove_formats(bundle_dir, keep):
    """Cuts an exported bundle down to the formats in `keep`, in place: `bundle.json`
    (formats, file checksums, checks) is rewritten first, then the other formats' files
    are deleted, so an interruption leaves at worst unlisted files behind. The files kept
    are not touched (their checksums stay valid). Returns the removed paths."""
    import json
    import shutil

    path = os.path.join(bundle_dir, BUNDLE_FILE)
    with open(path, encoding="utf-8") as f:
        meta = json.load(f)
    unknown = [name for name in keep if name not in FORMATS]
    if unknown or not keep:
        raise ValueError(f"Unknown or no formats to keep {unknown}: choose from {', '.join(FORMATS)}.")
    missing = [name for name in keep if name not in meta["formats"]]
    if missing:
        raise ValueError(f"{bundle_dir} has no {', '.join(missing)} export to keep (it has "
                         f"{', '.join(meta['formats'])}).")
    removed = [name for name in meta["formats"] if name not in keep]
    # The files (or directories: saved_model/) of the removed formats.
    tops = {path.split("/")[0] for name in removed
            for path in meta["formats"][name]["files"].values()}
    meta["formats"] = {name: value for name, value in meta["formats"].items() if name in keep}
    meta["files"] = {name: digest for name, digest in meta["files"].items()
                     if name.split("/")[0] not in tops}
    meta["checks"] = {key: value for key, value in meta.get("checks", {}).items()
                      if key.split("/")[0] not in removed}
    write_json(path, meta)
    for top in sorted(tops):
        target = os.path.join(bundle_dir, top)
        if os.path.isdir(target):
            shutil.rmtree(target)
        elif os.path.exists(target):
            os.remove(target)
    return sorted(tops)
