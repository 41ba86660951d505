// The business app (issue 7): an owner signs in, sets up quick replies,
// a label and the away message, edits the profile and opening hours
// (closed today) and sees the preview; a sandbox customer writes; the
// away message reaches the customer; two agents see the conversation
// live; one assigns it to herself and answers with a quick reply, which
// the customer receives; labels and notes persist after a reload; HTML
// in a customer's message and in a note is shown as text.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, launch, operator, phone, until } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });


async function customerInbox(number) {
  return (await operator('GET', `/admin/v1/customers/${number.slice(1)}/inbox`)).messages;
}


// cloudPost POSTs to the Cloud API as the business biz and returns the
// answer; a failure fails the test.
async function cloudPost(biz, path, body) {
  const r = await fetch(`${base}/v24.0/${path}`, { method: 'POST', headers: { Authorization: `Bearer ${biz.access_token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const out = await r.json();
  assert.ok(r.ok, JSON.stringify(out));
  return out;
}

async function signIn(email, password, opts = {}) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 700 }, ...opts });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(base + '/business/');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('me').waitFor();
  return { context, page };
}

// shot saves a screenshot into docs/screenshots when PARLEY_SCREENS is
// set (PARLEY_SCREENS=1 PARLEY_E2E=e2e/bizapp.test.mjs go test ./web -run TestBrowser).
async function shot(page, name) {
  if (!process.env.PARLEY_SCREENS) return;
  await page.mouse.move(0, 0);
  await page.screenshot({ path: new URL('../../docs/screenshots/' + name, import.meta.url).pathname });
}

const WEEK = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

test('owner sets up the profile; two agents work a customer conversation live', async () => {
  const biz = await operator('POST', '/admin/v1/businesses', { name: 'Lucky Shrub', phone: phone() });
  const pw = 'correct horse battery';
  const stamp = Date.now();
  const ann = `ann${stamp}@shrub.example`, bob = `bob${stamp}@shrub.example`;
  await operator('POST', `/admin/v1/businesses/${biz.waba_id}/agents`, { email: ann, name: 'Ann', role: 'owner', password: pw });
  await operator('POST', `/admin/v1/businesses/${biz.waba_id}/agents`, { email: bob, name: 'Bob', role: 'agent', password: pw });

  // A wrong password is said plainly.
  const probe = await browser.newContext({ locale: 'en-US' });
  const pp = await probe.newPage();
  await pp.goto(base + '/business/');
  await pp.getByLabel('Email').fill(ann);
  await pp.getByLabel('Password').fill('wrong password');
  await pp.getByRole('button', { name: 'Sign in' }).click();
  await pp.getByText('The email, password or code is wrong.').waitFor();
  await probe.close();

  const owner = await signIn(ann, pw);
  const o = owner.page;

  // Settings: a quick reply, a label, the away message with its preview.
  await o.getByRole('link', { name: 'Settings' }).click();
  await o.getByLabel('Shortcut (e.g. /thanks)').fill('/thanks');
  await o.locator('form.inline-form').first().getByLabel('Text ({{name}} is the customer)').fill('Thank you {{name}}, we will call you back.');
  await o.getByRole('button', { name: 'Add' }).first().click();
  await o.getByTestId('quick-replies').getByText('/thanks').waitFor();
  await o.getByRole('button', { name: 'Edit /thanks' }).click();
  assert.equal(await o.locator('form.inline-form').first().getByLabel('Text ({{name}} is the customer)').inputValue(), 'Thank you {{name}}, we will call you back.');
  // Too long: the server's reason is shown, nothing is added.
  await o.getByLabel('Shortcut (e.g. /thanks)').fill('/long');
  await o.locator('form.inline-form').first().getByLabel('Text ({{name}} is the customer)').fill('x'.repeat(4097));
  await o.getByRole('button', { name: 'Add' }).first().click();
  await o.getByRole('alert').getByText('quick reply text must have at most 4096 characters').waitFor();
  assert.equal(await o.getByTestId('quick-replies').getByText('/long').count(), 0);
  await o.getByLabel('Label name').fill('vip');
  await o.getByLabel('Colour').fill('#c2185b');
  await o.getByRole('button', { name: 'Add' }).nth(1).click();
  await o.locator('.rows .chip', { hasText: 'vip' }).waitFor();
  const away = o.getByRole('group', { name: 'Away message outside opening hours' });
  await away.getByLabel('On').check();
  await away.getByLabel('Text ({{name}} is the customer)').fill('We are closed, {{name}}. Back tomorrow!');
  assert.equal(await o.getByTestId('away-preview').textContent(), 'We are closed, +49 151 23456789. Back tomorrow!');
  await o.getByLabel('Delete resolved conversations after (days, 0 = keep)').fill('30');
  await o.getByRole('button', { name: 'Save' }).click();
  await o.getByText('Saved.').waitFor();
  const stored = await o.evaluate(() => fetch('/business/api/settings').then((r) => r.json()));
  assert.equal(stored.retention_days, 30, 'the retention was saved');
  await shot(o, 'business-settings.png');

  // Profile and opening hours: open only tomorrow (UTC), so closed now.
  await o.getByRole('link', { name: 'Profile' }).click();
  await o.getByLabel('About (status text)').fill('Plants and pots');
  await o.getByLabel('Address').fill('Gartenstraße 1, 10115 Berlin');
  await o.getByLabel('Email').fill('hello@shrub.example');
  await o.getByLabel('Website 1').fill('https://shrub.example');
  await o.getByLabel('Category').selectOption('RETAIL');
  await o.getByLabel('Publish opening hours').check();
  await o.getByLabel('Time zone').fill('UTC');
  const tomorrow = WEEK[(new Date().getUTCDay() + 1) % 7];
  const row = o.locator(`tr[data-day=${tomorrow}]`);
  await row.getByRole('button', { name: /Add hours/ }).click();
  await row.locator('input[type=time]').first().fill('09:00');
  await row.locator('input[type=time]').nth(1).fill('17:00');
  await o.getByRole('button', { name: '+ Add a date' }).click();
  await o.getByLabel('Date', { exact: true }).fill('2099-12-24');
  await o.getByLabel('Note (e.g. Christmas Eve)').fill('Christmas Eve');
  await o.getByRole('button', { name: 'Save' }).click();
  await o.getByText('Saved.').waitFor();
  const preview = o.getByTestId('preview');
  await preview.getByText('Plants and pots').waitFor();
  await preview.getByTestId('open-state').getByText(/Closed now — opens/).waitFor();
  await preview.getByText('09:00–17:00').waitFor();
  await preview.getByText('2099-12-24: Closed (Christmas Eve)').waitFor();
  await o.reload();
  assert.equal(await o.getByLabel('Address').inputValue(), 'Gartenstraße 1, 10115 Berlin');
  assert.equal(await o.getByLabel('Time zone').inputValue(), 'UTC');
  // The profile picture: uploaded from the editor, shown (loaded) in the preview.
  const logo = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
  await o.getByLabel(/Profile picture/).setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: logo });
  const pic = o.getByTestId('preview-picture');
  await pic.waitFor();
  await until('the picture to load', () => pic.evaluate((e) => e.complete && e.naturalWidth === 1));
  assert.match(await pic.getAttribute('src'), /^\/v1\/public\/businesses\/\d+\/picture\?v=\d+$/);

  // Both agents on the inbox; the second one in another browser context.
  await o.getByRole('link', { name: 'Inbox' }).click();
  const agent = await signIn(bob, pw);
  const a = agent.page;

  // The customer writes, with HTML in it.
  const customer = phone();
  await customerInbox(customer); // creates the sandbox customer
  const evil = 'Hi <script>window.pwned=1</script><b>bold</b> <img src=x onerror="window.pwned=2">';
  await operator('POST', `/admin/v1/customers/${customer.slice(1)}/messages`, { to: '+' + biz.account, text: evil });

  // Live in both inboxes, without a reload.
  const conv = (p) => p.locator(`a.conv[data-customer="${customer.slice(1)}"]`);
  await conv(o).waitFor({ timeout: 15000 });
  await conv(a).waitFor({ timeout: 15000 });
  await conv(a).locator('.badge').waitFor();
  await a.getByLabel('Unread only').check();
  await conv(a).waitFor();
  await a.getByLabel('Unread only').uncheck();

  // The away message went out (closed now) and reached the customer.
  const awayText = `We are closed, ${customer}. Back tomorrow!`;
  await until('the away message at the customer', async () => (await customerInbox(customer)).some((m) => m.text?.body === awayText));

  // Bob opens the conversation: the message is text, the window is open.
  await conv(a).click();
  const timeline = a.locator('ol.timeline');
  await timeline.locator('li.msg.in p.text', { hasText: '<script>window.pwned=1</script>' }).waitFor();
  assert.equal(await timeline.locator('li.msg.in p.text').first().textContent(), evil);
  assert.equal(await timeline.locator('script, b, img').count(), 0);
  await timeline.locator('li.msg.out p.text', { hasText: awayText }).waitFor();
  await a.getByTestId('window').getByText(/24-hour window: 2\d h \d+ min left|24-hour window: 23 h/).waitFor();

  // Bob assigns it to himself; Ann sees it live.
  await a.getByRole('button', { name: 'Assign to me' }).click();
  await conv(o).getByText('→ Bob').waitFor();

  // Bob answers with the quick reply: /tha, Enter picks it, Enter sends.
  const box = a.getByRole('textbox', { name: 'Reply' });
  await box.fill('/tha');
  await a.getByRole('option', { name: /\/thanks/ }).waitFor();
  await box.press('Enter');
  const reply = `Thank you ${customer}, we will call you back.`;
  await until('the expanded quick reply', async () => (await box.inputValue()) === reply);
  await box.press('Enter');
  await timeline.locator('li.msg.out p.text', { hasText: reply }).waitFor();
  await until('the reply at the customer', async () => (await customerInbox(customer)).some((m) => m.text?.body === reply));
  await timeline.locator('li.msg.out', { hasText: reply }).locator('[data-status=sent], [data-status=delivered], [data-status=read]').waitFor();

  // A reaction and an image; the customer gets both, the image shows in the timeline.
  const inMsg = timeline.locator('li.msg.in').first();
  await inMsg.getByRole('button', { name: 'React to this message' }).click();
  await inMsg.getByRole('button', { name: 'React ❤️' }).click();
  await inMsg.getByLabel('reacted ❤️').waitFor();
  await until('the reaction at the customer', async () => (await customerInbox(customer)).some((m) => m.type === 'reaction' && m.reaction?.emoji === '❤️'));
  // A second reaction replaces the first (as in the messenger).
  await inMsg.getByRole('button', { name: 'React to this message' }).click();
  await inMsg.getByRole('button', { name: 'React 👍' }).click();
  await inMsg.getByLabel('reacted 👍').waitFor();
  assert.equal(await inMsg.getByLabel('reacted ❤️').count(), 0, 'the replaced reaction is gone');
  await until('the new reaction at the customer', async () => (await customerInbox(customer)).some((m) => m.type === 'reaction' && m.reaction?.emoji === '👍'));
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
  await box.fill('Our shop');
  await a.getByLabel(/Attach a file/).setInputFiles({ name: 'shop.png', mimeType: 'image/png', buffer: png });
  const img = timeline.locator('li.msg.out img');
  await img.waitFor();
  await until('the image to load', () => img.evaluate((e) => e.complete && e.naturalWidth === 1));
  await timeline.locator('li.msg.out figcaption', { hasText: 'Our shop' }).waitFor();
  await until('the image at the customer', async () => (await customerInbox(customer)).some((m) => m.type === 'image'));

  // A label and a note with HTML and a mention.
  await a.getByRole('checkbox', { name: 'vip' }).check();
  await conv(o).locator('.chip', { hasText: 'vip' }).waitFor();
  // The composer's modes are ARIA tabs: arrow keys switch them.
  await a.getByRole('tab', { name: 'Reply' }).focus();
  await a.keyboard.press('ArrowRight');
  assert.equal(await a.getByRole('tab', { name: 'Internal note' }).getAttribute('aria-selected'), 'true');
  const noteText = `<script>window.pwned=3</script> @ann${stamp} please call back`;
  await a.getByRole('textbox', { name: 'Internal note' }).fill(noteText);
  await a.getByRole('button', { name: 'Add note' }).click();
  await timeline.locator('li.msg.note p.text', { hasText: noteText }).waitFor();

  // Ann sees the note live in the conversation; after a reload everything is still there.
  await conv(o).click();
  await o.locator('li.msg.note p.text', { hasText: noteText }).waitFor();
  await a.reload();
  await a.locator('li.msg.note p.text', { hasText: noteText }).waitFor();
  await a.locator('li.msg.note').getByText('Note by Bob').waitFor();
  assert.ok(await a.getByRole('checkbox', { name: 'vip' }).isChecked());
  assert.equal(await a.locator('ol.timeline script').count(), 0);
  for (const p of [o, a]) assert.equal(await p.evaluate(() => window.pwned), undefined);
  await shot(a, 'business-inbox.png');
  await a.setViewportSize({ width: 390, height: 760 });
  await shot(a, 'business-conversation-mobile.png');
  await a.setViewportSize({ width: 1100, height: 700 });
  await o.getByRole('link', { name: 'Profile' }).click();
  await o.getByTestId('preview').getByText('Plants and pots').waitFor();
  await shot(o, 'business-profile.png');

  // The draft survives an ended session: sign out elsewhere, type, come back.
  await box.fill('unsent draft');
  await agent.context.clearCookies();
  await a.getByRole('button', { name: 'Send' }).click();
  await a.getByText('Your session has ended.', { exact: false }).waitFor();
  await a.getByLabel('Email').fill(bob);
  await a.getByLabel('Password').fill(pw);
  await a.getByRole('button', { name: 'Sign in' }).click();
  assert.equal(await a.getByRole('textbox', { name: 'Reply' }).inputValue(), 'unsent draft');

  await owner.context.close();
  await agent.context.close();
});

test('outside the 24-hour window the composer offers templates only', async () => {
  const biz = await operator('POST', '/admin/v1/businesses', { name: 'Template Shop', phone: phone() });
  const graph = (path, body) => cloudPost(biz, path, body);
  const tpl = await graph(`${biz.waba_id}/message_templates`, { name: 'order_ready', language: 'en_US', category: 'UTILITY',
    components: [{ type: 'BODY', text: 'Hello, your order {{1}} is ready for pickup.', example: { body_text: [['#41']] } }] });
  assert.equal(tpl.status, 'APPROVED');
  const customer = phone();
  await customerInbox(customer);
  // An integration writes first (a template through the Cloud API): the conversation has no customer message, so no window.
  await graph(`${biz.phone_number_id}/messages`, { messaging_product: 'whatsapp', to: customer.slice(1), type: 'template',
    template: { name: 'order_ready', language: { code: 'en_US' }, components: [{ type: 'body', parameters: [{ type: 'text', text: '#41' }] }] } });
  const email = `tpl${Date.now()}@shop.example`;
  await operator('POST', `/admin/v1/businesses/${biz.waba_id}/agents`, { email, name: 'Tess', role: 'agent', password: 'correct horse battery' });
  const { context, page } = await signIn(email, 'correct horse battery');
  const conv = page.locator(`a.conv[data-customer="${customer.slice(1)}"]`);
  await conv.click({ timeout: 15000 });
  await page.getByTestId('window').getByText('The 24-hour window is closed: only templates can be sent.').waitFor();
  await page.locator('li.msg.out', { hasText: 'Template: order_ready: #41' }).waitFor();
  await page.getByRole('tab', { name: 'Reply' }).click();
  assert.equal(await page.getByRole('textbox', { name: 'Reply' }).count(), 0);
  await page.getByLabel('Template', { exact: true }).selectOption({ label: 'order_ready (en_US)' });
  await page.getByText('Hello, your order {{1}} is ready for pickup.').waitFor();
  await page.getByLabel('Parameter 1').fill('#42');
  await page.getByRole('button', { name: 'Send template' }).click();
  await page.locator('li.msg.out', { hasText: 'Template: order_ready: #42' }).waitFor();
  await until('the template at the customer', async () => (await customerInbox(customer)).some((m) => m.type === 'template' &&
    JSON.stringify(m.template).includes('#42')));
  // A template with named variables and an image header: the picker asks for both and uploads the image.
  const named = await graph(`${biz.waba_id}/message_templates`, { name: 'pickup_named', language: 'en_US', category: 'UTILITY', parameter_format: 'NAMED',
    components: [{ type: 'HEADER', format: 'IMAGE', example: { header_handle: ['4::aW1hZ2U='] } },
      { type: 'BODY', text: 'Hi {{first_name}}, order {{order_id}} is ready.',
        example: { body_text_named_params: [{ param_name: 'first_name', example: 'Ann' }, { param_name: 'order_id', example: '#1' }] } }] });
  assert.equal(named.status, 'APPROVED');
  await page.getByRole('tab', { name: 'Internal note' }).click(); // back to Reply loads the templates again
  await page.getByRole('tab', { name: 'Reply' }).click();
  await page.getByLabel('Template', { exact: true }).selectOption({ label: 'pickup_named (en_US)' });
  await page.getByLabel('Variable first_name').fill('Tom');
  await page.getByLabel('Variable order_id').fill('#43');
  assert.equal(await page.getByTestId('template-preview').locator('.tpl-body').textContent(), 'Hi Tom, order #43 is ready.');
  await page.getByRole('button', { name: 'Send template' }).click();
  await page.getByRole('alert').getByText('This template needs a header image: choose a file.').waitFor();
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
  await page.getByLabel('Header image').setInputFiles({ name: 'parcel.png', mimeType: 'image/png', buffer: png });
  await page.getByRole('button', { name: 'Send template' }).click();
  await page.locator('li.msg.out', { hasText: 'Template: pickup_named: Tom · #43' }).waitFor();
  await until('the named template with its image at the customer', async () => (await customerInbox(customer)).some((m) => {
    if (m.type !== 'template' || m.template?.name !== 'pickup_named') return false;
    const header = m.template.components?.find((c) => c.type === 'header');
    const body = m.template.components?.find((c) => c.type === 'body');
    return header?.parameters?.[0]?.type === 'image' && body?.parameters?.some((p) => p.parameter_name === 'order_id' && p.text === '#43');
  }));
  // Notes are still possible.
  await page.getByRole('tab', { name: 'Internal note' }).click();
  await page.getByRole('textbox', { name: 'Internal note' }).fill('sent the pickup reminder');
  await page.getByRole('button', { name: 'Add note' }).click();
  await page.locator('li.msg.note', { hasText: 'sent the pickup reminder' }).waitFor();
  await context.close();
});

test('product messages of an integration show as cards with the catalog details', async () => {
  const biz = await operator('POST', '/admin/v1/businesses', { name: 'Plant Shop', phone: phone() });
  const graph = (path, body) => cloudPost(biz, path, body);
  const cat = await graph(`${biz.waba_id}/product_catalogs`, { name: 'Succulents' });
  await graph(`${cat.id}/products`, { retailer_id: 'aloe-1', name: 'Aloe vera', description: 'Easy care', price: 1299, currency: 'USD', url: 'https://shrub.example/aloe' });
  await graph(`${cat.id}/products`, { retailer_id: 'cactus-1', name: 'Barrel cactus', price: 750, currency: 'USD', url: 'https://shrub.example/cactus', availability: 'out of stock' });
  const customer = phone();
  await customerInbox(customer);
  await operator('POST', `/admin/v1/customers/${customer.slice(1)}/messages`, { to: '+' + biz.account, text: 'what plants do you have?' });
  await graph(`${biz.phone_number_id}/messages`, { messaging_product: 'whatsapp', to: customer.slice(1), type: 'interactive',
    interactive: { type: 'product_list', header: { type: 'text', text: 'Spring selection' }, body: { text: 'Pick yours' },
      action: { catalog_id: cat.id, sections: [{ title: 'Green', product_items: [{ product_retailer_id: 'aloe-1' }, { product_retailer_id: 'cactus-1' }] }] } } });
  const email = `plants${Date.now()}@shop.example`;
  await operator('POST', `/admin/v1/businesses/${biz.waba_id}/agents`, { email, name: 'Pia', role: 'agent', password: 'correct horse battery' });
  const { context, page } = await signIn(email, 'correct horse battery');
  await page.locator(`a.conv[data-customer="${customer.slice(1)}"]`).click({ timeout: 15000 });
  const card = page.locator('li.msg.out').getByTestId('product');
  await card.first().waitFor();
  assert.equal(await card.count(), 2);
  assert.match(await card.nth(0).textContent(), /Aloe vera.*Easy care.*\$12\.99.*In stock.*View product/);
  assert.match(await card.nth(1).textContent(), /Barrel cactus.*\$7\.50.*Out of stock/);
  await page.locator('li.msg.out').getByRole('region', { name: 'Green' }).waitFor();
  await page.locator('li.msg.out', { hasText: 'Spring selection' }).getByText('Pick yours').waitFor();
  // Another business's catalog is not readable through the inbox API.
  const other = await operator('POST', '/admin/v1/businesses', { name: 'Other Shop', phone: phone() });
  const oc = await cloudPost(other, `${other.waba_id}/product_catalogs`, { name: 'Secret' });
  const st = await page.evaluate((id) => fetch(`/business/api/catalogs/${id}/products?ids=x`).then((r) => r.status), oc.id);
  assert.equal(st, 404, "another business's catalog");
  await context.close();
});

test('concurrent edits by two agents: a clear message, nothing lost', async () => {
  const biz = await operator('POST', '/admin/v1/businesses', { name: 'Busy Shop', phone: phone() });
  const pw = 'correct horse battery';
  const stamp = Date.now();
  await operator('POST', `/admin/v1/businesses/${biz.waba_id}/agents`, { email: `cat${stamp}@shop.example`, name: 'Cat', role: 'owner', password: pw });
  await operator('POST', `/admin/v1/businesses/${biz.waba_id}/agents`, { email: `dan${stamp}@shop.example`, name: 'Dan', role: 'admin', password: pw });
  const cat = await signIn(`cat${stamp}@shop.example`, pw);
  const dan = await signIn(`dan${stamp}@shop.example`, pw);

  // The profile: both open it, Cat saves first, Dan's save is refused with a message and his text stays; saving again applies it.
  for (const p of [cat.page, dan.page]) await p.getByRole('link', { name: 'Profile' }).click();
  await cat.page.getByLabel('About (status text)').fill('Cat was here');
  await cat.page.getByRole('button', { name: 'Save' }).click();
  await cat.page.getByText('Saved.').waitFor();
  await dan.page.getByLabel('About (status text)').fill('Dan was here');
  await dan.page.getByRole('button', { name: 'Save' }).click();
  await dan.page.getByRole('alert').getByText('Someone else changed this in the meantime').waitFor();
  assert.equal(await dan.page.getByLabel('About (status text)').inputValue(), 'Dan was here');
  await dan.page.getByRole('button', { name: 'Save' }).click();
  await dan.page.getByText('Saved.').waitFor();

  // A conversation: Dan's page gets no live updates (its event stream is cut), Cat resolves it, Dan's change of the
  // state is refused with a message and the conversation is reloaded; his second try works.
  await dan.page.route('**/business/api/events', (r) => r.abort());
  for (const p of [cat.page, dan.page]) await p.getByRole('link', { name: 'Inbox' }).click();
  const customer = phone();
  await customerInbox(customer);
  await operator('POST', `/admin/v1/customers/${customer.slice(1)}/messages`, { to: '+' + biz.account, text: 'is my order ready?' });
  const conv = (p) => p.locator(`a.conv[data-customer="${customer.slice(1)}"]`);
  await conv(cat.page).click({ timeout: 15000 });
  await until('the conversation on the page without events', async () => {
    await dan.page.getByRole('tab', { name: 'Pending' }).click();
    await dan.page.getByRole('tab', { name: 'Open' }).click();
    return conv(dan.page).waitFor({ timeout: 1000 }).then(() => true, () => false);
  });
  await conv(dan.page).click();
  // Dan's page holds the conversation as it was before Cat changes it (else it could load Cat's change).
  await until('the conversation loaded on the page without events',
    async () => (await dan.page.getByRole('combobox', { name: 'State' }).inputValue().catch(() => '')) === 'open');
  await cat.page.getByRole('combobox', { name: 'State' }).selectOption('resolved');
  await cat.page.getByRole('tab', { name: 'Resolved' }).click();
  await conv(cat.page).waitFor();
  await dan.page.getByRole('combobox', { name: 'State' }).selectOption('pending');
  await dan.page.getByRole('alert').getByText('Someone else changed this in the meantime').waitFor();
  // The refused page reloads the conversation: it comes back as Cat left it.
  await until('the reloaded state', async () => (await dan.page.getByRole('combobox', { name: 'State' }).inputValue()) === 'resolved');
  await dan.page.getByRole('combobox', { name: 'State' }).selectOption('pending');
  await until('the state saved', async () => (await dan.page.getByRole('alert').count()) === 0 && (await dan.page.getByRole('combobox', { name: 'State' }).inputValue()) === 'pending');
  await cat.context.close();
  await dan.context.close();
});

test('German strings follow the browser language', async () => {
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  await page.goto(base + '/business/');
  await page.getByRole('button', { name: 'Anmelden' }).waitFor();
  await page.getByLabel('Passwort').waitFor();
  await context.close();
});
