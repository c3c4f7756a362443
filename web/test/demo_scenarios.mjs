// The demo page (web/index.html) driven as a user would: each scenario opens the page,
// types, clicks, and waits until the status line says done or error (never longer than
// SCENARIO_SECONDS: a hang fails the test). Bundles under /fixtures/ are the damaged,
// mismatched and incomplete copies tests/web/test_web.py makes.

const SCENARIO_SECONDS = 60;

const SCENARIOS = [
  { name: "translate", query: "model=dates_bahdanau", text: "Nov. 23rd, 2026", search: "beam" },
  { name: "greedy", query: "model=dates_bahdanau", text: "the 4th of July, 1976", search: "greedy" },
  { name: "beam_graph", query: "model=dates_bahdanau", text: "23.11.2026", search: "beam-graph" },
  { name: "no_attention", query: "model=dates_none", text: "23.11.2026", search: "beam" },
  { name: "two_threads", query: "model=dates_bahdanau&threads=2", text: "23.11.2026", search: "beam" },
  { name: "empty", query: "model=dates_bahdanau", text: "", search: "beam" },
  { name: "invisible", query: "model=dates_bahdanau", text: " \u200b\u200d ", search: "beam" },
  { name: "very_long", query: "model=dates_bahdanau", text: "12/25/1999 ".repeat(20000), search: "beam" },
  { name: "unknown_characters", query: "model=dates_bahdanau", text: "☃ 23 Nov 2026 ✓ 日本", search: "beam" },
  { name: "cut_down", query: "bundle=/fixtures/cut_down/", text: "Nov. 23rd, 2026", search: "greedy" },
  { name: "damaged", query: "bundle=/fixtures/damaged/", text: "23.11.2026", search: "beam" },
  { name: "mismatched", query: "bundle=/fixtures/mismatched/", text: "23.11.2026", search: "beam" },
  { name: "incomplete", query: "bundle=/fixtures/incomplete/", text: "23.11.2026", search: "beam" },
  { name: "not_a_bundle", query: "bundle=/fixtures/nothing-here/", text: "23.11.2026", search: "beam" },
  { name: "unknown_model", query: "model=no_such_model", text: "23.11.2026", search: "beam" },
];

async function waitForState(page, states) {
  await page.waitForFunction(
    (wanted) => wanted.includes(document.getElementById("status").dataset.state),
    states, { timeout: SCENARIO_SECONDS * 1000 },
  );
}

async function runScenario(browser, baseUrl, scenario) {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  const started = Date.now();
  try {
    await page.goto(`${baseUrl}/web/?${scenario.query}`);
    await waitForState(page, ["ready", "error"]);
    const loaded = await page.$eval("#status", (element) => element.dataset.state);
    if (loaded === "ready") {
      await page.selectOption("#search", scenario.search);
      await page.fill("#text", scenario.text);
      await page.click("#translate");
      await waitForState(page, ["done", "error"]);
    }
    return await page.evaluate(() => ({
      state: document.getElementById("status").dataset.state,
      status: document.getElementById("status").textContent,
      output: document.getElementById("output").textContent,
      notes: document.getElementById("notes").textContent,
      timing: document.getElementById("timing").textContent,
      nbestRows: document.querySelectorAll("#nbest tbody tr").length,
      nbestScores: [...document.querySelectorAll("#nbest tbody tr")].map((row) => row.cells[2].textContent),
      heatmapRows: Math.max(0, document.querySelectorAll("#heatmap tr").length - 1),
      attentionNote: document.getElementById("attention-note").textContent,
      threads: document.getElementById("threads").value,
      seconds: 0,
    })).then((result) => ({ ...result, seconds: (Date.now() - started) / 1000, pageErrors: errors }));
  } catch (error) {
    return { state: "hang", status: String(error), seconds: (Date.now() - started) / 1000, pageErrors: errors };
  } finally {
    await page.close();
  }
}

export async function demoScenarios(browser, baseUrl) {
  const scenarios = {};
  for (const scenario of SCENARIOS) scenarios[scenario.name] = await runScenario(browser, baseUrl, scenario);
  return { scenarios };
}
