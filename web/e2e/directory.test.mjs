// The business directory and mention-to-chat: a business listed through
// the Cloud API extension (opening hours on its profile, the operator's
// badge) is found by name, category and "near me", shows "Open now" and
// its hours, and a chat starts from its profile; a personal message
// naming "@Linden Bakery …" shows a card that opens the business chat,
// matched on the device against the names list.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, bubble, launch, openChat, phone, register, send } from './helpers.mjs';

const admin = process.env.PARLEY_ADMIN_TOKEN;
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const allDay = [{ open: '00:00', close: '24:00' }];
const alwaysOpen = { time_zone: 'Europe/Berlin', weekly: Object.fromEntries(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((d) => [d, allDay])) };

async function call(method, path, token, body) {
  const r = await fetch(base + path, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: body && JSON.stringify(body) });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
  return JSON.parse(text);
}

test('directory search with open now and near me; profile with hours starts the chat; a mention card opens the business chat', async () => {
  const number = '+1555' + String(Date.now() % 1e7).padStart(7, '0');
  const name = 'Linden Bakery ' + (Date.now() % 1e6).toString(36); // unique, so that the test can run again on one node
  const biz = await call('POST', '/admin/v1/businesses', admin, { name: 'Linden', phone: number, verified_name: name });
  await call('POST', `/v24.0/${biz.phone_number_id}/whatsapp_business_profile`, biz.access_token,
    { messaging_product: 'whatsapp', about: 'Fresh bread every day', opening_hours: alwaysOpen });
  await call('POST', `/v24.0/${biz.phone_number_id}/directory_listing`, biz.access_token,
    { listed: true, category: 'GROCERY', latitude: 52.5170, longitude: 13.3889, address: 'Unter den Linden 1', city: 'Berlin' });
  await call('PUT', `/admin/v1/numbers/${biz.phone_number_id}/verified`, admin, { verified: true });

  const alice = await register(browser, phone(), { geolocation: { latitude: 52.5200, longitude: 13.4050 }, permissions: ['geolocation'] });
  const page = alice.page;
  const requests = [];
  page.on('request', (r) => requests.push(r.url() + ' ' + (r.postData() ?? '')));

  // Search by name: verified badge and "Open now".
  await page.getByRole('button', { name: 'Directory' }).click();
  await page.getByRole('heading', { name: 'Business directory' }).waitFor();
  await page.getByLabel('Search businesses').fill('linden');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  const result = page.locator(`.dir-result[data-account="${biz.account}"]`);
  await result.getByText('Open now').waitFor();
  await result.getByRole('img', { name: 'Verified by the operator' }).waitFor();
  await result.getByText('Grocery · Berlin').waitFor();

  // Category filter and near me.
  await page.getByLabel('Category').selectOption('HOTEL');
  await page.getByText('No businesses found.').waitFor();
  await page.getByLabel('Category').selectOption('GROCERY');
  await result.waitFor();
  await page.getByLabel('Near me').check();
  await result.getByText(/^1(\.\d)? km away$/).waitFor();

  // The profile: hours per weekday, open now, and the chat button.
  await result.click();
  await page.getByRole('heading', { name }).waitFor();
  await page.getByTestId('open-state').getByText('Open now').waitFor();
  const hours = page.locator('.hours');
  await hours.getByRole('row', { name: /Monday 00:00–24:00/ }).waitFor();
  await hours.getByText('Times in Europe/Berlin').waitFor();
  await page.getByText('Fresh bread every day').waitFor();
  await page.getByRole('button', { name: 'Chat with ' + name }).click();
  await page.waitForFunction((acct) => location.hash === '#/a:' + acct, biz.account);
  await page.getByRole('textbox', { name: 'Message' }).waitFor();

  // A personal chat names the business: the card opens its chat.
  const bob = await register(browser, phone());
  const text = `Shall we get bread at @${name} later?`;
  await openChat(bob.page, alice.number);
  await send(bob.page, text);
  await bob.page.locator('li.msg.mine').getByText(text).waitFor();
  // The sender sees the card too.
  await bubble(bob.page, text).getByRole('button', { name: 'Chat with ' + name }).waitFor();

  await openChat(page, bob.number);
  const msg = bubble(page, text);
  await msg.waitFor();
  await msg.getByRole('button', { name: 'Chat with ' + name }).click();
  await page.waitForFunction((acct) => location.hash === '#/a:' + acct, biz.account);
  await page.getByRole('heading', { name }).waitFor();

  // Matching happened on the device: no request carried the message.
  assert.ok(!requests.some((r) => r.includes('bread at')), 'a request carried the message text');
  assert.ok(requests.some((r) => r.includes('/v1/directory/names')), 'the names list was not fetched');
  await alice.context.close();
  await bob.context.close();
});
