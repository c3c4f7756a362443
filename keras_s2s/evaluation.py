"""Scores of a model on held-out pairs: sacreBLEU BLEU and chrF, exact match, by length."""

import numpy as np
import sacrebleu

from keras_s2s.text.pytokenizer import standardize


def sorted_buckets(by_source_length):
    """The `(range, scores)` items of a `by_source_length` dict, shortest range first
    (a JSON file with sorted keys has them as text: "10-13" before "6-9")."""
    return sorted(by_source_length.items(), key=lambda item: int(item[0].split("-")[0]))


def length_buckets(lengths, count=4):
    """Up to `count` source-length ranges holding about equally many sentences.

    Returns `[(lo, hi), ...]`, inclusive, covering `min(lengths)..max(lengths)`.
    """
    lengths = np.asarray(lengths)
    edges = np.unique(np.quantile(lengths, np.linspace(0, 1, count + 1), method="lower"))
    ranges, lo = [], int(lengths.min())
    for edge in edges[1:]:
        if edge >= lo:
            ranges.append((lo, int(edge)))
            lo = int(edge) + 1
    if lo <= lengths.max():
        ranges.append((lo, int(lengths.max())))
    return ranges


def score(hypotheses, references, lowercase=False):
    """BLEU, chrF and exact match of detokenized outputs against raw references.

    Exact match compares after the tokenizer's standardization (Unicode NFKC and
    whitespace, plus lower-casing with `lowercase`), so it ignores spacing only.
    """
    bleu = sacrebleu.metrics.BLEU()
    chrf = sacrebleu.metrics.CHRF()
    exact = [
        standardize(h, lowercase) == standardize(r, lowercase)
        for h, r in zip(hypotheses, references)
    ]
    return {
        "bleu": round(bleu.corpus_score(hypotheses, [references]).score, 2),
        "chrf": round(chrf.corpus_score(hypotheses, [references]).score, 2),
        "exact_match": round(float(np.mean(exact)), 4) if exact else None,
        "n": len(references),
        "bleu_signature": str(bleu.get_signature()),
        "chrf_signature": str(chrf.get_signature()),
    }


