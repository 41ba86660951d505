// What the client did without a test: German UI strings (a browser whose
// language is German), keyboard-only use (chat list → chat → composer),
// and online / last-seen in the chat header with the presence privacy
// setting ("presence":"nobody" hides both, docs/protocol.md).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, launch, online, openChat, otp, phone, register, send, bubble } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a German browser gets German labels', async () => {
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  const number = phone();
  await page.goto(base);
  await page.getByRole('heading', { name: 'Willkommen bei Parley' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
  await page.getByLabel('Telefonnummer').fill(number);
  await page.getByRole('button', { name: 'Code senden' }).click();
  await page.getByLabel('Code aus der SMS').fill(await otp(number));
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await page.getByRole('heading', { name: 'Chats' }).waitFor();
  await page.getByRole('button', { name: 'Neuer Chat' }).waitFor();
  await page.getByRole('button', { name: 'Neue Gruppe' }).click();
  await page.getByLabel('Gruppenname').waitFor();
  await page.getByRole('button', { name: 'Abbrechen' }).click();
  // No English label is left on the chat list.
  const text = await page.locator('body').innerText();
  for (const en of ['New chat', 'New group', 'Phone number', 'Send code']) assert.ok(!text.includes(en), `English "${en}" on a German page`);
  await context.close();
});

test('keyboard only: from the chat list into a chat and its composer', async () => {
  const a = await register(browser, phone());
  const b = await register(browser, phone());
  await openChat(b.page, a.number);
  await send(b.page, 'ping by mouse');
  const page = a.page;
  await page.locator(`[data-chat="a:${b.number.slice(1)}"]`).waitFor();
  await page.locator('body').focus();
  let found = false;
  for (let i = 0; i < 40 && !found; i++) {
    await page.keyboard.press('Tab');
    found = await page.evaluate((id) => document.activeElement?.getAttribute('data-chat') === id, 'a:' + b.number.slice(1));
  }
  assert.ok(found, 'Tab never reached the chat in the list');
  await page.keyboard.press('Enter');
  await bubble(page, 'ping by mouse').waitFor();
  // The composer has the focus: typing and Enter send.
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Message');
  await page.keyboard.type('pong by keyboard');
  await page.keyboard.press('Enter');
  await bubble(b.page, 'pong by keyboard').waitFor();
  // Tab from the composer reaches its Send button; focus is visible.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Send');
  assert.ok(await page.evaluate(() => document.activeElement.matches(':focus-visible')));
  for (const p of [a, b]) await p.context.close();
});

async function token(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const r = indexedDB.open('parley');
    r.onsuccess = () => {
      const g = r.result.transaction('kv').objectStore('kv').get('creds');
      g.onsuccess = () => resolve(g.result.token);
      g.onerror = () => reject(g.error);
    };
    r.onerror = () => reject(r.error);
  }));
}

test('online and last seen in the chat header follow the peer, and "nobody" hides them', async () => {
  const a = await register(browser, phone());
  const b = await register(browser, phone());
  await openChat(a.page, b.number);
  const status = a.page.getByTestId('chat-status');
  await status.getByText('online', { exact: true }).waitFor();

  // B closes the tab: last seen; B comes back: online.
  await b.page.goto('about:blank');
  await status.getByText(/^last seen \d/).waitFor();
  await b.page.goto(base);
  await online(b.page);
  await status.getByText('online', { exact: true }).waitFor();

  // B hides presence: A sees neither online nor last seen any more.
  const r = await fetch(`${base}/v1/me`, { method: 'PATCH', headers: { Authorization: `Bearer ${await token(b.page)}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ presence: 'nobody' }) });
  assert.ok(r.ok, await r.text());
  await b.page.goto('about:blank');
  await b.page.goto(base);
  await online(b.page);
  await a.page.waitForFunction(() => document.querySelector('[data-testid=chat-status]')?.textContent === '', null, { timeout: 20000 });
  await b.page.goto('about:blank');
  await new Promise((res) => setTimeout(res, 1000));
  assert.equal(await status.textContent(), '');
  for (const p of [a, b]) await p.context.close();
});
