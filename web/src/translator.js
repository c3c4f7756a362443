// Text in, text out in the browser: a bundle's tokenizer in JavaScript and its ONNX
// graphs on ONNX Runtime Web (WebAssembly), decoded as keras_s2s.runtime decodes them.
//
//   import { load } from "./src/index.js";
//   const translator = await load("export/dates_bahdanau/");
//   await translator.translate(["Nov. 23rd, 2026"]);              // ["2026-11-23"]
//   const [[best]] = await translator.decode(["23.11.2026"], { beamSize: 4 });
//   best.tokens, best.score, best.attention                       // ids, log-prob, weights
//
// "onnxruntime-web" is resolved by the page's import map (see web/index.html) or by
// your bundler.

import * as ort from "onnxruntime-web";

import { Bundle, BundleError } from "./bundle.js";
import { beamSearch, greedySearch, hypothesis } from "./decoding.js";

// Sets ONNX Runtime Web's WebAssembly threads (before the first model loads). More than
// one thread needs a cross-origin isolated page (web/serve.mjs sends the headers).
export function configure({ numThreads } = {}) {
  if (numThreads !== undefined) {
    if (!Number.isInteger(numThreads) || numThreads < 1) {
      throw new RangeError(`numThreads must be a positive integer, got ${numThreads}.`);
    }
    ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? numThreads : 1;
  }
  return { numThreads: ort.env.wasm.numThreads, crossOriginIsolated: Boolean(globalThis.crossOriginIsolated) };
}

async function session(bundle, role) {
  const bytes = await bundle.graph(role);
  try {
    return await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
  } catch (e) {
    throw new BundleError(`The ${role} graph of ${bundle.url} cannot be loaded by ONNX Runtime Web (${e.message}): export the model again.`);
  }
}

// Loads the bundle under `url` and its encoder and step graphs (the whole-loop graphs
// load on first use). Options: `verify`, `fetch`, `timeoutMs` (see Bundle.load).
export async function load(url, options = {}) {
  const bundle = await Bundle.load(url, options);
  const [encoder, step] = await Promise.all([session(bundle, "encoder"), session(bundle, "decoder_step")]);
  return new Translator(bundle, encoder, step);
}

function tensorRows(tensor, rows) {
  const [count, ...rest] = tensor.dims;
  const size = rest.reduce((a, b) => a * b, 1);
  const data = new tensor.data.constructor(rows.length * size);
  rows.forEach((row, i) => {
    if (row < 0 || row >= count) throw new RangeError(`row ${row} of ${count}`);
    data.set(tensor.data.subarray(row * size, (row + 1) * size), i * size);
  });
  return new ort.Tensor(tensor.type, data, [rows.length, ...rest]);
}

function takeRows(tree, rows) {
  return Object.fromEntries(Object.entries(tree).map(([name, tensor]) => [name, tensorRows(tensor, rows)]));
}

function sourceTensor(rows) {
  const width = Math.max(...rows.map((row) => row.length));
  const data = new Int32Array(rows.length * width);
  rows.forEach((row, i) => data.set(row, i * width));
  return new ort.Tensor("int32", data, [rows.length, width]);
}

export class Translator {
  constructor(bundle, encoder, step) {
    this.bundle = bundle;
    this.encoder = encoder;
    this.step = step;
    this.graphs = {};
    this.sourceTokenizer = bundle.sourceTokenizer;
    this.targetTokenizer = bundle.targetTokenizer;
    this.maxDecodeLength = bundle.maxDecodeLength;
    this.maxSourceLength = bundle.maxSourceLength;
  }

  async wholeLoopGraph(role) {
    this.graphs[role] ??= session(this.bundle, role);
    return this.graphs[role];
  }

  // Texts -> {ids, truncated}: source ids, each cut to the model's source limit;
  // `truncated` lists [index, tokens before the cut] of the texts that were cut.
  tokenizeSources(texts) {
    const ids = checkTexts(texts).map((text) => this.sourceTokenizer.tokenize(text));
    const truncated = [];
    const limit = this.maxSourceLength;
    if (limit) {
      ids.forEach((row, i) => {
        if (row.length > limit) {
          truncated.push([i, row.length]);
          ids[i] = row.slice(0, limit);
        }
      });
    }
    return { ids, truncated };
  }

  detokenize(tokenLists) {
    return tokenLists.map((tokens) => this.targetTokenizer.detokenize(tokens));
  }

