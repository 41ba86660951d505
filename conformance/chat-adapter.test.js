// @chat-adapter/whatsapp (Vercel Chat SDK) against Parley, with apiUrl set to
// the node. The adapter's handleWebhook receives each recorded webhook as a
// Fetch Request with Parley's exact bytes and signature header; a minimal
// chat instance (in-memory state) collects what the adapter dispatches.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createWhatsAppAdapter } from "@chat-adapter/whatsapp";
import { env, customerOf, customer, UNICODE_TEXT, inboundHook, statusHook, assertWireRules, sleep, mediaSupported, MEDIA_SKIP } from "./harness.js";

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child() { return quiet; } };
const adapter = createWhatsAppAdapter({
  apiUrl: env.base, apiVersion: "v25.0", accessToken: env.token, appSecret: env.appSecret,
  phoneNumberId: env.pn, verifyToken: env.verifyToken, logger: quiet, userName: "lucky-shrub",
});
const to = customerOf("CHAT");
const cust = customer(to);
const threadId = adapter.encodeThreadId({ phoneNumberId: env.pn, userWaId: to });

const got = { messages: [], actions: [], reactions: [] };
const store = new Map();
await adapter.initialize({
  getState: () => ({
    get: async (k) => store.get(k),
    set: async (k, v) => { store.set(k, v); },
    delete: async (k) => { store.delete(k); },
  }),
  processMessage: (_adapter, thread, message) => got.messages.push({ thread, message }),
  processAction: (ev) => got.actions.push(ev),
  processReaction: (ev) => got.reactions.push(ev),
});

// deliver hands a recorded webhook to the adapter as the HTTP request
// Parley made.
async function deliver(h) {
  assertWireRules(h);
  const res = await adapter.handleWebhook(new Request("http://127.0.0.1/webhooks/whatsapp", {
    method: "POST",
    headers: { "content-type": h.content_type, "x-hub-signature-256": h.signature },
    body: h.body,
  }));
  return res.status;
}

async function waitFor(what, list, match) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const hit = list.find(match);
    if (hit) return hit;
    if (Date.now() > deadline) assert.fail(`the adapter dispatched no ${what}`);
    await sleep(20);
  }
}

let inboundId;

test("chat-adapter: handleWebhook answers the verification challenge", async () => {
  const q = `hub.mode=subscribe&hub.verify_token=${env.verifyToken}&hub.challenge=1158201444`;
  const ok = await adapter.handleWebhook(new Request(`http://127.0.0.1/webhooks/whatsapp?${q}`));
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), "1158201444");
});

test("chat-adapter: handleWebhook verifies and dispatches the customer's text", async () => {
  const h = await inboundHook(to, "first text", (m) => m.type === "text");
  assert.equal(await deliver(h), 200);
  const m = await waitFor("message", got.messages, (x) => x.message.text === "hello from chat");
  assert.equal(m.thread, threadId);
  inboundId = m.message.id;
  assert.match(inboundId, /^wamid\./);
  // The same bytes with a signature of another secret are refused.
  assert.equal(await deliver({ ...h, signature: `sha256=${"0".repeat(64)}` }), 401);
});

test("chat-adapter: handleWebhook decodes a non-ASCII customer text", async () => {
  await cust.send(`chat ${UNICODE_TEXT}`);
  const h = await inboundHook(to, "non-ASCII text", (m) => m.text?.body === `chat ${UNICODE_TEXT}`);
  assert.equal(await deliver(h), 200);
  await waitFor("non-ASCII message", got.messages, (x) => x.message.text === `chat ${UNICODE_TEXT}`);
});

test("chat-adapter: postMessage (non-ASCII text) and its delivered status", async () => {
  const res = await adapter.postMessage(threadId, UNICODE_TEXT);
  assert.match(res.id, /^wamid\./);
  assert.equal((await cust.received(res.id)).text.body, UNICODE_TEXT);
  const h = await statusHook(res.id, "delivered");
  assert.equal(await deliver(h), 200);
});

