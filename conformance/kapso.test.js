// @kapso/whatsapp-cloud-api against Parley: sends of every type, templates,
// business profile, mark-as-read, media, error mapping, and webhooks checked
// with the library's own verifySignature and normalizeWebhook.
import { test } from "node:test";
import assert from "node:assert/strict";
import { WhatsAppClient, GraphApiError } from "@kapso/whatsapp-cloud-api";
import { verifySignature, normalizeWebhook } from "@kapso/whatsapp-cloud-api/server";
import {
  env, customerOf, customer, UNICODE_TEXT, inboundHook, statusHook, waitHook, assertWireRules,
  mediaSupported, MEDIA_SKIP, PNG,
} from "./harness.js";

const client = new WhatsAppClient({ baseUrl: env.base, accessToken: env.token, graphVersion: "v23.0" });
const to = customerOf("KAPSO");
const cust = customer(to);
const phoneNumberId = env.pn;

function wamid(res) {
  assert.equal(res.messagingProduct ?? res.messaging_product, "whatsapp");
  const id = res.messages?.[0]?.id;
  assert.match(id, /^wamid\./, JSON.stringify(res));
  return id;
}

// verified runs a recorded webhook through the library: signature first,
// then normalization.
function verified(h) {
  assertWireRules(h);
  assert.equal(verifySignature({ appSecret: env.appSecret, rawBody: Buffer.from(h.body), signatureHeader: h.signature }), true,
    "kapso verifySignature rejected Parley's signature");
  assert.equal(verifySignature({ appSecret: "wrong", rawBody: Buffer.from(h.body), signatureHeader: h.signature }), false);
  return normalizeWebhook(JSON.parse(h.body));
}

let inboundId;

test("kapso: webhook of the customer's first message verifies and normalizes", async () => {
  const h = await inboundHook(to, "first text", (m) => m.type === "text");
  const n = verified(h);
  assert.equal(n.object, "whatsapp_business_account");
  assert.equal(n.phoneNumberId, phoneNumberId);
  const m = n.messages.find((x) => x.from === to);
  assert.equal(m.type, "text");
  assert.equal(m.text.body, "hello from kapso");
  inboundId = m.id;
});

test("kapso: messages.sendText with non-ASCII text reaches the customer", async () => {
  const id = wamid(await client.messages.sendText({ phoneNumberId, to, body: UNICODE_TEXT }));
  const got = await cust.received(id);
  assert.equal(got.type, "text");
  assert.equal(got.text.body, UNICODE_TEXT);
  const n = verified(await statusHook(id, "delivered"));
  const st = n.statuses.find((s) => s.id === id && s.status === "delivered");
  assert.equal(st.recipientId, to);
});

test("kapso: webhook with a non-ASCII customer text verifies and decodes", async () => {
  await cust.send(`kapso ${UNICODE_TEXT}`);
  const h = await inboundHook(to, "non-ASCII text", (m) => m.text?.body === `kapso ${UNICODE_TEXT}`);
  assert.match(h.body, /\\u00fc/, "non-ASCII must be \\u-escaped on the wire");
  const n = verified(h);
  assert.equal(n.messages[0].text.body, `kapso ${UNICODE_TEXT}`);
});

test("kapso: messages.sendReaction", async () => {
  assert.ok(inboundId, "needs the customer's message id");
  const id = wamid(await client.messages.sendReaction({ phoneNumberId, to, reaction: { messageId: inboundId, emoji: "👍" } }));
  const got = await cust.received(id);
  assert.equal(got.type, "reaction");
  assert.equal(got.reaction.emoji, "👍");
});

test("kapso: messages.sendInteractiveButtons and the customer's button reply webhook", async () => {
  const id = wamid(await client.messages.sendInteractiveButtons({
    phoneNumberId, to, bodyText: "Lieferung bestätigen?", footerText: "Lucky Shrub",
    buttons: [{ id: "yes", title: "Ja ✔" }, { id: "no", title: "Nein" }],
  }));
  const got = await cust.received(id);
  assert.equal(got.interactive.type, "button");
  await cust.replyButton(id, "yes");
  const n = verified(await inboundHook(to, "button reply", (m) => m.interactive?.type === "button_reply" && m.context?.id === id));
  const m = n.messages.find((x) => x.interactive);
  assert.equal(m.interactive.buttonReply.id, "yes");
  assert.equal(m.interactive.buttonReply.title, "Ja ✔");
  assert.equal(m.context.id, id);
});

test("kapso: messages.sendInteractiveList and the customer's list reply webhook", async () => {
  const id = wamid(await client.messages.sendInteractiveList({
    phoneNumberId, to, bodyText: "Pick a slot", buttonText: "Slots",
    sections: [{ title: "Tomorrow", rows: [{ id: "am", title: "Morning", description: "8–12" }, { id: "pm", title: "Afternoon" }] }],
  }));
  const got = await cust.received(id);
  assert.equal(got.interactive.type, "list");
  await cust.replyList(id, "pm");
  const n = verified(await inboundHook(to, "list reply", (m) => m.interactive?.type === "list_reply" && m.context?.id === id));
  assert.equal(n.messages.find((x) => x.interactive).interactive.listReply.id, "pm");
});

test("kapso: messages.sendLocation and sendContacts", async () => {
  const loc = wamid(await client.messages.sendLocation({
    phoneNumberId, to, location: { latitude: 50.9375, longitude: 6.9603, name: "Kölner Dom", address: "Domkloster 4" },
  }));
  assert.equal((await cust.received(loc)).location.name, "Kölner Dom");
  const con = wamid(await client.messages.sendContacts({
    phoneNumberId, to,
    contacts: [{ name: { formattedName: "Jürgen Müller", firstName: "Jürgen" }, phones: [{ phone: "+49 221 000000", type: "WORK" }] }],
  }));
  const got = await cust.received(con);
  assert.equal(got.contacts[0].name.formatted_name, "Jürgen Müller");
});

