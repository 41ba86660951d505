// An image round trip through the SDK's encrypted attachments.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, phone, register, openChat, bubble } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// A 2×2 PNG.
const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');

test('an image sent from one browser is shown in the other', async () => {
  const alice = await register(browser, phone());
  const bob = await register(browser, phone());
  await openChat(alice.page, bob.number);
  await alice.page.getByRole('textbox', { name: 'Message' }).fill('a picture');
  await alice.page.getByLabel('Attach a file').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: png });
  await alice.page.locator('li.msg[data-kind=image] img').waitFor();

  await bob.page.locator(`[data-chat="a:${alice.number.slice(1)}"]`).click();
  const img = bob.page.locator('li.msg[data-kind=image] img');
  await img.waitFor();
  await bubble(bob.page, 'a picture').waitFor();
  const size = await img.evaluate((el) => new Promise((resolve) => {
    const done = () => resolve([el.naturalWidth, el.naturalHeight]);
    if (el.complete) done(); else el.onload = done;
  }));
  assert.deepEqual(size, [2, 2]);
  await alice.context.close();
  await bob.context.close();
});
