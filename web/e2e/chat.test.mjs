// Two people register in two browser contexts, chat, and see the ticks of
// their messages turn to read; replies, reactions, typing, presence,
// history after a reload, and the safety number.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, phone, register, openChat, send, bubble } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('two browsers register, exchange messages and see ticks turn to read', async () => {
  const alice = await register(browser, phone());
  const bob = await register(browser, phone());

  await openChat(alice.page, bob.number);
  await send(alice.page, 'hello Bob');
  const sent = bubble(alice.page, 'hello Bob');
  // Bob's chat is not open: the message is at most delivered, and unread there.
  await sent.and(alice.page.locator('[data-status=delivered], [data-status=sent]')).waitFor();
  const bobChat = bob.page.locator(`[data-chat="a:${alice.number.slice(1)}"]`);
  await bobChat.locator('.badge', { hasText: '1' }).waitFor();
  await sent.and(alice.page.locator('[data-status=delivered]')).waitFor();

  // Bob opens the chat: read receipts go out, Alice's ticks turn to read.
  await bobChat.click();
  await bubble(bob.page, 'hello Bob').waitFor();
  await sent.and(alice.page.locator('[data-status=read]')).waitFor();
  assert.equal(await bobChat.locator('.badge').count(), 0);

  // Typing shows in Alice's header while Bob types; presence says online.
  await alice.page.getByTestId('chat-status').filter({ hasText: /online|typing/ }).waitFor();
  await bob.page.getByRole('textbox', { name: 'Message' }).pressSequentially('hi', { delay: 20 });
  await alice.page.getByTestId('chat-status').filter({ hasText: 'typing' }).waitFor();

  // Bob replies quoting Alice's message, and reacts to it.
  const msg = bubble(bob.page, 'hello Bob');
  await msg.hover();
  await msg.getByRole('button', { name: 'Reply' }).click();
  await bob.page.getByRole('textbox', { name: 'Message' }).fill('hi Alice');
  await bob.page.keyboard.press('Enter');
  const reply = bubble(alice.page, 'hi Alice');
  await reply.locator('blockquote', { hasText: 'hello Bob' }).waitFor();
  await msg.hover();
  await msg.getByRole('button', { name: 'React 👍' }).click();
  await sent.locator('.reactions', { hasText: '👍' }).waitFor();

  // A draft survives a reload, and so does the history (IndexedDB).
  await alice.page.getByRole('textbox', { name: 'Message' }).fill('unsent draft');
  await alice.page.reload();
  await alice.page.getByRole('heading', { name: 'Chats' }).waitFor();
  await alice.page.locator(`[data-chat="a:${bob.number.slice(1)}"]`).click();
  await bubble(alice.page, 'hello Bob').and(alice.page.locator('[data-status=read]')).waitFor();
  await bubble(alice.page, 'hi Alice').waitFor();
  assert.equal(await alice.page.getByRole('textbox', { name: 'Message' }).inputValue(), 'unsent draft');
  assert.equal(await bubble(alice.page, 'hi Alice').count(), 1, 'no duplicates after a reload');

  // Both sides see the same safety number.
  await alice.page.getByRole('button', { name: 'Security code' }).click();
  await bob.page.getByRole('button', { name: 'Security code' }).click();
  const a = await alice.page.getByTestId('safety-number').textContent();
  const b = await bob.page.getByTestId('safety-number').textContent();
  assert.match(a, /^[\d\s]{60,}$/);
  assert.equal(a, b);

  // Search finds a message.
  await bob.page.getByRole('searchbox').fill('hello');
  await bob.page.locator('.results .hit', { hasText: 'hello Bob' }).waitFor();

  await alice.context.close();
  await bob.context.close();
});
