"""Text in, text out, on any backend: the one decoding path every backend shares."""

import warnings

import numpy as np

from keras_s2s import decoding
from keras_s2s.decoding import Hypothesis
from keras_s2s.decoding.shortlist import position_of, shortlist_memory, shortlisted_step
from keras_s2s.text.vocabulary import END_ID, START_ID


def _pad(rows):
    width = max(len(row) for row in rows)
    ids = np.zeros((len(rows), width), dtype=np.int32)
    for i, row in enumerate(rows):
        ids[i, :len(row)] = row
    return ids


class SourceTruncatedWarning(UserWarning):
    """A source had more tokens than the model's limit and was cut to it."""


def check_texts(texts):
    """`texts` as a list of strings, or a `ValueError` naming the first bad item."""
    if isinstance(texts, (str, bytes)):
        raise ValueError(
            f"texts must be a list of strings, got one {type(texts).__name__}: wrap it in a "
            "list, e.g. translate([text])."
        )
    try:
        texts = list(texts)
    except TypeError:
        raise ValueError(f"texts must be a list of strings, got {type(texts).__name__}.") from None
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            hint = " (decode bytes first: text.decode('utf-8'))" if isinstance(text, bytes) else ""
            raise ValueError(f"texts[{index}] is a {type(text).__name__}, not a str{hint}.")
    return texts


