"""Bundle sizes per format and quantization, and greedy decoding time per sentence.

Exports a trained model directory (default: `runs/quickstart/model`, which `bash scripts/main.sh`
writes) once per TFLite quantization, measures each file's size and the token agreement
of the quantized TFLite greedy decoding with Keras on held-out sources, then times greedy
decoding of single sentences (batch 1) on every backend, step by step (the Python decoding
loop calling `decoder_step`) and as one whole-loop call. Writes
`benchmarks/results/export_dates.json` and `.md`.

    .venv/bin/python benchmarks/export_dates.py [--model runs/quickstart/model] [--sentences 200]
"""

import argparse
import os
import platform
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_s2s import runtime  # noqa: E402
from keras_s2s.data.recorded import recorded_split  # noqa: E402
from keras_s2s.export import QUANTIZATIONS, export_bundle, token_agreement  # noqa: E402
from keras_s2s.trained_model import read_meta  # noqa: E402
from keras_s2s.utils.atomic import write_json, write_text  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
BACKENDS = ("keras", "savedmodel", "tflite", "onnx")


def _time_per_sentence(translator, sources, whole_loop, repeats):
    """Median seconds to decode one sentence (batch 1), after one warm-up pass."""
    translator.decode(sources[:5], batch_size=1, whole_loop=whole_loop)
    times = []
    for _ in range(repeats):
        for text in sources:
            start = time.perf_counter()
            translator.decode([text], batch_size=1, whole_loop=whole_loop)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="runs/quickstart/model", help="trained model directory")
    parser.add_argument("--sentences", type=int, default=200,
                        help="held-out sources for agreement and timing")
    parser.add_argument("--repeats", type=int, default=1, help="timing passes over the sources")
    args = parser.parse_args()
    meta = read_meta(args.model)
    sources = [s for s, _ in recorded_split(meta["data"], "test")[: args.sentences]]

    result = {"model": os.path.abspath(args.model), "architecture": meta["model"],
              "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
              "sentences": len(sources), "sizes": {}, "tflite_agreement": {}, "ms_per_sentence": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for quantize in QUANTIZATIONS:
            print(f"== export, TFLite quantization {quantize}")
            out = os.path.join(tmp, quantize)
            formats = runtime.bundle.FORMATS if quantize == "none" else ["tflite"]
            report = export_bundle(args.model, out, formats=formats, quantize=quantize,
                                   check_size=0, log=lambda *a: None)
            sizes = runtime.Bundle(report["bundle"], verify=False).format_bytes()
            if quantize == "none":
                result["sizes"]["none"] = sizes
                reference = [h[0].tokens for h in
                             runtime.load(out, backend="keras").decode(sources)]
            else:
                result["sizes"][quantize] = {"tflite": sizes["tflite"]}
            found = [h[0].tokens for h in runtime.load(out, backend="tflite").decode(sources)]
            result["tflite_agreement"][quantize] = token_agreement(reference, found)
            print(f"   tflite {sizes['tflite'] / 1024:.1f} KiB, agreement "
                  f"{result['tflite_agreement'][quantize]['token_agreement']:.4f}")
        bundle = os.path.join(tmp, "none")
        for backend in BACKENDS:
            translator = runtime.load(bundle, backend=backend)
            for mode, whole_loop in (("step", False), ("whole_loop", True)):
                seconds = _time_per_sentence(translator, sources, whole_loop, args.repeats)
                result["ms_per_sentence"][f"{backend}/{mode}"] = round(seconds * 1000, 3)
                print(f"   {backend:10s} {mode:10s} {seconds * 1000:8.3f} ms per sentence")

    os.makedirs(RESULTS, exist_ok=True)
    write_json(os.path.join(RESULTS, "export_dates.json"), result)
    lines = [
        f"Model: `{args.model}` ({meta['model']['cell']}, attention {meta['model']['attention']}, "
        f"units {meta['model']['units']}); {len(sources)} held-out sources; {result['machine']}.",
        "",
        "| format | quantization | size (KiB) | TFLite token agreement with Keras |",
        "|---|---|---:|---:|",
    ]
    for fmt, size in result["sizes"]["none"].items():
        agreement = result["tflite_agreement"]["none"]["token_agreement"] if fmt == "tflite" else None
        lines.append(f"| {fmt} | none | {size / 1024:.1f} | {'' if agreement is None else f'{agreement:.4f}'} |")
    for quantize in QUANTIZATIONS[1:]:
        lines.append(f"| tflite | {quantize} | {result['sizes'][quantize]['tflite'] / 1024:.1f} | "
                     f"{result['tflite_agreement'][quantize]['token_agreement']:.4f} |")
    lines += ["", "| backend | greedy, step by step (ms/sentence) | greedy, whole loop (ms/sentence) |",
              "|---|---:|---:|"]
    for backend in BACKENDS:
        ms = result["ms_per_sentence"]
        lines.append(f"| {backend} | {ms[backend + '/step']:.2f} | {ms[backend + '/whole_loop']:.2f} |")
    write_text(os.path.join(RESULTS, "export_dates.md"), "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
