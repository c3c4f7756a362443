"""Every export is run before it is published: its tokens against the Keras model's.

`check_exports` decodes held-out sources on each exported backend, step by step and
with the whole-loop graphs, and compares the tokens with the Keras model's
(`token_agreement`); the whole-loop beam graph is compared with beam search driving the
step graph (`beam_agreement`). The results go into `bundle.json` (`checks`).
"""

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


def check_exports(bundle, formats, sources, reference, log, whole_loop=True):
    """Decodes `sources` on every backend of `formats` of `bundle` (a
    `keras_s2s.runtime.Bundle`, possibly not written out yet) and compares with
    `reference`, the Keras model's tokens. Returns `{"<backend>/<mode>": result}`."""
    from keras_s2s import runtime

    checks = {}
    modes = (("step", False), ("whole_loop", True))[:2 if whole_loop else 1]
    for backend in formats:
        translator = runtime.load(bundle, backend=backend, verify=False)  # no checksums yet
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
