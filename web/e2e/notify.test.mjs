// Browser notifications for messages that arrive while the tab is in the
// background (the Notification API, stubbed to record what is shown).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, phone, register, openChat, send } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a message to a background tab shows a notification', async () => {
  const alice = await register(browser, phone());
  const bob = await register(browser, phone());
  await bob.context.addInitScript(() => {
    window.__shown = [];
    window.Notification = class {
      static permission = 'granted';
      static requestPermission() { return Promise.resolve('granted'); }
      constructor(title, opts) { window.__shown.push({ title, body: opts?.body }); }
    };
    Object.defineProperty(document, 'visibilityState', { get: () => 'hidden' });
  });
  await bob.page.reload();
  await bob.page.getByRole('heading', { name: 'Chats' }).waitFor();
  await openChat(alice.page, bob.number);
  await send(alice.page, 'are you there?');
  await bob.page.waitForFunction(() => window.__shown.length > 0);
  const shown = await bob.page.evaluate(() => window.__shown);
  assert.deepEqual(shown[0], { title: alice.number, body: 'are you there?' });
  await alice.context.close();
  await bob.context.close();
});
