// Business chats, part two: video, audio and sticker messages sent by a
// real business through the Cloud API (media by link; the hosted device
// encrypts them as attachments, the browser decrypts them through the
// attachment path and plays them), and the tapped reply button shown in
// the chat (also after a reload).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openChat, phone, register, send } from './helpers.mjs';

const control = process.env.PARLEY_CONTROL;
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function cloudWebhook(match) {
  for (let i = 0; i < 200; i++) {
    const w = await (await fetch(`${control}/cloud/webhooks`)).json();
    const m = w.messages.find(match);
    if (m) return m;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.fail('no matching webhook within 20 s');
}

// businessChat creates a business, registers a user and has the user
// write first (which opens the business's 24-hour window).
async function businessChat() {
  const number = '+1555' + String(Date.now() % 1e7).padStart(7, '0');
  const c = await fetch(`${control}/cloud/create?phone=${encodeURIComponent(number)}`, { method: 'POST' });
  const ct = await c.text();
  assert.ok(c.ok, ct);
  const biz = JSON.parse(ct);
  const user = await register(browser, phone());
  await openChat(user.page, '+' + biz.account);
  await user.page.getByRole('heading', { name: /Lucky Shrub/ }).waitFor();
  await send(user.page, 'hello shop');
  await cloudWebhook((m) => m.type === 'text' && m.text?.body === 'hello shop' && m.from === user.number.slice(1));
  return { biz, user };
}

async function cloudSend(user, body) {
  const r = await fetch(`${control}/cloud/send`, { method: 'POST', body: JSON.stringify({ messaging_product: 'whatsapp', to: user.number.slice(1), ...body }) });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return JSON.parse(text).messages[0].id;
}

// storedText is what the browser decrypted for the business message of
// type kind: the attachment bytes it keeps in IndexedDB, as text.
function storedText(page, kind) {
  return page.evaluate((kind) => new Promise((resolve, reject) => {
    const r = indexedDB.open('parley');
    r.onerror = () => reject(r.error);
    r.onsuccess = () => {
      const db = r.result;
      const all = db.transaction('messages').objectStore('messages').getAll();
      all.onsuccess = () => {
        const m = all.result.find((x) => x.kind === 'business' && x.business?.type === kind);
        if (!m?.media) { resolve('no ' + kind + ' message'); return; }
        const g = db.transaction('kv').objectStore('kv').get('blob:' + m.media.id);
        g.onsuccess = () => resolve(g.result ? new TextDecoder().decode(g.result) : 'no blob');
        g.onerror = () => reject(g.error);
      };
      all.onerror = () => reject(all.error);
    };
  }), kind);
}

// blobSource says whether the element plays from an object URL.
function blobSource(page, selector) {
  return page.evaluate((sel) => (document.querySelector(sel)?.getAttribute('src') ?? '').startsWith('blob:'), selector);
}

test('a business sends video, audio and a sticker through the Cloud API; the browser plays them', { skip: !control }, async () => {
  const { user } = await businessChat();
  const page = user.page;
  // The page's Content-Security-Policy must let the players load object URLs.
  await page.evaluate(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
  });
  await cloudSend(user, { type: 'video', video: { link: `${control}/files/clip.mp4`, caption: 'Repotting in 30 s' } });
  await cloudSend(user, { type: 'audio', audio: { link: `${control}/files/tune.mp3` } });
  await cloudSend(user, { type: 'sticker', sticker: { link: `${control}/files/wave.webp` } });

  const biz = 'li.msg[data-kind=business]';
  const video = page.locator(`${biz} [data-media=video] video[controls]`);
  await video.waitFor();
  assert.equal(await video.getAttribute('aria-label'), 'Repotting in 30 s');
  await page.locator(`${biz} [data-media=video] source[type="video/mp4"]`).waitFor({ state: 'attached' });
  assert.ok(await blobSource(page, `${biz} [data-media=video] source`));
  assert.equal(await storedText(page, 'video'), 'parley test file clip.mp4');
  await page.locator(`${biz}`).getByText('Repotting in 30 s').waitFor();

  const audio = page.locator(`${biz} [data-media=audio] audio[controls]`);
  await audio.waitFor({ state: 'attached' });
  assert.equal(await audio.getAttribute('aria-label'), 'tune.mp3');
  await page.locator(`${biz} [data-media=audio] source[type="audio/mpeg"]`).waitFor({ state: 'attached' });
  assert.ok(await blobSource(page, `${biz} [data-media=audio] source`));
  assert.equal(await storedText(page, 'audio'), 'parley test file tune.mp3');

  const sticker = page.locator(`${biz} [data-media=sticker] img.sticker`);
  await sticker.waitFor({ state: 'attached' });
  assert.equal(await sticker.getAttribute('alt'), 'Sticker');
  assert.ok(await blobSource(page, `${biz} [data-media=sticker] img`));
  assert.equal(await storedText(page, 'sticker'), 'parley test file wave.webp');
  // The players tried to load their sources (the bytes are no real media,
  // so they fail to decode, but the policy did not block them).
  await page.waitForFunction(() => [...document.querySelectorAll('li.msg video, li.msg audio')].every((e) => e.networkState !== 0));
  assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
  // Nothing of the three fell back to the document button.
  assert.equal(await page.locator(`${biz} button.doc`).count(), 0);
  await user.context.close();
});

test('the tapped reply button is shown as a reply and marked on the business message, also after a reload', { skip: !control }, async () => {
  const { biz, user } = await businessChat();
  const page = user.page;
  const wamid = await cloudSend(user, { type: 'interactive', interactive: { type: 'button', body: { text: 'Water weekly or monthly?' },
    action: { buttons: [{ type: 'reply', reply: { id: 'wk', title: 'Weekly' } }, { type: 'reply', reply: { id: 'mo', title: 'Monthly' } }] } } });
  const msg = page.locator('li.msg[data-kind=business]').filter({ hasText: 'Water weekly or monthly?' });
  await msg.getByRole('button', { name: 'Monthly' }).click();
  const reply = await cloudWebhook((m) => m.type === 'interactive' && m.context?.id === wamid);
  assert.deepEqual(reply.interactive.button_reply, { id: 'mo', title: 'Monthly' });

  const check = async () => {
    const mine = page.locator('li.msg.mine').filter({ has: page.locator('p.text', { hasText: /^Monthly$/ }) });
    await mine.waitFor();
    await mine.locator('blockquote.quote').getByText('Water weekly or monthly?').waitFor();
    const m = page.locator('li.msg[data-kind=business]').filter({ hasText: 'Water weekly or monthly?' });
    await m.getByTestId('chosen').getByText('You chose “Monthly”').waitFor();
    assert.equal(await m.getByRole('button', { name: 'Monthly' }).getAttribute('aria-pressed'), 'true');
    assert.equal(await m.getByRole('button', { name: 'Weekly' }).getAttribute('aria-pressed'), 'false');
  };
  await check();
  await page.reload();
  await page.getByRole('heading', { name: 'Chats' }).waitFor();
  await page.locator(`[data-chat="a:${biz.account}"]`).click();
  await check();
  await user.context.close();
});
