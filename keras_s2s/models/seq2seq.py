"""The training model: encoder, bridge and decoder trained with teacher forcing."""

import os

import keras
from keras import ops

from keras_s2s.compat import ReplicaSafeBuild
from keras_s2s.config import ARCHITECTURE_DEFAULTS as _DEFAULT
from keras_s2s.layers.bridge import Bridge
from keras_s2s.layers.decoder import Decoder
from keras_s2s.layers.encoder import Encoder
from keras_s2s.models.losses import MaskedAccuracy, MaskedSparseCrossentropy


@keras.saving.register_keras_serializable(package="keras_s2s")
class Seq2Seq(ReplicaSafeBuild, keras.Model):
    """A sequence-to-sequence RNN with attention, as a functional Keras model.

    Inputs are a dict with `source_ids` `(batch, src_len)` and `target_ids`
    `(batch, tgt_len)`: the target shifted right, starting with the start token (teacher
    forcing). The output is the `(batch, tgt_len, target_vocab_size)` logits of the next
    target tokens. Token id 0 is padding on both sides.

    `compile()` defaults to Adam, `MaskedSparseCrossentropy` and `MaskedAccuracy`, which
    ignore padding. `inference()` returns the stepwise `Seq2SeqInference` model built
    from this model's own layers.

    The defaults of the architecture's arguments are `keras_s2s.config.ARCHITECTURE_DEFAULTS`
    (the CLI's too).

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
        dtype: the dtype policy of every layer (default: Keras' global policy), e.g.
            `"mixed_bfloat16"`: weights in float32, arithmetic in bfloat16, the
            attention softmax, the logits and the loss in float32.
        **kwargs: other `keras.Model` arguments (`name`, ...).

    Example:
    >>> import numpy as np
    >>> model = Seq2Seq(source_vocab_size=20, target_vocab_size=20, units=16,
    ...                 attention="bahdanau", attention_placement="bahdanau")
    >>> model.compile()
    >>> sources = np.array([[5, 6, 7], [8, 9, 0]])         # 0 pads
    >>> targets = np.array([[7, 6, 5, 2], [9, 8, 2, 0]])   # each ends with </s> (2)
    >>> inputs = {"source_ids": sources,                   # teacher forcing: <s> (1) first
    ...           "target_ids": np.concatenate([np.ones((2, 1), int), targets[:, :-1]], 1)}
    >>> history = model.fit(inputs, targets, epochs=2, verbose=0)
    >>> hypotheses = model.inference().greedy(sources, start_id=1, end_id=2, max_length=5)
    >>> len(hypotheses), hypotheses[0].attention.shape[1]   # per source; attention over it
    (2, 3)
    """

    def __init__(
        self,
        source_vocab_size,
        target_vocab_size,
        embedding_dim=_DEFAULT["embedding_dim"],
        units=_DEFAULT["units"],
        cell=_DEFAULT["cell"],
        bidirectional=_DEFAULT["bidirectional"],
        encoder_layers=_DEFAULT["encoder_layers"],
        decoder_layers=_DEFAULT["decoder_layers"],
        decoder_units=_DEFAULT["decoder_units"],
        attention=_DEFAULT["attention"],
        attention_placement=_DEFAULT["attention_placement"],
        input_feeding=_DEFAULT["input_feeding"],
        attention_units=_DEFAULT["attention_units"],
        bridge=_DEFAULT["bridge"],
        dropout=_DEFAULT["dropout"],
        reverse_source=_DEFAULT["reverse_source"],
        teacher_forcing=1.0,
        dtype=None,
        **kwargs,
    ):
        policy = keras.dtype_policies.get(dtype) if dtype is not None else (
            keras.config.dtype_policy())
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
            dtype=policy,
        )
        self.bridge = Bridge(
            bridge, cell=cell, units=resolved_decoder_units, num_layers=decoder_layers,
            name="bridge", dtype=policy,
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
            dtype=policy,
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
        self.dtype_policy = policy

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

    @classmethod
    def from_preset(cls, preset, **kwargs):
        """A model from a preset (see `keras_s2s.presets`): a preset directory or a
        trained zoo model's name gives that model, weights included, which keeps its
        tokenizers for `save_to_preset()`; a zoo architecture's name gives a new,
        untrained model, for which `source_vocab_size` and `target_vocab_size` are
        needed (other `kwargs` override the architecture).

        Example:
        >>> model = Seq2Seq.from_preset("dates_bahdanau")
        >>> model.source_vocab_size, model.attention
        (65, 'bahdanau')
        """
        from keras_s2s.zoo import PRESETS, from_preset

        if preset in PRESETS and not os.path.isdir(preset):
            sizes = [kwargs.pop(name, None) for name in ("source_vocab_size", "target_vocab_size")]
            if None in sizes:
                raise ValueError(f"{preset!r} is an architecture without weights: give "
                                 "source_vocab_size and target_vocab_size.")
            return from_preset(preset, *sizes, **kwargs)
        if kwargs:
            raise ValueError(f"The preset {preset!r} holds trained weights, so its architecture "
                             f"is fixed: {', '.join(kwargs)} cannot be changed.")
        from keras_s2s.trained_model import TrainedModel

        trained = TrainedModel.from_preset(preset)
        trained.model._preset = trained
        return trained.model

    def save_to_preset(self, directory):
        """Writes this model, with the tokenizers of the preset it was loaded from,
        as a preset directory (after fine-tuning, the new weights)."""
        preset = getattr(self, "_preset", None)
        if preset is None:
            raise ValueError(
                "A preset holds the tokenizers with the weights, and this model has none: "
                "save a TrainedModel (keras_s2s.TrainedModel(model, source_vocab, "
                "target_vocab, meta).save_to_preset(...)), or train with keras_s2s.training."
                "train / `keras-s2s train --out DIR`, whose output is a preset directory.")
        from keras_s2s.trained_model import TrainedModel

        return TrainedModel(self, preset.source_vocab, preset.target_vocab,
                            preset.meta).save_to_preset(directory)

    def with_dtype(self, dtype="float32"):
        """This model with another dtype policy and the same weights (itself when the
        policy is already `dtype`): the export runs a mixed-precision model in float32."""
        if self.dtype_policy.name == keras.dtype_policies.get(dtype).name:
            return self
        model = type(self).from_config({**self.get_config(), "dtype": dtype})
        model.set_weights(self.get_weights())
        return model

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
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
