"""The vocabulary shortlist: what it costs in quality and gains in speed.

Decodes the model's test split with a bundle exported with `--shortlist`
(`keras-s2s export MODEL --out BUNDLE --shortlist`), text in and text out through
`keras_s2s.runtime`, with and without the shortlist:

- quality: cased sacreBLEU (`keras_s2s.evaluation.score`) of the whole test split,
  greedy and beam 4, on each runtime; and how many sentences' outputs change;
- the candidates: per sentence, and per batch of 64 (the union whose output layer is
  computed), and the share of the reference translations' tokens among their sentence's
  candidates (a reference token outside them cannot be produced);
- speed: greedy and beam 4 at batch 64 over `--batch-sentences` sources and at batch 1
  over `--sentences`, in `--rounds` rounds that alternate with and without, each after
  a warm-up; the median round (sentences per second; batch 1 also as milliseconds per
  sentence).

Run it on a quiet machine (the report records the load average and threads):

    .venv/bin/python benchmarks/shortlist.py --bundle runs/spa_eng-sl \\
        [--model saved_models/spa_eng] [--threads N] [--rounds 3]

Writes `benchmarks/results/shortlist.{json,md}`.
"""

import argparse
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from keras_s2s import runtime  # noqa: E402
from keras_s2s.data.recorded import recorded_split  # noqa: E402
from keras_s2s.evaluation import score  # noqa: E402
from keras_s2s.runtime.threads import check_threads  # noqa: E402
from keras_s2s.trained_model import read_meta  # noqa: E402
from keras_s2s.utils.atomic import write_json, write_text  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
BACKENDS = ("onnx", "tflite")
SEARCHES = (("greedy", 1), ("beam 4", 4))


def test_pairs(model_dir):
    meta = read_meta(model_dir)
    pairs = recorded_split(meta.get("data") or {}, "test")
    if not pairs:
        sys.exit(f"The test data of {model_dir} cannot be read (the corpora belong in "
                 "../shared/data beside the repository).")
    return meta, pairs


def candidate_counts(translator, sources, references, batch_size=64):
    """Mean candidates per sentence and per batch, and the share of reference tokens
    among their sentence's candidates."""
    shortlist, _, _ = translator._load_shortlist()
    ids = translator.tokenize_sources(sources)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    per_sentence, per_batch, covered, total = [], [], 0, 0
    for start in range(0, len(order), batch_size):
        rows = [ids[i] for i in order[start:start + batch_size]]
        width = max(1, max(len(row) for row in rows))
        padded = np.array([row + [0] * (width - len(row)) for row in rows], np.int32)
        candidates, allowed = shortlist.candidates(padded)
        per_batch.append(len(candidates))
        per_sentence += allowed.sum(axis=1).tolist()
        for i, row_allowed in zip(order[start:start + batch_size], allowed):
            own = set(candidates[row_allowed].tolist())
            wanted = translator.target_tokenizer.tokenize(references[i])
            covered += sum(token in own for token in wanted)
            total += len(wanted)
    return {"per_sentence": round(float(np.mean(per_sentence)), 1),
            "per_batch_of_64": round(float(np.mean(per_batch)), 1),
            "reference_tokens_covered": round(covered / total, 4)}


def timed(translator, texts, batch_size, beam_size, shortlist):
    options = {"shortlist": True} if shortlist else {}
    translator.translate(texts[:8], batch_size=batch_size, beam_size=beam_size, **options)
    if batch_size == 1:
        times = []
        for text in texts:
            began = time.perf_counter()
            translator.translate([text], beam_size=beam_size, **options)
            times.append(time.perf_counter() - began)
        return {"ms_per_sentence": statistics.median(times) * 1000,
                "sentences_per_second": len(texts) / sum(times)}
    began = time.perf_counter()
    translator.translate(texts, batch_size=batch_size, beam_size=beam_size, **options)
    return {"sentences_per_second": len(texts) / (time.perf_counter() - began)}


