"""The training model: encoder, bridge and decoder trained with teacher forcing."""

import keras
from keras import ops

from keras_s2s.layers.bridge import Bridge
from keras_s2s.layers.decoder import Decoder
from keras_s2s.layers.encoder import Encoder
from keras_s2s.models.losses import MaskedAccuracy, MaskedSparseCrossentropy


@keras.saving.register_keras_serializable(package="keras_s2s")
class Seq2Seq(keras.Model):
    """A sequence-to-sequence RNN with attention, as a functional Keras model.

    Inputs are a dict with `source_ids` `(batch, src_len)` and `target_ids`
    `(batch, tgt_len)`: the target shifted right, starting with the start token (teacher
    forcing). The output is the `(batch, tgt_len, target_vocab_size)` logits of the next
    target tokens. Token id 0 is padding on both sides.

    `compile()` defaults to Adam, `MaskedSparseCrossentropy` and `MaskedAccuracy`, which
    ignore padding. `inference()` returns the stepwise `Seq2SeqInference` model built
    from this model's own layers.

    Args:
        source_vocab_size: size of the source vocabulary.
        target_vocab_size: size of the target vocabulary.
        embedding_dim: embedding size, source and target.
        units: encoder RNN units per direction.
        cell: `"gru"` or `"lstm"`, encoder and decoder.
        bidirectional: bidirectional encoder.
        encoder_layers: stacked encoder layers.
        decoder_layers: stacked decoder layers.
        decoder_units: decoder RNN units; defaults to the encoder output size
            (`2 * units` when bidirectional).
        attention: `"none"`, `"dot"`, `"general"`, `"concat"` or `"bahdanau"`.
        attention_placement: `"luong"` or `"bahdanau"` (see `Decoder`).
        input_feeding: Luong input feeding.
        attention_units: hidden size of concat / bahdanau scores.
        bridge: `"zero"`, `"copy"` or `"dense"` (see `Bridge`).
        dropout: dropout rate (embeddings, between encoder layers, before the output).
        reverse_source: read the source backwards.
        teacher_forcing: share of training steps fed the gold previous token (below
            1: scheduled sampling; see `Decoder`).
        **kwargs: other `keras.Model` arguments (`name`, ...).

    Example:
    >>> model = Seq2Seq(source_vocab_size=20, target_vocab_size=20, units=16,
    ...                 attention="bahdanau", attention_placement="bahdanau")
    >>> model.compile()
    >>> model.fit(dataset, epochs=3)  # yields ({"source_ids", "target_ids"}, labels)
    >>> hypotheses = model.inference().greedy(source_ids, start_id=1, end_id=2)
    """

    def __init__(
        self,
        source_vocab_size,
        target_vocab_size,
        embedding_dim=64,
        units=64,
        cell="gru",
        bidirectional=False,
        encoder_layers=1,
        decoder_layers=1,
        decoder_units=None,
        attention="general",
        attention_placement="luong",
        input_feeding=False,
        attention_units=None,
        bridge="dense",
        dropout=0.0,
        reverse_source=False,
        teacher_forcing=1.0,
        **kwargs,
    ):
        resolved_decoder_units = decoder_units or units * (2 if bidirectional else 1)

        # === Layers ===
        self.encoder = Encoder(
            source_vocab_size,
            embedding_dim,
            units,
            cell=cell,
            bidirectional=bidirectional,
            num_layers=encoder_layers,
            dropout=dropout,
            reverse_source=reverse_source,
            name="encoder",
        )
        self.bridge = Bridge(
            bridge, cell=cell, units=resolved_decoder_units, num_layers=decoder_layers,
            name="bridge",
        )
        self.decoder = Decoder(
            target_vocab_size,
            embedding_dim,
            resolved_decoder_units,
            cell=cell,
            num_layers=decoder_layers,
            attention=attention,
            attention_placement=attention_placement,
            input_feeding=input_feeding,
            attention_units=attention_units,
            dropout=dropout,
            teacher_forcing=teacher_forcing,
            name="decoder",
        )

        # === Functional Model ===
        source_ids = keras.Input(shape=(None,), dtype="int32", name="source_ids")
        target_ids = keras.Input(shape=(None,), dtype="int32", name="target_ids")
        encoder_outputs, encoder_states = self.encoder(source_ids)
        state = self.decoder.initial_state(self.bridge(encoder_states))
        source_mask = ops.not_equal(source_ids, 0)
        logits = self.decoder(target_ids, state, encoder_outputs, source_mask)
        super().__init__(
            inputs={"source_ids": source_ids, "target_ids": target_ids},
            outputs=logits,
            **kwargs,
        )

        # === Config ===
        self.source_vocab_size = source_vocab_size
        self.target_vocab_size = target_vocab_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.cell = cell
        self.bidirectional = bidirectional
        self.encoder_layers = encoder_layers
        self.decoder_layers = decoder_layers
        self.decoder_units = decoder_units
        self.attention = attention
        self.attention_placement = attention_placement
        self.input_feeding = input_feeding
        self.attention_units = attention_units
        self.bridge_mode = bridge
        self.dropout = dropout
        self.reverse_source = reverse_source
        self.teacher_forcing = teacher_forcing

    def compile(self, optimizer="adam", loss="auto", metrics="auto", **kwargs):
        """`keras.Model.compile` with padding-aware defaults for loss and metrics."""
        if loss == "auto":
            loss = MaskedSparseCrossentropy()
        if metrics == "auto":
            metrics = [MaskedAccuracy()]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def compile_from_config(self, config):
        """Recompiles a loaded model with the loss, metrics and optimizer it was saved with."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Under a tf.distribute strategy, Keras (3.15) builds the loss, metrics and
        # optimizer from a first batch that it reduces over the replicas; under
        # MultiWorkerMirroredStrategy that reduction fails on dict inputs
        # (keras-team/keras#20329). The build needs only shapes and dtypes, which one
        # replica's part of the batch has.
        strategy = getattr(self, "_distribute_strategy", None)
        if strategy is None or iterator is None:
            return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)
        import tensorflow as tf

        for _, _, batches in iterator:
            data_batch = tf.nest.map_structure(
                lambda value: (strategy.experimental_local_results(value)[0]
                               if isinstance(value, tf.distribute.DistributedValues) else value),
                next(batches),
            )
            break
        with strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    def get_metrics_result(self):
        results = super().get_metrics_result()
        # With several workers, Keras (3.15) averages each step's metrics over the
        # replicas along axis 0, which a scalar lacks (tensorflow/tensorflow#72388);
        # as 1-vectors they average to the same scalars.
        import tensorflow as tf

        from keras_s2s.distribute import is_multi_worker

        in_replica = tf.distribute.has_strategy() and not tf.distribute.in_cross_replica_context()
        if not (in_replica and is_multi_worker(self.distribute_strategy)):
            return results
        return {name: ops.reshape(value, (1,)) for name, value in results.items()}

    def inference(self):
        """The stepwise inference model, sharing this model's layers and weights."""
        from keras_s2s.models.inference import Seq2SeqInference

        return Seq2SeqInference(self)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "source_vocab_size": self.source_vocab_size,
            "target_vocab_size": self.target_vocab_size,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "cell": self.cell,
            "bidirectional": self.bidirectional,
            "encoder_layers": self.encoder_layers,
            "decoder_layers": self.decoder_layers,
            "decoder_units": self.decoder_units,
            "attention": self.attention,
            "attention_placement": self.attention_placement,
            "input_feeding": self.input_feeding,
            "attention_units": self.attention_units,
            "bridge": self.bridge_mode,
            "dropout": self.dropout,
            "reverse_source": self.reverse_source,
            "teacher_forcing": self.teacher_forcing,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
