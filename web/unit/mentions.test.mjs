// Unit tests of the mention matcher (src/mentions.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load } from './load.mjs';

const { buildMatcher, findMentions } = await load('mentions.ts');

const names = [
  { name: 'Linden', account: '4930000001' },
  { name: 'Linden Bakery', account: '4930000002' },
  { name: 'Café Zebra', account: '4930000003' },
  { name: 'Post', account: '4930000004' },
  { name: 'ÖKO Laden', account: '4930000005' },
  { name: 'A&O Markt', account: '4930000006' },
];
const m = buildMatcher(names);
const found = (text, max) => findMentions(text, m, max).map((x) => [x.account, text.slice(x.start, x.end), x.via]);

const cases = [
  ['at_mention', 'Meet at @Linden Bakery at 9', [['4930000002', '@Linden Bakery', 'at']]],
  ['longest_match', 'linden bakery has rolls', [['4930000002', 'linden bakery', 'name']]],
  ['shorter_when_longer_absent', 'Linden is closed', [['4930000001', 'Linden', 'name']]],
  ['case_insensitive', 'LINDEN BAKERY!', [['4930000002', 'LINDEN BAKERY', 'name']]],
  ['whitespace_runs', 'Linden   Bakery', [['4930000002', 'Linden   Bakery', 'name']]],
  ['word_boundary_before', 'Lindenbaum and xLinden', []],
  ['word_boundary_after', 'Lindens are trees', []],
  ['unicode_letters', 'ab zum öko laden', [['4930000005', 'öko laden', 'name']]],
  ['unicode_boundary', 'GrünLinden', []],
  ['accents', 'Coffee at café zebra?', [['4930000003', 'café zebra', 'name']]],
  ['punctuation_in_name', 'Einkauf bei A&O Markt.', [['4930000006', 'A&O Markt', 'name']]],
  ['short_bare_name_ignored', 'I went to the post office', []],
  ['short_name_with_at', 'Ask @post about it', [['4930000004', '@post', 'at']]],
  ['email_not_a_mention', 'write to info@linden.example', []],
  ['domain_not_a_mention', 'see www.linden.example', []],
  ['number_spaces', 'call +49 30 000001 now', [['4930000001', '+49 30 000001', 'number']]],
  ['number_unknown', 'call +49 30 000009 now', []],
  ['number_exact_plus', 'call +4930000002', [['4930000002', '+4930000002', 'number']]],
  ['number_without_plus', 'call 4930000003.', [['4930000003', '4930000003', 'number']]],
  ['number_separators', 'Tel. +49 (30) 00-0003', [['4930000003', '+49 (30) 00-0003', 'number']]],
  ['number_inside_longer', 'id 149300000031', []],
  ['number_after_letters', 'x4930000003', []],
  ['several_deduped', '@Linden and Linden Bakery and +4930000001', [['4930000001', '@Linden', 'at'], ['4930000002', 'Linden Bakery', 'name']]],
  ['empty', '', []],
];
for (const [name, text, want] of cases) {
  test('findMentions ' + name, () => assert.deepEqual(found(text), want));
}

test('findMentions stops at max', () => {
  assert.equal(found('@Linden @Post @Café Zebra', 2).length, 2);
});

test('buildMatcher ignores malformed entries and keeps the first of equal names', () => {
  const mm = buildMatcher([{ name: 'Same', account: '4911111111' }, { name: 'same', account: '4922222222' }, { name: 'Bad', account: 'x' }, null, { name: 7 }]);
  assert.deepEqual(findMentions('@same', mm).map((x) => x.account), ['4911111111']);
  assert.deepEqual(findMentions('@Bad', mm), []);
});
