// whatsapp-api-js against Parley. Its host is fixed to Meta's Graph host, so a
// ponyfilled fetch rewrites it to Parley's base URL (sdk-clients.md §1).
// Webhooks reach the library's own node:http middleware: the number's
// callback override is pointed at it (Parley performs the verification
// handshake against handle_get), and every POST goes through handle_post,
// which checks the Content-Length and the signature over the \u-escaped
// body before on.message / on.status see it.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { WhatsAppAPI } from "whatsapp-api-js/middleware/node-http";
import { Text, Reaction, Location, Contacts, Name, Phone, Interactive, ActionButtons, Button, ActionList, ListSection, Row, Body, Footer,
  Template, Language, BodyComponent, BodyParameter, Image } from "whatsapp-api-js/messages";
import { env, customerOf, customer, UNICODE_TEXT, sleep, mediaSupported, MEDIA_SKIP, PNG } from "./harness.js";

const GRAPH = /^https:\/\/graph\.facebook\.com/;
const rewrite = (u, i) => fetch(String(u).replace(GRAPH, env.base), i);
const Whatsapp = new WhatsAppAPI({
  token: env.token, appSecret: env.appSecret, webhookVerifyToken: "vt-wajs", v: "v24.0", ponyfill: { fetch: rewrite },
});
const to = customerOf("WAJS");
const cust = customer(to);
const pn = env.pn;

