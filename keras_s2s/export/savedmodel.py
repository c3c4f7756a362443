"""SavedModel export: the graphs plus in-graph tokenization (tensorflow-text)."""

import tensorflow as tf

from keras_s2s.text.tokenizer import Tokenizer


class _Translator(tf.Module):
    """Tracks the graphs and the tokenizers' tables, so the SavedModel holds both."""

    def __init__(self, graphs, source_tokenizer, target_tokenizer):
        super().__init__(name="seq2seq_translator")
        self.graphs = graphs
        self.source_tokenizer = source_tokenizer
        self.target_tokenizer = target_tokenizer
        # Tracked resources (the hash tables of the vocabulary lookups).
        self.source_table = source_tokenizer._table
        self.target_table = target_tokenizer._table

    def translate(self, texts):
        """`(batch,)` strings -> `{"translations": (batch,) strings}`, greedy."""
        ids = self.source_tokenizer.tokenize(texts)
        source_ids = ids.to_tensor()
        # At least one column, so that a batch of empty texts still runs.
        source_ids = tf.pad(source_ids, [[0, 0], [0, tf.maximum(0, 1 - tf.shape(source_ids)[1])]])
        decoded = self.graphs.greedy(source_ids)
        tokens = tf.RaggedTensor.from_tensor(decoded["tokens"], lengths=decoded["lengths"])
        translations = self.target_tokenizer.detokenize(tokens)
        # Texts without tokens translate to nothing, as in every other backend.
        return {"translations": tf.where(ids.row_lengths() > 0, translations, "")}


def save(graphs, source_vocab, target_vocab, tokenizer_settings, path):
    """Writes a SavedModel with the signatures `translate`, `greedy`, `beam`, `encode`
    and `decode_step`. Loading it needs `import tensorflow_text` first (its ops)."""
    module = _Translator(
        graphs,
        Tokenizer(source_vocab, **tokenizer_settings["source"]),
        Tokenizer(target_vocab, **tokenizer_settings["target"]),
    )
    texts = tf.TensorSpec([None], tf.string, name="texts")
    signatures = {
        "translate": tf.function(module.translate).get_concrete_function(texts),
        "greedy": graphs.greedy_function(),
        "beam": graphs.beam_function(),
        "encode": graphs.encode_function(),
        "decode_step": graphs.step_function(),
    }
    tf.saved_model.save(module, path, signatures=signatures)
