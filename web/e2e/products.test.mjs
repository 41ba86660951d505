// Product cards: a real business creates a catalog and products through
// the Cloud API and sends a product and a product list; the browser
// shows the cards from the details the hosted device added (name,
// description, formatted price, availability, a link to the shop) and
// loads no product image.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openChat, phone, register, send } from './helpers.mjs';

const control = process.env.PARLEY_CONTROL;
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function graph(method, path, body) {
  const r = await fetch(`${control}/cloud/graph?method=${method}&path=${encodeURIComponent(path)}`, { method: 'POST', body: body ? JSON.stringify(body) : '' });
  const text = await r.text();
  assert.equal(r.status, 200, `${method} ${path}: ${text}`);
  return JSON.parse(text);
}

async function cloudWebhook(match) {
  for (let i = 0; i < 200; i++) {
    const w = await (await fetch(`${control}/cloud/webhooks`)).json();
    if (w.messages.find(match)) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.fail('no matching webhook within 20 s');
}

test('a business sends a product and a product list from its catalog; the browser shows the cards', { skip: !control }, async () => {
  const number = '+1555' + String((Date.now() + 4321) % 1e7).padStart(7, '0');
  const c = await fetch(`${control}/cloud/create?phone=${encodeURIComponent(number)}`, { method: 'POST' });
  const ct = await c.text();
  assert.ok(c.ok, ct);
  const biz = JSON.parse(ct);
  const cat = await graph('POST', `/${biz.waba_id}/product_catalogs`, { name: 'Succulents' });
  await graph('POST', `/${cat.id}/products`, { retailer_id: 'aloe-1', name: 'Aloe vera', description: 'Easy care, loves sun',
    price: 1299, currency: 'USD', url: 'https://shrub.example/aloe', image_url: 'https://shrub.example/aloe.jpg' });
  await graph('POST', `/${cat.id}/products`, { retailer_id: 'cactus-1', name: 'Barrel cactus', price: 750, currency: 'USD',
    url: 'https://shrub.example/cactus', availability: 'out of stock' });

  const user = await register(browser, phone());
  const page = user.page;
  const images = [];
  page.on('request', (req) => { if (req.url().includes('aloe.jpg')) images.push(req.url()); });
  await openChat(page, '+' + biz.account);
  await send(page, 'what plants do you have?');
  await cloudWebhook((m) => m.type === 'text' && m.from === user.number.slice(1));

  const to = user.number.slice(1);
  let s = await fetch(`${control}/cloud/send`, { method: 'POST', body: JSON.stringify({ messaging_product: 'whatsapp', to, type: 'interactive',
    interactive: { type: 'product', body: { text: 'Our favourite' }, action: { catalog_id: cat.id, product_retailer_id: 'aloe-1' } } }) });
  assert.equal(s.status, 200, await s.text());
  s = await fetch(`${control}/cloud/send`, { method: 'POST', body: JSON.stringify({ messaging_product: 'whatsapp', to, type: 'interactive',
    interactive: { type: 'product_list', header: { type: 'text', text: 'Spring selection' }, body: { text: 'Pick yours' },
      action: { catalog_id: cat.id, sections: [{ title: 'Green', product_items: [{ product_retailer_id: 'aloe-1' }, { product_retailer_id: 'cactus-1' }] }] } } }) });
  assert.equal(s.status, 200, await s.text());
  // An unknown product is refused with Meta's envelope.
  s = await fetch(`${control}/cloud/send`, { method: 'POST', body: JSON.stringify({ messaging_product: 'whatsapp', to, type: 'interactive',
    interactive: { type: 'product', action: { catalog_id: cat.id, product_retailer_id: 'nope' } } }) });
  assert.equal(s.status, 400);
  assert.match((await s.json()).error.error_data.details, /Product "nope" is not in catalog/);

  const single = page.locator('li.msg[data-kind=business]').filter({ hasText: 'Our favourite' });
  const card = single.getByTestId('product');
  await card.getByText('Aloe vera').waitFor();
  await card.getByText('Easy care, loves sun').waitFor();
  assert.equal(await card.getByTestId('price').textContent(), '$12.99');
  await card.getByText('In stock').waitFor();
  const link = card.getByRole('link', { name: 'View product' });
  assert.equal(await link.getAttribute('href'), 'https://shrub.example/aloe');
  assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');

  const list = page.locator('li.msg[data-kind=business]').filter({ hasText: 'Spring selection' });
  await list.getByRole('region', { name: 'Green' }).waitFor();
  assert.equal(await list.getByTestId('product').count(), 2);
  const cactus = list.getByTestId('product').filter({ hasText: 'Barrel cactus' });
  assert.equal(await cactus.getByTestId('price').textContent(), '$7.50');
  await cactus.getByText('Out of stock').waitFor();
  assert.equal(await page.locator('li.msg[data-kind=business] img').count(), 0);
  assert.deepEqual(images, []);
  await user.context.close();
});