// Everything the library's webhook handlers saw, and what handle_post answered.
const seen = { messages: [], statuses: [], codes: [] };
Whatsapp.on = {
  message: (args) => { seen.messages.push(args); },
  status: (args) => { seen.statuses.push(args); },
};
const server = http.createServer(async (req, res) => {
  if (req.method === "GET") {
    try {
      res.end(Whatsapp.handle_get(req));
    } catch (e) {
      res.statusCode = typeof e === "number" ? e : 500;
      res.end();
    }
    return;
  }
  const code = await Whatsapp.handle_post(req);
  seen.codes.push(code);
  res.statusCode = code;
  res.end();
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const hookURL = `http://127.0.0.1:${server.address().port}/wajs`;

async function graphPOST(path, body) {
  const res = await fetch(`${env.base}/v24.0/${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${env.token}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return [res.status, await res.json()];
}

after(async () => {
  // Give the webhooks back to the recorder and stop the middleware.
  await graphPOST(pn, { webhook_configuration: { override_callback_uri: "" } });
  server.close();
});

async function waitFor(what, list, match, timeout = 20000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const hit = list.find(match);
    if (hit) return hit;
    if (Date.now() > deadline) assert.fail(`whatsapp-api-js saw no ${what} within ${timeout} ms (handle_post answered ${seen.codes.join(",")})`);
    await sleep(50);
  }
}

function wamid(res) {
  assert.equal(res.error, undefined, JSON.stringify(res));
  assert.equal(res.messaging_product, "whatsapp");
  assert.equal(res.contacts[0].wa_id, to);
  assert.match(res.messages[0].id, /^wamid\./);
  return res.messages[0].id;
}

test("whatsapp-api-js: Parley's verification handshake passes handle_get", async () => {
  const [st, body] = await graphPOST(pn, { webhook_configuration: { override_callback_uri: hookURL, verify_token: "vt-wajs" } });
  assert.equal(st, 200, JSON.stringify(body));
  // A wrong verify token is refused by the library, and Parley refuses the URL (2200).
  const [bad, err] = await graphPOST(pn, { webhook_configuration: { override_callback_uri: hookURL + "?x", verify_token: "wrong" } });
  assert.equal(bad, 400);
  assert.equal(err.error.code, 2200);
  // The webhook dispatcher caches where an endpoint goes for 5 s
  // (webhook.resolveTTL); wait until the override is in effect.
  await sleep(5500);
});

let inbound;

test("whatsapp-api-js: handle_post verifies and parses a non-ASCII customer text (on.message)", async () => {
  await cust.send(`wajs ${UNICODE_TEXT}`);
  inbound = await waitFor("non-ASCII text", seen.messages, (m) => m.message.text?.body === `wajs ${UNICODE_TEXT}`);
  assert.equal(inbound.phoneID, pn);
  assert.equal(inbound.from, to);
  assert.match(inbound.message.id, /^wamid\./);
  assert.ok(seen.codes.every((c) => c === 200), `handle_post answered ${seen.codes}`);
});

test("whatsapp-api-js: sendMessage Text (non-ASCII) and its statuses through on.status", async () => {
  const id = wamid(await Whatsapp.sendMessage(pn, to, new Text(UNICODE_TEXT)));
  assert.equal((await cust.received(id)).text.body, UNICODE_TEXT);
  await cust.read(id);
  for (const status of ["sent", "delivered", "read"]) {
    const s = await waitFor(`${status} status`, seen.statuses, (x) => x.id === id && x.status === status);
    assert.equal(s.phone, to);
    assert.equal(s.phoneID, pn);
  }
});

test("whatsapp-api-js: reply() from on.message sends with context, received() marks read", async () => {
  assert.ok(inbound);
  const id = wamid(await inbound.reply(new Text("Danke schön!"), true));
  const got = await cust.received(id);
  assert.equal(got.context?.id ?? inbound.message.id, inbound.message.id);
  const read = await inbound.received();
  assert.equal(read.success, true, JSON.stringify(read));
  const typing = await Whatsapp.markAsRead(pn, inbound.message.id, "text");
  assert.equal(typing.success, true);
});

test("whatsapp-api-js: Reaction", async () => {
  const id = wamid(await Whatsapp.sendMessage(pn, to, new Reaction(inbound.message.id, "🎉")));
  assert.equal((await cust.received(id)).reaction.emoji, "🎉");
});

test("whatsapp-api-js: Interactive buttons and the button reply through on.message", async () => {
  const msg = new Interactive(new ActionButtons(new Button("confirm", "Bestätigen"), new Button("cancel", "Abbrechen")),
    new Body("Termin morgen um 9 Uhr?"), undefined, new Footer("Lucky Shrub"));
  const id = wamid(await Whatsapp.sendMessage(pn, to, msg));
  assert.equal((await cust.received(id)).interactive.type, "button");
  await cust.replyButton(id, "confirm");
  const r = await waitFor("button reply", seen.messages, (m) => m.message.interactive?.button_reply && m.message.context?.id === id);
  assert.equal(r.message.interactive.button_reply.id, "confirm");
  assert.equal(r.message.interactive.button_reply.title, "Bestätigen");
});

test("whatsapp-api-js: Interactive list and the list reply through on.message", async () => {
  const msg = new Interactive(new ActionList("Größen", new ListSection("Topf", new Row("s", "Klein", "12 cm"), new Row("l", "Groß"))),
    new Body("Welche Größe?"));
  const id = wamid(await Whatsapp.sendMessage(pn, to, msg));
  assert.equal((await cust.received(id)).interactive.type, "list");
  await cust.replyList(id, "l");
  const r = await waitFor("list reply", seen.messages, (m) => m.message.interactive?.list_reply && m.message.context?.id === id);
  assert.equal(r.message.interactive.list_reply.id, "l");
});

test("whatsapp-api-js: Location and Contacts", async () => {
  const loc = wamid(await Whatsapp.sendMessage(pn, to, new Location(6.9603, 50.9375, "Kölner Dom", "Domkloster 4")));
  const got = await cust.received(loc);
  assert.equal(Number(got.location.latitude), 50.9375);
  const con = wamid(await Whatsapp.sendMessage(pn, to, new Contacts([new Name("Jürgen Müller", "Jürgen"), new Phone("+49 221 000000", "WORK")])));
  assert.equal((await cust.received(con)).contacts[0].name.formatted_name, "Jürgen Müller");
});

test("whatsapp-api-js: Template", async () => {
  const [st, created] = await graphPOST(`${env.waba}/message_templates`, {
    name: "wajs_pickup", language: "en_US", category: "UTILITY",
    components: [{ type: "BODY", text: "Hi {{1}}, your plant is ready for pickup at {{2}}.", example: { body_text: [["Ana", "Main St"]] } }],
  });
  assert.equal(st, 200, JSON.stringify(created));
  const msg = new Template("wajs_pickup", new Language("en_US"), new BodyComponent(new BodyParameter("Zoë"), new BodyParameter("Königsallee")));
  const res = await Whatsapp.sendMessage(pn, to, msg);
  const id = wamid(res);
  assert.equal(res.messages[0].message_status, "accepted");
  assert.equal((await cust.received(id)).type, "template");
});

test("whatsapp-api-js: errors come back as Meta's envelope", async () => {
  const res = await Whatsapp.sendMessage(pn, to, new Template("wajs_missing", new Language("en_US")));
  assert.equal(res.error.code, 132001);
  assert.equal(res.error.error_data.messaging_product, "whatsapp");
});

test("whatsapp-api-js: uploadMedia, retrieveMedia, fetchMedia, Image, deleteMedia", async (t) => {
  if (!(await mediaSupported())) {
    t.skip(MEDIA_SKIP);
    return;
  }
  const form = new FormData();
  form.set("file", new Blob([PNG], { type: "image/png" }), "dot.png");
  const up = await Whatsapp.uploadMedia(pn, form, false);
  assert.match(up.id, /^\d+$/, JSON.stringify(up));
  const meta = await Whatsapp.retrieveMedia(up.id, pn);
  assert.equal(meta.mime_type, "image/png");
  assert.equal(Number(meta.file_size), PNG.length);
  const file = await Whatsapp.fetchMedia(meta.url.replace(GRAPH, env.base));
  assert.deepEqual(Buffer.from(await file.arrayBuffer()), PNG);
  const id = wamid(await Whatsapp.sendMessage(pn, to, new Image(up.id, true, "Punkt")));
  assert.equal((await cust.received(id)).type, "image");
  assert.equal((await Whatsapp.deleteMedia(up.id, pn)).success, true);
});
