// Measures the web client's two targets (issue 5) in headless Chromium
// against a running node: bytes transferred for JavaScript + WebAssembly
// (as sent, i.e. gzipped), and the time from navigation until the UI is
// interactive (the login form accepts input: the Go core is loaded).
// Prints one JSON line per run and the median. Run by web/bench.sh.

import { launch, base, register, phone, online } from '../e2e/helpers.mjs';

const runs = Number(process.env.RUNS || 5);
const browser = await launch();
const results = [];
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext(); // cold cache every run
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const sizes = new Map();
  const types = new Map();
  cdp.on('Network.responseReceived', (e) => types.set(e.requestId, { url: e.response.url, enc: e.response.headers['content-encoding'] || e.response.headers['Content-Encoding'] || '' }));
  cdp.on('Network.loadingFinished', (e) => sizes.set(e.requestId, e.encodedDataLength));
  const t0 = Date.now();
  await page.goto(base);
  await page.getByLabel('Phone number').waitFor({ state: 'visible' });
  await page.waitForFunction(() => document.documentElement.dataset.ready === '1');
  const wall = Date.now() - t0;
  const nav = await page.evaluate(() => {
    const n = performance.getEntriesByType('navigation')[0];
    const i = performance.getEntriesByName('parley-interactive')[0];
    return { interactive: i ? i.startTime : null, domContentLoaded: n.domContentLoadedEventEnd };
  });
  let js = 0, wasm = 0, other = 0;
  for (const [id, n] of sizes) {
    const u = types.get(id)?.url ?? '';
    if (u.endsWith('.wasm')) wasm += n; else if (u.endsWith('.js')) js += n; else other += n;
  }
  results.push({ run: i + 1, interactive_ms: Math.round(nav.interactive), wall_ms: wall, js_bytes: js, wasm_bytes: wasm, other_bytes: other,
    wasm_encoding: [...types.values()].find((x) => x.url.endsWith('.wasm'))?.enc });
  console.log(JSON.stringify(results.at(-1)));
  await context.close();
}
// A logged-in device: reload (warm HTTP cache, as a returning user has)
// until the chat list is shown and the connection is up.
const user = await register(browser, phone());
const warm = [];
for (let i = 0; i < runs; i++) {
  const t0 = Date.now();
  await user.page.reload();
  await user.page.getByRole('heading', { name: 'Chats' }).waitFor();
  const shown = Date.now() - t0;
  await online(user.page);
  warm.push({ chats_shown_ms: shown, connected_ms: Date.now() - t0 });
  console.log(JSON.stringify({ logged_in_reload: i + 1, ...warm.at(-1) }));
}
await browser.close();
const wmed = (k) => warm.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(warm.length / 2)];
console.log(JSON.stringify({ median_logged_in_chats_shown_ms: wmed('chats_shown_ms'), median_logged_in_connected_ms: wmed('connected_ms') }));
const med = (k) => results.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(results.length / 2)];
console.log(JSON.stringify({ median_interactive_ms: med('interactive_ms'), median_wall_ms: med('wall_ms'),
  js_plus_wasm_bytes: med('js_bytes') + med('wasm_bytes') }));
