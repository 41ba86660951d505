// Website chat: a visitor chats on a business's website (the example
// page, served from another origin) without an account; an agent's reply,
// sent through the inbox API, appears live in the panel, also after the
// server restarted; the visitor keeps their identity across reloads; the
// "continue in the Parley app" step gives a click-to-chat link.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { base, launch, phone } from './helpers.mjs';

const adminToken = process.env.PARLEY_ADMIN_TOKEN;
const control = process.env.PARLEY_CONTROL;
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

async function admin(method, path, body) {
  const r = await fetch(`${base}${path}`, { method, headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: body && JSON.stringify(body) });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
  return JSON.parse(text);
}

let agentEmail = ''; // the last agent agentAPI created (password 'correct horse battery')

// agentAPI signs an agent in and returns a caller of the inbox API.
async function agentAPI(waba) {
  const email = `gardener${Date.now()}@shop.example`;
  agentEmail = email;
  await admin('POST', `/admin/v1/businesses/${waba}/agents`, { email, name: 'Gardener', role: 'owner', password: 'correct horse battery' });
  const r = await fetch(`${base}/business/api/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password: 'correct horse battery' }) });
  assert.equal(r.status, 200);
  const cookie = r.headers.get('set-cookie').split(';')[0];
  const { csrf_token: csrf } = await r.json();
  return async (method, path, body) => {
    const res = await fetch(`${base}/business/api${path}`, { method, body: body && JSON.stringify(body),
      headers: { Cookie: cookie, 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' } });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text);
  };
}

async function webConversations(api) {
  for (let i = 0; i < 100; i++) {
    const { conversations } = await api('GET', '/conversations');
    const web = conversations.filter((c) => c.channel === 'web');
    if (web.length) return web;
    await sleep(100);
  }
  assert.fail('no web conversation in the inbox');
}

test('a visitor chats on the example website; the agent\'s reply appears live, also after a reconnect', { skip: !control }, async () => {
  const b = await admin('POST', '/admin/v1/businesses', { name: 'Lucky Shrub', verified_name: 'Lucky Shrub', phone: phone() });
  const example = (await readFile(new URL('../../examples/website-chat/index.html', import.meta.url), 'utf8'))
    .replaceAll('https://chat.example.com', base).replaceAll('15550001234', b.account);
  const shop = createServer((req, res) => { res.setHeader('Content-Type', 'text/html'); res.end(example); });
  await new Promise((res) => shop.listen(0, '127.0.0.1', res));
  const shopURL = `http://127.0.0.1:${shop.address().port}`;
  const api = await agentAPI(b.waba_id);
  await api('PUT', '/webchat', { origins: [shopURL] });

  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('site error:', e));
  await page.goto(`${shopURL}/`);
  const button = page.getByRole('button', { name: 'Chat with us' });
  await button.click();
  const panel = page.getByRole('dialog', { name: 'Lucky Shrub gardeners' });
  await panel.waitFor();
  assert.equal(await button.getAttribute('aria-expanded'), 'true');
  const box = panel.getByRole('textbox', { name: 'Your message' });
  assert.ok(await box.evaluate((e) => e === document.activeElement), 'the message box has the focus');
  await box.fill('Do you deliver to Berlin? <b>bold?</b>');
  await box.press('Enter');
  const mine = panel.locator('li[data-from="visitor"]');
  await mine.waitFor();
  assert.match(await mine.textContent(), /Do you deliver to Berlin\? <b>bold\?<\/b>/);
  assert.equal(await mine.locator('b').count(), 0, 'text is never HTML');

  // The agent sees it in the inbox and replies; it appears live.
  const [conv] = await webConversations(api);
  assert.equal(conv.customer.startsWith('web:'), true);
  assert.equal(conv.preview, 'Do you deliver to Berlin? <b>bold?</b>');
  // In the business app the visitor is a website visitor, with a reply box
  // (no 24-hour window, no template-only composer).
  const agentCtx = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 700 } });
  const app = await agentCtx.newPage();
  await app.goto(base + '/business/');
  await app.getByLabel('Email').fill(agentEmail);
  await app.getByLabel('Password').fill('correct horse battery');
  await app.getByRole('button', { name: 'Sign in' }).click();
  await app.locator(`[data-conversation="${conv.id}"]`).getByText(/^Website visitor /).click();
  await app.getByRole('heading', { name: /^Website visitor / }).waitFor();
  assert.match(await app.getByTestId('window').textContent(), /reply any time/);
  await app.getByRole('textbox', { name: 'Reply' }).waitFor();
  await agentCtx.close();

  await api('POST', `/conversations/${conv.id}/messages`, { text: 'Yes, all of Germany within two days.' });
  const theirs = panel.locator('li[data-from="business"]', { hasText: 'Yes, all of Germany within two days.' });
  await theirs.waitFor({ timeout: 10000 });

  // The server goes away (a restart); a reply sent after it is back
  // arrives once the panel has reconnected, once.
  await fetch(`${control}/stop`, { method: 'POST' });
  await panel.getByRole('status').getByText('Connection lost').waitFor({ timeout: 20000 });
  await fetch(`${control}/start`, { method: 'POST' });
  await api('POST', `/conversations/${conv.id}/messages`, { text: 'Anything else?' });
  const again = panel.locator('li[data-from="business"]', { hasText: 'Anything else?' });
  await again.waitFor({ timeout: 20000 });
  for (let i = 0; i < 100 && (await panel.getByRole('status').textContent()) !== ''; i++) await sleep(100);
  assert.equal(await panel.getByRole('status').textContent(), '', 'the panel says it is connected again');
  await sleep(1500);
  assert.equal(await again.count(), 1, 'no duplicates after reconnecting');
  assert.equal(await panel.locator('li[data-from]').count(), 3);

  // Escape closes the panel and gives the focus back to the button.
  await page.keyboard.press('Escape');
  assert.equal(await panel.isVisible(), false);
  assert.ok(await button.evaluate((e) => e === document.activeElement));

  // A reload keeps the visitor: the history comes back, no new conversation.
  await page.reload();
  await page.getByRole('button', { name: 'Chat with us' }).click();
  await panel.locator('li[data-from="business"]', { hasText: 'Anything else?' }).waitFor();
  assert.equal(await panel.locator('li[data-from]').count(), 3);
  assert.equal((await webConversations(api)).length, 1);

  // Continue in the Parley app: a click-to-chat link with a one-time reference.
  await panel.getByRole('button', { name: 'Continue in the Parley app' }).click();
  await panel.getByLabel('Your phone number (with the country code)').fill('+49 151 2345 6789');
  await panel.getByRole('button', { name: 'Get the link' }).click();
  const link = panel.getByRole('link', { name: 'Open the chat in Parley' });
  await link.waitFor();
  const u = new URL(await link.getAttribute('href'));
  assert.equal(u.origin + u.pathname, `${base}/c/${b.account}`);
  assert.match(u.searchParams.get('ref'), /^webchat-[0-9a-f]{32}$/);
  assert.equal(u.searchParams.get('src'), 'website_button');
  await context.close();

  // German visitors get German; a website the business did not allow gets nothing.
  const de = await browser.newContext({ locale: 'de-DE' });
  const dp = await de.newPage();
  await dp.goto(`${shopURL}/`);
  await dp.getByRole('button', { name: 'Chatte mit uns' }).click();
  await dp.getByRole('dialog').getByRole('textbox', { name: 'Deine Nachricht' }).waitFor();
  await api('PUT', '/webchat', { origins: [] });
  await dp.getByRole('textbox', { name: 'Deine Nachricht' }).fill('Hallo');
  await dp.getByRole('button', { name: 'Senden' }).click();
  await dp.getByRole('status').getByText(/nicht eingerichtet|Failed|NetworkError|fetch/).waitFor();
  await de.close();
  shop.close();
});
