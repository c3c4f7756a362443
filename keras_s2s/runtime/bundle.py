"""The bundle directory `keras-s2s export` writes, read and verified without TensorFlow.

A bundle holds one trained model in the formats asked for at export (all by default;
see `export/README.md`):

    bundle.json            what the bundle is: format version, architecture, special
                           token ids, limits, tokenizer settings, the step contract, and
                           the sha256 of every other file
    source_vocab.txt       vocabularies, one token per line (ids are line numbers)
    target_vocab.txt
    tokenizer.json         both tokenizers described for a port to another language,
    tokenizer_conformance.json   and the cases such a port must pass
    model.keras            the trained Keras model
    saved_model/           SavedModel: signatures translate, greedy, beam, encode, decode_step
    encoder.tflite         TFLite (builtin ops): encode (batch 1), decode_step, and the
    decoder_step.tflite    whole greedy loop (batch 1)
    translate.tflite
    beam.tflite            the whole beam search (batch 1; beam size in bundle.json)
    encoder.onnx           ONNX: the same four graphs, dynamic batch
    decoder_step.onnx
    translate.onnx
    beam.onnx
    shortlist.npz          with --shortlist: candidate target words per source word,
    output_layer.npz       the output layer's weights, and decoder_features.tflite /
                           .onnx, the step without its output layer

A bundle may be cut down for a device: a backend needs `bundle.json`, the vocabularies
and its own files (`REQUIRED_ROLES`; the whole-loop graphs `translate` and `beam` only
for whole-loop decoding), and only those are verified when it loads.
"""

import hashlib
import json
import os

# A bundle names its vocabularies as a model directory does (re-exported).
from keras_s2s.model_files import MODEL_FILE, SOURCE_VOCAB_FILE, TARGET_VOCAB_FILE  # noqa: F401
from keras_s2s.text.description import CONFORMANCE_FILE, DESCRIPTION_FILE
from keras_s2s.text.pytokenizer import PyTokenizer
from keras_s2s.text.vocabulary import Vocabulary

FORMAT = "keras_s2s.bundle"
FORMAT_VERSION = 1
BUNDLE_FILE = "bundle.json"
# The tokenizers described for ports to other languages (keras_s2s.text.description).
TOKENIZER_FILES = (DESCRIPTION_FILE, CONFORMANCE_FILE)
# The files of each format, relative to the bundle directory.
FORMAT_FILES = {
    "keras": {"model": MODEL_FILE},
    "savedmodel": {"model": "saved_model"},
    "tflite": {"encoder": "encoder.tflite", "decoder_step": "decoder_step.tflite",
               "translate": "translate.tflite", "beam": "beam.tflite"},
    "onnx": {"encoder": "encoder.onnx", "decoder_step": "decoder_step.onnx",
             "translate": "translate.onnx", "beam": "beam.onnx"},
}
FORMATS = tuple(FORMAT_FILES)
# A bundle exported with a vocabulary shortlist (`keras-s2s export --shortlist`) also
# has, for TFLite and ONNX, the step without its output layer, and at its top the
# shortlist and the output layer's weights (`keras_s2s.decoding.shortlist`).
SHORTLIST_ROLES = {"tflite": {"decoder_features": "decoder_features.tflite"},
                   "onnx": {"decoder_features": "decoder_features.onnx"}}
SHORTLIST_FILE = "shortlist.npz"
OUTPUT_LAYER_FILE = "output_layer.npz"
# What a backend cannot load without; a format's other files (the whole-loop greedy and
# beam graphs) are needed only by the calls that use them.
REQUIRED_ROLES = {"keras": ("model",), "savedmodel": ("model",),
                  "tflite": ("encoder", "decoder_step"), "onnx": ("encoder", "decoder_step")}


class BundleError(ValueError):
    """A bundle that cannot be used: missing, damaged, or from a newer keras_s2s."""


