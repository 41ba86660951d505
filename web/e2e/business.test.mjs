// Business chats, rendered minimally: a business message with reply
// buttons (sent by a device of the test harness, as a hosted business
// device sends Cloud API messages); tapping a button answers with an
// interactive_reply payload naming the business message.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, phone, register } from './helpers.mjs';

const control = process.env.PARLEY_CONTROL;
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a business message with reply buttons; a tap answers the business', { skip: !control }, async () => {
  const business = phone();
  const r = await fetch(`${control}/business/start?phone=${encodeURIComponent(business)}`, { method: 'POST' });
  assert.ok(r.ok, await r.text());
  const user = await register(browser, phone());
  // The new device publishes its keys just after it connects: retry until it has.
  let s;
  for (let i = 0; i < 50; i++) {
    s = await fetch(`${control}/business/send?to=${user.number.slice(1)}`, { method: 'POST' });
    if (s.ok) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.ok(s.ok, await s.text());

  await user.page.locator(`[data-chat="a:${business.slice(1)}"]`).click();
  const msg = user.page.locator('li.msg[data-kind=business]');
  await msg.getByText('Your order has shipped. How was it?').waitFor();
  await user.page.getByText('This business uses a hosted service').waitFor();
  await msg.getByRole('button', { name: 'Great' }).click();

  let replies = [];
  for (let i = 0; i < 100 && !replies.length; i++) {
    replies = await (await fetch(`${control}/business/replies`)).json();
    if (!replies.length) await new Promise((res) => setTimeout(res, 100));
  }
  assert.deepEqual(replies[0], { type: 'interactive_reply', context: { message_id: 'wamid.test-1' }, button_reply: { id: 'good', title: 'Great' } });
  await user.context.close();
});
