// Click-to-chat links, short links and the website button: a visitor
// without an account lands on a page that names the business, registers
// and finds the text in the composer; the first message reaches the
// business's webhook with a referral. Signed-in people go straight to the
// chat. Bad links say what is wrong, in English and German.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { base, launch, otp, phone, register } from './helpers.mjs';

const control = process.env.PARLEY_CONTROL;
const adminToken = process.env.PARLEY_ADMIN_TOKEN;
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

// webhookMessage waits for the business's signed webhook of a text.
async function webhookMessage(body) {
  for (let i = 0; i < 200; i++) {
    const w = await (await fetch(`${control}/cloud/webhooks`)).json();
    assert.equal(w.bad, 0, 'badly signed webhooks');
    const m = w.messages.find((x) => x.type === 'text' && x.text?.body === body);
    if (m) return m;
    await sleep(100);
  }
  assert.fail(`no webhook for "${body}"`);
}

async function composerHas(page, text) {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.waitFor();
  for (let i = 0; i < 100 && (await box.inputValue()) !== text; i++) await sleep(50);
  assert.equal(await box.inputValue(), text);
  return box;
}

async function createCloudBusiness() {
  const biz = phone();
  const r = await fetch(`${control}/cloud/create?phone=${encodeURIComponent(biz)}`, { method: 'POST' });
  const body = await r.text();
  assert.ok(r.ok, body);
  return JSON.parse(body).account;
}

test('a click-to-chat link: landing page, registration, prefilled composer, referral in the webhook', { skip: !control }, async () => {
  const account = await createCloudBusiness();
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  const link = `${base}/c/${account}?text=Hello`;
  await page.goto(link);

  const landing = page.getByTestId('landing');
  await landing.getByRole('heading', { name: 'Chat with Lucky Shrub' }).waitFor();
  await landing.getByText('Parley is a messenger with end-to-end encryption').waitFor();
  assert.equal(await page.getByTestId('prefill').textContent(), 'Hello');
  await page.getByRole('button', { name: 'Continue to the chat' }).click();

  const me = phone();
  await page.getByLabel('Phone number').fill(me);
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.getByLabel('Code from the SMS').waitFor(); // the code exists once the form asks for it
  await page.getByLabel('Code from the SMS').fill(await otp(me));
  await page.getByRole('button', { name: 'Log in' }).click();

  const box = await composerHas(page, 'Hello');
  await page.getByRole('heading', { name: /Lucky Shrub/ }).waitFor();
  assert.equal(await page.evaluate(() => location.pathname + location.hash), `/#/a:${account}`);
  await box.press('Enter');
  const first = await webhookMessage('Hello');
  assert.deepEqual(first.referral, { source_url: link, source_type: 'link', body: 'Hello' });

  // Only the first message carries it.
  await box.fill('And one more thing');
  await box.press('Enter');
  const second = await webhookMessage('And one more thing');
  assert.equal(second.referral, undefined);
  await context.close();
});

