"""`export_bundle`: a model directory in, a checked bundle directory out.

The stages, in order: load the model (in float32) and trace its export graphs;
calibrate (int8 only); write the vocabularies, the tokenizer files and each format
(`keras_s2s.export.writers`); check every backend against Keras
(`keras_s2s.export.checks`), converting an int8 step graph that disagrees again with
int8 weights only (`_fall_back_to_int8_weights`); then write `bundle.json`, once, with
the files' checksums and the checks. All of it happens in a temporary directory that
replaces `out` at the end, so the bundle appears complete or not at all.
"""

import contextlib
import logging
import os
import time

import numpy as np

from keras_s2s import __version__
from keras_s2s.choices import QUANTIZATIONS
from keras_s2s.decoding import step as contract
from keras_s2s.export.checks import MIN_AGREEMENT, check_exports
from keras_s2s.export.tokenizer_files import write_tokenizer_files
from keras_s2s.export.writers import ExportJob, write_format, write_tflite
from keras_s2s.runtime.bundle import (
    BUNDLE_FILE,
    FORMAT,
    FORMAT_VERSION,
    FORMATS,
    SOURCE_VOCAB_FILE,
    TARGET_VOCAB_FILE,
    Bundle,
    list_files,
    sha256,
)
from keras_s2s.text.vocabulary import END_ID, PAD_ID, START_ID, UNK_ID
from keras_s2s.utils.atomic import atomic_directory, write_json


def export_bundle(model_dir, out, formats=FORMATS, quantize="none", check_size=100,
                  calibration_size=100, min_agreement=MIN_AGREEMENT, beam_size=4,
                  whole_loop=True, shortlist=None, log=print):
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
        shortlist: also write a vocabulary shortlist built from the model's training
            data, the output layer and the `decoder_features` graphs
            (`keras_s2s.decoding.shortlist`; decode with `shortlist=True`): `True` for
            the default sizes, or a dict of `Shortlist.build`'s `frequent` and
            `per_word`.
        log: where progress lines go.

    Returns:
        The report: file sizes, the checks, and the time the export took.
    """
    from keras_s2s.export.graphs import ExportGraphs
    from keras_s2s.trained_model import TrainedModel

    formats = _checked_options(formats, quantize)
    started = time.perf_counter()
    trained = TrainedModel.load(model_dir)
    trained.model = trained.model.with_dtype("float32")  # mixed precision exports in float32
    meta = trained.meta
    job = ExportJob(trained, ExportGraphs(trained.model, meta["max_decode_length"], beam_size),
                    quantize, whole_loop=whole_loop, shortlist=bool(shortlist))
    built_shortlist = _build_shortlist(trained, shortlist, model_dir, log) if shortlist else None
    if quantize == "int8":
        sources = _sample_sources(meta, "train", calibration_size)
        if not sources:
            raise ValueError(
                f"int8 quantization calibrates on the training data of {model_dir}, which "
                "cannot be read any more; use --quantize dynamic or float16."
            )
        job.calibration = _calibration(trained, job.graphs, sources)

    with atomic_directory(out) as tmp, _quiet_tensorflow_warnings():
        trained.source_vocab.save(os.path.join(tmp, SOURCE_VOCAB_FILE))
        trained.target_vocab.save(os.path.join(tmp, TARGET_VOCAB_FILE))
        write_tokenizer_files(trained, tmp, _recorded_pairs(meta, "test")
                              or _recorded_pairs(meta, "dev"))
        format_meta = {}
        for name in formats:
            log(f"Exporting {name} ...")
            format_meta[name] = write_format(job, name, tmp)
        bundle = bundle_description(meta, job, format_meta)
        if built_shortlist is not None:
            bundle["shortlist"] = _write_shortlist(built_shortlist, trained, quantize, tmp)

        checks = {}
        sources = _sample_sources(meta, "test", check_size) if check_size else None
        if sources:
            log(f"Checking the exports on {len(sources)} held-out sources ...")
            reference = [h[0].tokens for h in trained.decode(sources)]
            decoded = [f for f in formats if f != "keras"]
            checks = check_exports(Bundle(tmp, verify=False, meta=bundle), decoded, sources,
                                   reference, log, whole_loop)
            step = checks.get("tflite/step", {}).get("token_agreement", 1.0)
            if quantize == "int8" and step < min_agreement:
                log(f"The int8 decoder_step agrees on {step:.4f} of the tokens (below "
                    f"{min_agreement}): converting it again with int8 weights only ...")
                _fall_back_to_int8_weights(job, tmp, format_meta["tflite"], step)
                checks.update(check_exports(Bundle(tmp, verify=False, meta=bundle), ["tflite"],
                                            sources, reference, log, whole_loop))
        elif check_size:
            log("No held-out data recorded with the model: exports not checked.")
        files = {name: sha256(os.path.join(tmp, name)) for name in list_files(tmp)}
        write_json(os.path.join(tmp, BUNDLE_FILE), {**bundle, "files": files, "checks": checks})
    sizes = {name: os.path.getsize(os.path.join(out, name)) for name in [*files, BUNDLE_FILE]}
    return {"bundle": os.path.abspath(out), "sizes": sizes, "checks": checks,
            "quantization": quantize, "seconds": round(time.perf_counter() - started, 1)}


def _build_shortlist(trained, sizes, model_dir, log):
    """The vocabulary shortlist of the model's training pairs."""
    from keras_s2s.decoding.shortlist import Shortlist

    options = {} if sizes is True else dict(sizes)
    pairs = _recorded_pairs(trained.meta, "train")
    if not pairs:
        raise ValueError(f"A shortlist is built from the training data of {model_dir}, which "
                         "cannot be read any more: export without --shortlist.")
    log(f"Building the vocabulary shortlist from {len(pairs):,} training pairs ...")
    translator = trained.translator
    sources = translator.tokenize_sources([source for source, _ in pairs])
    targets = [translator.target_tokenizer.tokenize(target) for _, target in pairs]
    return Shortlist.build(zip(sources, targets), trained.model.source_vocab_size,
                           trained.model.target_vocab_size, **options)


