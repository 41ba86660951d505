// Disappearing messages between two browsers: one sets the chat's timer,
// the other shows the change and applies it to what it sends; the
// messages sent with the timer are gone from both screens and both
// IndexedDBs once their time is up (the pages' clocks are moved forward),
// older messages stay.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openChat, phone, register, send, bubble } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// stored lists the texts of the messages in the page's IndexedDB.
function stored(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const r = indexedDB.open('parley');
    r.onerror = () => reject(r.error);
    r.onsuccess = () => {
      const all = r.result.transaction('messages').objectStore('messages').getAll();
      all.onsuccess = () => resolve(all.result.map((m) => m.text).filter((x) => x && x !== 'timer' && x !== 'identity'));
      all.onerror = () => reject(all.error);
    };
  }));
}

test('a chat timer set in one browser makes both sides\' messages disappear', async () => {
  const a = await register(browser, phone());
  const b = await register(browser, phone());
  for (const p of [a, b]) await p.page.clock.install();

  await openChat(a.page, b.number);
  await send(a.page, 'kept forever');
  await b.page.locator(`[data-chat="a:${a.number.slice(1)}"]`).click();
  await bubble(b.page, 'kept forever').waitFor();

  // A sets 1 day: both headers say so, B sees the notice.
  const select = a.page.getByRole('combobox', { name: 'Disappearing messages' });
  assert.equal(await select.inputValue(), '0');
  await select.selectOption({ label: '⏱ 1 day' });
  await a.page.getByTestId('timer').getByText('Disappearing messages: 1 day').waitFor();
  await b.page.locator('li.system').getByText(`+${a.number.slice(1)} set disappearing messages to 1 day.`).waitFor();
  await b.page.getByTestId('timer').getByText('Disappearing messages: 1 day').waitFor();
  assert.equal(await b.page.getByRole('combobox', { name: 'Disappearing messages' }).inputValue(), '86400');

  // Both send under the timer (B because of A's notice).
  await send(a.page, 'gone tomorrow');
  await bubble(b.page, 'gone tomorrow').getByTestId('ttl').waitFor();
  await send(b.page, 'me too');
  await bubble(a.page, 'me too').getByTestId('ttl').waitFor();
  await bubble(b.page, 'me too').getByTestId('ttl').waitFor();
  assert.equal(await bubble(a.page, 'kept forever').getByTestId('ttl').count(), 0);
  for (const p of [a, b]) assert.deepEqual((await stored(p.page)).sort(), ['gone tomorrow', 'kept forever', 'me too']);

  // A day and an hour later: gone from screen and storage, on both sides.
  for (const p of [a, b]) await p.page.clock.fastForward('25:00:00');
  for (const p of [a, b]) {
    await bubble(p.page, 'gone tomorrow').waitFor({ state: 'detached' });
    await bubble(p.page, 'me too').waitFor({ state: 'detached' });
    await bubble(p.page, 'kept forever').waitFor();
    assert.deepEqual(await stored(p.page), ['kept forever']);
  }

  // B turns it off: A follows, and new messages stay.
  await b.page.getByRole('combobox', { name: 'Disappearing messages' }).selectOption('0');
  await a.page.locator('li.system').getByText(`+${b.number.slice(1)} turned disappearing messages off.`).waitFor();
  await a.page.getByTestId('timer').waitFor({ state: 'detached' });
  await send(a.page, 'back to normal');
  await bubble(b.page, 'back to normal').waitFor();
  assert.equal(await bubble(b.page, 'back to normal').getByTestId('ttl').count(), 0);
  for (const p of [a, b]) await p.context.close();
});
