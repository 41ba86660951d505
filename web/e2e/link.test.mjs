// Linking: the browser shows a code (and QR code) that a logged-in device
// approves (here through the client API, as `parley chat link CODE` does);
// the browser becomes a device of that account with keys of its own.

import { test, before, after } from 'node:test';
import { launch, phone, otp, base, register, openChat, send, bubble, online, keysPublished } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function api(path, body, token) {
  const r = await fetch(base + path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: 'Bearer ' + token } : {}) }, body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

test('a browser is linked as a device of an existing account, receives its messages, and is told when unlinked', async () => {
  // The account's first device registers without a browser.
  const number = phone();
  await api('/v1/register/code', { phone: number });
  const first = await api('/v1/register/verify', { phone: number, code: await otp(number), device_name: 'terminal', platform: 'cli' });

  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(base);
  await page.getByRole('button', { name: /Link this browser/ }).click();
  const cmd = await page.getByTestId('link-command').textContent();
  const code = cmd.replace('parley chat link ', '').trim();
  await page.locator('.qr svg').waitFor();
  await api('/v1/link/approve', { code, device_name: 'browser' }, first.token);
  await page.getByRole('heading', { name: 'Chats' }).waitFor();
  await online(page);
  await keysPublished(page);

  const bob = await register(browser, phone());
  await openChat(bob.page, number);
  await send(bob.page, 'to all your devices');
  await page.locator(`[data-chat="a:${bob.number.slice(1)}"]`).click();
  await bubble(page, 'to all your devices').waitFor();

  // The first device unlinks the browser: it says so in plain words and
  // offers to log in again.
  const devs = await (await fetch(base + '/v1/devices', { headers: { Authorization: 'Bearer ' + first.token } })).json();
  const browserDevice = (devs.devices ?? devs).find((d) => d.id !== first.device);
  const del = await fetch(`${base}/v1/devices/${browserDevice.id}`, { method: 'DELETE', headers: { Authorization: 'Bearer ' + first.token } });
  if (!del.ok) throw new Error(`unlink: ${del.status}`);
  await page.getByRole('alert').filter({ hasText: 'this device was unlinked' }).waitFor();
  await page.getByRole('button', { name: 'Log in again' }).click();
  await page.getByLabel('Phone number').waitFor();
  await context.close();
  await bob.context.close();
});