def markdown(result):
    lines = [
        "# Vocabulary shortlist", "",
        f"Bundle `{result['bundle']}` (shortlist: the {result['settings']['frequent']} most "
        f"common target words and {result['settings']['per_word']} per source word, counted "
        f"on {result['settings']['pairs']:,} training pairs); {result['test_sentences']:,} test "
        f"sentences for quality; speed over {result['batch_sentences']} sentences at batch 64 "
        f"and {result['sentences']} at batch 1, text in and text out, {result['threads']} "
        f"thread(s), the median of {result['rounds']} rounds alternating with and without. "
        f"Machine: {result['machine']}; load average {result['load_before']} at the start, "
        f"{result['load_after']} at the end. Produced by `benchmarks/shortlist.py`.", "",
        f"Candidates: {result['candidates']['per_sentence']} per sentence on average, "
        f"{result['candidates']['per_batch_of_64']} per batch of 64 (of "
        f"{result['vocabulary']:,} target words); "
        f"{result['candidates']['reference_tokens_covered']:.2%} of the reference "
        "translations' tokens are among their sentence's candidates.", "",
        "| runtime | search | BLEU without | BLEU with | change | outputs changed |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in result["quality"]:
        lines.append(f"| {row['backend']} | {row['search']} | {row['bleu_without']:.2f} | "
                     f"{row['bleu_with']:.2f} | {row['bleu_with'] - row['bleu_without']:+.2f} | "
                     f"{row['changed']} of {result['test_sentences']:,} |")
    lines += ["", "| runtime | setting | without | with | speed-up |", "|---|---|---:|---:|---:|"]
    for row in result["speed"]:
        unit = "ms/sentence" if row["batch"] == 1 else "sentences/s"
        key = "ms_per_sentence" if row["batch"] == 1 else "sentences_per_second"
        lines.append(f"| {row['backend']} | batch {row['batch']}, {row['search']} "
                     f"({unit}) | {row['without'][key]:,.2f} | {row['with'][key]:,.2f} | "
                     f"{row['speedup']:.2f}x |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", default=os.path.join(ROOT, "runs", "spa_eng-sl"))
    parser.add_argument("--model", default=os.path.join(ROOT, "saved_models", "spa_eng"),
                        help="the model whose recorded test split is decoded")
    parser.add_argument("--sentences", type=int, default=100, help="batch 1 sentences")
    parser.add_argument("--batch-sentences", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--name", default="shortlist")
    args = parser.parse_args()

    meta, pairs = test_pairs(args.model)
    bundle = runtime.Bundle(args.bundle)
    if not bundle.has_shortlist:
        sys.exit(f"{args.bundle} has no shortlist: export it with --shortlist.")
    sources, references = [s for s, _ in pairs], [t for _, t in pairs]
    load_before = round(os.getloadavg()[0], 2)
    translators = {b: runtime.load(bundle, backend=b, num_threads=args.threads)
                   for b in BACKENDS}
    lowercase = meta["tokenizer"]["target"]["lowercase"]

    quality = []
    for backend, translator in translators.items():
        for search, beam in SEARCHES:
            without = translator.translate(sources, beam_size=beam)
            with_ = translator.translate(sources, beam_size=beam, shortlist=True)
            quality.append({
                "backend": backend, "search": search,
                "bleu_without": score(without, references, lowercase)["bleu"],
                "bleu_with": score(with_, references, lowercase)["bleu"],
                "changed": sum(a != b for a, b in zip(without, with_))})
            print(quality[-1], flush=True)

    step = len(sources) / args.batch_sentences
    batch_texts = [sources[int(i * step)] for i in range(args.batch_sentences)]
    step = len(sources) / args.sentences
    single_texts = [sources[int(i * step)] for i in range(args.sentences)]
    speed = []
    for backend, translator in translators.items():
        for batch, texts in ((64, batch_texts), (1, single_texts)):
            for search, beam in SEARCHES:
                rounds = {False: [], True: []}
                for _ in range(args.rounds):
                    for shortlist in (False, True):
                        rounds[shortlist].append(timed(translator, texts, batch, beam, shortlist))
                median = {side: {key: statistics.median(r[key] for r in runs)
                                 for key in runs[0]} for side, runs in rounds.items()}
                rate = "sentences_per_second"
                speed.append({"backend": backend, "batch": batch, "search": search,
                              "without": median[False], "with": median[True],
                              "speedup": round(median[True][rate] / median[False][rate], 2)})
                print(speed[-1], flush=True)

    result = {
        "bundle": os.path.relpath(os.path.abspath(args.bundle), ROOT),
        "settings": bundle.meta["shortlist"], "vocabulary": bundle.meta["model"]["target_vocab_size"],
        "test_sentences": len(sources), "sentences": len(single_texts),
        "batch_sentences": len(batch_texts), "rounds": args.rounds,
        "threads": check_threads(args.threads),
        "candidates": candidate_counts(translators["onnx"], sources, references),
        "quality": quality, "speed": speed,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}, "
                   f"Python {platform.python_version()}",
        "load_before": load_before, "load_after": round(os.getloadavg()[0], 2),
    }
    write_json(os.path.join(RESULTS, f"{args.name}.json"), result)
    write_text(os.path.join(RESULTS, f"{args.name}.md"), markdown(result) + "\n")
    print(markdown(result))


if __name__ == "__main__":
    main()
