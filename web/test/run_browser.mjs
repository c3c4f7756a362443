// Drives headless Chromium (Debian's /usr/bin/chromium, or $KERAS_S2S_CHROMIUM) with
// playwright-core over a page of this folder served by web/serve.mjs, and prints what
// the page reports as JSON on stdout. tests/web/test_web.py runs it; so can you:
//
//   node web/test/run_browser.mjs suite --fixtures DIR   # parity and conformance
//   node web/test/run_browser.mjs demo --fixtures DIR    # the demo page, bad input
//   node web/test/run_browser.mjs bench --fixtures DIR   # speed (benchmarks/)
//
// DIR holds plan.json and what it names (tests/web/test_web.py writes them). Exit status 3:
// no browser to run (the reason on stderr).

import fs from "node:fs";
import { chromium } from "playwright-core";

import { serve } from "../serve.mjs";
import { demoScenarios } from "./demo_scenarios.mjs";

const BROWSER = process.env.KERAS_S2S_CHROMIUM ?? "/usr/bin/chromium";
// Headless, and quiet on a machine with no internet: no background connections.
const FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-dev-shm-usage"];

function parse(argv) {
  const [mode, ...rest] = argv;
  const options = { mode, timeout: 600 };
  for (let i = 0; i < rest.length; i += 2) {
    if (rest[i] === "--fixtures") options.fixtures = rest[i + 1];
    else if (rest[i] === "--timeout") options.timeout = Number(rest[i + 1]);
    else throw new Error(`unknown argument ${rest[i]}`);
  }
  if (!["suite", "demo", "bench"].includes(mode) || !options.fixtures) {
    throw new Error("usage: run_browser.mjs suite|demo|bench --fixtures DIR [--timeout SECONDS]");
  }
  return options;
}

async function pageResults(page, url, timeout) {
  await page.goto(url);
  await page.waitForFunction(() => window.__results !== undefined, null, { timeout: timeout * 1000 });
  return page.evaluate(() => window.__results);
}

async function main() {
  const options = parse(process.argv.slice(2));
  if (!fs.existsSync(BROWSER)) {
    console.error(`No Chromium at ${BROWSER}: install Debian's chromium package (apt-get install chromium) or set KERAS_S2S_CHROMIUM.`);
    process.exit(3);
  }
  const server = await serve({ port: 0, mounts: { "/fixtures/": options.fixtures } });
  const browser = await chromium.launch({ executablePath: BROWSER, args: FLAGS, headless: true });
  const consoleErrors = [];
  try {
    const page = await browser.newPage();
    page.on("pageerror", (error) => consoleErrors.push(String(error)));
    page.on("console", (message) => { if (message.type() === "error") consoleErrors.push(message.text()); });
    let results;
    const fixtures = "fixtures=/fixtures/";
    if (options.mode === "demo") {
      results = await demoScenarios(browser, server.url, options);
    } else if (options.mode === "suite") {
      results = await pageResults(page, `${server.url}/web/test/index.html?${fixtures}`, options.timeout);
    } else {
      // One page load per thread count: ONNX Runtime Web reads it once.
      const plan = JSON.parse(fs.readFileSync(`${options.fixtures}/plan.json`, "utf-8"));
      results = { runs: [] };
      for (const threads of plan.bench.threads) {
        results.runs.push(await pageResults(page, `${server.url}/web/test/bench.html?${fixtures}&threads=${threads}`, options.timeout));
      }
    }
    results.consoleErrors = consoleErrors;
    results.browserVersion = browser.version();
    process.stdout.write(`${JSON.stringify(results)}\n`);
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((error) => {
  console.error(error.stack ?? String(error));
  process.exit(1);
});
