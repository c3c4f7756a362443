// keras_s2s in the browser: load a bundle, tokenize, decode on ONNX Runtime Web,
// detokenize. See web/README.md.
export { Bundle, BundleError, sha256 } from "./bundle.js";
export { beamSearch, greedySearch, lengthPenaltyFactor, logSoftmax } from "./decoding.js";
export { Tokenizer, TokenizerError } from "./tokenizer.js";
export { Translator, configure, load } from "./translator.js";