def edit_distance(a, b):
    """Levenshtein distance between two sequences (insertions, deletions and
    substitutions cost 1)."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def _without_stress(phonemes):
    return tuple(p.rstrip("0123456789") for p in phonemes)


def pronunciation_scores(hypotheses, references):
    """Word and phoneme error rates of grapheme-to-phoneme output, the CMUdict convention
    (`../shared/data/cmudict/README.md`).

    Args:
        hypotheses: one phoneme string per word (`"HH AH0 L OW1"`).
        references: per word, the list of its reference pronunciations.

    Returns:
        `wer` (a word is right when its hypothesis equals any reference) and `per` (the
        edit distance to the closest reference, summed over words, over the summed
        lengths of those references), with stress (`wer`, `per`) and with the stress
        digits removed from both sides (`wer_no_stress`, `per_no_stress`); and `n`.
    """
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} words.")
    result = {"n": len(references)}
    for suffix, form in (("", tuple), ("_no_stress", _without_stress)):
        wrong = edits = length = 0
        for hypothesis, options in zip(hypotheses, references):
            found = form(hypothesis.split())
            candidates = [form(reference.split()) for reference in options]
            if found not in candidates:
                wrong += 1
            distance, closest = min((edit_distance(found, c), len(c)) for c in candidates)
            edits += distance
            length += closest
        result[f"wer{suffix}"] = round(wrong / len(references), 4) if references else None
        result[f"per{suffix}"] = round(edits / length, 4) if length else None
    return result


def group_references(pairs):
    """`(sources, references)`: each distinct source once, in first-seen order, with
    the list of its targets (a word of a pronouncing dictionary has several lines)."""
    grouped = {}
    for source, target in pairs:
        grouped.setdefault(source, []).append(target)
    return list(grouped), list(grouped.values())


def evaluate(trained, pairs, *, beam_size=1, length_penalty=0.0, batch_size=64,
             shortlist=False):
    """Translates the sources of `pairs` and scores them against the targets
    (`shortlist`: with the bundle's vocabulary shortlist, see `Translator.decode`).

    Returns:
        A dict with `bleu`, `chrf` (sacreBLEU, with their signatures), `exact_match`,
        `n`, `decoding`, and `by_source_length`: the same scores for ranges of source
        length (in source tokens) that hold about equally many sentences. A model of the
        dates task adds `dates` (`keras_s2s.tasks.dates.report`: the share of valid
        calendar dates and, on the task's own test split, scores per family).
    """
    if not pairs:
        raise ValueError("Nothing to evaluate: the test set is empty.")
    data = trained.meta.get("data") or {}
    if data.get("corpus") == "cmudict":
        return evaluate_pronunciations(trained, pairs, beam_size=beam_size,
                                       length_penalty=length_penalty, batch_size=batch_size,
                                       shortlist=shortlist)
    sources = [s for s, _ in pairs]
    references = [t for _, t in pairs]
    options = {"shortlist": True} if shortlist else {}
    outputs = trained.translate(
        sources, beam_size=beam_size, length_penalty=length_penalty, batch_size=batch_size,
        **options,
    )
    lowercase = trained.meta["tokenizer"]["target"]["lowercase"]
    result = score(outputs, references, lowercase)
    lengths = [len(ids) for ids in trained.tokenize_sources(sources)]
    result["by_source_length"] = {}
    for lo, hi in length_buckets(lengths):
        members = [i for i, n in enumerate(lengths) if lo <= n <= hi]
        bucket = score([outputs[i] for i in members], [references[i] for i in members], lowercase)
        result["by_source_length"][f"{lo}-{hi}"] = {
            k: bucket[k] for k in ("bleu", "chrf", "exact_match", "n")
        }
    result["decoding"] = decoding_name(beam_size, shortlist)
    if data.get("task", {}).get("name") == "dates":
        from keras_s2s.tasks import dates, test_families

        result["dates"] = dates.report(outputs, references, test_families(data, pairs))
    return result


def decoding_name(beam_size, shortlist=False):
    """`greedy`, `beam4`, ..., with `+shortlist` when decoded with one."""
    name = "greedy" if beam_size == 1 else f"beam{beam_size}"
    return name + ("+shortlist" if shortlist else "")


def evaluate_pronunciations(trained, pairs, *, beam_size=1, length_penalty=0.0,
                            batch_size=64, shortlist=False):
    """`evaluate` for grapheme-to-phoneme pairs (word, phonemes) with several
    pronunciations per word: each word is decoded once and scored against all of its
    references (`pronunciation_scores`); `n` counts words. The BLEU, chrF and exact match
    of `evaluate` are kept, against each word's first reference."""
    words, references = group_references(pairs)
    options = {"shortlist": True} if shortlist else {}
    outputs = trained.translate(words, beam_size=beam_size, length_penalty=length_penalty,
                                batch_size=batch_size, **options)
    lowercase = trained.meta["tokenizer"]["target"]["lowercase"]
    result = score(outputs, [options[0] for options in references], lowercase)
    result.update(pronunciation_scores(outputs, references))
    exact = [o in options for o, options in zip(outputs, references)]
    result["exact_match"] = round(float(np.mean(exact)), 4)
    lengths = [len(ids) for ids in trained.tokenize_sources(words)]
    result["by_source_length"] = {}
    for lo, hi in length_buckets(lengths):
        members = [i for i, n in enumerate(lengths) if lo <= n <= hi]
        bucket = pronunciation_scores([outputs[i] for i in members],
                                      [references[i] for i in members])
        bucket["exact_match"] = round(1 - bucket["wer"], 4)
        bucket["bleu"] = score([outputs[i] for i in members],
                               [references[i][0] for i in members], lowercase)["bleu"]
        result["by_source_length"][f"{lo}-{hi}"] = bucket
    result["decoding"] = decoding_name(beam_size, shortlist)
    return result
