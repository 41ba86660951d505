// Click-to-chat: the pages that open the client in a chat with a business,
// the text prefilled in the composer (never sent by itself).
//
//   /c/<digits>?text=…[&ref=…]                 a click-to-chat link (source_type "link")
//   /send?phone=<digits>&text=…                the wa.me-style form of the same
//   /message/<CODE>[?src=qr]                   a short link or, with src=qr, its QR code
//   /c/<digits>?…&src=website_button&source_url=<page>   the "Chat with us" button (embed/chat-button.js)
//
// The link is read once at boot. People who are signed in go straight
// into the chat; others see a landing page (landing.tsx) and register
// first. The first message sent from the chat carries the referral.

import { putReferral, type Referral } from './referral';

export const MaxPrefill = 140;

export interface ChatLink {
  referral: Referral;
  account?: string;       // the chat partner (digits); for a code, known once resolved
  code?: string;
  text: string;
  name?: string;          // the business's verified name, from its public card
  business?: boolean;
  error?: 'badNumber' | 'tooLong' | 'unknownCode' | 'expired' | 'network';
  errorValue?: string;
}

const digits = /^[1-9]\d{7,14}$/;

function httpURL(s: string | null): string | undefined {
  if (!s) return undefined;
  try {
    const u = new URL(s);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : undefined;
  } catch { return undefined; }
}

// parseLink reads a click-to-chat path; null when the path is none.
export function parseLink(loc: Location = location): ChatLink | null {
  const q = new URLSearchParams(loc.search);
  const path = loc.pathname.replace(/\/+$/, '');
  const here = loc.origin + loc.pathname + loc.search;
  let number: string | null = null;
  let m: RegExpMatchArray | null;
  if ((m = path.match(/^\/c\/([^/]+)$/))) number = decodeURIComponent(m[1]);
  else if (path === '/send') number = q.get('phone') ?? '';
  else if ((m = path.match(/^\/message\/([^/]+)$/))) {
    const code = decodeURIComponent(m[1]).toUpperCase();
    const l: ChatLink = { code, text: '', referral: { source_type: q.get('src') === 'qr' ? 'qr' : 'short_link', source_url: here, source_id: code } };
    if (!/^[A-Z0-9]{14}$/.test(code)) { l.error = 'unknownCode'; l.errorValue = code.slice(0, 40); }
    return l;
  } else return null;

  const account = number.replace(/[\s\-().]/g, '').replace(/^\+/, '');
  const text = q.get('text') ?? '';
  const ref = q.get('ref') ?? undefined;
  const button = q.get('src') === 'website_button';
  const l: ChatLink = { account, text, referral: {
    source_type: button ? 'website_button' : 'link',
    source_url: (button && httpURL(q.get('source_url'))) || here,
    source_id: ref?.slice(0, 128) } };
  if (!digits.test(account)) { l.error = 'badNumber'; l.errorValue = number.slice(0, 40); }
  else if ([...text].length > MaxPrefill) { l.error = 'tooLong'; l.errorValue = String([...text].length); }
  if (text) l.referral.body = text;
  return l;
}

// resolveLink asks the server what the link names: the code's number and
// text, or the number's public business card (none for a person).
export async function resolveLink(l: ChatLink): Promise<ChatLink> {
  if (l.error) return l;
  try {
    if (l.code) {
      const r = await fetch('/v1/public/links/' + encodeURIComponent(l.code));
      if (r.status === 404) return { ...l, error: 'unknownCode', errorValue: l.code };
      if (r.status === 410) return { ...l, error: 'expired' };
      if (!r.ok) return { ...l, error: 'network' };
      const j = await r.json();
      const text: string = j.prefilled_message ?? '';
      return { ...l, account: j.account, name: j.verified_name, business: true, text,
        referral: { ...l.referral, body: text || undefined } };
    }
    const r = await fetch('/v1/public/businesses/' + encodeURIComponent(l.account!));
    if (r.ok) {
      const j = await r.json();
      return { ...l, name: j.verified_name, business: true };
    }
    if (r.status === 404) return l; // a person, or nobody: the chat tells
    if (r.status === 400) return { ...l, error: 'badNumber', errorValue: l.account };
    return { ...l, error: 'network' };
  } catch {
    return { ...l, error: 'network' };
  }
}

const pendingKey = 'link.pending';

// holdLink keeps a resolved link until the client runs (it survives a
// reload during registration).
export function holdLink(l: ChatLink) {
  sessionStorage.setItem(pendingKey, JSON.stringify(l));
}

// applyLink opens the held link's chat, if any: the text into the chat's
// draft (the composer shows it), the referral kept for the first message,
// the address bar back to the client's own. It returns the chat id.
export function applyLink(): string | undefined {
  const raw = sessionStorage.getItem(pendingKey);
  if (!raw) return undefined;
  sessionStorage.removeItem(pendingKey);
  let l: ChatLink;
  try { l = JSON.parse(raw); } catch { return undefined; }
  if (l.error || !l.account) return undefined;
  const chat = 'a:' + l.account;
  if (l.text) localStorage.setItem('draft:' + chat, l.text);
  putReferral(chat, l.referral);
  history.replaceState(null, '', '/');
  return chat;
}
