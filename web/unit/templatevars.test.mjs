// Unit tests of the business app's template variables (src/business/templates.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load } from './load.mjs';

const { templateVars, fillVars } = await load('business/templates.ts');

test('positional variables are listed once, by number', () => {
  assert.deepEqual(templateVars('Hi {{2}}, order {{1}} ships {{2}} {{10}}', false), ['1', '2', '10']);
  assert.deepEqual(templateVars('no variables', false), []);
  assert.deepEqual(templateVars('{{name}} is named', false), []);
});

test('named variables are listed once, in order of appearance', () => {
  assert.deepEqual(templateVars('Hi {{first_name}}, order {{order_id}} for {{first_name}}', true), ['first_name', 'order_id']);
  assert.deepEqual(templateVars('{{1}} is positional, {{Bad}} is not a name', true), []);
});

test('fillVars shows given values and leaves the others', () => {
  const text = 'Hi {{1}}, order {{2}} ({{1}})';
  assert.equal(fillVars(text, ['1', '2'], { 1: 'Ann' }), 'Hi Ann, order {{2}} (Ann)');
  assert.equal(fillVars(text, ['1', '2'], { 1: 'Ann', 2: '{{1}}' }), 'Hi Ann, order {{1}} (Ann)');
});