test('a short link opens the chat directly for a signed-in user; a deleted one has expired', { skip: !control }, async () => {
  const biz = phone();
  const cr = await fetch(`${base}/admin/v1/businesses`, { method: 'POST', headers: { Authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({ name: 'Café Linde', verified_name: 'Café Linde', phone: biz }) });
  const created = await cr.text();
  assert.ok(cr.ok, created);
  const b = JSON.parse(created);
  const graph = (method, path, body) => fetch(`${base}/v24.0/${b.phone_number_id}/message_qrdls${path}`, {
    method, headers: { Authorization: `Bearer ${b.access_token}`, 'Content-Type': 'application/json' }, body: body && JSON.stringify(body) });
  const q = await (await graph('POST', '', { prefilled_message: 'Table 12, please', generate_qr_image: 'SVG' })).json();
  assert.equal(q.deep_link_url, `${base}/message/${q.code}`);
  const img = await fetch(q.qr_image_url);
  assert.equal(img.headers.get('content-type'), 'image/svg+xml');

  const user = await register(browser, phone());
  await user.page.goto(q.deep_link_url + '?src=qr');
  await composerHas(user.page, 'Table 12, please');
  await user.page.getByRole('heading', { name: /Café Linde/ }).waitFor();
  assert.equal(await user.page.getByTestId('landing').count(), 0);

  assert.ok((await graph('DELETE', '/' + q.code)).ok);
  await user.page.goto(q.deep_link_url);
  const err = user.page.getByTestId('link-error');
  await err.getByText('This QR code or short link has expired').waitFor();
  await user.context.close();
});

test('bad links say what is wrong, in English and German', async () => {
  const en = await browser.newContext({ locale: 'en-US' });
  const page = await en.newPage();
  const cases = [
    [`/c/12345?text=hi`, 'does not name a valid phone number ("12345")'],
    [`/send?phone=abc&text=hi`, 'does not name a valid phone number ("abc")'],
    [`/c/4915100000001?text=${'a'.repeat(141)}`, 'is 141 characters long; at most 140 are allowed'],
    [`/message/ZZZZZZZZZZZZZZ`, 'There is no QR code or short link "ZZZZZZZZZZZZZZ"'],
  ];
  for (const [path, want] of cases) {
    await page.goto(base + path);
    const err = page.getByTestId('link-error');
    await err.getByRole('heading', { name: 'This link does not work' }).waitFor();
    assert.match(await err.textContent(), new RegExp(want.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), path);
    assert.equal(await err.getByRole('link', { name: 'Open Parley' }).getAttribute('href'), '/');
  }
  await en.close();
  const de = await browser.newContext({ locale: 'de-DE' });
  const dp = await de.newPage();
  await dp.goto(`${base}/c/12?text=hallo`);
  const err = dp.getByTestId('link-error');
  await err.getByRole('heading', { name: 'Dieser Link funktioniert nicht' }).waitFor();
  assert.match(await err.textContent(), /keine gültige Telefonnummer/);
  await dp.goto(`${base}/c/4915100000001?text=${'ü'.repeat(141)}`);
  await dp.getByTestId('link-error').getByText('höchstens 140').waitFor();
  await de.close();
});

test('the website button of the example page opens the chat; the webhook says website_button', { skip: !control }, async () => {
  const account = await createCloudBusiness();
  const example = (await readFile(new URL('../../examples/website-button/index.html', import.meta.url), 'utf8'))
    .replaceAll('https://chat.example.com', base).replaceAll('15550001234', account);
  const user = await register(browser, phone());
  const site = await user.context.newPage();
  site.on('pageerror', (e) => console.error('site error:', e));
  // The business's website: another origin (browsers let a page load the
  // script from a server in the same or a more public address space, so
  // the test site is on loopback too).
  const shop = createServer((req, res) => { res.setHeader('Content-Type', 'text/html'); res.end(example); });
  await new Promise((res) => shop.listen(0, '127.0.0.1', res));
  const shopURL = `http://localhost:${shop.address().port}`;
  await site.goto(`${shopURL}/plants?session=secret#top`);
  const corner = site.getByRole('link', { name: /Chat with us/ });
  await corner.waitFor();
  await site.getByRole('link', { name: /Ask a gardener/ }).waitFor();
  const href = await corner.getAttribute('href');
  const u = new URL(href);
  assert.equal(u.origin + u.pathname, `${base}/c/${account}`);
  assert.equal(u.searchParams.get('text'), 'Hello Lucky Shrub, I have a question about my order.');
  assert.equal(u.searchParams.get('ref'), 'website-footer');
  assert.equal(u.searchParams.get('src'), 'website_button');
  assert.equal(u.searchParams.get('source_url'), `${shopURL}/plants`); // no query, no fragment
  assert.equal(await corner.getAttribute('target'), '_blank');

  await user.page.close(); // one tab runs the device at a time (navigator.locks)
  const [chat] = await Promise.all([user.context.waitForEvent('page'), corner.click()]);
  const box = await composerHas(chat, 'Hello Lucky Shrub, I have a question about my order.');
  await box.press('Enter');
  const m = await webhookMessage('Hello Lucky Shrub, I have a question about my order.');
  assert.deepEqual(m.referral, { source_url: `${shopURL}/plants`, source_id: 'website-footer', source_type: 'website_button',
    body: 'Hello Lucky Shrub, I have a question about my order.' });
  await user.context.close();
  shop.close();
});
