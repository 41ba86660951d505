// Bad input and failures: a wrong code, a server restart while a message
// is typed and sent; the UI says what happened and recovers without
// losing or duplicating anything.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, phone, otp, base, register, openChat, send, bubble, online } from './helpers.mjs';

const control = process.env.PARLEY_CONTROL;
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a wrong code is explained, and the right one then works', async () => {
  const number = phone();
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(base);
  await page.getByLabel('Phone number').fill('12');
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.getByRole('alert').filter({ hasText: 'not a phone number' }).waitFor();
  await page.getByLabel('Phone number').fill(number);
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.getByLabel('Code from the SMS').waitFor(); // the code was sent
  const right = await otp(number);
  await page.getByLabel('Code from the SMS').fill(right === '000000' ? '111111' : '000000');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').filter({ hasText: 'wrong code' }).waitFor();
  await page.getByLabel('Code from the SMS').fill(right);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Chats' }).waitFor();
  await context.close();
});

test('a server restart: the UI says so, keeps what was sent, and delivers it once', { skip: !control }, async () => {
  const alice = await register(browser, phone());
  const bob = await register(browser, phone());
  await openChat(alice.page, bob.number);
  await send(alice.page, 'before the restart');
  await bob.page.locator(`[data-chat="a:${alice.number.slice(1)}"]`).click();
  await bubble(bob.page, 'before the restart').waitFor();

  await fetch(control + '/stop', { method: 'POST' });
  await alice.page.locator('[data-testid=banner]').filter({ hasText: /No connection|Connecting/ }).waitFor();
  await send(alice.page, 'sent while the server was down');
  await bubble(alice.page, 'sent while the server was down').and(alice.page.locator('[data-status=pending]')).waitFor();
  await alice.page.getByRole('textbox', { name: 'Message' }).fill('a draft while offline');

  await fetch(control + '/start', { method: 'POST' });
  await online(alice.page);
  await online(bob.page);
  await bubble(alice.page, 'sent while the server was down').and(alice.page.locator('[data-status=read]')).waitFor({ timeout: 30000 });
  await bubble(bob.page, 'sent while the server was down').waitFor();
  assert.equal(await bubble(bob.page, 'sent while the server was down').count(), 1);
  assert.equal(await bubble(bob.page, 'before the restart').count(), 1);
  assert.equal(await alice.page.getByRole('textbox', { name: 'Message' }).inputValue(), 'a draft while offline');
  await alice.context.close();
  await bob.context.close();
});
