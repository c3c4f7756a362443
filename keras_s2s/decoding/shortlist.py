"""Vocabulary shortlists: each step's output layer over a few hundred target words.

At batch 64 most of a decoder step is its output layer, a `(units, target vocabulary)`
matrix product. A translation uses few of the target words, and which ones depends on
the source: a shortlist (Marian's lexical shortlist, CTranslate2's vocabulary map)
computes the output layer only for the words a source makes likely, and gives every
other word a probability of zero.

The candidates of a source are the `frequent` most common target words of the training
data, the special tokens, and for each of its words the `per_word` target words that
occur most often in the targets of the training pairs whose source has that word
(`P(target word | source word)` over sentence pairs, the frequent words left aside as
they are in every list anyway).

Decoding with a shortlist runs the step without its output layer (the bundle's
`decoder_features` graph: the vector the output layer takes) and the output layer in
numpy over the batch's candidates, each row restricted to its own source's candidates.
So a sentence gets the same tokens alone as in any batch. Token ids inside the search
are positions in the batch's candidate list; `shortlisted_step` maps them to and from
target ids, so the strategies of `keras_s2s.decoding` run unchanged.

Example:
>>> import numpy as np
>>> pairs = [([4, 5], [6, 7]), ([4], [6]), ([5], [7, 8])]
>>> shortlist = Shortlist.build(pairs, source_vocab_size=6, target_vocab_size=9,
...                             frequent=1, per_word=1)
>>> shortlist.frequent.tolist(), shortlist.words_of(5).tolist()
([6], [7])
>>> ids, allowed = shortlist.candidates(np.array([[5, 0]]))
>>> ids.tolist(), allowed.astype(int).tolist()  # special tokens 1-3, frequent 6, then 7
([1, 2, 3, 6, 7], [[1, 1, 1, 1, 1]])
"""

import dataclasses
import io

import numpy as np

from keras_s2s.text.vocabulary import END_ID, START_ID, UNK_ID

# Target tokens every candidate list holds: the search starts with `START_ID`, ends with
# `END_ID`, and an unknown word must stay possible. Padding (id 0) is never predicted.
SPECIAL_IDS = (START_ID, END_ID, UNK_ID)
# The name under which a batch's per-row candidate masks travel with the memory (so that
# they follow the rows as the strategies drop finished rows and repeat beams).
MASK_KEY = "__shortlist_allowed__"