def _write_shortlist(shortlist, trained, quantize, directory):
    """Writes the shortlist and the output layer; returns their `bundle.json` entry.
    With float16 weights the output layer is stored as float16 too, so its products
    (in float32) are those of the float16 `decoder_step`."""
    import io

    from keras_s2s.models.inference import output_layer
    from keras_s2s.runtime.bundle import OUTPUT_LAYER_FILE, SHORTLIST_FILE
    from keras_s2s.utils.atomic import write_bytes

    kernel, bias = output_layer(trained.model.decoder)
    if quantize == "float16":
        kernel = kernel.astype(np.float16)
    buffer = io.BytesIO()
    np.savez(buffer, kernel=kernel, bias=bias)
    write_bytes(os.path.join(directory, OUTPUT_LAYER_FILE), buffer.getvalue())
    write_bytes(os.path.join(directory, SHORTLIST_FILE), shortlist.to_bytes())
    return {**shortlist.settings, "file": SHORTLIST_FILE, "output_layer": OUTPUT_LAYER_FILE,
            "output_layer_dtype": str(kernel.dtype)}


def _checked_options(formats, quantize):
    """The formats asked for, without repeats, once the options are known to be valid."""
    formats = list(dict.fromkeys(formats))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"Unknown or no formats {unknown}: choose from {', '.join(FORMATS)}.")
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"Unknown quantization {quantize!r}: choose one of {', '.join(QUANTIZATIONS)}.")
    if quantize != "none" and not {"tflite", "onnx"} & set(formats):
        raise ValueError("--quantize applies to TFLite and ONNX: add tflite or onnx to the "
                         "formats.")
    return formats


def bundle_description(meta, job, format_meta):
    """`bundle.json` without its `files` and `checks`: what a runtime needs to decode
    the bundle, from the model directory's `meta` and the formats written."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "keras_s2s_version": __version__,
        "model": meta["model"],
        "special_ids": {"pad": PAD_ID, "start": START_ID, "end": END_ID, "unk": UNK_ID},
        "max_decode_length": meta["max_decode_length"],
        "beam_size": job.graphs.beam_size if job.whole_loop else None,  # of the beam graph
        "max_source_length": meta.get("filter", {}).get("max_source_length"),
        "tokenizer": {
            side: {**meta["tokenizer"][side], "vocab": vocab}
            for side, vocab in (("source", SOURCE_VOCAB_FILE), ("target", TARGET_VOCAB_FILE))
        },
        "step_contract": step_contract(job.graphs),
        "formats": format_meta,
        "data": meta.get("data"),
    }


def _fall_back_to_int8_weights(job, directory, tflite_meta, step_agreement):
    """Converts the TFLite `decoder_step` again with int8 weights only (its int8
    activations agreed with Keras on `step_agreement` of the tokens, too few), and
    records both in the format's metadata `tflite_meta`."""
    tflite_meta.update(write_tflite(job, directory, only={"decoder_step": "dynamic"},
                                    applied=tflite_meta["quantization_by_file"]))
    tflite_meta["int8_step_agreement"] = round(step_agreement, 4)


def step_contract(graphs):
    """The `step_contract` of `bundle.json`: names, shapes and dtypes of the graphs'
    inputs and outputs (read back by `keras_s2s.runtime.contract.StepContract`)."""
    def spec(shape, dtype):
        return {"shape": ["batch"] + [("src_len" if d is None else d) for d in shape], "dtype": dtype}

    inputs = {contract.TOKEN_IDS: spec([], "int32")}
    outputs = {contract.LOGITS: spec([graphs.model.decoder.vocab_size], "float32")}
    for name in graphs.state_names:
        inputs[name] = outputs[contract.next_name(name)] = spec(graphs.input_shapes[name], "float32")
    for name in graphs.memory_names:
        inputs[name] = spec(graphs.input_shapes[name], "float32")
    if graphs.memory_names:
        outputs[contract.ATTENTION] = spec([None], "float32")
    return {"state": graphs.state_names, "memory": graphs.memory_names,
            "encode_inputs": {contract.SOURCE_IDS: spec([None], "int32")},
            "step_inputs": inputs, "step_outputs": outputs,
            "greedy_outputs": {"tokens": spec([graphs.max_decode_length], "int32"),
                               "lengths": {"shape": ["batch"], "dtype": "int32"}},
            "beam_inputs": {contract.SOURCE_IDS: spec([None], "int32"),
                            "length_penalty": {"shape": [], "dtype": "float32"}},
            "beam_outputs": {
                "tokens": spec([graphs.beam_size, graphs.max_decode_length], "int32"),
                "lengths": spec([graphs.beam_size], "int32"),
                "scores": spec([graphs.beam_size], "float32"),
                "ranking_scores": spec([graphs.beam_size], "float32"),
                "finished": spec([graphs.beam_size], "int32"),
                "count": {"shape": ["batch"], "dtype": "int32"}}}


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
    steps = []
    inference = trained.inference

    def recording_step(token_ids, state, memory):
        steps.append(contract.step_inputs(token_ids, state, memory))
        return inference.decode_step(token_ids, state, memory)

    for row in (row for row in ids if len(row) == width):
        state, memory = inference.encode(np.asarray([row], np.int32))
        decoding.greedy_search(recording_step, state, memory, start_id=START_ID,
                               end_id=END_ID, max_length=graphs.max_decode_length)
    return {"decoder_step": steps}


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
