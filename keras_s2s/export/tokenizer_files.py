"""The tokenizers of a bundle described for ports to other languages.

`tokenizer.json` is the portable description of both tokenizers
(`keras_s2s.text.description`); `tokenizer_conformance.json` lists texts with the ids
the tensorflow-text tokenizers turn them into (and, for the target, the text those ids
turn back into), so a port to Kotlin, Swift or JavaScript can prove it tokenizes alike.
"""

import os

from keras_s2s.text.vocabulary import END_ID
from keras_s2s.utils.atomic import write_json


def write_tokenizer_files(trained, directory, pairs, size=200):
    """Writes both files for a `TrainedModel` into `directory`; the conformance cases
    include the first `size` of `pairs`, `(source, target)` texts of held-out data."""
    from keras_s2s.text import description

    translator = trained.translator
    write_json(os.path.join(directory, description.DESCRIPTION_FILE),
               description.tokenizer_description(translator.source_tokenizer,
                                                 translator.target_tokenizer))
    cases = conformance_cases(trained.source_vocab, trained.target_vocab,
                              trained.meta["tokenizer"], [s for s, _ in pairs[:size]],
                              [t for _, t in pairs[:size]])
    write_json(os.path.join(directory, description.CONFORMANCE_FILE), cases)


def conformance_cases(source_vocab, target_vocab, settings, sources, targets):
    """The conformance file of two tokenizers: source strings (`sources`, the awkward
    texts and seeded junk: `description.conformance_texts`) with the ids they must
    become, target strings (`targets` and the awkward texts) with their ids and the text
    those ids turn back into. The expected values are computed by the tensorflow-text
    tokenizers (`settings`: `{"source": {"level", "lowercase"}, "target": ...}`)."""
    import tensorflow as tf

    from keras_s2s.text import description
    from keras_s2s.text.tokenizer import Tokenizer

    texts = description.conformance_texts(sources)
    targets = list(dict.fromkeys(list(targets) + description.AWKWARD_TEXTS))
    source = Tokenizer(source_vocab, **settings["source"])
    target = Tokenizer(target_vocab, **settings["target"])
    source_ids = source.tokenize(texts).to_list()
    target_ids = target.tokenize(targets).to_list()
    ended = tf.ragged.constant([ids + [END_ID] for ids in target_ids], dtype=tf.int32)
    decoded = [t.decode("utf-8") for t in target.detokenize(ended).numpy()]
    return {
        "format": "keras_s2s.tokenizer_conformance", "format_version": 1,
        "source": [{"text": text, "ids": ids} for text, ids in zip(texts, source_ids)],
        "target": [{"text": text, "ids": ids, "detokenized": back}
                   for text, ids, back in zip(targets, target_ids, decoded)],
    }
