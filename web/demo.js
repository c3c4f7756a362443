// The demo page: pick a zoo model, type a text, see the output, the n-best list with
// scores, the attention as a heatmap and the time taken. URL parameters:
//   ?model=NAME        a zoo model of export/zoo.json (default: the first)
//   ?bundle=URL        any bundle directory served beside the page instead
//   ?threads=N         ONNX Runtime Web's threads (read once, at start)
// The status line carries data-state (loading, ready, busy, done, error) for tests.

import { configure, load } from "./src/index.js";

const ZOO_INDEX = "../export/zoo.json";
const BEAM_SIZE = 4;
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const translators = new Map();

function setStatus(state, message) {
  const status = $("status");
  status.dataset.state = state;
  status.className = state === "error" ? "error" : "";
  status.textContent = message;
  $("translate").disabled = state === "loading" || state === "busy";
}

async function zooModels() {
  const response = await fetch(ZOO_INDEX);
  if (!response.ok) throw new Error(`${ZOO_INDEX} could not be loaded (HTTP ${response.status}): serve the repository's root (bash scripts/web.sh).`);
  const index = await response.json();
  return index.models.map((model) => ({ ...model, bundle: new URL(model.bundle, response.url).href }));
}

async function translatorFor(option) {
  if (!translators.has(option.value)) translators.set(option.value, load(option.dataset.bundle));
  try {
    return await translators.get(option.value);
  } catch (error) {
    translators.delete(option.value); // a later try loads it again
    throw error;
  }
}

async function selectModel() {
  const option = $("model").selectedOptions[0];
  $("description").textContent = option.dataset.description ?? "";
  if (option.dataset.example && !$("text").value) $("text").value = option.dataset.example;
  setStatus("loading", `Loading ${option.textContent}…`);
  try {
    await translatorFor(option);
    setStatus("ready", `${option.textContent} is ready (${configure().numThreads} thread(s)).`);
  } catch (error) {
    setStatus("error", `The model could not be loaded: ${error.message}`);
  }
}

// What the user should know about the input: tokens cut at the model's limit, tokens
// outside the vocabulary (read as <unk>).
function inputNotes(translator, text) {
  const tokenizer = translator.sourceTokenizer;
  const tokens = tokenizer.split(text);
  const notes = [];
  const limit = translator.maxSourceLength;
  if (limit && tokens.length > limit) {
    notes.push(`The text has ${tokens.length.toLocaleString("en")} tokens; the model reads at most ${limit}: the first ${limit} were translated.`);
  }
  const read = limit ? tokens.slice(0, limit) : tokens;
  const unknown = [...new Set(read.filter((token) => !tokenizer.ids.has(token)))];
  if (unknown.length) {
    const shown = unknown.slice(0, 10).map((token) => JSON.stringify(token)).join(", ");
    notes.push(`${unknown.length} distinct token(s) are not in the model's vocabulary and were read as <unk>: ${shown}${unknown.length > 10 ? ", …" : ""}.`);
  }
  return { notes, sourceTokens: read };
}

function fixed(value) {
  return value === null || value === undefined ? "–" : value.toFixed(4);
}

function showNBest(translator, hypotheses) {
  const body = $("nbest").tBodies[0];
  body.replaceChildren(...hypotheses.map((h, i) => {
    const row = document.createElement("tr");
    const cells = [String(i + 1), translator.detokenize([h.tokens])[0], fixed(h.score), fixed(h.rankingScore), h.finished ? "yes" : "no (max length)"];
    cells.forEach((text, column) => {
      const cell = document.createElement("td");
      cell.textContent = text;
      if (column === 2 || column === 3) cell.className = "number";
      row.append(cell);
    });
    return row;
  }));
}

