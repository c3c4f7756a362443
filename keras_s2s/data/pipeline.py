"""tf.data pipelines that feed `Seq2Seq.fit` with teacher-forcing batches."""

import numpy as np
import tensorflow as tf

from keras_s2s.text.vocabulary import END_ID, START_ID


def encode_pairs(pairs, source_vocab, target_vocab):
    """`(source_tokens, target_tokens)` pairs -> source ids and target ids lists."""
    sources = [source_vocab.encode(source) for source, _ in pairs]
    targets = [target_vocab.encode(target) for _, target in pairs]
    return sources, targets


def make_dataset(sources, targets, batch_size, shuffle=False, seed=None):
    """A dataset of `({"source_ids", "target_ids"}, labels)` padded batches.

    `target_ids` is `<s> y_1 ... y_n` (the decoder input under teacher forcing) and the
    labels are `y_1 ... y_n </s>`; both are padded with 0, which the loss ignores.

    Args:
        sources: lists of source ids.
        targets: lists of target ids (without start and end tokens).
        batch_size: sentences per batch.
        shuffle: reshuffle the examples every epoch.
        seed: shuffling seed.
    """
    if len(sources) != len(targets):
        raise ValueError(f"{len(sources)} sources but {len(targets)} targets.")
    if not sources:
        raise ValueError("Cannot make a dataset from zero examples.")
    decoder_inputs = [[START_ID] + list(t) for t in targets]
    labels = [list(t) + [END_ID] for t in targets]
    dataset = tf.data.Dataset.from_tensor_slices(
        (
            tf.ragged.constant(sources, dtype=tf.int32),
            tf.ragged.constant(decoder_inputs, dtype=tf.int32),
            tf.ragged.constant(labels, dtype=tf.int32),
        )
    )
    if shuffle:
        dataset = dataset.shuffle(len(sources), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.ragged_batch(batch_size).map(
        lambda s, t, y: (
            {"source_ids": s.to_tensor(), "target_ids": t.to_tensor()},
            y.to_tensor(),
        ),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return dataset.prefetch(tf.data.AUTOTUNE)


def count_tokens(targets):
    """Non-padding label tokens (the target tokens plus one end token each)."""
    return int(np.sum([len(t) + 1 for t in targets]))