test("chat-adapter: postMessage with a card sends reply buttons; the button reply becomes an action", async () => {
  const card = {
    type: "card", title: "Lieferung", children: [
      { type: "text", content: "Wann dürfen wir liefern?" },
      { type: "actions", children: [{ type: "button", id: "slot", value: "am", label: "Vormittag" }, { type: "button", id: "slot", value: "pm", label: "Nachmittag" }] },
    ],
  };
  const res = await adapter.postMessage(threadId, card);
  const msg = await cust.received(res.id);
  assert.equal(msg.type, "interactive");
  assert.equal(msg.interactive.type, "button");
  const button = msg.interactive.action.buttons[1].reply;
  await cust.replyButton(res.id, button.id);
  const h = await inboundHook(to, "button reply", (m) => m.interactive?.button_reply?.id === button.id);
  assert.equal(await deliver(h), 200);
  const a = await waitFor("action", got.actions, (x) => x.actionId === "slot");
  assert.equal(a.value, "pm");
  assert.equal(a.threadId, threadId);
});

test("chat-adapter: addReaction and removeReaction", async () => {
  assert.ok(inboundId);
  await adapter.addReaction(threadId, inboundId, "👍");
  await adapter.removeReaction(threadId, inboundId, "👍");
});

test("chat-adapter: the customer's reaction webhook becomes a reaction event", async () => {
  const res = await adapter.postMessage(threadId, "Gefällt's?");
  await cust.received(res.id);
  await cust.react(res.id, "😀");
  const h = await inboundHook(to, "reaction", (m) => m.type === "reaction" && m.reaction?.message_id === res.id);
  assert.equal(await deliver(h), 200);
  const r = await waitFor("reaction", got.reactions, (x) => x.messageId === res.id);
  assert.equal(r.added, true);
});

// startTyping is not exercised: it finds the message to answer in the
// Chat SDK's message history, which this minimal chat instance lacks.
test("chat-adapter: markAsRead", async () => {
  assert.ok(inboundId);
  await adapter.markAsRead(threadId, inboundId);
});

test("chat-adapter: sendTemplate", async () => {
  const create = await fetch(`${env.base}/v25.0/${env.waba}/message_templates`, {
    method: "POST",
    headers: { Authorization: `Bearer ${env.token}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      name: "chat_reminder", language: "en_US", category: "UTILITY",
      components: [{ type: "BODY", text: "Reminder: {{1}} is waiting for you at the counter.", example: { body_text: [["Your parcel"]] } }],
    }),
  });
  assert.equal(create.status, 200, await create.clone().text());
  const res = await adapter.sendTemplate(threadId, {
    name: "chat_reminder", language: "en_US", components: [{ type: "body", parameters: [{ type: "text", text: "Ihr Päckchen" }] }],
  });
  assert.match(res.id, /^wamid\./);
  assert.equal((await cust.received(res.id)).type, "template");
});

test("chat-adapter: media download (attachment fetchData)", async (t) => {
  if (!(await mediaSupported())) {
    t.skip(MEDIA_SKIP);
    return;
  }
  if (new URL(env.base).protocol !== "https:") {
    // The adapter downloads media only over https from hosts that do not
    // resolve to internal addresses (its own SSRF guard), which a test
    // node on loopback cannot be. The Graph side of the round trip (upload,
    // GET /{media-id}, download) is covered by the other two libraries.
    t.skip("chat-adapter refuses media URLs that are not https on a public address; the test node is on loopback");
    return;
  }
  // Parley's sandbox customers send text only; upload through the Graph
  // API and let the adapter download what the media id names.
  const form = new FormData();
  form.set("messaging_product", "whatsapp");
  form.set("file", new Blob([Buffer.from("hello media")], { type: "text/plain" }), "hello.txt");
  const up = await fetch(`${env.base}/v25.0/${env.pn}/media`, { method: "POST", headers: { Authorization: `Bearer ${env.token}` }, body: form });
  const { id } = await up.json();
  const data = await adapter.downloadMedia(id);
  assert.equal(Buffer.from(data).toString(), "hello media");
});
