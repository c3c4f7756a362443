// Greedy search and beam search over a step function, as keras_s2s.decoding does them
// in Python (the same rules, the same tie-breaking, scores in float64), so that a
// bundle decodes to the same tokens here as in Python and Keras.
//
// A step function is the whole interface to the model:
//
//   await step(tokenIds, state) -> {logits, state, attention}
//
// - tokenIds: Int32Array of the previous token of each of the n rows;
// - state: what the previous step returned (opaque here; `takeRows` selects rows);
// - logits: Float32Array of n * vocab; attention: Float32Array of n * srcLen, or null.

// A decoded sequence, as keras_s2s.decoding.Hypothesis.
//   tokens: generated ids, without the start and the end token;
//   score: sum of the log-probabilities of the tokens (and of the end token if finished);
//   attention: one Float32Array of source weights per token, or null;
//   finished: whether it ended with the end token (else it hit maxLength);
//   rankingScore: what beam search ranked it by (score / length penalty).
export function hypothesis(tokens, score, attention, finished, rankingScore = score) {
  return { tokens, score, attention, finished, rankingScore };
}

// GNMT's length penalty ((5 + length) / 6) ** alpha.
export function lengthPenaltyFactor(length, alpha) {
  return ((5 + length) / 6) ** alpha;
}

// Log-softmax of one row of logits, in float64 (as numpy does it).
export function logSoftmax(logits, offset, size, out = new Float64Array(size)) {
  let max = -Infinity;
  for (let v = 0; v < size; v++) max = Math.max(max, logits[offset + v]);
  let sum = 0;
  for (let v = 0; v < size; v++) {
    out[v] = logits[offset + v] - max;
    sum += Math.exp(out[v]);
  }
  const log = Math.log(sum);
  for (let v = 0; v < size; v++) out[v] -= log;
  return out;
}

function checkOptions({ startId, endId, maxLength }) {
  for (const [name, value] of [["startId", startId], ["endId", endId]]) {
    if (!Number.isInteger(value) || value < 0) {
      throw new RangeError(`${name} must be a non-negative token id, got ${value}.`);
    }
  }
  if (!Number.isInteger(maxLength) || maxLength < 1) {
    throw new RangeError(`maxLength must be a positive number of tokens, got ${maxLength}.`);
  }
}

// The most likely token at each step, for every row.
export async function greedySearch(step, state, n, { startId, endId, maxLength }) {
  checkOptions({ startId, endId, maxLength });
  let tokens = new Int32Array(n).fill(startId);
  const generated = Array.from({ length: n }, () => []);
  const attention = Array.from({ length: n }, () => []);
  const scores = new Float64Array(n);
  const finished = new Array(n).fill(false);
  let hasAttention = false;
  let logProbs = null;
  for (let t = 0; t < maxLength; t++) {
    const out = await step(tokens, state);
    state = out.state;
    const vocab = out.logits.length / n;
    const srcLen = out.attention ? out.attention.length / n : 0;
    hasAttention = out.attention !== null;
    const next = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      logProbs = logSoftmax(out.logits, i * vocab, vocab, logProbs ?? undefined);
      let best = 0;
      for (let v = 1; v < vocab; v++) if (logProbs[v] > logProbs[best]) best = v;
      next[i] = best;
      if (finished[i]) continue;
      scores[i] += logProbs[best];
      if (best === endId) {
        finished[i] = true;
      } else {
        generated[i].push(best);
        if (hasAttention) attention[i].push(out.attention.slice(i * srcLen, (i + 1) * srcLen));
      }
    }
    tokens = next;
    if (finished.every(Boolean)) break;
  }
  return generated.map((ids, i) =>
    hypothesis(ids, scores[i], hasAttention ? attention[i] : null, finished[i]),
  );
}

// The `size` best (value, index) pairs of values[0..length), best first; ties go to the
// lower index (numpy's stable argsort of the negated values).
function topK(values, length, size) {
  const index = [];
  for (let f = 0; f < length; f++) {
    const value = values[f];
    if (index.length === size && !(value > values[index[size - 1]])) continue;
    let at = index.length;
    while (at > 0 && value > values[index[at - 1]]) at--;
    index.splice(at, 0, f);
    if (index.length > size) index.pop();
  }
  // Fewer than `size` finite candidates: the rest in index order, as argsort gives them.
  for (let f = 0; index.length < size && f < length; f++) if (!index.includes(f)) index.push(f);
  return index;
}

