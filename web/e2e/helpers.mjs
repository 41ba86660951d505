// Helpers of the browser tests: Debian's Chromium through playwright-core,
// a node started by web/browser_test.go (PARLEY_URL), codes read from the
// operator API (PARLEY_ADMIN_TOKEN).

import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const base = process.env.PARLEY_URL;
const token = process.env.PARLEY_ADMIN_TOKEN;
if (!base || !token) throw new Error('run through "go test ./web" (PARLEY_URL and PARLEY_ADMIN_TOKEN are unset)');

export function launch() {
  return chromium.launch({
    executablePath: process.env.PARLEY_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

let seq = 0;
// phone returns a fresh test number.
export function phone() {
  return '+4917' + String(Date.now() % 1e6).padStart(6, '0') + String(++seq).padStart(2, '0');
}

// otp reads the code the development SMS provider recorded for number,
// waiting up to 10 s for it: the page's code request may still be on its
// way when a test asks.
export async function otp(number) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await fetch(`${base}/admin/v1/otp?phone=${encodeURIComponent(number)}`, { headers: { Authorization: `Bearer ${token}` } });
    if (r.ok) return (await r.json()).code;
    const body = await r.text();
    if (r.status !== 404 || Date.now() > deadline) throw new Error(`otp: ${r.status} ${body}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

// register opens a new browser context and registers number in it.
export async function register(browser, number, opts = {}) {
  const context = await browser.newContext({ locale: 'en-US', ...opts });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(base);
  await page.getByLabel('Phone number').fill(number);
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.getByLabel('Code from the SMS').waitFor();
  await page.getByLabel('Code from the SMS').fill(await otp(number));
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Chats' }).waitFor();
  await online(page);
  await keysPublished(page);
  return { context, page, number };
}

// keysPublished waits until the page's device has published its keys
// (just after its first connection): before that nobody can encrypt to it,
// and a send to an account with no such device fails.
export async function keysPublished(page) {
  const creds = await page.evaluate(() => new Promise((resolve, reject) => {
    const r = indexedDB.open('parley');
    r.onsuccess = () => {
      const g = r.result.transaction('kv').objectStore('kv').get('creds');
      g.onsuccess = () => resolve(g.result);
      g.onerror = () => reject(g.error);
    };
    r.onerror = () => reject(r.error);
  }));
  for (let i = 0; i < 200; i++) {
    const r = await fetch(`${base}/v1/keys/count`, { headers: { Authorization: `Bearer ${creds.token}` } });
    if (r.ok && (await r.json()).one_time_prekeys > 0) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error('the device did not publish its keys');
}

// online waits until the connection banner is gone.
export async function online(page) {
  await page.waitForFunction(() => !document.querySelector('[data-testid=banner]'), null, { timeout: 20000 });
}

export async function openChat(page, number) {
  const chat = page.locator(`[data-chat="a:${number.replace('+', '')}"]`);
  if (await chat.count()) { await chat.click(); return; }
  await page.getByRole('button', { name: 'New chat' }).click();
  await page.getByLabel('Phone number').fill(number);
  await page.getByRole('button', { name: 'Start chat' }).click();
}

export async function send(page, text) {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.keyboard.press('Enter');
}

// bubble returns the locator of the message whose text (or caption) is
// exactly text; quotes of it in other messages do not count.
export function bubble(page, text) {
  const exact = new RegExp('^' + text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$');
  return page.locator('li.msg').filter({ has: page.locator('p.text', { hasText: exact }) });
}

// operator calls the operator API (/admin/v1) with the operator token and
// returns the decoded answer; a failure fails the test.
export async function operator(method, path, body) {
  const r = await fetch(base + path, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// until polls f until it returns something truthy (returned), failing
// after ms.
export async function until(what, f, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) assert.fail('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 150));
  }
}
