// Business chats: messages from a device of the test harness (reply
// buttons, templates, link buttons, lists; as a hosted business device
// sends Cloud API messages) and a real business created through the
// operator API that sends through the Cloud API and receives the taps as
// signed webhooks. Taps answer with interactive_reply payloads naming the
// business message.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openChat, phone, register, send } from './helpers.mjs';

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
  await user.page.getByText('This business uses a secure service from the server operator').waitFor();
  await msg.getByRole('button', { name: 'Great' }).click();

  let replies = [];
  for (let i = 0; i < 100 && !replies.length; i++) {
    replies = await (await fetch(`${control}/business/replies`)).json();
    if (!replies.length) await new Promise((res) => setTimeout(res, 100));
  }
  assert.deepEqual(replies[0], { type: 'interactive_reply', context: { message_id: 'wamid.test-1' }, button_reply: { id: 'good', title: 'Great' } });
  await user.context.close();
});

// sendAs has the harness's fake business send one Cloud API message object.
async function sendAs(to, wamid, message) {
  let s;
  for (let i = 0; i < 50; i++) {
    s = await fetch(`${control}/business/send?to=${to.slice(1)}&wamid=${wamid}`, { method: 'POST', body: JSON.stringify(message) });
    if (s.ok) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.fail(await s.text());
}

test('business templates, link buttons and lists; a list row answers with list_reply', { skip: !control }, async () => {
  const business = phone();
  const r = await fetch(`${control}/business/start?phone=${encodeURIComponent(business)}`, { method: 'POST' });
  assert.ok(r.ok, await r.text());
  const user = await register(browser, phone());
  await sendAs(user.number, 'wamid.tpl-1', { type: 'template', template: { name: 'order_update', language: { code: 'en_US' },
    components: [{ type: 'body', text: 'Hi {{1}}, order {{2}} has shipped.', parameters: [{ type: 'text', text: 'Ada' }, { type: 'text', text: '#1234' }] }] } });
  await sendAs(user.number, 'wamid.tpl-2', { type: 'template', template: { name: 'otp', language: { code: 'de' },
    components: [{ type: 'body', parameters: [{ type: 'text', text: '424242' }] }] } });
  await sendAs(user.number, 'wamid.cta-1', { type: 'interactive', interactive: { type: 'cta_url', body: { text: 'Track your parcel' },
    action: { name: 'cta_url', parameters: { display_text: 'Track', url: 'https://shrub.example/track/1234' } } } });
  await sendAs(user.number, 'wamid.list-1', { type: 'interactive', interactive: { type: 'list', header: { type: 'text', text: 'Delivery' },
    body: { text: 'When should we deliver?' }, footer: { text: 'Pick one' },
    action: { button: 'Choose a slot', sections: [{ title: 'Tomorrow', rows: [
      { id: 'am', title: 'Morning', description: '8–12' }, { id: 'pm', title: 'Afternoon', description: '12–18' }] }] } } });

  const page = user.page;
  await page.locator(`[data-chat="a:${business.slice(1)}"]`).click();
  const msgs = page.locator('li.msg[data-kind=business]');
  await msgs.getByText('Hi Ada, order #1234 has shipped.').waitFor();
  await msgs.getByText('Template message: order_update (en_US)').waitFor();
  await msgs.getByText('Template message: otp (de)').waitFor();
  await msgs.getByText('424242').waitFor();
  const link = msgs.getByRole('link', { name: 'Track' });
  assert.equal(await link.getAttribute('href'), 'https://shrub.example/track/1234');
  assert.equal(await link.getAttribute('target'), '_blank');

  const list = msgs.filter({ hasText: 'When should we deliver?' });
  await list.getByText('Delivery').waitFor();
  await list.getByRole('button', { name: /Choose a slot/ }).click();
  await list.getByRole('option', { name: /Afternoon/ }).click();
  await page.locator('li.msg.mine').getByText('Afternoon').waitFor();

  let replies = [];
  for (let i = 0; i < 100 && !replies.length; i++) {
    replies = await (await fetch(`${control}/business/replies`)).json();
    if (!replies.length) await new Promise((res) => setTimeout(res, 100));
  }
  assert.deepEqual(replies[0], { type: 'interactive_reply', context: { message_id: 'wamid.list-1' },
    list_reply: { id: 'pm', title: 'Afternoon', description: '12–18' } });
  await user.context.close();
});

// cloudWebhook waits for a signed webhook messages[] (or user_preferences[])
// item that match accepts.
async function cloudWebhook(match) {
  for (let i = 0; i < 200; i++) {
    const w = await (await fetch(`${control}/cloud/webhooks`)).json();
    assert.equal(w.bad, 0, 'a webhook delivery had a bad signature');
    const m = w.messages.find(match);
    if (m) return m;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.fail('no matching webhook within 20 s');
}

test('a real business: verified name, hosted notice and profile; reply buttons through the Cloud API; the tap reaches its webhook; image and document by link', { skip: !control }, async () => {
  const number = '+1555' + String(Date.now() % 1e7).padStart(7, '0');
  const c = await fetch(`${control}/cloud/create?phone=${encodeURIComponent(number)}`, { method: 'POST' });
  const ct = await c.text();
  assert.ok(c.ok, ct);
  const biz = JSON.parse(ct);
  const user = await register(browser, phone());
  const page = user.page;

  // The user writes first: that opens the business's 24-hour window.
  await openChat(page, '+' + biz.account);
  await page.getByRole('heading', { name: /Lucky Shrub/ }).waitFor();
  await page.getByRole('img', { name: 'Verified business' }).first().waitFor();
  await page.getByText('This business uses a secure service from the server operator to manage this chat').waitFor();
  await page.getByRole('button', { name: 'Business info' }).click();
  const card = page.getByRole('dialog', { name: 'Business info' });
  for (const s of ['Succulents since 1999', '1 Garden Way, Springfield', 'Plants delivered to your door', 'hello@shrub.example', 'https://shrub.example']) {
    await card.getByText(s).waitFor();
  }
  // The profile picture, uploaded through the Cloud API's resumable upload.
  const pic = card.getByTestId('business-picture');
  await pic.waitFor();
  await page.waitForFunction((e) => e.complete && e.naturalWidth === 8, await pic.elementHandle());
  // The marketing switch reaches the business as a user_preferences webhook.
  await card.getByRole('button', { name: 'Stop marketing messages' }).click();
  await card.getByText('You stopped marketing messages from this business.').waitFor();
  const pref = await cloudWebhook((m) => m.category === 'marketing_messages');
  assert.equal(pref.value, 'stop');
  assert.equal(pref.wa_id, user.number.slice(1));
  await card.getByRole('button', { name: 'Close' }).click();
  await send(page, 'hello shop');
  await cloudWebhook((m) => m.type === 'text' && m.text?.body === 'hello shop' && m.from === user.number.slice(1));

  const s = await fetch(`${control}/cloud/send`, { method: 'POST', body: JSON.stringify({
    messaging_product: 'whatsapp', to: user.number.slice(1), type: 'interactive', interactive: { type: 'button',
      body: { text: 'Your order has shipped. How was it?' },
      action: { buttons: [{ type: 'reply', reply: { id: 'good', title: 'Great' } }, { type: 'reply', reply: { id: 'bad', title: 'Not good' } }] } } }) });
  const st = await s.text();
  assert.equal(s.status, 200, st);
  const wamid = JSON.parse(st).messages[0].id;

  const msg = page.locator('li.msg[data-kind=business]').filter({ hasText: 'Your order has shipped. How was it?' });
  await msg.getByRole('button', { name: 'Not good' }).click();
  const reply = await cloudWebhook((m) => m.type === 'interactive');
  assert.equal(reply.from, user.number.slice(1));
  assert.equal(reply.context?.id, wamid);
  assert.deepEqual(reply.interactive, { type: 'button_reply', button_reply: { id: 'bad', title: 'Not good' } });

  // Media by link: the hosted device encrypts it as an attachment; the
  // browser decrypts it through the attachment path.
  for (const body of [{ type: 'image', image: { link: `${control}/files/shrub.png`, caption: 'Your plant' } },
    { type: 'document', document: { link: `${control}/files/menu.pdf`, filename: 'menu.pdf' } }]) {
    const r = await fetch(`${control}/cloud/send`, { method: 'POST', body: JSON.stringify({ messaging_product: 'whatsapp', to: user.number.slice(1), ...body }) });
    assert.equal(r.status, 200, await r.text());
  }
  const img = page.locator('li.msg[data-kind=business] img[alt="Your plant"]');
  await img.waitFor();
  await page.waitForFunction(() => { const i = document.querySelector('li.msg[data-kind=business] img[alt="Your plant"]'); return i && i.complete && i.naturalWidth === 1; });
  await page.locator('li.msg[data-kind=business]').getByText('Your plant').waitFor();
  const doc = page.locator('li.msg[data-kind=business]').getByRole('button', { name: /menu\.pdf/ });
  const [download] = await Promise.all([page.waitForEvent('download'), doc.click()]);
  assert.equal(download.suggestedFilename(), 'menu.pdf');
  await user.context.close();
});
