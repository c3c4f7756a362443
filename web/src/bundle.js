// A keras_s2s bundle read over HTTP: bundle.json, the tokenizer description and the
// ONNX graphs, each checked against the sha256 bundle.json records (as the Python
// runtime checks the files it uses) before anything runs it.

import { Tokenizer } from "./tokenizer.js";

export const FORMAT = "keras_s2s.bundle";
export const FORMAT_VERSION = 1;
const TOKENIZER_FILE = "tokenizer.json";
const DEFAULT_TIMEOUT_MS = 60000;

export class BundleError extends Error {
  constructor(message) {
    super(message);
    this.name = "BundleError";
  }
}

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function sha256(bytes) {
  if (!globalThis.crypto?.subtle) {
    throw new BundleError(
      "This page cannot check the bundle's files: crypto.subtle needs a secure context. " +
        "Serve the page from http://localhost or https, not from a plain-http address.",
    );
  }
  return hex(await crypto.subtle.digest("SHA-256", bytes));
}

export class Bundle {
  // Use `Bundle.load(url)`.
  constructor(url, meta, tokenizerDescription, options) {
    this.url = url;
    this.meta = meta;
    this.tokenizerDescription = tokenizerDescription;
    this.options = options;
    this.sourceTokenizer = Tokenizer.fromDescription(tokenizerDescription, "source");
    this.targetTokenizer = Tokenizer.fromDescription(tokenizerDescription, "target");
    for (const side of ["source", "target"]) {
      const found = tokenizerDescription[side].vocabulary.length;
      const expected = meta.model[`${side}_vocab_size`];
      if (found !== expected) {
        throw new BundleError(
          `${TOKENIZER_FILE} has ${found} ${side} tokens but the bundle's model expects ` +
            `${expected}: the tokenizer does not belong to this model. Export the model again.`,
        );
      }
    }
  }

  // Reads bundle.json and tokenizer.json under `url` (a directory URL). Options:
  //   verify (default true): check every file against bundle.json's sha256;
  //   fetch: a fetch function (default: the page's);
  //   timeoutMs: give up on a file after this long (default 60 s).
  static async load(url, { verify = true, fetch = globalThis.fetch.bind(globalThis), timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
    const base = new URL(url.endsWith("/") ? url : `${url}/`, globalThis.location?.href);
    const options = { verify, fetch, timeoutMs };
    const metaBytes = await fetchBytes(base, "bundle.json", options);
    let meta;
    try {
      meta = JSON.parse(new TextDecoder().decode(metaBytes));
    } catch (e) {
      throw new BundleError(`${base}bundle.json is not valid JSON (${e.message}): the bundle is damaged; export the model again.`);
    }
    checkMeta(base, meta);
    const tokenizerBytes = await fetchBytes(base, TOKENIZER_FILE, options, meta);
    let description;
    try {
      description = JSON.parse(new TextDecoder().decode(tokenizerBytes));
    } catch (e) {
      throw new BundleError(`${base}${TOKENIZER_FILE} is not valid JSON (${e.message}).`);
    }
    try {
      return new Bundle(base.href, meta, description, options);
    } catch (e) {
      if (e instanceof BundleError) throw e;
      throw new BundleError(`${base}${TOKENIZER_FILE}: ${e.message}`);
    }
  }

  get maxDecodeLength() {
    return this.meta.max_decode_length;
  }

  get maxSourceLength() {
    return this.meta.max_source_length ?? null;
  }

  get beamSize() {
    return this.meta.beam_size ?? null;
  }

  get specialIds() {
    return this.meta.special_ids;
  }

  get stateNames() {
    return this.meta.step_contract.state;
  }

  get memoryNames() {
    return this.meta.step_contract.memory;
  }

  // Whether the bundle lists an ONNX graph for `role` (encoder, decoder_step,
  // translate, beam).
  hasGraph(role) {
    return Boolean(this.meta.formats.onnx.files[role]);
  }

  // The bytes of the ONNX graph of `role`, checked against its sha256.
  async graph(role) {
    const name = this.meta.formats.onnx.files[role];
    if (!name) {
      throw new BundleError(
        `This bundle has no ONNX ${role} graph (exported with --no-whole-loop, or before it existed): export the model again` +
          (role === "translate" || role === "beam" ? ", or decode step by step." : "."),
      );
    }
    return fetchBytes(new URL(this.url), name, this.options, this.meta);
  }
}

function checkMeta(base, meta) {
  if (!meta || typeof meta !== "object" || meta.format !== FORMAT) {
    throw new BundleError(`${base}bundle.json does not describe a keras_s2s bundle.`);
  }
  const version = meta.format_version;
  if (!Number.isInteger(version) || version < 1) {
    throw new BundleError(`${base}bundle.json has an invalid format_version ${JSON.stringify(version)}.`);
  }
  if (version > FORMAT_VERSION) {
    throw new BundleError(
      `${base} is bundle format ${version}, newer than this page reads (${FORMAT_VERSION}): ` +
        "update keras_s2s-web, or export the model again with the matching keras_s2s.",
    );
  }
  if (!meta.formats?.onnx) {
    const formats = Object.keys(meta.formats ?? {}).join(", ") || "none";
    throw new BundleError(
      `${base} has no ONNX export (it has ${formats}): the browser runs ONNX graphs; ` +
        "export it with `keras-s2s export MODEL --formats onnx`.",
    );
  }
  if (!meta.files?.[TOKENIZER_FILE]) {
    throw new BundleError(
      `${base} has no ${TOKENIZER_FILE} (it was exported before the portable tokenizer ` +
        "existed): export the model again with `keras-s2s export`.",
    );
  }
}

// Fetches `name` under `base`; with `meta`, checks it against the recorded sha256.
async function fetchBytes(base, name, { fetch, verify, timeoutMs }, meta = null) {
  const url = new URL(name, base);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  let bytes;
  try {
    const response = await fetch(url, { signal: abort.signal });
    if (!response.ok) {
      throw new BundleError(
        `${url} could not be loaded (HTTP ${response.status}): ` +
          (name === "bundle.json"
            ? "no bundle is served at this address; give the URL of a bundle directory."
            : `the bundle is incomplete; copy all of it, with ${name}.`),
      );
    }
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (e) {
    if (e instanceof BundleError) throw e;
    const reason = e.name === "AbortError" ? `no answer within ${timeoutMs / 1000} s` : e.message;
    throw new BundleError(`${url} could not be loaded (${reason}).`);
  } finally {
    clearTimeout(timer);
  }
  if (meta && verify) {
    const expected = meta.files[name];
    if (!expected) throw new BundleError(`${name} is not listed in ${base}bundle.json: export the model again.`);
    const found = await sha256(bytes);
    if (found !== expected) {
      throw new BundleError(
        `${url} does not match its sha256 in bundle.json: the file is damaged or belongs ` +
          "to another export. Copy the bundle again, or export the model again.",
      );
    }
  }
  return bytes;
}
