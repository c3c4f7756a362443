// The browser half of benchmarks/browser_speed.py: text in, text out through
// Translator.translate on ONNX Runtime Web, at the threads given in the URL
// (?threads=N, set before the first model loads). Batch 1: the median milliseconds per
// sentence; batch 64: sentences per second over all of them. The same pass once
// untimed first (warm-up), then the fastest of `repeats` timed passes.

import { configure, load } from "../src/index.js";

const SETTINGS = [
  // [name, batch size, decode options]
  ["batch1/greedy/step", 1, {}],
  ["batch1/greedy/whole_loop", 1, { wholeLoop: true }],
  ["batch1/beam4/step", 1, { beamSize: 4 }],
  ["batch1/beam4/whole_loop", 1, { beamSize: 4, wholeLoop: true }],
  ["batch64/greedy/step", 64, {}],
  ["batch64/greedy/whole_loop", 64, { wholeLoop: true }],
  ["batch64/beam4/step", 64, { beamSize: 4 }],
  ["batch64/beam4/whole_loop", 64, { beamSize: 4, wholeLoop: true }],
];

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

async function timeSetting(translator, sources, batchSize, options) {
  const perSentence = [];
  const started = performance.now();
  for (let at = 0; at < sources.length; at += batchSize) {
    const batch = sources.slice(at, at + batchSize);
    const t0 = performance.now();
    await translator.translate(batch, { ...options, batchSize });
    perSentence.push((performance.now() - t0) / batch.length);
  }
  const seconds = (performance.now() - started) / 1000;
  return { msPerSentence: median(perSentence), sentencesPerSecond: sources.length / seconds, sentences: sources.length };
}

async function run() {
  const params = new URLSearchParams(location.search);
  const fixtures = params.get("fixtures") ?? "/fixtures/";
  const threads = Number(params.get("threads") ?? 1);
  const environment = configure({ numThreads: threads });
  const plan = await (await fetch(`${fixtures}plan.json`)).json();
  const { bundle, batch1, batch64 } = plan.bench;
  const translator = await load(bundle);
  const results = {};
  for (const [name, batchSize, options] of SETTINGS) {
    const sources = batchSize === 1 ? batch1 : batch64;
    await timeSetting(translator, sources, batchSize, options); // warm-up: the same pass, untimed
    // The fastest of `repeats` timed passes: other work on the machine only slows a pass.
    const passes = [];
    for (let r = 0; r < (plan.bench.repeats ?? 1); r++) passes.push(await timeSetting(translator, sources, batchSize, options));
    results[name] = passes.reduce((a, b) => (b.sentencesPerSecond > a.sentencesPerSecond ? b : a));
  }
  window.__results = { threads, environment, results, userAgent: navigator.userAgent };
}

run().catch((e) => { window.__results = { fatal: String(e.stack ?? e) }; });
