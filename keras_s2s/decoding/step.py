"""The step contract, named once: what `encode` and one decoder step take and give.

Every model is decoded through two calls, whatever runs them (Keras, a SavedModel,
LiteRT, ONNX Runtime):

- `encode`: `source_ids (batch, src_len) int32` -> one dict holding the decoder's
  initial **state** (what changes every step: `h0`, `c0`, ..., `attentional`) and its
  **memory** (what stays fixed per source: `encoder_outputs`, `attention_keys`,
  `source_mask`). A model says which names are which (`Decoder.state_names`,
  `Decoder.memory_names`; a bundle's `bundle.json` records both).
- `decode_step`: `token_ids (batch,) int32` plus the state and the memory ->
  `logits (batch, vocab)`, `next_<state name>` for each state array, and (with
  attention) `attention (batch, src_len)`.

A bundle exported with a vocabulary shortlist also has `decode_features`: the step
without its output layer, giving `features (batch, units)` (what the output layer
takes) instead of `logits` (`keras_s2s.decoding.shortlist`).

Exported graphs use these names for their inputs and outputs, so this module is the one
place they are spelled. The helpers only move dict entries around, so they work on
numpy arrays and on tensors of any backend alike.
"""

SOURCE_IDS = "source_ids"
TOKEN_IDS = "token_ids"
LOGITS = "logits"
FEATURES = "features"
ATTENTION = "attention"
NEXT_PREFIX = "next_"


def next_name(state_name):
    """The step output that carries state array `state_name` to the next step."""
    return NEXT_PREFIX + state_name


def split_encoded(encoded, state_names, memory_names):
    """`encode`'s one dict -> `(state, memory)`, two dicts."""
    return ({name: encoded[name] for name in state_names},
            {name: encoded[name] for name in memory_names})


def step_inputs(token_ids, state, memory):
    """The one dict of named inputs of a decoder step."""
    return {TOKEN_IDS: token_ids, **state, **memory}


def step_outputs(logits, new_state, attention=None, first=LOGITS):
    """A step's results as its named outputs (no `attention` entry when it is `None`);
    `first`: `LOGITS`, or `FEATURES` for `decode_features`."""
    outputs = {first: logits}
    outputs.update({next_name(name): value for name, value in new_state.items()})
    if attention is not None:
        outputs[ATTENTION] = attention
    return outputs


def split_step_outputs(outputs, state_names, first=LOGITS):
    """A step's named outputs -> `(logits, new_state, attention or None)`, the triple
    every decoding strategy takes (`keras_s2s.decoding.common`); with `first=FEATURES`,
    `decode_features`'s `(features, new_state, attention or None)`."""
    new_state = {name: outputs[next_name(name)] for name in state_names}
    return outputs[first], new_state, outputs.get(ATTENTION)
