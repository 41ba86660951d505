// The bounds of what the browser keeps (src/prune.ts): with small caps
// set through localStorage ("parley.caps"), the oldest messages of a chat
// go from the screen and IndexedDB, and the oldest cached attachment goes
// while its message stays, marked as removed.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, phone, register, openChat, send, bubble } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');

// stored returns the page's stored messages (text or caption, kind) and
// the attachment ids with cached bytes.
function stored(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const r = indexedDB.open('parley');
    r.onerror = () => reject(r.error);
    r.onsuccess = () => {
      const db = r.result;
      const all = db.transaction('messages').objectStore('messages').getAll();
      all.onsuccess = () => {
        const keys = db.transaction('kv').objectStore('kv').getAllKeys();
        keys.onsuccess = () => resolve({
          msgs: all.result.filter((m) => m.kind !== 'system').sort((a, b) => a.ts - b.ts).map((m) => [m.text ?? m.caption, m.media?.id ?? '']),
          blobs: keys.result.filter((k) => String(k).startsWith('blob:')).map((k) => String(k).slice(5)),
        });
      };
    };
  }));
}

test('the oldest messages and cached attachments beyond the caps are pruned', async () => {
  const a = await register(browser, phone());
  const b = await register(browser, phone());
  b.page.on('console', (m) => { if (m.type() === 'error') console.error('page:', m.text()); });
  await b.page.evaluate((size) => localStorage.setItem('parley.caps', JSON.stringify({ perChat: 4, blobBytes: size + 10 })), png.length);

  await openChat(a.page, b.number);
  for (const text of ['one', 'two', 'three']) await send(a.page, text);
  for (const caption of ['first picture', 'second picture']) {
    await a.page.getByRole('textbox', { name: 'Message' }).fill(caption);
    await a.page.getByLabel('Attach a file').setInputFiles({ name: caption.replace(' ', '-') + '.png', mimeType: 'image/png', buffer: png });
    await bubble(a.page, caption).waitFor();
  }

  await b.page.locator(`[data-chat="a:${a.number.slice(1)}"]`).click();
  await bubble(b.page, 'second picture').locator('img').waitFor();
  // The first text is gone: four messages per chat.
  await bubble(b.page, 'one').waitFor({ state: 'detached' });
  await bubble(b.page, 'two').waitFor();
  // Only one picture's bytes fit the budget: the older one is removed.
  await bubble(b.page, 'first picture').getByTestId('evicted').getByText('first-picture.png was removed from this browser to save space.').waitFor();
  await b.page.waitForFunction(() => true);
  let s;
  for (let i = 0; i < 50; i++) {
    s = await stored(b.page);
    if (s.msgs.length === 4 && s.blobs.length === 1) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  // (Texts sent in one millisecond have no order in storage: compare as sets.)
  assert.deepEqual(s.msgs.map((m) => m[0]).sort(), ['first picture', 'second picture', 'three', 'two']);
  assert.deepEqual(s.blobs, [s.msgs.find((m) => m[0] === 'second picture')[1]]);

  // After a reload the pruned state is what the browser shows.
  await b.page.reload();
  await b.page.locator(`[data-chat="a:${a.number.slice(1)}"]`).click();
  await bubble(b.page, 'two').waitFor();
  assert.equal(await bubble(b.page, 'one').count(), 0);
  await bubble(b.page, 'first picture').getByTestId('evicted').waitFor();
  for (const p of [a, b]) await p.context.close();
});
