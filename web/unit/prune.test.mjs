// Unit tests of the IndexedDB bounds (src/prune.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load } from './load.mjs';

const { planPrune, caps, CAPS } = await load('prune.ts');

const msgs = (chat, n, from = 0, extra = {}) => Array.from({ length: n }, (_, i) => ({ id: `${chat}-${from + i}`, chat, ts: 1000 + from + i, ...extra }));

test('nothing goes while under every cap', () => {
  assert.deepEqual(planPrune(msgs('a', 5), { perChat: 5, total: 10, blobBytes: 100 }), { drop: [], dropBlobs: [] });
});

test('a chat over its cap loses its oldest messages only', () => {
  const p = planPrune([...msgs('a', 5), ...msgs('b', 2)], { perChat: 3, total: 100, blobBytes: 100 });
  assert.deepEqual(p.drop.sort(), ['a-0', 'a-1']);
});

test('the total cap drops the oldest messages across chats', () => {
  const items = [...msgs('a', 3, 0), ...msgs('b', 3, 10)]; // a is older
  const p = planPrune(items, { perChat: 100, total: 4, blobBytes: 100 });
  assert.deepEqual(p.drop.sort(), ['a-0', 'a-1']);
});

test('among messages of the same millisecond the one that arrived first is the oldest', () => {
  const items = [{ id: 'z', chat: 'a', ts: 5 }, { id: 'b', chat: 'a', ts: 5 }, { id: 'm', chat: 'a', ts: 5 }];
  assert.deepEqual(planPrune(items, { perChat: 2, total: 100, blobBytes: 100 }).drop, ['z']);
});

test('unsent own messages are never dropped', () => {
  const items = [...msgs('a', 3, 0, { keep: true }), ...msgs('a', 3, 10)];
  const p = planPrune(items, { perChat: 2, total: 100, blobBytes: 100 });
  assert.deepEqual(p.drop.sort(), ['a-10']);
});

test('the blob budget drops the oldest cached attachments, keeping their messages', () => {
  const items = msgs('a', 4, 0, { blob: 40 });
  const p = planPrune(items, { perChat: 100, total: 100, blobBytes: 100 });
  assert.deepEqual(p.drop, []);
  assert.deepEqual(p.dropBlobs.sort(), ['a-0', 'a-1']);
});

test('caps come from the defaults or a partial override', () => {
  assert.deepEqual(caps(null), CAPS);
  assert.deepEqual(caps('not json'), CAPS);
  assert.deepEqual(caps('{"perChat":3,"total":-1}'), { ...CAPS, perChat: 3 });
  assert.ok(CAPS.perChat > 0 && CAPS.total >= CAPS.perChat && CAPS.blobBytes > 0);
});
