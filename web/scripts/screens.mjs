// Screenshots of the main screens into docs/screenshots (run by
// web/screenshots.sh against a running node).

import { mkdirSync } from 'node:fs';
import { launch, phone, register, openChat, send, bubble, base } from '../e2e/helpers.mjs';

const out = new URL('../../docs/screenshots/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });
const browser = await launch();
const desktop = { viewport: { width: 1100, height: 700 } };
const mobile = { viewport: { width: 390, height: 760 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };

const login = await (await browser.newContext({ locale: 'en-US', ...desktop })).newPage();
await login.goto(base);
await login.getByLabel('Phone number').waitFor();
await login.screenshot({ path: out + 'login.png' });
await login.getByRole('button', { name: /Link this browser/ }).click();
await login.getByTestId('link-command').waitFor();
await login.screenshot({ path: out + 'link.png' });

const alice = await register(browser, phone(), desktop);
const bob = await register(browser, phone(), mobile);
await openChat(alice.page, bob.number);
await send(alice.page, 'Hi Bob! Are we still on for Friday?');
await bob.page.locator(`[data-chat="a:${alice.number.slice(1)}"]`).click();
await bubble(bob.page, 'Hi Bob! Are we still on for Friday?').waitFor();
await send(bob.page, 'Yes! 7 pm at the usual place.');
await bubble(alice.page, 'Yes! 7 pm at the usual place.').waitFor();
const m = bubble(alice.page, 'Yes! 7 pm at the usual place.');
await m.hover();
await m.getByRole('button', { name: 'React 👍' }).click();
await m.getByRole('button', { name: 'Reply' }).click();
await send(alice.page, 'Great, see you there');
await bubble(alice.page, 'Great, see you there').and(alice.page.locator('[data-status=read]')).waitFor();
await alice.page.mouse.move(0, 0);
await alice.page.screenshot({ path: out + 'chat.png' });
await bob.page.screenshot({ path: out + 'chat-mobile.png' });
await bob.page.getByRole('button', { name: 'Back to chats' }).click();
await bob.page.screenshot({ path: out + 'chats-mobile.png' });
await alice.page.getByRole('button', { name: 'Security code' }).click();
await alice.page.getByTestId('safety-number').waitFor();
await alice.page.screenshot({ path: out + 'safety.png' });

const de = await (await browser.newContext({ locale: 'de-DE', ...mobile })).newPage();
await de.goto(base);
await de.getByLabel('Telefonnummer').waitFor();
await de.screenshot({ path: out + 'login-de-mobile.png' });
await browser.close();
