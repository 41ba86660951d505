// Key-change notices: when a contact adds a device, the chat says that the
// security code changed, and messages reach the new device too.

import { test, before, after } from 'node:test';
import { launch, phone, register, openChat, send, bubble } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a new device of a contact shows a security-code notice', async () => {
  const alice = await register(browser, phone());
  const bob = await register(browser, phone());
  await openChat(alice.page, bob.number);
  await send(alice.page, 'first');
  await bubble(alice.page, 'first').and(alice.page.locator('[data-status=delivered], [data-status=read]')).waitFor();

  // Bob registers again in another browser: a second device of his account.
  // Its keys are published just after it connects; a message sent before
  // that cannot be encrypted to it (and needs not be), so Alice sends until
  // one is.
  const bob2 = await register(browser, bob.number);
  const notice = alice.page.locator('li.system', { hasText: 'security code' });
  let last = '';
  for (let i = 1; i <= 10 && !(await notice.count()); i++) {
    last = 'message ' + i;
    await send(alice.page, last);
    await notice.waitFor({ timeout: 2000 }).catch(() => {});
  }
  await notice.waitFor();
  await alice.page.locator('li.system', { hasText: 'security code' }).getByRole('button', { name: 'View' }).click();
  await alice.page.getByTestId('safety-number').waitFor();
  for (const p of [bob.page, bob2.page]) {
    await p.locator(`[data-chat="a:${alice.number.slice(1)}"]`).click();
    await bubble(p, last).waitFor();
  }
  for (const p of [alice, bob, bob2]) await p.context.close();
});
