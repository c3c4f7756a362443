// The browser half of tests/web/test_web.py: for each model of the plan the test wrote
// (fixtures/plan.json), the bundle's tokenizer conformance file, and decoding of the
// held-out sources compared with the Keras model's tokens (greedy step by step and
// whole loop; beam search in JavaScript over the step graph and the ONNX beam graph,
// n-best lists with scores). Each check reports counts and its first mismatches;
// the Python test asserts on them.

import { Tokenizer, configure, load } from "../src/index.js";

const MAX_SHOWN = 5;
const log = (line) => { document.getElementById("log").textContent += `${line}\n`; };

async function json(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

// The conformance cases of a tokenizer description: ids of every source text, ids
// and detokenized text of every target text.
export function conformance(description, cases) {
  const source = Tokenizer.fromDescription(description, "source");
  const target = Tokenizer.fromDescription(description, "target");
  const wrong = [];
  let count = 0;
  for (const item of cases.source) {
    count++;
    const ids = source.tokenize(item.text);
    if (JSON.stringify(ids) !== JSON.stringify(item.ids)) wrong.push({ text: item.text, found: ids, expected: item.ids });
  }
  for (const item of cases.target) {
    count++;
    const ids = target.tokenize(item.text);
    const back = target.detokenize([...item.ids, target.special.end]);
    if (JSON.stringify(ids) !== JSON.stringify(item.ids) || back !== item.detokenized) {
      wrong.push({ text: item.text, found: ids, expected: item.ids, detokenized: back, expectedText: item.detokenized });
    }
  }
  return { cases: count, wrong: wrong.length, examples: wrong.slice(0, MAX_SHOWN) };
}

function compareTokens(found, expected) {
  const wrong = [];
  expected.forEach((tokens, i) => {
    if (JSON.stringify(found[i]) !== JSON.stringify(tokens)) wrong.push({ index: i, found: found[i], expected: tokens });
  });
  return { sentences: expected.length, wrong: wrong.length, examples: wrong.slice(0, MAX_SHOWN) };
}

// n-best lists: tokens and `finished` equal, the largest score differences reported.
function compareNBest(found, expected) {
  const result = compareTokens(found.map((hs) => hs.map((h) => h.tokens)), expected.map((hs) => hs.map((h) => h.tokens)));
  let scoreDifference = 0;
  let finishedDiffer = 0;
  expected.forEach((hs, i) => hs.forEach((h, j) => {
    const other = found[i][j];
    if (!other) return;
    scoreDifference = Math.max(scoreDifference, Math.abs(other.score - h.score), Math.abs(other.rankingScore - h.ranking_score));
    if (other.finished !== h.finished) finishedDiffer++;
  }));
  return { ...result, maxScoreDifference: scoreDifference, finishedDiffer };
}

async function checkModel(model) {
  const result = { name: model.name };
  const started = performance.now();
  const translator = await load(model.bundle);
  const description = translator.bundle.tokenizerDescription;
  result.conformance = conformance(description, await json(`${model.bundle}tokenizer_conformance.json`));
  const expected = await json(model.parity);
  const { sources } = expected;
  const greedy = await translator.decode(sources);
  result.greedy = compareTokens(greedy.map((hs) => hs[0].tokens), expected.greedy);
  // A bundle exported with --no-whole-loop has only the step graphs.
  const wholeLoop = translator.bundle.hasGraph("translate");
  if (wholeLoop) {
    const loop = await translator.decode(sources, { wholeLoop: true });
    result.greedyWholeLoop = compareTokens(loop.map((hs) => hs[0].tokens), expected.greedy);
  }
  const beam = expected.beam;
  const options = { beamSize: beam.beam_size, nBest: beam.n_best, lengthPenalty: beam.length_penalty };
  result.beam = compareNBest(await translator.decode(sources, options), beam.hypotheses);
  if (translator.bundle.hasGraph("beam")) {
    result.beamGraph = compareNBest(await translator.decode(sources, { ...options, wholeLoop: true }), beam.hypotheses);
  }
  result.texts = compareTokens(await translator.translate(sources), expected.texts);
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

async function run() {
  const params = new URLSearchParams(location.search);
  const fixtures = params.get("fixtures") ?? "/fixtures/";
  const plan = await json(`${fixtures}plan.json`);
  configure({ numThreads: plan.threads ?? 1 });
  const results = { models: [], tokenizers: [], errors: [] };
  for (const tokenizer of plan.tokenizers ?? []) {
    try {
      const check = conformance(await json(tokenizer.description), await json(tokenizer.conformance));
      results.tokenizers.push({ name: tokenizer.name, ...check });
      log(`tokenizer ${tokenizer.name}: ${check.cases} cases, ${check.wrong} wrong`);
    } catch (e) {
      results.errors.push(`tokenizer ${tokenizer.name}: ${e.stack ?? e}`);
    }
  }
  for (const model of plan.models ?? []) {
    try {
      const result = await checkModel(model);
      results.models.push(result);
      log(`${model.name}: ${JSON.stringify(result)}`);
    } catch (e) {
      results.errors.push(`${model.name}: ${e.stack ?? e}`);
      log(`${model.name}: ERROR ${e.stack ?? e}`);
    }
  }
  results.environment = { userAgent: navigator.userAgent, ...configure(), hardwareConcurrency: navigator.hardwareConcurrency };
  window.__results = results;
}

run().catch((e) => { window.__results = { fatal: String(e.stack ?? e) }; });
