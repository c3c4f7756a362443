"""Teacher-forcing batches for `Seq2Seq.fit`: filtering, length bucketing, shuffling.

Batches are planned in numpy, one epoch at a time, from a seed and the epoch number:
sort the examples by length plus a little noise (so that sentences of about the same
length share a batch, in a different mix every epoch), cut batches, shuffle the batches.
Sorting by length keeps padding low; the plan of epoch `e` is the same whether a run
goes straight through or resumes at `e`, so resumed training is exact.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from keras_s2s.data.padding import pad_ids
from keras_s2s.text.vocabulary import END_ID, START_ID

# Lengths are blurred by up to this many tokens before sorting into batches.
LENGTH_NOISE = 3.0


@dataclasses.dataclass
class FilterReport:
    """What `filter_examples` kept and dropped, and why."""

    kept: int
    empty: int
    too_long: int
    max_source_length: int
    max_target_length: int

    def __str__(self):
        return (
            f"kept {self.kept} pairs; dropped {self.empty} with an empty side and "
            f"{self.too_long} longer than {self.max_source_length} source / "
            f"{self.max_target_length} target tokens"
        )


def filter_examples(sources, targets, max_source_length, max_target_length):
    """Drops pairs with an empty side or a side over its maximum length (in tokens).

    Returns:
        `(sources, targets, FilterReport)`.
    """
    kept_sources, kept_targets = [], []
    empty = too_long = 0
    for source, target in zip(sources, targets):
        if not source or not target:
            empty += 1
        elif len(source) > max_source_length or len(target) > max_target_length:
            too_long += 1
        else:
            kept_sources.append(source)
            kept_targets.append(target)
    report = FilterReport(len(kept_sources), empty, too_long, max_source_length, max_target_length)
    return kept_sources, kept_targets, report


class BatchPlan:
    """Length-bucketed, shuffled batches of teacher-forcing examples.

    Args:
        sources: lists of source ids.
        targets: lists of target ids (without start and end tokens).
        batch_size: sentences per batch.
        shuffle: shuffle examples and batches (each epoch differently); without it,
            batches follow the data order (for evaluation).
        seed: the shuffling seed.

    Every epoch has `len(plan)` batches. Each batch is
    `({"source_ids", "target_ids"}, labels)`: `target_ids` is `<s> y_1 ... y_n`, the
    labels `y_1 ... y_n </s>`, all 0-padded to the longest of the batch.
    """

    def __init__(self, sources, targets, batch_size, shuffle=True, seed=0):
        if len(sources) != len(targets):
            raise ValueError(f"{len(sources)} sources but {len(targets)} targets.")
        if not sources:
            raise ValueError("No examples to batch (were they all filtered out?).")
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}.")
        self.sources = [list(s) for s in sources]
        self.targets = [list(t) for t in targets]
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self._lengths = np.array(
            [max(len(s), len(t) + 1) for s, t in zip(self.sources, self.targets)]
        )

    def __len__(self):
        return -(-len(self.sources) // self.batch_size)

    def batches(self, epoch=0):
        """The example indices of every batch of an epoch, in order."""
        order = np.arange(len(self.sources))
        if not self.shuffle:
            return np.array_split(order, len(self))
        rng = np.random.default_rng([self.seed, epoch])
        noisy_lengths = self._lengths + rng.uniform(0.0, LENGTH_NOISE, len(order))
        order = np.argsort(noisy_lengths, kind="stable")
        batches = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        return [batches[i] for i in rng.permutation(len(batches))]

    def arrays(self, indices):
        """The padded arrays of one batch."""
        targets = [self.targets[i] for i in indices]
        inputs = {
            "source_ids": pad_ids(self.sources[i] for i in indices),
            "target_ids": pad_ids([START_ID] + t for t in targets),
        }
        return inputs, pad_ids(t + [END_ID] for t in targets)

    def dataset(self, first_epoch=0, endless=False):
        """A `tf.data.Dataset` of padded batches.

        `endless=True`: the batches of epochs `first_epoch`, `first_epoch + 1`, ... in
        one stream (give `fit` `steps_per_epoch=len(plan)`); every iterator over it
        starts again at `first_epoch` (under a `tf.distribute` strategy, Keras reads
        one batch from a first iterator to build the model, then starts another).
        Else one epoch long, and each new pass over it (Keras starts one per epoch) is
        the next epoch's plan.
        """
        next_epoch = iter(range(first_epoch, 2**62))

        def generate():
            epochs = range(first_epoch, 2**62) if endless else [next(next_epoch)]
            for epoch in epochs:
                for indices in self.batches(epoch):
                    yield self.arrays(indices)

        signature = (
            {
                "source_ids": tf.TensorSpec((None, None), tf.int32),
                "target_ids": tf.TensorSpec((None, None), tf.int32),
            },
            tf.TensorSpec((None, None), tf.int32),
        )
        dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
        # Each batch is a global batch. Under a multi-worker tf.distribute strategy every
        # worker makes the same batches and keeps its replicas' rows of each.
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA)
        dataset = dataset.with_options(options)
        if not endless:
            # A known length lets Keras end each pass without a "ran out of data" warning.
            dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(self)))
        return dataset.prefetch(2)


def make_dataset(sources, targets, batch_size, shuffle=False, seed=0):
    """A one-epoch dataset of teacher-forcing batches (see `BatchPlan`); each new pass
    over it (Keras makes one per epoch) is the next epoch, reshuffled."""
    return BatchPlan(sources, targets, batch_size, shuffle=shuffle, seed=seed).dataset()


def count_target_tokens(targets):
    """Non-padding label tokens: the target tokens plus one end token each."""
    return int(sum(len(t) + 1 for t in targets))