def sha256(path):
    """The hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def list_files(directory):
    """Every file under `directory`, as sorted '/'-separated relative paths."""
    found = []
    for root, _, files in os.walk(directory):
        for name in files:
            found.append(os.path.relpath(os.path.join(root, name), directory).replace(os.sep, "/"))
    return sorted(found)


class Bundle:
    """An exported model directory, its description verified against its files.

    Args:
        path: the bundle directory.
        verify: check the sha256 of the files in use (on by default; a mismatch means
            a damaged or edited bundle).
        formats: the formats to verify: their files and the vocabularies. Default: every
            format whose files are present (`available_formats`). A format's required
            files (`REQUIRED_ROLES`) must be there; its other files are checked if
            present, and files of other formats are not read at all.
        meta: the bundle's description, when it is not (yet) in its `bundle.json`
            (the exporter checks a bundle before writing that file).

    Example:
    >>> bundle = Bundle("export/dates_bahdanau", formats=["tflite"])
    >>> bundle.max_decode_length
    20
    >>> bundle.source_tokenizer().tokenize("23.11.2026")[:3]
    [6, 10, 25]
    """

    def __init__(self, path, verify=True, formats=None, meta=None):
        self.path = os.path.abspath(path)
        if meta is None:
            self.meta = self._read_meta()
        else:  # an exporter checks a bundle before it writes its bundle.json
            self.meta = self._checked_meta(meta, os.path.join(self.path, BUNDLE_FILE))
        if verify:
            self.verify(formats)

    def _read_meta(self):
        if not os.path.isdir(self.path):
            raise BundleError(
                f"Bundle {self.path} does not exist or is not a directory; write one with "
                "`keras-s2s export MODEL --out DIR`."
            )
        meta_path = os.path.join(self.path, BUNDLE_FILE)
        try:
            with open(meta_path, encoding="utf-8") as f:
                meta = json.load(f)
        except FileNotFoundError:
            raise BundleError(f"{self.path} is not a keras_s2s bundle: {BUNDLE_FILE} is missing.") from None
        except ValueError as e:
            raise BundleError(f"{meta_path} is not valid JSON ({e}): the bundle is damaged; "
                              "export the model again.") from None
        except OSError as e:
            raise BundleError(f"{meta_path} cannot be read ({e}).") from None
        return self._checked_meta(meta, meta_path)

    def _checked_meta(self, meta, meta_path):
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise BundleError(f"{meta_path} does not describe a keras_s2s bundle.")
        version = meta.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise BundleError(f"{meta_path} has an invalid format_version {version!r}.")
        if version > FORMAT_VERSION:
            raise BundleError(
                f"{self.path} is bundle format {version}, newer than this keras_s2s reads "
                f"({FORMAT_VERSION}): upgrade keras_s2s, or export the model again with this version."
            )
        return meta

    def _format_files(self, format_name, roles=None):
        """The listed files (relative paths) of a format's roles (default: all roles)."""
        described = self.meta["formats"][format_name]["files"]
        roots = [path for role, path in described.items() if roles is None or role in roles]
        return [name for name in sorted(self.meta["files"])
                if any(name == root or name.startswith(root + "/") for root in roots)]

    def _present(self, names):
        return all(os.path.isfile(os.path.join(self.path, name)) for name in names)

    @property
    def available_formats(self):
        """The formats whose required files are all present (a cut-down bundle has
        fewer than `formats`)."""
        return [name for name in self.formats
                if self._present(self._format_files(name, REQUIRED_ROLES.get(name)))]

    def verify(self, formats=None):
        """Checks that the vocabularies and the files of `formats` exist and have the
        recorded sha256 (see the class docstring)."""
        formats = self.available_formats if formats is None else list(formats)
        vocabularies = [self.meta["tokenizer"][side]["vocab"] for side in ("source", "target")]
        names = [name for name in vocabularies if name in self.meta["files"]]
        # The portable tokenizer files, when this copy of the bundle has them.
        names += [name for name in TOKENIZER_FILES if name in self.meta["files"]
                  and os.path.isfile(os.path.join(self.path, name))]
        for format_name in formats:
            self._check_has_format(format_name)
            required = self._format_files(format_name, REQUIRED_ROLES.get(format_name))
            missing = [name for name in required
                       if not os.path.isfile(os.path.join(self.path, name))]
            if missing:
                others = [f for f in self.available_formats if f != format_name]
                hint = (f" It can run on {', '.join(others)}." if others else "")
                raise BundleError(
                    f"Bundle {self.path} is incomplete for {format_name}: {missing[0]} is "
                    f"missing.{hint} Copy the whole bundle, or export again with "
                    f"`--formats {format_name}`."
                )
            names += [name for name in self._format_files(format_name)
                      if name in required or os.path.isfile(os.path.join(self.path, name))]
        for name in dict.fromkeys(names):
            self._verify_file(name)

    def _verify_file(self, name):
        path = os.path.join(self.path, name)
        if not os.path.isfile(path):
            raise BundleError(f"Bundle {self.path} is incomplete: {name} is missing.")
        try:
            digest_found = sha256(path)
        except OSError as e:
            raise BundleError(f"{path} cannot be read ({e}).") from None
        if digest_found != self.meta["files"][name]:
            raise BundleError(
                f"{path} does not match its sha256 in {BUNDLE_FILE}: the file is damaged "
                "or was changed after export. Export the model again."
            )

    # === What the bundle holds ===

    @property
    def formats(self):
        return list(self.meta["formats"])

    def has_format(self, name):
        return name in self.meta["formats"]

    def _check_has_format(self, format_name):
        if format_name not in self.meta["formats"]:
            raise BundleError(
                f"Bundle {self.path} has no {format_name} export (it has "
                f"{', '.join(self.formats)}): export it with `--formats {format_name}`."
            )

    def file(self, format_name, role):
        """The absolute path of one file of a format, e.g. `file("onnx", "encoder")`;
        a `BundleError` if the bundle was cut down without it."""
        self._check_has_format(format_name)
        name = self.meta["formats"][format_name]["files"].get(role)
        if name is None:
            raise BundleError(
                f"Bundle {self.path} has no {format_name} {role} graph: it was exported "
                "without it (--no-whole-loop, or before the graph existed)"
                + (": decode step by step (leave out --whole-loop), or export the model "
                   "again with the whole-loop graphs." if role in ("translate", "beam") else ".")
            )
        path = os.path.join(self.path, name)
        if not os.path.exists(path):
            raise BundleError(
                f"Bundle {self.path} has no {name}: it was left out of this copy of the "
                f"bundle, and {format_name}'s {role} graph needs it"
                + (" (decode step by step instead: leave out --whole-loop)."
                   if role in ("translate", "beam") else ".")
            )
        return path

    @property
    def has_shortlist(self):
        return "shortlist" in self.meta

    def shortlist(self):
        """`(Shortlist, kernel, bias)`: the vocabulary shortlist and the output layer
        (`keras_s2s.decoding.shortlist`), their sha256 checked; a `BundleError` if the
        bundle was exported without `--shortlist`."""
        import numpy as np

        from keras_s2s.decoding.shortlist import Shortlist

        if not self.has_shortlist:
            raise BundleError(f"Bundle {self.path} has no vocabulary shortlist: export the "
                              "model again with --shortlist.")
        for name in (SHORTLIST_FILE, OUTPUT_LAYER_FILE):
            self._verify_file(name)
        try:
            shortlist = Shortlist.load(os.path.join(self.path, SHORTLIST_FILE))
            with np.load(os.path.join(self.path, OUTPUT_LAYER_FILE), allow_pickle=False) as data:
                kernel, bias = data["kernel"].astype(np.float32), data["bias"].astype(np.float32)
        except (OSError, ValueError, KeyError) as e:
            raise BundleError(f"Bundle {self.path}: the shortlist cannot be read ({e}).") from None
        return shortlist, kernel, bias

    def format_bytes(self):
        """`{format: bytes}`: the size of the files of each format present in the bundle
        (a SavedModel counts every file under its directory)."""
        return {name: sum(os.path.getsize(os.path.join(self.path, path))
                          for path in self._format_files(name)
                          if os.path.isfile(os.path.join(self.path, path)))
                for name in self.available_formats}

    @property
    def max_decode_length(self):
        return self.meta["max_decode_length"]

    @property
    def special_ids(self):
        return self.meta["special_ids"]

    @property
    def state_names(self):
        return list(self.meta["step_contract"]["state"])

    @property
    def memory_names(self):
        return list(self.meta["step_contract"]["memory"])

    def _tokenizer(self, side):
        settings = self.meta["tokenizer"][side]
        path = os.path.join(self.path, settings["vocab"])
        try:
            vocab = Vocabulary.load(path)
        except (OSError, ValueError) as e:
            raise BundleError(f"Bundle {self.path}: {e}") from None
        expected = self.meta["model"][f"{side}_vocab_size"]
        if len(vocab) != expected:
            raise BundleError(
                f"{path} has {len(vocab)} tokens but the bundle's model expects {expected}: "
                "the vocabulary does not belong to this model. Export the model again."
            )
        return PyTokenizer(vocab, level=settings["level"], lowercase=settings["lowercase"])

    def source_tokenizer(self):
        return self._tokenizer("source")

    def target_tokenizer(self):
        return self._tokenizer("target")
