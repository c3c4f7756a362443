"""A trained model with its tokenizers, as saved in a model directory.

A model directory holds:
- `model.keras`: the trained `Seq2Seq` (written last, when training is complete);
- `source_vocab.txt`, `target_vocab.txt`: the vocabularies;
- `s2s.json`: tokenizer settings, data provenance, model and training config, decoding
  limits, and `status` (`training` until `model.keras` is in place);
- `history.json`: the Keras training history;
- `checkpoints/epoch-NNNN/`: the last and the best epoch (model and optimizer state),
  for `keras-s2s train --resume`;
- `logs/`: TensorBoard logs.
Every file is written to a temporary name and renamed, so a reader never sees half a file.
"""

import json
import os

from keras_s2s.models.saving import load_keras_model
from keras_s2s.text.tokenizer import Tokenizer
from keras_s2s.text.pytokenizer import PyTokenizer
from keras_s2s.text.vocabulary import Vocabulary
from keras_s2s.utils.atomic import write_json

from keras_s2s.model_files import (  # noqa: F401  (re-exported: the module's API)
    FORMAT_VERSION,
    HISTORY_FILE,
    META_FILE,
    MODEL_FILE,
    SOURCE_VOCAB_FILE,
    TARGET_VOCAB_FILE,
)


def read_meta(path):
    """The `s2s.json` of a model directory, validated."""
    if not os.path.isdir(path):
        raise FileNotFoundError(
            f"Model directory {path} does not exist; train one with "
            "`keras-s2s train --out DIR`."
        )
    meta_path = os.path.join(path, META_FILE)
    try:
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path} is not a keras_s2s model directory: {META_FILE} is missing."
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{meta_path} is not valid JSON ({e}).") from None
    if not isinstance(meta, dict) or "format_version" not in meta:
        raise ValueError(f"{meta_path} is not a keras_s2s model description.")
    if meta["format_version"] > FORMAT_VERSION:
        raise ValueError(
            f"{path} was written by a newer keras_s2s (format {meta['format_version']}; "
            f"this version reads {FORMAT_VERSION}): upgrade keras_s2s."
        )
    return meta


class TrainedModel:
    """A `Seq2Seq` with its tokenizers and metadata.

    Example:
    >>> trained = TrainedModel.from_preset("dates_bahdanau")   # or .load(model_dir)
    >>> trained.translate(["Nov. 23rd, 2026", "23.11.2026"])
    ['2026-11-23', '2026-11-23']
    """

    def __init__(self, model, source_vocab, target_vocab, meta):
        self.model = model
        self.meta = meta
        settings = meta["tokenizer"]
        self.source_tokenizer = Tokenizer(source_vocab, **settings["source"])
        self.target_tokenizer = Tokenizer(target_vocab, **settings["target"])
        self._translator = None

    @property
    def source_vocab(self):
        return self.source_tokenizer.vocab

    @property
    def target_vocab(self):
        return self.target_tokenizer.vocab

    @property
    def inference(self):
        """The stepwise inference model (the one the translator's Keras backend runs)."""
        return self.translator.backend.inference

    @classmethod
    def load(cls, path, model_file=MODEL_FILE):
        """Reads a model directory (see the module docstring)."""
        meta = read_meta(path)
        model_path = os.path.join(path, model_file)
        if model_file == MODEL_FILE and not os.path.exists(model_path):
            raise FileNotFoundError(
                f"{path} has no {MODEL_FILE}: its training has not finished. Continue it "
                f"with `keras-s2s train --resume --out {path}` (same data options)."
            )
        model = load_keras_model(model_path)
        source_vocab = Vocabulary.load(os.path.join(path, SOURCE_VOCAB_FILE))
        target_vocab = Vocabulary.load(os.path.join(path, TARGET_VOCAB_FILE))
        for side, vocab, size in (
            ("source", source_vocab, model.source_vocab_size),
            ("target", target_vocab, model.target_vocab_size),
        ):
            if len(vocab) != size:
                raise ValueError(
                    f"The {side} vocabulary of {path} has {len(vocab)} tokens but the "
                    f"model expects {size}: the files do not belong together."
                )
        return cls(model, source_vocab, target_vocab, meta)

    @classmethod
    def from_preset(cls, preset):
        """Loads a preset: a preset (model) directory or a trained zoo model's name
        (`keras_s2s.presets`)."""
        from keras_s2s.presets import preset_directory

        return cls.load(preset_directory(preset))

    def save_to_preset(self, directory):
        """Writes the model, its vocabularies and `s2s.json` as a preset directory
        (replaced whole, or left as it was on an error); returns `directory`."""
        from keras_s2s.presets import save_preset

        return save_preset(self, directory)

    def save_files(self, path):
        """Writes the vocabularies and `s2s.json` (each atomically)."""
        os.makedirs(path, exist_ok=True)
        self.source_vocab.save(os.path.join(path, SOURCE_VOCAB_FILE))
        self.target_vocab.save(os.path.join(path, TARGET_VOCAB_FILE))
        write_json(os.path.join(path, META_FILE), self.meta)

    @property
    def translator(self):
        """The `keras_s2s.runtime.Translator` of this model on the Keras backend: the
        decoding path every exported backend shares (built on first use)."""
        if self._translator is None:
            from keras_s2s.export.backends import KerasBackend
            from keras_s2s.runtime import Translator

            settings = self.meta["tokenizer"]
            self._translator = Translator(
                KerasBackend(self.model, self.meta["max_decode_length"]),
                PyTokenizer(self.source_vocab, **settings["source"]),
                PyTokenizer(self.target_vocab, **settings["target"]),
                self.meta["max_decode_length"],
                meta=self.meta,
                max_source_length=self.meta.get("filter", {}).get("max_source_length"),
            )
        return self._translator

    def tokenize_sources(self, texts):
        """Texts -> lists of source ids."""
        return self.translator.tokenize_sources(texts)

    def decode(self, texts, **options):
        """Decodes texts; for each, a list of `Hypothesis`, best first (options as
        `keras_s2s.runtime.Translator.decode`: `beam_size`, `length_penalty`,
        `n_best`, `batch_size`, `whole_loop`, `sample`, ...).

        A text with no tokens (empty, or only spaces and invisible characters) is not
        run through the model: its translation is empty.
        """
        return self.translator.decode(texts, **options)

    def detokenize(self, token_lists):
        """Lists of target ids -> texts."""
        return self.translator.detokenize(token_lists)

    def translate(self, texts, **options):
        """Texts in, best translations out (options as `decode()`)."""
        best = [hypotheses[0] for hypotheses in self.decode(texts, **options)]
        return self.detokenize([h.tokens for h in best])