  // Decodes texts; for each, `nBest` hypotheses, best first (see decoding.js). Options:
  //   beamSize (1: greedy), nBest, lengthPenalty (GNMT alpha), batchSize,
  //   maxLength (default: the model's), wholeLoop (one call of the bundle's greedy or
  //   beam graph: no attention; greedy has no scores; the beam size is the exported one).
  // The result has `truncated` (see tokenizeSources). An empty text (no tokens) has an
  // empty translation and is not run through the model.
  async decode(texts, options = {}) {
    const { beamSize = 1, nBest = 1, lengthPenalty = 0, batchSize = 64, wholeLoop = false } = options;
    const maxLength = options.maxLength ?? this.maxDecodeLength;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}.`);
    if (!Number.isInteger(beamSize) || beamSize < 1) throw new RangeError(`beamSize must be a positive integer, got ${beamSize}.`);
    if (!Number.isInteger(nBest) || nBest < 1 || nBest > beamSize) {
      throw new RangeError(`nBest must be between 1 and beamSize (${beamSize}), got ${nBest}.`);
    }
    if (!Number.isInteger(maxLength) || maxLength < 1) throw new RangeError(`maxLength must be a positive integer, got ${maxLength}.`);
    if (wholeLoop && maxLength > this.maxDecodeLength) {
      throw new RangeError(`wholeLoop generates at most ${this.maxDecodeLength} tokens (fixed at export), not maxLength=${maxLength}.`);
    }
    if (wholeLoop && beamSize > 1) {
      if (!this.bundle.beamSize) throw new BundleError("This bundle has no whole-loop beam graph: decode step by step (wholeLoop: false).");
      if (beamSize !== this.bundle.beamSize) {
        throw new RangeError(`The whole-loop beam graph was exported for beam size ${this.bundle.beamSize}, not ${beamSize}: use that, or decode step by step.`);
      }
      if (maxLength !== this.maxDecodeLength) throw new RangeError(`The whole-loop beam graph searches up to ${this.maxDecodeLength} tokens (fixed at export): decode step by step.`);
    }
    const { ids, truncated } = this.tokenizeSources(texts);
    const results = ids.map(() => [hypothesis([], 0, null, true)]);
    // Batches of about the same source length; the results keep the input order.
    const order = ids.map((_, i) => i).filter((i) => ids[i].length > 0).sort((a, b) => ids[a].length - ids[b].length);
    for (let start = 0; start < order.length; start += batchSize) {
      const rows = order.slice(start, start + batchSize);
      const decoded = await this.decodeIds(rows.map((i) => ids[i]), { beamSize, nBest, lengthPenalty, wholeLoop, maxLength });
      rows.forEach((i, j) => { results[i] = decoded[j]; });
    }
    results.truncated = truncated;
    return results;
  }

  async decodeIds(rows, { beamSize, nBest, lengthPenalty, wholeLoop, maxLength }) {
    const source = sourceTensor(rows);
    const n = rows.length;
    const { start: startId, end: endId } = this.bundle.specialIds;
    if (wholeLoop && beamSize > 1) {
      const graph = await this.wholeLoopGraph("beam");
      const out = await graph.run({ source_ids: source, length_penalty: new ort.Tensor("float32", new Float32Array([lengthPenalty]), []) });
      const k = this.bundle.beamSize;
      const width = out.tokens.dims[2];
      return rows.map((_, i) => {
        const count = Math.min(nBest, out.count.data[i]);
        return Array.from({ length: count }, (_, j) => {
          const at = i * k + j;
          const tokens = Array.from(out.tokens.data.subarray(at * width, at * width + out.lengths.data[at]));
          return hypothesis(tokens, out.scores.data[at], null, Boolean(out.finished.data[at]), out.ranking_scores.data[at]);
        });
      });
    }
    if (wholeLoop) {
      const graph = await this.wholeLoopGraph("translate");
      const out = await graph.run({ source_ids: source });
      const width = out.tokens.dims[1];
      return rows.map((_, i) => {
        const length = out.lengths.data[i];
        const row = out.tokens.data.subarray(i * width, (i + 1) * width);
        // Greedy search is the same on any prefix: a shorter maxLength cuts the row.
        return [hypothesis(Array.from(row.subarray(0, Math.min(length, maxLength))), null, null,
          length < maxLength && row[length] === endId)];
      });
    }
    const encoded = await this.encoder.run({ source_ids: source });
    const pick = (names) => Object.fromEntries(names.map((name) => [name, encoded[name]]));
    let state = pick(this.bundle.stateNames);
    let memory = pick(this.bundle.memoryNames);
    const options = { startId, endId, maxLength };
    if (beamSize > 1) {
      // Row i * beamSize + j is beam j of source i.
      const repeated = Array.from({ length: n * beamSize }, (_, r) => Math.floor(r / beamSize));
      state = takeRows(state, repeated);
      memory = takeRows(memory, repeated);
      return beamSearch(this.stepFunction(memory), state, n, { ...options, beamSize, nBest, lengthPenalty, takeRows });
    }
    return (await greedySearch(this.stepFunction(memory), state, n, options)).map((h) => [h]);
  }

  // The step function decoding.js drives, over fixed memory.
  stepFunction(memory) {
    const stateNames = this.bundle.stateNames;
    return async (tokens, state) => {
      const out = await this.step.run({ token_ids: new ort.Tensor("int32", tokens, [tokens.length]), ...state, ...memory });
      const next = Object.fromEntries(stateNames.map((name) => [name, out[`next_${name}`]]));
      return { logits: out.logits.data, state: next, attention: out.attention ? out.attention.data : null };
    };
  }

  // Texts in, best translations out (options as decode()).
  async translate(texts, options = {}) {
    const decoded = await this.decode(texts, options);
    return this.detokenize(decoded.map((hypotheses) => hypotheses[0].tokens));
  }
}

function checkTexts(texts) {
  if (typeof texts === "string") throw new TypeError("texts must be an array of strings: wrap one text in [ ].");
  if (!Array.isArray(texts)) throw new TypeError(`texts must be an array of strings, got ${typeof texts}.`);
  texts.forEach((text, i) => {
    if (typeof text !== "string") throw new TypeError(`texts[${i}] is a ${typeof text}, not a string.`);
  });
  return texts;
}
