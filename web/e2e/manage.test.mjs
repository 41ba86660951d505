// Forwarding, delete for me, delete for everyone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, phone, register, openChat, send, bubble } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function menu(page, text, item) {
  const m = bubble(page, text);
  await m.hover();
  await m.getByRole('button', { name: 'More actions' }).click();
  await m.getByRole('menuitem', { name: item }).click();
}

test('forward, delete for me and delete for everyone', async () => {
  const [alice, bob, carol] = [await register(browser, phone()), await register(browser, phone()), await register(browser, phone())];
  await openChat(alice.page, bob.number);
  await send(alice.page, 'oops, wrong chat');
  await send(alice.page, 'keep me');
  await bob.page.locator(`[data-chat="a:${alice.number.slice(1)}"]`).click();
  await bubble(bob.page, 'keep me').waitFor();
  await bubble(bob.page, 'oops, wrong chat').waitFor();
  await bubble(alice.page, 'oops, wrong chat').and(alice.page.locator('[data-status=read]')).waitFor();

  // Alice deletes her message for everyone.
  await menu(alice.page, 'oops, wrong chat', 'Delete for everyone');
  await bob.page.locator('li.msg[data-kind=deleted]', { hasText: 'This message was deleted.' }).waitFor();
  assert.equal(await bubble(bob.page, 'oops, wrong chat').count(), 0);
  // A deletion is shown once it is stored (a reload cannot undo it).
  await bubble(alice.page, 'oops, wrong chat').waitFor({ state: 'detached' });

  // Bob forwards Alice's other message to Carol (a chat he starts first).
  await openChat(bob.page, carol.number);
  await bob.page.locator(`[data-chat="a:${alice.number.slice(1)}"]`).click();
  await menu(bob.page, 'keep me', 'Forward');
  await bob.page.getByRole('menuitem', { name: carol.number }).click();
  await carol.page.locator(`[data-chat="a:${bob.number.slice(1)}"]`).click();
  await bubble(carol.page, 'keep me').locator('.forwarded').waitFor();

  // Bob deletes it for himself only, and reloads at once: it stays deleted.
  await menu(bob.page, 'keep me', 'Delete for me');
  await bubble(bob.page, 'keep me').waitFor({ state: 'detached' });
  await bob.page.reload();
  await bob.page.locator(`[data-chat="a:${alice.number.slice(1)}"]`).click();
  await bob.page.locator('li.msg[data-kind=deleted]').waitFor();
  assert.equal(await bubble(bob.page, 'keep me').count(), 0);
  assert.equal(await bubble(alice.page, 'keep me').count(), 1);
  for (const p of [alice, bob, carol]) await p.context.close();
});
