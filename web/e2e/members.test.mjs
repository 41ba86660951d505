// Group member management in the browser: an admin adds a member, makes
// another an admin (who then may manage members too), removes a member
// and dismisses an admin; every member's browser follows.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, phone, register, send, bubble } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('an admin adds, promotes, removes and demotes members', async () => {
  const [a, b, c] = [await register(browser, phone()), await register(browser, phone()), await register(browser, phone())];
  const n = (p) => '+' + p.number.slice(1);
  await a.page.getByRole('button', { name: 'New group' }).click();
  await a.page.getByLabel('Group name').fill('Garden');
  await a.page.getByLabel('Members (phone numbers, one per line)').fill(b.number);
  await a.page.getByRole('button', { name: 'Create' }).click();
  await a.page.getByRole('heading', { name: 'Garden' }).waitFor();

  // Add C from the members dialog.
  await a.page.getByRole('button', { name: 'Info' }).click();
  const dialog = a.page.getByRole('dialog', { name: 'Members' });
  await dialog.getByLabel('Add members').fill(c.number);
  await dialog.getByRole('button', { name: 'Add', exact: true }).click();
  await dialog.locator(`[data-member="${c.number.slice(1)}"]`).waitFor();
  await c.page.locator('.chat', { hasText: 'Garden' }).click();
  await c.page.locator('li.system').getByText(`You`).first().waitFor();
  await send(a.page, 'welcome C');
  await bubble(c.page, 'welcome C').waitFor();

  // B becomes an admin: B's browser shows it and offers member actions.
  assert.equal(await b.page.locator('.chat', { hasText: 'Garden' }).count(), 1);
  await dialog.getByRole('button', { name: `Make admin ${n(b)}` }).click();
  await dialog.locator(`[data-member="${b.number.slice(1)}"]`).getByText('(admin)').waitFor();
  await b.page.locator('.chat', { hasText: 'Garden' }).click();
  await b.page.locator('li.system').getByText(`${n(a)} made You an admin`).waitFor();
  await b.page.getByRole('button', { name: 'Info' }).click();
  const bd = b.page.getByRole('dialog', { name: 'Members' });
  await bd.getByRole('button', { name: `Remove ${n(c)}` }).waitFor();

  // A removes C: C's browser drops the group, the others list two members.
  await dialog.getByRole('button', { name: `Remove ${n(c)}` }).click();
  await dialog.locator(`[data-member="${c.number.slice(1)}"]`).waitFor({ state: 'detached' });
  await c.page.locator('li.system').getByText(`${n(a)} removed You`).waitFor();
  await bd.locator(`[data-member="${c.number.slice(1)}"]`).waitFor({ state: 'detached' });
  await send(a.page, 'only two of us');
  await bubble(b.page, 'only two of us').waitFor();
  assert.equal(await bubble(c.page, 'only two of us').count(), 0);

  // A dismisses B as admin: B's member actions go away.
  await dialog.getByRole('button', { name: `Dismiss as admin ${n(b)}` }).click();
  await b.page.locator('li.system').getByText(`${n(a)} dismissed You as admin`).waitFor();
  await bd.getByRole('button', { name: `Remove ${n(a)}` }).waitFor({ state: 'detached' });
  assert.equal(await bd.locator(`[data-member="${b.number.slice(1)}"]`).getByText('(admin)').count(), 0);
  for (const p of [a, b, c]) await p.context.close();
});
