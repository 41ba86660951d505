// Shared helpers of the conformance suite. app/conformance_test.go boots a
// Parley node, creates a business whose webhooks go to a Go recorder, opens
// a 24-hour window per library's customer and passes everything here in
// PARLEY_* variables. The recorder keeps each webhook POST byte for byte;
// the tests hand those bytes to each library's own verifier and parser.
import assert from "node:assert/strict";

function need(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set: run these tests through \`go test ./app -run TestConformance\``);
  }
  return v;
}

export const env = {
  base: need("PARLEY_URL"),
  adminToken: need("PARLEY_ADMIN_TOKEN"),
  hooks: need("PARLEY_HOOKS_URL"),
  token: need("PARLEY_ACCESS_TOKEN"),
  appId: need("PARLEY_APP_ID"),
  appSecret: need("PARLEY_APP_SECRET"),
  waba: need("PARLEY_WABA_ID"),
  pn: need("PARLEY_PHONE_NUMBER_ID"),
  business: need("PARLEY_BUSINESS_NUMBER"),
  verifyToken: need("PARLEY_VERIFY_TOKEN"),
};

export function customerOf(lib) {
  return need(`PARLEY_CUSTOMER_${lib}`);
}

// Non-ASCII text used in both directions: Latin-1, CJK, an astral emoji.
export const UNICODE_TEXT = "Grüße aus Köln — みどりいろ, J'ai mangé des pâtes 😀";

// admin calls the operator API.
export async function admin(method, path, body) {
  const res = await fetch(env.base + path, {
    method,
    headers: { Authorization: `Bearer ${env.adminToken}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

// customer drives a sandbox customer (digits without "+").
export function customer(phone) {
  const p = `/admin/v1/customers/${phone}`;
  return {
    send: (text) => admin("POST", `${p}/messages`, { to: `+${env.business}`, text }),
    read: (id) => admin("POST", `${p}/read`, { message_id: id }),
    replyButton: (id, button) => admin("POST", `${p}/reply-button`, { message_id: id, button_id: button }),
    replyList: (id, row) => admin("POST", `${p}/reply-list`, { message_id: id, row_id: row }),
    react: (id, emoji) => admin("POST", `${p}/react`, { message_id: id, emoji }),
    // received waits for the message with this id in the customer's inbox.
    async received(id, timeout = 20000) {
      const deadline = Date.now() + timeout;
      for (;;) {
        const { messages } = await admin("GET", `${p}/inbox`);
        const m = messages.find((x) => x.id === id);
        if (m) return m;
        if (Date.now() > deadline) assert.fail(`customer ${phone} did not receive ${id}: ${JSON.stringify(messages)}`);
        await sleep(50);
      }
    },
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// webhooks returns every webhook POST recorded so far:
// [{seq, body, signature, content_type, content_length}].
export async function webhooks() {
  const res = await fetch(`${env.hooks}/recorded`);
  return res.json();
}

// waitHook waits for a recorded webhook whose parsed body satisfies match
// and returns the raw record.
export async function waitHook(what, match, timeout = 20000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    for (const h of await webhooks()) {
      if (match(JSON.parse(h.body))) return h;
    }
    if (Date.now() > deadline) assert.fail(`no webhook with ${what} within ${timeout} ms`);
    await sleep(50);
  }
}

function values(payload) {
  return (payload.entry ?? []).flatMap((e) => (e.changes ?? []).map((c) => c.value ?? {}));
}

// inboundHook waits for a messages webhook from phone that satisfies match.
export function inboundHook(phone, what, match) {
  return waitHook(what, (p) => values(p).some((v) => (v.messages ?? []).some((m) => m.from === phone && match(m))));
}

// statusHook waits for a statuses webhook of wamid with status.
export function statusHook(wamid, status) {
  return waitHook(`status ${status} of ${wamid}`, (p) =>
    values(p).some((v) => (v.statuses ?? []).some((s) => s.id === wamid && s.status === status)),
  );
}

// assertWireRules checks what every library relies on: ASCII-only JSON,
// a Content-Length and a sha256= signature.
export function assertWireRules(h) {
  assert.match(h.body, /^[\x00-\x7f]*$/, "webhook body must be ASCII-only JSON");
  assert.equal(h.content_length, Buffer.byteLength(h.body), "webhook must carry a Content-Length");
  assert.match(h.signature, /^sha256=[0-9a-f]{64}$/);
}

// mediaSupported reports whether the server serves media upload; media
// round trips skip with a message when it does not (yet): 404, or Graph's
// "unknown path" (code 2500) that Parley answers for an edge it lacks.
export async function mediaSupported() {
  const form = new FormData();
  form.set("messaging_product", "whatsapp");
  const res = await fetch(`${env.base}/v24.0/${env.pn}/media`, {
    method: "POST",
    headers: { Authorization: `Bearer ${env.token}` },
    body: form,
  });
  const body = await res.json().catch(() => ({}));
  return res.status !== 404 && body?.error?.code !== 2500;
}

export const MEDIA_SKIP = "media API not served by this server yet (POST /{phone-number-id}/media answers 404 / unknown path)";

// A 1x1 PNG.
export const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);