test("kapso: messages.markRead answers success and the customer's read receipt arrives as a status webhook", async () => {
  assert.ok(inboundId);
  const res = await client.messages.markRead({ phoneNumberId, messageId: inboundId, typingIndicator: { type: "text" } });
  assert.equal(res.success, true);
  const id = wamid(await client.messages.sendText({ phoneNumberId, to, body: "read me" }));
  await cust.received(id);
  await cust.read(id);
  const n = verified(await statusHook(id, "read"));
  assert.ok(n.statuses.some((s) => s.id === id && s.status === "read"));
});

test("kapso: templates.create, list, sendTemplate, delete", async () => {
  const created = await client.templates.create({
    businessAccountId: env.waba, name: "kapso_shipping", language: "de", category: "UTILITY",
    components: [{ type: "BODY", text: "Hallo {{1}}, Ihre Bestellung {{2}} ist unterwegs.", example: { body_text: [["Jürgen", "#42"]] } }],
  });
  assert.equal(created.status, "APPROVED");
  assert.match(created.id, /^\d+$/);
  const hook = await waitHook("template status update", (p) => p.entry?.[0]?.changes?.[0]?.field === "message_template_status_update" &&
    p.entry[0].changes[0].value.message_template_name === "kapso_shipping");
  const ev = verified(hook).raw.messageTemplateStatusUpdate[0];
  assert.equal(ev.event, "APPROVED");
  assert.equal(String(ev.messageTemplateId), created.id);
  const list = await client.templates.list({ businessAccountId: env.waba, name: "kapso_shipping", limit: 10 });
  assert.ok(list.data.some((t) => t.name === "kapso_shipping" && t.language === "de" && t.status === "APPROVED"), JSON.stringify(list));
  const id = wamid(await client.messages.sendTemplate({
    phoneNumberId, to,
    template: { name: "kapso_shipping", language: { code: "de" }, components: [{ type: "body", parameters: [{ type: "text", text: "Jürgen" }, { type: "text", text: "#42" }] }] },
  }));
  assert.equal((await cust.received(id)).type, "template");
  const del = await client.templates.delete({ businessAccountId: env.waba, name: "kapso_shipping" });
  assert.equal(del.success, true);
  const after = await client.templates.list({ businessAccountId: env.waba, name: "kapso_shipping" });
  assert.equal(after.data.length, 0);
});

test("kapso: templates.get", async () => {
  const created = await client.templates.create({
    businessAccountId: env.waba, name: "kapso_get", language: "en_US", category: "UTILITY",
    components: [{ type: "BODY", text: "Your code word is {{1}} today.", example: { body_text: [["tulip"]] } }],
  });
  const t = await client.templates.get({ businessAccountId: env.waba, templateId: created.id });
  assert.equal(t.id, created.id);
  assert.equal(t.name, "kapso_get");
  await client.templates.delete({ businessAccountId: env.waba, name: "kapso_get" });
});

test("kapso: phoneNumbers.businessProfile.update and get", async () => {
  const up = await client.phoneNumbers.businessProfile.update({
    phoneNumberId, about: "Geöffnet 9–17 Uhr", description: "Pflanzen & Töpfe", email: "shop@example.com",
    websites: ["https://example.com/shop"], vertical: "RETAIL",
  });
  assert.equal(up.success, true);
  const got = await client.phoneNumbers.businessProfile.get({ phoneNumberId, fields: "about,description,email,websites,vertical" });
  const p = got.data[0];
  assert.equal(p.about, "Geöffnet 9–17 Uhr");
  assert.equal(p.description, "Pflanzen & Töpfe");
  assert.deepEqual(p.websites, ["https://example.com/shop"]);
  assert.equal(p.vertical, "RETAIL");
});

test("kapso: a Graph error becomes GraphApiError with Meta's code", async () => {
  await assert.rejects(
    client.messages.sendTemplate({ phoneNumberId, to, template: { name: "no_such_template", language: { code: "en_US" } } }),
    (err) => {
      assert.ok(err instanceof GraphApiError, String(err));
      assert.equal(err.code, 132001);
      assert.equal(err.httpStatus, 404);
      return true;
    },
  );
  await assert.rejects(client.messages.sendText({ phoneNumberId: "1234567890123456", to, body: "x" }), (err) => {
    assert.ok(err instanceof GraphApiError);
    assert.equal(err.code, 100);
    assert.equal(err.httpStatus, 400);
    return true;
  });
});

test("kapso: media upload, get, download, send, delete", async (t) => {
  if (!(await mediaSupported())) {
    t.skip(MEDIA_SKIP);
    return;
  }
  const up = await client.media.upload({ phoneNumberId, type: "image/png", file: new Blob([PNG], { type: "image/png" }), fileName: "dot.png" });
  assert.match(up.id, /^\d+$/);
  const meta = await client.media.get({ mediaId: up.id, phoneNumberId });
  assert.equal(meta.mimeType, "image/png");
  assert.equal(meta.fileSize, PNG.length);
  assert.ok(meta.url.startsWith(env.base), `media url ${meta.url} must be on the API's origin`);
  const bytes = Buffer.from(await client.media.download({ mediaId: up.id, phoneNumberId, auth: "always" }));
  assert.deepEqual(bytes, PNG);
  const id = wamid(await client.messages.sendImage({ phoneNumberId, to, image: { id: up.id, caption: "Punkt" } }));
  assert.equal((await cust.received(id)).type, "image");
  assert.equal((await client.media.delete({ mediaId: up.id, phoneNumberId })).success, true);
});