// Beam search with keras_s2s.decoding.beam_search's rules: at each step every live
// hypothesis is extended by every token; the beamSize best extensions that do not end
// stay alive; an extension ending with endId is kept as finished when it ranks among
// the beamSize best of the step; a source is done with beamSize finished hypotheses.
// `state` holds n * beamSize rows (row i * beamSize + j is beam j of source i).
// Returns, per source, `nBest` hypotheses sorted by rankingScore, best first.
export async function beamSearch(step, state, n, options) {
  const { startId, endId, maxLength, beamSize: k = 4, lengthPenalty = 0, nBest = 1, takeRows } = options;
  checkOptions(options);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`beamSize must be a positive integer, got ${k}.`);
  if (!Number.isInteger(nBest) || nBest < 1 || nBest > k) {
    throw new RangeError(`nBest must be between 1 and beamSize (${k}), got ${nBest}.`);
  }
  if (!(Number.isFinite(lengthPenalty) && lengthPenalty >= 0)) {
    throw new RangeError(`lengthPenalty must be a finite number >= 0, got ${lengthPenalty}.`);
  }
  const rank = (score, length) => score / lengthPenaltyFactor(length, lengthPenalty);
  let tokens = new Int32Array(n * k).fill(startId);
  let scores = new Float64Array(n * k).fill(-Infinity);
  for (let i = 0; i < n; i++) scores[i * k] = 0; // one live beam: no copies at the first step
  let history = Array.from({ length: n * k }, () => []);
  let attentionHistory = Array.from({ length: n * k }, () => []);
  let hasAttention = false;
  const finished = Array.from({ length: n }, () => []);
  const done = new Array(n).fill(false);
  let steps = 0;
  for (let t = 0; t < maxLength; t++) {
    const out = await step(tokens, state);
    state = out.state;
    const vocab = out.logits.length / (n * k);
    if (k > vocab) throw new RangeError(`beamSize (${k}) is larger than the vocabulary (${vocab}).`);
    hasAttention = out.attention !== null;
    const srcLen = hasAttention ? out.attention.length / (n * k) : 0;
    const candidates = new Float64Array(k * vocab);
    const logProbs = new Float64Array(vocab);
    const parents = new Int32Array(n * k);
    const nextTokens = new Int32Array(n * k).fill(endId);
    const nextScores = new Float64Array(n * k).fill(-Infinity);
    for (let i = 0; i < n; i++) {
      if (done[i]) continue;
      for (let j = 0; j < k; j++) {
        logSoftmax(out.logits, (i * k + j) * vocab, vocab, logProbs);
        for (let v = 0; v < vocab; v++) candidates[j * vocab + v] = scores[i * k + j] + logProbs[v];
      }
      let alive = 0;
      const best = topK(candidates, k * vocab, 2 * k);
      for (let position = 0; position < best.length; position++) {
        const flat = best[position];
        const parent = Math.floor(flat / vocab);
        const token = flat % vocab;
        const score = candidates[flat];
        if (token === endId) {
          if (position < k && Number.isFinite(score)) {
            const row = i * k + parent;
            finished[i].push(hypothesis(history[row].slice(), score,
              hasAttention ? attentionHistory[row].slice() : null, true, rank(score, t + 1)));
          }
          continue;
        }
        parents[i * k + alive] = parent;
        nextTokens[i * k + alive] = token;
        nextScores[i * k + alive] = score;
        alive += 1;
        if (alive === k) break;
      }
      done[i] = finished[i].length >= k;
    }
    steps = t + 1;
    if (done.every(Boolean)) break;
    const rows = new Int32Array(n * k);
    const newHistory = [];
    const newAttention = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) {
        const row = i * k + parents[i * k + j];
        rows[i * k + j] = row;
        newHistory.push([...history[row], nextTokens[i * k + j]]);
        newAttention.push(hasAttention
          ? [...attentionHistory[row], out.attention.slice(row * srcLen, (row + 1) * srcLen)]
          : []);
      }
    }
    history = newHistory;
    attentionHistory = newAttention;
    state = takeRows(state, rows);
    scores = nextScores;
    tokens = nextTokens;
  }
  const results = [];
  for (let i = 0; i < n; i++) {
    const found = [...finished[i]];
    if (!done[i]) {
      for (let j = 0; j < k; j++) {
        const row = i * k + j;
        if (Number.isFinite(scores[row])) {
          found.push(hypothesis(history[row], scores[row], hasAttention ? attentionHistory[row] : null,
            false, rank(scores[row], history[row].length)));
        }
      }
    }
    found.sort((a, b) => b.rankingScore - a.rankingScore);
    results.push(found.slice(0, nBest));
  }
  results.steps = steps;
  return results;
}
