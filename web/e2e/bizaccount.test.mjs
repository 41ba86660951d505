// The business app's account, team and audit log screens (issue 7): the
// owner turns on two-factor sign-in from the QR code's key (the test
// computes the codes, RFC 6238), after which signing in needs a code;
// adds an agent (a weak password and a taken email are refused with
// their reasons); the agent signs in twice and ends one session from the
// other, which is then signed out; the owner promotes the agent (the
// agent gets the audit log), cannot demote the last owner, removes the
// agent (whose session stops working); the audit log lists all of it,
// newest first, in words.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { base, launch, operator, phone, until } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });


// totp is RFC 6238's code (HMAC-SHA1, 6 digits, 30 s) of a base32 secret
// at time step step, written here independently of the server's code.
function totp(secret, step) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/[\s=]/g, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    assert.ok(v >= 0, `not base32: ${c}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const key = Buffer.alloc(Math.floor(bits.length / 8));
  for (let i = 0; i < key.length; i++) key[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = createHmac('sha1', key).update(msg).digest();
  const off = h[h.length - 1] & 15;
  return String((h.readUInt32BE(off) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}
const stepNow = () => Math.floor(Date.now() / 30_000);

async function newPage(opts = {}) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 760 }, ...opts });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  page.on('dialog', (d) => { throw new Error('unexpected dialog: ' + d.message()); });
  await page.goto(base + '/business/');
  return { context, page };
}

async function signIn(page, email, password, code) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  if (code) await page.getByLabel('Code from your authenticator app').fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

// noSideScroll checks that the page fits a phone's width.
async function noSideScroll(page, what) {
  const [sw, w] = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
  assert.ok(sw <= w, `${what}: the page is ${sw} px wide in a ${w} px window`);
}

test('two-factor sign-in, sessions, the team and the audit log', async () => {
  const biz = await operator('POST', '/admin/v1/businesses', { name: 'Lucky Shrub', phone: phone() });
  const stamp = Date.now();
  const ann = `ann${stamp}@shrub.example`, bob = `bob${stamp}@shrub.example`;
  const pw = 'correct horse battery';
  await operator('POST', `/admin/v1/businesses/${biz.waba_id}/agents`, { email: ann, name: 'Ann', role: 'owner', password: pw });

  // The owner turns on two-factor sign-in with the key shown beside the QR code.
  const owner = await newPage();
  const o = owner.page;
  await signIn(o, ann, pw);
  await o.getByTestId('me').waitFor();
  await o.getByRole('link', { name: 'Account' }).click();
  await o.getByTestId('totp-state').getByText('Two-factor sign-in is off').waitFor();
  await o.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
  const qr = o.getByRole('img', { name: 'QR code for your authenticator app' });
  await qr.waitFor();
  assert.match(await qr.getAttribute('src'), /^data:image\/svg\+xml;charset=utf-8,/);
  assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR code image loads');
  const secret = (await o.getByTestId('totp-secret').textContent()).replace(/\s/g, '');
  assert.match(secret, /^[A-Z2-7]{32}$/);
  // A wrong code is refused with a reason.
  const wrong = totp(secret, stepNow()) === '000000' ? '111111' : '000000';
  await o.getByLabel('Code from your authenticator app').fill(wrong);
  await o.getByRole('button', { name: 'Turn on' }).click();
  await o.getByRole('alert').getByText('The code is wrong.', { exact: false }).waitFor();
  const used = stepNow();
  await o.getByLabel('Code from your authenticator app').fill(totp(secret, used));
  await o.getByRole('button', { name: 'Turn on' }).click();
  await o.getByRole('status').getByText('Two-factor sign-in is on.').waitFor();
  await o.getByTestId('totp-state').getByText('Two-factor sign-in is on:', { exact: false }).waitFor();

  // Signed out, the password alone no longer signs in; with a code it does.
  await o.getByRole('button', { name: 'Sign out' }).click();
  await signIn(o, ann, pw);
  await o.getByText('The email, password or code is wrong.').waitFor();
  await signIn(o, ann, pw, totp(secret, Math.max(stepNow(), used + 1)));
  await o.getByTestId('me').waitFor();

  // The team: a weak password and a taken email are refused, then Bob is added.
  await o.getByRole('link', { name: 'Team' }).click();
  const add = o.getByRole('region', { name: 'Add a colleague' });
  await add.getByLabel('Email').fill(bob);
  await add.getByLabel('Name').fill('Bob');
  await add.getByLabel('Role').selectOption('agent');
  await add.getByLabel('Initial password', { exact: false }).fill('short');
  await add.getByRole('button', { name: 'Add' }).click();
  await add.getByRole('alert').getByText('The password is too short: use 10 to 256 characters.').waitFor();
  await add.getByLabel('Email').fill(ann);
  await add.getByLabel('Initial password', { exact: false }).fill(pw);
  await add.getByRole('button', { name: 'Add' }).click();
  await add.getByRole('alert').getByText('This business has an agent with this email already.').waitFor();
  await add.getByLabel('Email').fill(bob);
  await add.getByRole('button', { name: 'Add' }).click();
  await o.getByRole('status').getByText('Bob was added.').waitFor();
  const bobRow = o.locator(`[data-agent="${bob}"]`);
  assert.equal(await bobRow.getByTestId('role').textContent(), 'Agent');
  assert.equal(await bobRow.getByTestId('totp').textContent(), 'off');
  assert.equal(await o.locator(`[data-agent="${ann}"]`).getByTestId('totp').textContent(), 'on');

  // Bob signs in twice: on a phone and in a second browser.
  const phoneCtx = await newPage({ viewport: { width: 390, height: 800 }, isMobile: true });
  const b = phoneCtx.page;
  await signIn(b, bob, pw);
  await b.getByTestId('me').waitFor();
  const other = await newPage();
  await signIn(other.page, bob, pw);
  await other.page.getByTestId('me').waitFor();

  // Bob, an agent, sees the team read-only and no audit log.
  await b.getByRole('link', { name: 'Team' }).click();
  await b.getByText('Only owners and admins can change the team.').waitFor();
  assert.equal(await b.getByRole('heading', { name: 'Add a colleague' }).count(), 0);
  assert.equal(await b.getByRole('button', { name: /^Remove/ }).count(), 0);
  assert.equal(await b.getByRole('link', { name: 'Audit log' }).count(), 0);
  await noSideScroll(b, 'team page');

  // His sessions: two, this one marked; he ends the other one.
  await b.getByRole('link', { name: 'Account' }).click();
  const sessions = b.getByTestId('sessions').locator('li');
  await until('two sessions', async () => (await sessions.count()) === 2);
  assert.equal(await b.getByTestId('sessions').locator('li.current').count(), 1);
  await b.getByTestId('sessions').locator('li.current').getByText('this device').waitFor();
  await noSideScroll(b, 'account page');
  await b.getByTestId('sessions').locator('li:not(.current)').getByRole('button', { name: /^End the session/ }).click();
  await until('one session', async () => (await sessions.count()) === 1);
  // The ended session is signed out on its next request.
  await other.page.getByRole('link', { name: 'Team' }).click();
  await other.page.getByText('Your session has ended.', { exact: false }).waitFor();
  await other.context.close();

  // The owner cannot demote himself (the last owner), and promotes Bob.
  await o.getByLabel('Role of Ann', { exact: true }).selectOption('agent');
  await o.getByRole('button', { name: 'Change the role of Ann' }).click();
  await o.getByRole('alert').getByText('The last owner cannot be demoted or removed: make someone else owner first.').waitFor();
  await o.getByLabel('Role of Bob', { exact: true }).selectOption('admin');
  await o.getByRole('button', { name: 'Change the role of Bob' }).click();
  await o.getByRole('status').getByText('The role of Bob is now Admin.').waitFor();
  assert.equal(await bobRow.getByTestId('role').textContent(), 'Admin');
  assert.equal(await o.locator(`[data-agent="${ann}"]`).getByTestId('role').textContent(), 'Owner');
  // The new role applies to Bob's next request: he gets the audit log.
  await b.reload();
  await b.getByRole('link', { name: 'Audit log' }).waitFor();

  // The owner removes Bob, by keyboard, after confirming.
  await o.getByRole('button', { name: 'Remove Bob' }).focus();
  await o.keyboard.press('Enter');
  const confirm = o.getByRole('group', { name: 'Remove Bob? Their sessions end at once.' });
  await confirm.waitFor();
  assert.equal(await o.evaluate(() => document.activeElement?.textContent), 'Remove', 'the confirmation has the focus');
  await o.keyboard.press('Enter');
  await o.getByRole('status').getByText('Bob was removed.').waitFor();
  await bobRow.waitFor({ state: 'detached' }); // the list reloads after the message
  // Bob's session stops working.
  await b.getByRole('link', { name: 'Team' }).click();
  await b.getByText('Your session has ended.', { exact: false }).waitFor();
  await phoneCtx.context.close();

  // The audit log, newest first, in words.
  await o.getByRole('link', { name: 'Audit log' }).click();
  const rows = o.getByTestId('audit').locator('tbody tr');
  await rows.first().waitFor();
  const actions = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.action));
  assert.deepEqual(actions, [
    'team.remove', 'team.role', 'session.revoke', 'session.login', 'session.login', 'team.add',
    'session.login', 'session.revoke', 'agent.totp_on', 'session.login', 'agent.add',
  ]);
  const cells = async (i) => (await rows.nth(i).locator('td').allTextContents());
  const [, who0, what0, target0, detail0] = await cells(0);
  assert.deepEqual([who0, what0, detail0], [`Ann (${ann})`, 'Removed a colleague', bob]);
  assert.match(target0, /^[0-9a-f]{16}$/, 'a removed agent is shown by id');
  const [, who1, what1, , detail1] = await cells(1);
  assert.deepEqual([who1, what1, detail1], [`Ann (${ann})`, 'Changed a role', `${bob} agent -> admin`]);
  const [, who2, what2] = await cells(2);
  assert.match(who2, /^Removed agent [0-9a-f]{16}$/);
  assert.equal(what2, 'Ended a session');
  const [, who8, what8, target8] = await cells(8);
  assert.deepEqual([who8, what8, target8], [`Ann (${ann})`, 'Turned on two-factor sign-in', `Ann (${ann})`]);
  const [, who10, what10] = await cells(10);
  assert.deepEqual([who10, what10], ['Operator', 'Added an agent (operator)']);
  const times = await rows.locator('time').evaluateAll((ts) => ts.map((t) => Date.parse(t.dateTime)));
  assert.deepEqual(times, [...times].sort((x, y) => y - x), 'newest first');
  await o.getByText('That is the whole log.').waitFor();
  // On a phone the log's rows stack instead of scrolling sideways.
  await o.setViewportSize({ width: 390, height: 800 });
  await noSideScroll(o, 'audit log');
  assert.equal(await rows.first().locator('td').first().evaluate((td) => getComputedStyle(td, '::before').content), '"When"');
  await o.setViewportSize({ width: 1100, height: 760 });

  // Ending this session from the account page signs out.
  await o.getByRole('link', { name: 'Account' }).click();
  await o.getByTestId('sessions').locator('li.current').getByRole('button').click();
  await o.getByRole('button', { name: 'Sign in' }).waitFor();
  await owner.context.close();
});

// The German strings of the new screens.
test('the account screen in German', async () => {
  const biz = await operator('POST', '/admin/v1/businesses', { name: 'Glückspilz', phone: phone() });
  const email = `eva${Date.now()}@pilz.example`;
  await operator('POST', `/admin/v1/businesses/${biz.waba_id}/agents`, { email, name: 'Eva', role: 'admin', password: 'richtig pferd batterie' });
  const { context, page } = await newPage({ locale: 'de-DE' });
  await page.getByLabel('E-Mail').fill(email);
  await page.getByLabel('Passwort').fill('richtig pferd batterie');
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await page.getByRole('link', { name: 'Konto' }).click();
  await page.getByRole('heading', { name: 'Zwei-Faktor-Anmeldung' }).waitFor();
  await page.getByLabel('Aktuelles Passwort').fill('falsches passwort');
  await page.getByLabel('Neues Passwort', { exact: true }).fill('ein neues langes passwort');
  await page.getByLabel('Neues Passwort wiederholen').fill('ein neues langes passwort');
  await page.getByRole('button', { name: 'Passwort ändern' }).click();
  await page.getByRole('alert').getByText('Das Passwort ist falsch.').waitFor();
  // Still signed in (a wrong password is not an ended session).
  await page.getByLabel('Aktuelles Passwort').fill('richtig pferd batterie');
  await page.getByRole('button', { name: 'Passwort ändern' }).click();
  await page.getByText('Passwort geändert. Ihre anderen Sitzungen wurden abgemeldet.').waitFor();
  await page.getByRole('link', { name: 'Protokoll' }).click();
  await page.getByTestId('audit').locator('tbody tr').first().getByText('Passwort geändert').waitFor();
  await context.close();
});


// One email may be an agent of several businesses (an agency answering for
// its clients): when the password fits more than one, the sign-in asks
// which, and the inbox that opens is the chosen business's.
test('an agent of two businesses chooses one at sign-in', async () => {
  const stamp = Date.now();
  const shrub = await operator('POST', '/admin/v1/businesses', { name: `Shrub ${stamp}`, phone: phone() });
  const bakery = await operator('POST', '/admin/v1/businesses', { name: `Bakery ${stamp}`, phone: phone() });
  const sam = `sam${stamp}@agency.example`, pw = 'correct horse battery';
  for (const b of [shrub, bakery]) {
    await operator('POST', `/admin/v1/businesses/${b.waba_id}/agents`, { email: sam, name: 'Sam', role: 'admin', password: pw });
  }
  const { context, page } = await newPage();
  await signIn(page, sam, pw);
  const choose = page.getByRole('region', { name: 'You are an agent of several businesses. Which one do you want to work for?' });
  await choose.waitFor();
  assert.equal(await choose.getByRole('button', { name: `Shrub ${stamp}` }).count(), 1);
  await choose.getByRole('button', { name: `Bakery ${stamp}` }).click();
  await page.getByTestId('me').waitFor();
  // The profile screen shows the chosen business's number.
  const me = await page.evaluate(async () => (await (await fetch('/business/api/me')).json()).agent);
  assert.equal(me.business, bakery.waba_id);
  await context.close();
});