class Translator:
    """Tokenizes with the pure-Python tokenizer, decodes on a backend, detokenizes.

    Args:
        backend: an object with `encode`, `step` and `greedy_loop` (see
            `keras_s2s.runtime.backends`): LiteRT, ONNX Runtime, SavedModel or Keras,
            or one of your own.
        source_tokenizer, target_tokenizer: `PyTokenizer`s (identical to the
            tensorflow-text tokenizers the model was trained with).
        max_decode_length: the most tokens generated per source (end token included).
        meta: the model's description (tokenizer settings, data), kept for evaluation.
        max_source_length: sources with more tokens are cut to this many, with a
            `SourceTruncatedWarning` (the model was trained on sources up to this
            length; `None`: no limit).

    Example:
    >>> import keras_s2s.runtime
    >>> translator = keras_s2s.runtime.load("export/dates_bahdanau", backend="onnx")
    >>> translator.translate(["Nov. 23rd, 2026"])
    ['2026-11-23']
    >>> [[best]] = translator.decode(["23.11.2026"], beam_size=4)
    >>> translator.detokenize([best.tokens]), best.finished, best.attention.shape
    (['2026-11-23'], True, (10, 10))
    """

    def __init__(self, backend, source_tokenizer, target_tokenizer, max_decode_length, meta=None,
                 max_source_length=None, shortlist=None):
        self.backend = backend
        # A function giving `(Shortlist, kernel, bias)`, called on first use.
        self._shortlist_source = shortlist
        self._shortlist = None
        self.source_tokenizer = source_tokenizer
        self.target_tokenizer = target_tokenizer
        self.max_decode_length = int(max_decode_length)
        self.meta = meta or {}
        self.max_source_length = max_source_length

    def tokenize_sources(self, texts):
        """Texts -> lists of source ids, each cut to `max_source_length` tokens (with a
        `SourceTruncatedWarning` saying how many were cut)."""
        ids = [self.source_tokenizer.tokenize(text) for text in check_texts(texts)]
        limit = self.max_source_length
        if limit:
            long = [len(row) for row in ids if len(row) > limit]
            if long:
                warnings.warn(
                    f"{len(long)} source(s) had more tokens than the model's limit of {limit} "
                    f"(the longest {max(long)}) and were cut to {limit} tokens.",
                    SourceTruncatedWarning, stacklevel=3,
                )
                ids = [row[:limit] for row in ids]
        return ids

    def unknown_tokens(self, texts):
        """Per text, the words (characters for a character model) outside the source
        vocabulary: the model reads each as the unknown token."""
        return [self.source_tokenizer.unknown(text) for text in check_texts(texts)]

    def detokenize(self, token_lists):
        """Lists of target ids -> texts."""
        return [self.target_tokenizer.detokenize(tokens) for tokens in token_lists]

    def decode(self, texts, *, beam_size=1, length_penalty=0.0, n_best=1, batch_size=64,
               whole_loop=False, sample=False, temperature=1.0, top_k=0, seed=None,
               max_length=None, shortlist=False):
        """Decodes texts; for each, a list of `n_best` `Hypothesis`, best first.

        Args:
            texts: source strings.
            beam_size: 1 for greedy search, more for beam search.
            length_penalty: GNMT length penalty alpha for beam search (0: none).
            n_best: hypotheses returned per text (at most `beam_size`).
            batch_size: texts decoded together.
            whole_loop: decode with one call of the backend's whole-loop graph, greedy
                (no scores or attention: `score` is `None`) or, with `beam_size` > 1,
                beam search (scores, no attention; the beam size must be the one the
                graph was exported with); else step by step in Python.
            sample: sample tokens instead of searching (with `temperature`, `top_k`,
                `seed`; see `keras_s2s.decoding.sample`).
            max_length: the most tokens generated per text, the end token included
                (default: the model's `max_decode_length`; with `whole_loop`, at most
                that, which the exported graph was built for).
            shortlist: compute each step's output layer only over the target words the
                bundle's vocabulary shortlist gives each source (exported with
                `--shortlist`; `keras_s2s.decoding.shortlist`): faster with a large
                vocabulary, and each sentence still gets the same tokens in any batch.
                Not with `whole_loop`.

        Texts are decoded in batches of similar source length and returned in input
        order. A text with no tokens (empty, or only spaces and invisible characters) is
        not run through the model: its translation is empty.
        """
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
        if not isinstance(beam_size, (int, np.integer)) or beam_size < 1:
            raise ValueError(f"beam_size must be a positive int, got {beam_size!r}.")
        if not isinstance(n_best, (int, np.integer)) or not 1 <= n_best <= beam_size:
            raise ValueError(f"n_best must be between 1 and beam_size ({beam_size}), got {n_best!r}.")
        if whole_loop and sample:
            raise ValueError("whole_loop searches (greedy or beam): it does not sample.")
        if shortlist and whole_loop:
            raise ValueError("A shortlist works step by step: leave out whole_loop.")
        if shortlist:
            self._load_shortlist()
        if whole_loop and beam_size > 1:
            self._check_beam_graph(beam_size, max_length)
        if max_length is None:
            max_length = self.max_decode_length
        if not isinstance(max_length, (int, np.integer)) or isinstance(max_length, bool) \
                or max_length < 1:
            raise ValueError(f"max_length must be a positive number of tokens, got {max_length!r}.")
        if whole_loop and max_length > self.max_decode_length:
            raise ValueError(
                f"whole_loop generates at most {self.max_decode_length} tokens (fixed when the "
                f"graph was exported), not max_length={max_length}: decode step by step instead."
            )
        if sample:  # checked here too, so that a batch of blank texts is refused alike
            decoding.check_sampling(temperature, top_k)
        source_ids = self.tokenize_sources(texts)
        results = [[Hypothesis([], 0.0, None, True)] for _ in source_ids]
        # Batches of sources of about the same length: little padding, and few steps
        # spent on rows that have already ended. The results keep the input order.
        order = sorted((i for i, ids in enumerate(source_ids) if ids),
                       key=lambda i: len(source_ids[i]))
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            decoded = self._decode_ids(
                _pad([source_ids[i] for i in rows]), beam_size, length_penalty, n_best,
                whole_loop, sample, temperature, top_k, seed, max_length, shortlist,
            )
            for i, hypotheses in zip(rows, decoded):
                results[i] = hypotheses
        return results

    def _check_beam_graph(self, beam_size, max_length):
        exported = getattr(self.backend, "beam_size", None)
        if exported is None:
            raise ValueError("This bundle has no whole-loop beam graph (exported with "
                             "--no-whole-loop, or before the graph existed): decode step by "
                             "step (leave out whole_loop / --whole-loop) or export the model "
                             "again.")
        if beam_size != exported:
            raise ValueError(
                f"The whole-loop beam graph was exported for beam size {exported}, not "
                f"{beam_size}: use beam size {exported}, decode step by step (leave out "
                f"whole_loop / --whole-loop), or export again with --beam-size {beam_size}.")
        if max_length not in (None, self.max_decode_length):
            raise ValueError(
                f"The whole-loop beam graph searches up to {self.max_decode_length} tokens "
                f"(fixed at export), not max_length={max_length}: decode step by step.")

    def _load_shortlist(self):
        if self._shortlist is None:
            if self._shortlist_source is None:
                raise ValueError("This translator has no vocabulary shortlist: export the "
                                 "model with --shortlist and load that bundle.")
            self._shortlist = self._shortlist_source()
        return self._shortlist

    def _decode_ids(self, ids, beam_size, length_penalty, n_best, whole_loop, sample,
                    temperature, top_k, seed, max_length, shortlist=False):
        if whole_loop and beam_size > 1:
            found = self.backend.beam_loop(ids, length_penalty)
            return [[Hypothesis(found["tokens"][i, j, :found["lengths"][i, j]].tolist(),
                                float(found["scores"][i, j]), None,
                                bool(found["finished"][i, j]),
                                float(found["ranking_scores"][i, j]))
                     for j in range(min(n_best, int(found["count"][i])))]
                    for i in range(len(ids))]
        if whole_loop:
            tokens, lengths = self.backend.greedy_loop(ids)
            # Greedy decoding is the same on any prefix: a shorter max_length cuts the
            # rows where step-by-step decoding would have stopped.
            return [[Hypothesis(row[:min(n, max_length)].tolist(), None, None,
                                bool(n < max_length and row[n] == END_ID))]
                    for row, n in zip(tokens, lengths)]
        options = {"start_id": START_ID, "end_id": END_ID, "max_length": max_length}
        state, memory = self.backend.encode(ids)
        # The arrays come from encode() and earlier steps, so a `Backend` runs the step
        # without its contract check (`run_step`); any object with a `step` works too.
        step = getattr(self.backend, "run_step", self.backend.step)
        if shortlist:
            words, kernel, bias = self._load_shortlist()
            candidates, allowed = words.candidates(ids)
            step = shortlisted_step(self.backend.run_features_step, kernel, bias, candidates)
            memory = shortlist_memory(memory, allowed)
            options.update(start_id=position_of(candidates, START_ID),
                           end_id=position_of(candidates, END_ID))
            found = self._decode_steps(step, state, memory, beam_size, length_penalty, n_best,
                                       sample, temperature, top_k, seed, options)
            for hypotheses in found:
                for h in hypotheses:
                    h.tokens = candidates[np.asarray(h.tokens, np.int64)].tolist()
            return found
        return self._decode_steps(step, state, memory, beam_size, length_penalty, n_best,
                                  sample, temperature, top_k, seed, options)

    @staticmethod
    def _decode_steps(step, state, memory, beam_size, length_penalty, n_best, sample,
                      temperature, top_k, seed, options):
        if sample:
            found = decoding.sample(step, state, memory, temperature=temperature, top_k=top_k,
                                    seed=seed, **options)
            return [[h] for h in found]
        if beam_size == 1:
            return [[h] for h in decoding.greedy_search(step, state, memory, **options)]
        return decoding.beam_search(step, state, memory, beam_size=beam_size,
                                    length_penalty=length_penalty, n_best=n_best, **options)

    def translate(self, texts, **options):
        """Texts in, best translations out (options as `decode()`)."""
        best = [hypotheses[0] for hypotheses in self.decode(texts, **options)]
        return self.detokenize([h.tokens for h in best])
