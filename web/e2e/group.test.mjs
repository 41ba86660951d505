// A group of three: created in the browser, messages reach everyone.

import { test, before, after } from 'node:test';
import { launch, phone, register, send, bubble } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a group of three exchanges messages', async () => {
  const [a, b, c] = [await register(browser, phone()), await register(browser, phone()), await register(browser, phone())];
  await a.page.getByRole('button', { name: 'New group' }).click();
  await a.page.getByLabel('Group name').fill('Club');
  await a.page.getByLabel('Members (phone numbers, one per line)').fill(`${b.number}\n${c.number}`);
  await a.page.getByRole('button', { name: 'Create' }).click();
  await a.page.getByRole('heading', { name: 'Club' }).waitFor();
  await send(a.page, 'welcome to the club');

  for (const p of [b, c]) {
    await p.page.locator('.chat', { hasText: 'Club' }).click();
    await bubble(p.page, 'welcome to the club').waitFor();
  }
  await send(b.page, 'thanks from B');
  await bubble(a.page, 'thanks from B').locator('.sender').waitFor();
  await bubble(c.page, 'thanks from B').waitFor();
  await send(c.page, 'and from C');
  await bubble(a.page, 'and from C').waitFor();
  await bubble(b.page, 'and from C').waitFor();
  for (const p of [a, b, c]) await p.context.close();
});