function showAttention(translator, best, sourceTokens, search) {
  const heatmap = $("heatmap");
  heatmap.replaceChildren();
  if (translator.bundle.meta.model.attention === "none") {
    $("attention-note").textContent = "This model has no attention (the baseline).";
    return;
  }
  if (!best.attention) {
    $("attention-note").textContent = search === "beam-graph"
      ? "The beam graph returns no attention weights: choose greedy or the JavaScript beam search to see them."
      : "No attention for an empty output.";
    return;
  }
  $("attention-note").textContent = "Rows: output tokens; columns: source tokens; darker is more weight.";
  const vocabulary = translator.targetTokenizer.vocabulary;
  const table = document.createElement("table");
  const head = table.insertRow();
  head.append(document.createElement("th"));
  for (const token of sourceTokens) {
    const th = document.createElement("th");
    th.className = "source";
    th.textContent = token === " " ? "␣" : token;
    head.append(th);
  }
  best.attention.forEach((weights, t) => {
    const row = table.insertRow();
    const th = document.createElement("th");
    th.className = "target";
    th.textContent = vocabulary[best.tokens[t]];
    row.append(th);
    sourceTokens.forEach((_, s) => {
      const cell = row.insertCell();
      const weight = weights[s];
      cell.style.background = `rgba(20, 80, 200, ${weight.toFixed(3)})`;
      cell.title = `${vocabulary[best.tokens[t]]} ← ${sourceTokens[s]}: ${weight.toFixed(3)}`;
    });
  });
  heatmap.append(table);
}

async function translate(event) {
  event.preventDefault();
  const text = $("text").value;
  if (!text.trim()) {
    setStatus("error", "Type a text to translate: the box is empty.");
    return;
  }
  const option = $("model").selectedOptions[0];
  const search = $("search").value;
  setStatus("busy", "Translating…");
  try {
    const translator = await translatorFor(option);
    const { notes, sourceTokens } = inputNotes(translator, text);
    if (sourceTokens.length === 0) {
      setStatus("error", "The text has no tokens this model reads (only spaces or invisible characters): type some text.");
      return;
    }
    const options = search === "greedy" ? {} : { beamSize: BEAM_SIZE, nBest: BEAM_SIZE, lengthPenalty: 0.6, wholeLoop: search === "beam-graph" };
    const started = performance.now();
    const [hypotheses] = await translator.decode([text], options);
    const milliseconds = performance.now() - started;
    const [output] = translator.detokenize([hypotheses[0].tokens]);
    $("output").textContent = output || "(empty output)";
    $("notes").textContent = notes.join(" ");
    $("timing").textContent = `${milliseconds.toFixed(1)} ms for this sentence (${search}, ${configure().numThreads} thread(s), tokenization and detokenization included).`;
    showNBest(translator, hypotheses);
    showAttention(translator, hypotheses[0], sourceTokens, search);
    $("result").hidden = false;
    setStatus("done", `Done in ${milliseconds.toFixed(1)} ms.`);
  } catch (error) {
    setStatus("error", error.message);
  }
}

async function start() {
  const threads = Number(params.get("threads") ?? 1);
  configure({ numThreads: Number.isInteger(threads) && threads > 0 ? threads : 1 });
  $("threads").value = String(configure().numThreads);
  $("threads").addEventListener("change", () => {
    params.set("threads", $("threads").value);
    location.search = params.toString(); // ONNX Runtime Web reads its threads once
  });
  const select = $("model");
  const custom = params.get("bundle");
  const models = custom ? [{ name: `bundle at ${custom}`, bundle: new URL(custom, location.href).href, description: "" }] : await zooModels();
  for (const model of models) {
    const option = new Option(model.name, model.name);
    Object.assign(option.dataset, { bundle: model.bundle, description: model.description ?? "", example: model.example ?? "" });
    select.append(option);
  }
  const wanted = params.get("model");
  if (wanted) {
    if (!models.some((model) => model.name === wanted)) throw new Error(`No zoo model named ${wanted}: choose one of ${models.map((m) => m.name).join(", ")}.`);
    select.value = wanted;
  }
  select.addEventListener("change", () => { $("text").value = ""; selectModel(); });
  $("form").addEventListener("submit", translate);
  await selectModel();
}

start().catch((error) => setStatus("error", error.message));