@dataclasses.dataclass
class Shortlist:
    """Candidate target words per source word.

    Attributes:
        frequent: `(n,)` int32 target ids, sorted: candidates of every source.
        offsets: `(source_vocab_size + 1,)` int64: source word `s`'s own candidates are
            `words[offsets[s]:offsets[s + 1]]`.
        words: int32 target ids, sorted within each source word's run.
        settings: how it was built (`frequent`, `per_word`, the pairs counted).
    """

    frequent: np.ndarray
    offsets: np.ndarray
    words: np.ndarray
    settings: dict

    @classmethod
    def build(cls, pairs, source_vocab_size, target_vocab_size, frequent=1000, per_word=50):
        """Counts `pairs` (an iterable of `(source ids, target ids)`, each a sequence of
        token ids) into a shortlist.

        Args:
            frequent: the most common target words every source gets.
            per_word: each source word's own candidates, beyond `frequent`.
        """
        for name, value in (("frequent", frequent), ("per_word", per_word)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative int, got {value!r}.")
        together = np.zeros((source_vocab_size, target_vocab_size), np.int32)
        target_counts = np.zeros(target_vocab_size, np.int64)
        count = 0
        for source, target in pairs:
            source, target = _ids(source, source_vocab_size), _ids(target, target_vocab_size)
            target_counts[target] += 1
            together[np.ix_(source, target)] += 1
            count += 1
        if count == 0:
            raise ValueError("No pairs to count: a shortlist is built from training pairs.")
        candidates = np.flatnonzero(target_counts)
        candidates = candidates[candidates >= len(SPECIAL_IDS) + 1]
        # The most common words, ties by id: the order does not depend on numpy's sort.
        common = candidates[np.lexsort((candidates, -target_counts[candidates]))][:frequent]
        common = np.sort(common).astype(np.int32)
        together[:, common] = 0
        together[:, list(SPECIAL_IDS) + [0]] = 0
        offsets, words = [0], []
        for row in together:
            seen = np.flatnonzero(row)
            # The words seen most often with this source word, ties by id.
            best = seen[np.lexsort((seen, -row[seen]))][:per_word]
            words.append(np.sort(best))
            offsets.append(offsets[-1] + len(best))
        return cls(common, np.asarray(offsets, np.int64),
                   np.concatenate(words).astype(np.int32) if words else np.zeros(0, np.int32),
                   {"frequent": int(frequent), "per_word": int(per_word), "pairs": count})

    @property
    def source_vocab_size(self):
        return len(self.offsets) - 1

    def words_of(self, source_id):
        """Source word `source_id`'s own candidates (besides the frequent words)."""
        return self.words[self.offsets[source_id]:self.offsets[source_id + 1]]

    def candidates(self, source_ids):
        """The candidates of a batch of sources.

        Args:
            source_ids: `(batch, src_len)` int ids, 0-padded.

        Returns:
            `(ids, allowed)`: `ids`, the sorted target ids any row may produce (the union
            of the rows' candidates); `allowed`, a `(batch, len(ids))` boolean mask of
            each row's own candidates.
        """
        source_ids = np.asarray(source_ids)
        vocab = max(int(self.frequent.max(initial=0)), int(self.words.max(initial=0)),
                    max(SPECIAL_IDS)) + 1
        allowed = np.zeros((len(source_ids), vocab), bool)
        allowed[:, list(SPECIAL_IDS)] = True
        allowed[:, self.frequent] = True
        for row, sources in zip(allowed, source_ids):
            sources = sources[(sources > 0) & (sources < self.source_vocab_size)]
            if len(sources):
                starts, ends = self.offsets[sources], self.offsets[sources + 1]
                row[np.concatenate([self.words[a:b] for a, b in zip(starts, ends)])] = True
        ids = np.flatnonzero(allowed.any(axis=0)).astype(np.int32)
        return ids, allowed[:, ids]

    # === Files ===

    def to_bytes(self):
        """The shortlist as the bytes of an `.npz` file."""
        buffer = io.BytesIO()
        np.savez(buffer, frequent=self.frequent, offsets=self.offsets, words=self.words,
                 settings=np.asarray([self.settings["frequent"], self.settings["per_word"],
                                      self.settings["pairs"]], np.int64))
        return buffer.getvalue()

    @classmethod
    def load(cls, path):
        """Reads a shortlist written with `to_bytes`."""
        with np.load(path, allow_pickle=False) as data:
            frequent, per_word, pairs = (int(v) for v in data["settings"])
            return cls(data["frequent"], data["offsets"], data["words"],
                       {"frequent": frequent, "per_word": per_word, "pairs": pairs})


def _ids(sequence, vocab_size):
    ids = np.unique(np.asarray(sequence, np.int64))
    return ids[(ids > 0) & (ids < vocab_size)]


def shortlisted_step(features_step, kernel, bias, ids):
    """A step function over the candidate list `ids` (see the module docstring).

    Args:
        features_step: `(token_ids, state, memory) -> (features, new_state, attention)`,
            the step without its output layer, on target ids.
        kernel: `(units, vocab)` float32, the output layer's weights; `bias`: `(vocab,)`.
        ids: the batch's candidate target ids (`Shortlist.candidates`).

    Returns:
        The step function. Its token ids are positions in `ids`; the memory it is given
        must hold the rows' candidate masks under `MASK_KEY` (`shortlist_memory`), which
        follow the rows as the strategies drop finished rows and repeat beams.
    """
    kernel = np.ascontiguousarray(kernel[:, ids], np.float32)
    bias = np.asarray(bias[ids], np.float32)

    def step(positions, state, memory):
        memory = dict(memory)
        penalty = memory.pop(MASK_KEY)
        features, new_state, attention = features_step(ids[positions], state, memory)
        logits = np.asarray(features, np.float32) @ kernel
        logits += bias
        logits += penalty  # -inf outside each row's own candidates
        return logits, new_state, attention

    return step


def shortlist_memory(memory, allowed):
    """The memory with the rows' candidate masks added (`shortlisted_step`), as a
    float32 penalty added to the logits: 0 on a row's candidates, -inf elsewhere."""
    penalty = np.where(np.asarray(allowed, bool), np.float32(0), np.float32(-np.inf))
    return {**memory, MASK_KEY: penalty}


def position_of(ids, token_id):
    """The position of a special token in the candidate list `ids`."""
    position = int(np.searchsorted(ids, token_id))
    if position >= len(ids) or ids[position] != token_id:
        raise ValueError(f"Token {token_id} is not among the candidates.")
    return position
