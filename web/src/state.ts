// The application state: the running session, the history (loaded from
// IndexedDB, kept there), and what the core reports. Components subscribe
// with useApp(); every change calls notify().

import { useEffect, useState } from 'preact/hooks';
import type { Core, CoreEvent, Credentials, Group, Session } from './core';
import { delBlobs, kv, messages as msgDB, type Attachment, type Msg, type Status } from './db';
import { t } from './i18n';
import { takeReferral } from './referral';
import { caps, planPrune } from './prune';

export interface Chat {
  id: string;            // "a:<account>" or "g:<group>"
  name: string;
  last?: Msg;
  unread: number;
  group?: Group;
}

export interface Notice { id: number; text: string; kind: 'error' | 'info' }

export const app = {
  core: undefined as Core | undefined,
  session: undefined as Session | undefined,
  creds: undefined as Credentials | undefined,
  msgs: new Map<string, Msg>(),          // by id
  byServer: new Map<string, string>(),    // server id → id of own messages
  groups: new Map<string, Group>(),
  typing: new Map<string, number>(),      // account → until (ms)
  presence: new Map<string, { online: boolean; lastSeen: number; hidden: boolean }>(),
  connection: 'connecting' as 'online' | 'connecting' | 'offline',
  connMessage: '',
  stopped: '' as string,
  open: '' as string,                     // the open chat
  notices: [] as Notice[],
  known: new Set<string>(),               // 1:1 chats started here without messages yet
  timers: new Map<string, number>(),      // chat → disappearing-message timer (seconds)
};

const listeners = new Set<() => void>();
let scheduled = false;
export function notify() {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => { scheduled = false; listeners.forEach((l) => l()); });
}

export function useApp() {
  const [, set] = useState(0);
  useEffect(() => {
    const l = () => set((n) => n + 1);
    listeners.add(l);
    return () => { listeners.delete(l); };
  }, []);
  return app;
}

let noticeSeq = 0;
export function notice(text: string, kind: Notice['kind'] = 'error') {
  const n = { id: ++noticeSeq, text, kind };
  app.notices = [...app.notices, n];
  notify();
  setTimeout(() => { app.notices = app.notices.filter((x) => x !== n); notify(); }, 8000);
}

export function ref(m: Msg): string { return m.serverId ?? m.id; }

export function byRef(id: string): Msg | undefined {
  return app.msgs.get(app.byServer.get(id) ?? id);
}

export function displayName(account: string): string {
  if (app.creds && account === app.creds.account) return t('you');
  return '+' + account;
}

export function chatName(id: string): string {
  if (id.startsWith('g:')) return app.groups.get(id.slice(2))?.Name || t('newGroup');
  return cachedCard(id.slice(2))?.verified_name || '+' + id.slice(2);
}

// chats lists the chats, newest first.
export function chats(): Chat[] {
  const m = new Map<string, Chat>();
  for (const id of app.known) m.set(id, { id, name: chatName(id), unread: 0 });
  for (const g of app.groups.values()) m.set('g:' + g.ID, { id: 'g:' + g.ID, name: g.Name, unread: 0, group: g });
  for (const msg of app.msgs.values()) {
    if (msg.hidden) continue;
    let c = m.get(msg.chat);
    if (!c) { c = { id: msg.chat, name: chatName(msg.chat), unread: 0 }; m.set(msg.chat, c); }
    if (msg.kind !== 'reaction' && (!c.last || msg.ts >= c.last.ts)) c.last = msg;
    if (!msg.mine && !msg.seen && msg.kind !== 'system') c.unread++;
  }
  return [...m.values()].sort((a, b) => (b.last?.ts ?? 0) - (a.last?.ts ?? 0));
}

export function chatMessages(chat: string): Msg[] {
  return [...app.msgs.values()].filter((m) => m.chat === chat && !m.hidden).sort((a, b) => a.ts - b.ts);
}

// save shows m and stores it. With storedFirst the write commits before
// m is shown: a deletion the user saw must not come back with a reload
// right after it (the screen is otherwise ahead of the store by one
// IndexedDB transaction).
async function save(m: Msg, storedFirst = false) {
  if (storedFirst) await msgDB.put(m);
  app.msgs.set(m.id, m);
  if (m.serverId) app.byServer.set(m.serverId, m.id);
  notify();
  if (!storedFirst) await msgDB.put(m);
  schedulePrune();
}

// --- bounds of what this browser keeps (src/prune.ts) ---

let pruneTimer: ReturnType<typeof setTimeout> | undefined;
function schedulePrune() {
  if (!pruneTimer) pruneTimer = setTimeout(() => { pruneTimer = undefined; prune().catch((e) => console.error('prune:', e)); }, 1000);
}

// prune deletes the oldest messages beyond the caps (app.msgs iterates in
// arrival order, which breaks ties of equal times) (with their cached
// attachments) and the oldest cached attachments beyond the byte budget
// (their messages stay, marked evicted).
export async function prune() {
  const items = [...app.msgs.values()].map((m) => ({ id: m.id, chat: m.chat, ts: m.ts,
    keep: m.mine && (m.status === 'pending' || m.status === 'failed'), blob: m.media && !m.evicted ? m.media.size : undefined }));
  const plan = planPrune(items, caps(localStorage.getItem('parley.caps')));
  const gone = plan.drop.map((id) => app.msgs.get(id)).filter((m): m is Msg => !!m);
  if (gone.length) await drop(gone);
  for (const id of plan.dropBlobs) {
    const m = app.msgs.get(id);
    if (!m?.media) continue;
    await delBlobs([m.media.id]);
    await save({ ...m, evicted: true });
  }
}

// --- start and events ---

export async function start(core: Core, creds: Credentials) {
  app.core = core;
  app.creds = creds;
  for (const m of await msgDB.all()) {
    app.msgs.set(m.id, m);
    if (m.serverId) app.byServer.set(m.serverId, m.id);
  }
  const known: string[] | undefined = await kv.get('known');
  known?.forEach((k) => app.known.add(k));
  const timers: [string, number][] | undefined = await kv.get('timers');
  timers?.forEach(([c, v]) => app.timers.set(c, v));
  await sweep();
  setInterval(sweep, SWEEP_EVERY);
  await prune();
  notify();
  app.session = await core.start(creds, kv, onEvent);
  refreshGroups();
  watch();
  // Messages that were being sent when the page closed go out now, with
  // their client ids (the server stores each once).
  for (const m of app.msgs.values()) if (m.mine && m.status === 'pending') resend(m);
}

async function refreshGroups() {
  try {
    const gs = (await app.session!.groups()) ?? [];
    for (const g of gs) {
      const full = await app.session!.group(g.ID);
      app.groups.set(g.ID, full);
    }
    notify();
  } catch (e) { /* offline: the next group event or reload fills them in */ }
}

function watch() {
  const accts = chats().filter((c) => c.id.startsWith('a:')).map((c) => c.id.slice(2)).slice(0, 64);
  app.session?.watchPresence(accts).catch(() => {});
}

function chatOf(from: string, to: string, group: string): string {
  if (group) return 'g:' + group;
  return 'a:' + (from === app.creds!.account ? to : from);
}

async function onEvent(e: CoreEvent): Promise<void> {
  switch (e.type) {
    case 'message': return onMessage(e);
    case 'receipt': return onReceipt(e);
    case 'typing':
      if (e.state === 'composing') app.typing.set(e.from, Date.now() + 6000); else app.typing.delete(e.from);
      notify();
      setTimeout(notify, 6100);
      return;
    case 'presence':
      app.presence.set(e.account, { online: e.online, lastSeen: e.lastSeen, hidden: e.hidden });
      notify();
      return;
    case 'group': return onGroup(e);
    case 'identity':
      await save({ id: 'identity:' + e.account + ':' + e.device + ':' + e.safetyNumber.slice(0, 10), chat: 'a:' + e.account,
        from: e.account, mine: false, ts: Date.now(), kind: 'system', text: 'identity', seen: true });
      return;
    case 'undecryptable':
      if (!app.msgs.has(e.id)) {
        app.msgs.set(e.id, { id: e.id, chat: 'a:' + e.from, from: e.from, mine: false, ts: e.ts, kind: 'waiting', seen: true });
        notify();
      }
      return;
    case 'connection':
      app.connection = e.state;
      app.connMessage = e.message;
      notify();
      return;
    case 'stopped':
      app.stopped = e.code;
      notify();
      return;
  }
}

async function onMessage(e: Extract<CoreEvent, { type: 'message' }>) {
  const chat = chatOf(e.from, e.to, e.group);
  const mine = e.from === app.creds!.account;
  const m: Msg = { id: e.id, chat, from: e.from, mine, ts: e.ts, kind: 'text', status: mine ? 'sent' : undefined,
    seen: mine || undefined, payload: e.payload };
  if (e.expiresIn > 0) {
    // Own messages (sent from another device) disappear that long after
    // sending; received ones that long after they were read here.
    m.ttl = e.expiresIn;
    if (mine) m.expires = e.ts + e.expiresIn * 1000;
  }
  if (e.error) {
    m.kind = 'unknown';
    m.error = e.error;
    return save(m);
  }
  let p: any;
  try { p = JSON.parse(e.payload); } catch { p = { type: 'unknown' }; }
  switch (p.type) {
    case 'text':
      m.text = String(p.text ?? '');
      if (p.context?.message_id) m.replyTo = p.context.message_id;
      m.forwarded = p.forwarded === true || undefined;
      break;
    case 'image': case 'video': case 'audio': case 'document': case 'sticker':
      m.kind = p.type; m.media = p.media; m.caption = p.caption;
      m.forwarded = p.forwarded === true || undefined;
      break;
    case 'delete': {
      // Only the sender's own messages can be deleted for everyone.
      const target = byRef(p.delete?.message_id ?? '');
      if (target && target.from === e.from) await tombstone(target);
      return;
    }
    case 'reaction': {
      const target = byRef(p.reaction?.message_id ?? '');
      if (target) {
        const r = { ...(target.reactions ?? {}) };
        if (p.reaction.emoji) r[e.from] = p.reaction.emoji; else delete r[e.from];
        await save({ ...target, reactions: r });
      }
      return;
    }
    case 'business':
      m.kind = 'business'; m.business = p.message; m.wamid = p.wamid;
      if (p.media?.id) m.media = p.media;
      break;
    case 'interactive_reply':
      m.text = p.button_reply?.title ?? p.list_reply?.title ?? '';
      if (p.context?.message_id) m.replyTo = p.context.message_id;
      if (mine) await markChosen(chat, p.context?.message_id, p.button_reply ?? p.list_reply);
      break;
    case 'timer':
      m.kind = 'system'; m.text = 'timer'; m.seen = true;
      m.ttl = undefined; m.expires = undefined;
      await setTimerHere(chat, Number(p.expires_in ?? 0));
      break;
    default:
      m.kind = 'unknown';
  }
  const old = app.msgs.get(e.id);
  if (old && old.kind !== 'waiting') return; // already stored (the ack was lost)
  await save(m);
  if (!mine) {
    if (app.open === chat && document.visibilityState === 'visible') markRead(chat);
    else notifyBrowser(m);
  }
}

async function onReceipt(e: Extract<CoreEvent, { type: 'receipt' }>) {
  if (e.from === app.creds!.account) {
    // Another own device read messages: this chat is read there.
    const m = byRef(e.messageId);
    if (m && !m.mine && !m.seen) await save({ ...m, seen: true });
    return;
  }
  const m = byRef(e.messageId);
  if (!m || !m.mine) return; // receipts for ids never sent are ignored
  const rank: Record<Status, number> = { failed: 0, pending: 1, sent: 2, delivered: 3, read: 4 };
  const st = e.kind as Status;
  if (rank[st] > rank[m.status ?? 'sent']) await save({ ...m, status: st });
}

async function onGroup(e: Extract<CoreEvent, { type: 'group' }>) {
  if (e.error) return;
  const g = app.groups.get(e.group);
  if (e.action === 'removed' || e.action === 'left') {
    if (e.accounts?.includes(app.creds!.account)) app.groups.delete(e.group);
  }
  if (!(e.accounts?.includes(app.creds!.account) && (e.action === 'removed' || e.action === 'left'))) {
    try { app.groups.set(e.group, await app.session!.group(e.group)); } catch { if (g && e.name) g.Name = e.name; }
  }
  await save({ id: 'group:' + e.id, chat: 'g:' + e.group, from: e.actor || e.from, mine: false, ts: e.ts, kind: 'system',
    text: 'group', seen: true, payload: JSON.stringify({ action: e.action, actor: e.actor, accounts: e.accounts, name: e.name }) });
}

function notifyBrowser(m: Msg) {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  if (document.visibilityState === 'visible' && app.open === m.chat) return;
  try {
    const n = new Notification(chatName(m.chat), { body: preview(m), tag: m.chat });
    n.onclick = () => { window.focus(); openChat(m.chat); };
  } catch { /* some browsers allow notifications only from a service worker */ }
}

// --- actions ---

export function preview(m: Msg): string {
  switch (m.kind) {
    case 'text': return m.text ?? '';
    case 'image': return '📷 ' + (m.caption || t('photo'));
    case 'document': return '📄 ' + (m.media?.name || t('document'));
    case 'video': return '🎬 ' + (m.caption || t('video'));
    case 'audio': return '🎵 ' + (m.caption || t('audio'));
    case 'sticker': return t('sticker');
    case 'business': return businessText(m.business) || t('business');
    case 'system':
      if (m.text === 'group') return groupLine(m);
      if (m.text === 'identity') return t('keyChanged', { name: chatName(m.chat) });
      if (m.text === 'timer') return timerLine(m);
      return '';
    case 'waiting': return t('undecryptable');
    case 'deleted': return t('deletedMsg');
    default: return t('unsupported');
  }
}

export function businessText(b: any): string {
  if (!b) return '';
  if (b.type === 'text') return b.text?.body ?? '';
  if (b.type === 'interactive') {
    const i = b.interactive ?? {};
    if (i.body?.text) return i.body.text;
    if (i.type === 'product') return '🛍 ' + (i.action?.product?.name ?? t('product'));
    if (i.type === 'product_list') return '🛍 ' + (i.header?.text ?? t('product'));
    return '';
  }
  if (b.type === 'template') return templateBody(b.template) || t('template') + (b.template?.name ? ': ' + b.template.name : '');
  if (['image', 'document', 'video', 'audio', 'sticker'].includes(b.type)) return b[b.type]?.caption || t(b.type === 'image' ? 'photo' : b.type);
  return '';
}

// templateParams returns the text values of a template component's
// parameters (currency and date_time parameters by their fallback).
export function templateParams(tpl: any, type: string): string[] {
  const c = (tpl?.components ?? []).find((x: any) => (x.type ?? '').toLowerCase() === type);
  return (c?.parameters ?? []).map((p: any) => p.text ?? p.currency?.fallback_value ?? p.date_time?.fallback_value ?? '');
}

// templateBody is the template's body text with its parameters
// substituted ({{1}}… or named {{name}}), when the message object carries
// the text (Parley's hosted device adds it when it knows the template);
// else the body parameters alone.
export function templateBody(tpl: any): string {
  if (!tpl) return '';
  const body = (tpl.components ?? []).find((x: any) => (x.type ?? '').toLowerCase() === 'body');
  const params: any[] = body?.parameters ?? [];
  const value = (p: any) => p?.text ?? p?.currency?.fallback_value ?? p?.date_time?.fallback_value ?? '';
  const text: string | undefined = body?.text ?? tpl.body?.text ?? tpl.text;
  if (text) {
    return text.replace(/\{\{\s*([\w]+)\s*\}\}/g, (all: string, k: string) => {
      const p = /^\d+$/.test(k) ? params[Number(k) - 1] : params.find((x) => x.parameter_name === k);
      return p ? value(p) : all;
    });
  }
  return params.map(value).filter(Boolean).join(' · ');
}

// --- business cards ---

export interface BusinessCard {
  account: string; verified_name: string; hosted: boolean;
  picture_url?: string; // a path on the server: /v1/public/businesses/{account}/picture?v=…
  profile?: { about?: string; address?: string; description?: string; email?: string; websites?: string[]; vertical?: string };
}

// businessCards caches GET /v1/accounts/{id}/business per account: a
// card, null for accounts that are no business, undefined while loading.
const businessCards = new Map<string, BusinessCard | null | Promise<void>>();

// businessCard returns the card of a business chat partner (null when the
// account is not a business or the answer is not known yet).
export function businessCard(account: string): BusinessCard | null {
  const c = businessCards.get(account);
  if (c === undefined) {
    businessCards.set(account, loadCard(account));
    return null;
  }
  return c instanceof Promise ? null : c;
}

async function loadCard(account: string) {
  try {
    const creds = app.creds!;
    const r = await fetch(creds.server.replace(/\/$/, '') + '/v1/accounts/' + encodeURIComponent(account) + '/business',
      { headers: { Authorization: 'Bearer ' + creds.token } });
    if (r.ok) businessCards.set(account, await r.json());
    else if (r.status === 404) businessCards.set(account, null);
    else retryCard(account);
  } catch {
    retryCard(account);
  }
  notify();
}

function retryCard(account: string) {
  businessCards.set(account, null);
  setTimeout(() => businessCards.delete(account), 30000);
}

// cachedCard is the card when it is known already (never fetches).
export function cachedCard(account: string): BusinessCard | null {
  const c = businessCards.get(account);
  return c && !(c instanceof Promise) ? c : null;
}

function timerLine(m: Msg): string {
  let secs = 0;
  try { secs = Number(JSON.parse(m.payload ?? '{}').expires_in ?? 0); } catch { /* off */ }
  if (!secs) return t('timerOff', { who: displayName(m.from) });
  return t('timerOn', { who: displayName(m.from), d: duration(secs) });
}

// duration says a timer in days, hours or minutes.
export function duration(secs: number): string {
  if (secs >= 86400 && secs % 86400 === 0) return t(secs === 86400 ? 'oneDay' : 'days', { n: secs / 86400 });
  if (secs >= 3600) return t('hours', { n: Math.round(secs / 3600) });
  return t('minutes', { n: Math.max(1, Math.round(secs / 60)) });
}

// --- disappearing messages (docs/protocol.md) ---

// TIMERS are the choices the chat header offers (seconds; 0: off).
export const TIMERS = [0, 86400, 7 * 86400, 90 * 86400];
// EXPIRING are the payload types sent with the chat's timer: content, not
// control messages (timer changes, reactions, deletions, consent).
const EXPIRING = new Set(['text', 'image', 'video', 'audio', 'document', 'sticker', 'interactive_reply']);
const SWEEP_EVERY = 5000;

async function setTimerHere(chat: string, secs: number) {
  if (!Number.isFinite(secs) || secs < 0) secs = 0;
  if (secs) app.timers.set(chat, secs); else app.timers.delete(chat);
  await kv.put('timers', [...app.timers]);
  notify();
}

// setTimer changes the chat's disappearing-message timer: a timer payload
// to the chat (every device of both sides applies it to what it sends
// from then on), and the notice in the chat here.
export async function setTimer(chat: string, secs: number) {
  if ((app.timers.get(chat) ?? 0) === secs) return;
  const payload = { type: 'timer', expires_in: secs };
  await setTimerHere(chat, secs);
  await sendPayload(chat, payload, { kind: 'system', text: 'timer', seen: true });
}

// sweep deletes disappearing messages whose time is up, from the screen
// and from IndexedDB, with their cached attachments.
export async function sweep() {
  const now = Date.now();
  const gone = [...app.msgs.values()].filter((m) => m.expires && m.expires <= now);
  if (!gone.length) return;
  await drop(gone);
}

// drop deletes messages here (memory and IndexedDB) with their blobs.
export async function drop(list: Msg[]) {
  for (const m of list) {
    app.msgs.delete(m.id);
    if (m.serverId) app.byServer.delete(m.serverId);
  }
  notify();
  await msgDB.del(list.map((m) => m.id));
  const blobs = list.filter((m) => m.media).map((m) => m.media!.id);
  if (blobs.length) await delBlobs(blobs);
}

export function groupLine(m: Msg): string {
  let p: any = {};
  try { p = JSON.parse(m.payload ?? '{}'); } catch { /* shown as a plain change */ }
  const who = (p.accounts ?? []).map(displayName).join(', ');
  const actor = p.actor ? displayName(p.actor) : '';
  switch (p.action) {
    case 'created': return t('groupCreated', { actor, name: p.name });
    case 'added': return t('groupAdded', { actor, who });
    case 'joined': return t('groupJoined', { who });
    case 'removed': return t('groupRemoved', { actor, who });
    case 'left': return t('groupLeft', { who });
    case 'renamed': return t('groupRenamed', { actor, name: p.name });
    case 'promoted': return t('groupPromoted', { actor, who });
    case 'demoted': return t('groupDemoted', { actor, who });
  }
  return t('groupChanged');
}

export function openChat(chat: string) {
  app.open = chat;
  if (chat.startsWith('a:') && !app.known.has(chat)) {
    app.known.add(chat);
    kv.put('known', [...app.known]);
    watch();
  }
  const url = '#/' + chat;
  if (location.hash !== url) history.pushState(null, '', url);
  markRead(chat);
  notify();
}

export function closeChat() {
  app.open = '';
  if (location.hash) history.pushState(null, '', location.pathname);
  notify();
}

// markRead marks the chat's incoming messages read and tells their senders.
export async function markRead(chat: string) {
  const unread = chatMessages(chat).filter((m) => !m.mine && !m.seen && m.kind !== 'system' && m.kind !== 'waiting');
  if (!unread.length) return;
  const bySender = new Map<string, string[]>();
  for (const m of unread) {
    bySender.set(m.from, [...(bySender.get(m.from) ?? []), m.id]);
    await save({ ...m, seen: true, expires: m.ttl ? Date.now() + m.ttl * 1000 : undefined });
  }
  for (const [from, ids] of bySender) app.session?.markRead(from, ids).catch(() => {});
}

function target(chat: string): { to?: string; group?: string } {
  return chat.startsWith('g:') ? { group: chat.slice(2) } : { to: chat.slice(2) };
}

// newClientId makes ids as the SDK's NewClientID does: the time in
// milliseconds first, so that a device's ids grow and the server adds
// its idempotency keys at one end of their index; then 64 random bits.
function newClientId(): string {
  const b = crypto.getRandomValues(new Uint8Array(8));
  return 'c-' + Date.now().toString(16).padStart(12, '0') + [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

// sendPayload stores the message as pending first, so nothing typed is
// lost when the page closes or the network is down; the core sends it
// (retrying across reconnects) with its client id.
export async function sendPayload(chat: string, payload: any, local: Partial<Msg>, media?: string[]) {
  const referral = takeReferral(chat); // the first message of a chat opened by a link says where it came from
  if (referral) payload = { ...payload, referral };
  const id = newClientId();
  const ttl = EXPIRING.has(payload.type) ? app.timers.get(chat) || undefined : undefined;
  const ts = Date.now();
  const m: Msg = { id, chat, from: app.creds!.account, mine: true, ts, kind: 'text', status: 'pending',
    payload: JSON.stringify(payload), ttl, expires: ttl ? ts + ttl * 1000 : undefined, ...local };
  await save(m);
  await deliver(m, media);
}

async function deliver(m: Msg, media?: string[]) {
  try {
    const p = JSON.parse(m.payload!);
    const r = await app.session!.send({ ...target(m.chat), payload: p, media: media ?? (m.media ? [m.media.id] : undefined), clientId: m.id,
      expiresIn: m.ttl });
    const cur = app.msgs.get(m.id) ?? m;
    await save({ ...cur, serverId: r.id, ts: cur.ts, status: cur.status === 'pending' || cur.status === 'failed' ? 'sent' : cur.status });
  } catch (e: any) {
    const cur = app.msgs.get(m.id) ?? m;
    await save({ ...cur, status: 'failed', error: e?.message ?? String(e) });
    notice(t('status_failed') + ': ' + (e?.message ?? e));
  }
}

export function resend(m: Msg) {
  const cur = { ...m, status: 'pending' as Status, error: undefined };
  save(cur).then(() => deliver(cur));
}

export function sendText(chat: string, text: string, replyTo?: string) {
  const payload: any = { type: 'text', text };
  if (replyTo) payload.context = { message_id: replyTo };
  return sendPayload(chat, payload, { text, replyTo });
}

export async function sendReaction(m: Msg, emoji: string) {
  const me = app.creds!.account;
  const r = { ...(m.reactions ?? {}) };
  if (r[me] === emoji) { delete r[me]; emoji = ''; } else r[me] = emoji;
  await save({ ...m, reactions: r });
  try {
    await app.session!.send({ ...target(m.chat), payload: { type: 'reaction', reaction: { message_id: ref(m), emoji } } });
  } catch (e: any) { notice(t('status_failed') + ': ' + (e?.message ?? e)); }
}

// setMarketing sends the marketing switch of a business chat (the consent
// payload, sdk/consent.go): the business's hosted device records the
// opt-in or opt-out in the business's consent ledger. The last choice is
// remembered on this device only.
export async function setMarketing(account: string, on: boolean) {
  try {
    await app.session!.send({ to: account, payload: { type: 'consent', marketing: on } });
    localStorage.setItem('marketing:' + account, on ? 'on' : 'off');
    notice(t(on ? 'marketingOnSent' : 'marketingOffSent'), 'info');
  } catch (e: any) { notice(t('status_failed') + ': ' + (e?.message ?? e)); }
}

// markChosen records on a business message which of its reply buttons or
// list rows was tapped (here or on another own device).
async function markChosen(chat: string, wamid: string | undefined, r: { id?: string; title?: string } | undefined) {
  if (!wamid || !r?.id) return;
  for (const b of app.msgs.values()) {
    if (b.chat === chat && b.kind === 'business' && b.wamid === wamid) {
      await save({ ...b, chosen: { id: r.id, title: r.title ?? '' } });
      return;
    }
  }
}

export async function sendButtonReply(m: Msg, id: string, title: string) {
  await save({ ...m, chosen: { id, title } });
  const payload = { type: 'interactive_reply', context: { message_id: m.wamid }, button_reply: { id, title } };
  return sendPayload(m.chat, payload, { text: title, replyTo: ref(m) });
}

export async function sendListReply(m: Msg, row: { id: string; title: string; description?: string }) {
  const list_reply: any = { id: row.id, title: row.title };
  if (row.description) list_reply.description = row.description;
  await save({ ...m, chosen: { id: row.id, title: row.title } });
  const payload = { type: 'interactive_reply', context: { message_id: m.wamid }, list_reply };
  return sendPayload(m.chat, payload, { text: row.title, replyTo: ref(m) });
}

export async function sendFile(chat: string, file: File, caption: string) {
  const data = new Uint8Array(await file.arrayBuffer());
  const kind = file.type.startsWith('image/') && file.size <= 16 << 20 ? 'image' : 'document';
  let att: Attachment;
  try {
    att = await app.session!.upload(kind, data, file.type || 'application/octet-stream', file.name);
  } catch (e: any) {
    notice(t('status_failed') + ': ' + (e?.message ?? e));
    return;
  }
  await kv.put('blob:' + att.id, data);
  await sendPayload(chat, { type: kind, media: att, caption: caption || undefined }, { kind, media: att, caption: caption || undefined, text: undefined }, [att.id]);
}

// media returns an attachment's bytes: from IndexedDB, or downloaded,
// checked and decrypted by the core (then kept).
export async function media(a: Attachment): Promise<Uint8Array> {
  const have = await kv.get('blob:' + a.id);
  if (have) return have;
  const b = await app.session!.download(a);
  await kv.put('blob:' + a.id, b);
  return b;
}

let typingSent = 0;
export function typing(chat: string, composing: boolean) {
  if (!chat.startsWith('a:') || !app.session || app.connection !== 'online') return;
  const now = Date.now();
  if (composing && now - typingSent < 3000) return;
  typingSent = composing ? now : 0;
  app.session.typing(chat.slice(2), composing).catch(() => {});
}

// --- forwarding and deleting ---

async function tombstone(m: Msg) {
  if (m.media) kv.del('blob:' + m.media.id).catch(() => {});
  await save({ ...m, kind: 'deleted', text: undefined, caption: undefined, media: undefined, business: undefined,
    payload: undefined, reactions: undefined, replyTo: undefined }, true);
}

// deleteForMe hides the message on this device only.
export function deleteForMe(m: Msg) {
  if (m.media) kv.del('blob:' + m.media.id).catch(() => {});
  return save({ ...m, hidden: true, text: undefined, caption: undefined, media: undefined, payload: undefined }, true);
}

// deleteForEveryone asks every device in the chat to drop an own message
// (payload "delete"; docs/protocol.md) and drops it here.
export async function deleteForEveryone(m: Msg) {
  if (!m.mine || !m.serverId) return;
  try {
    await app.session!.send({ ...target(m.chat), payload: { type: 'delete', delete: { message_id: m.serverId } } });
    await tombstone(m);
  } catch (e: any) { notice(t('status_failed') + ': ' + (e?.message ?? e)); }
}

// forward sends a copy of m to chat. Attachments are uploaded again:
// blobs are never shared between messages (a fresh key each time).
export async function forward(m: Msg, chat: string) {
  if (m.kind === 'text' && m.text) {
    return sendPayload(chat, { type: 'text', text: m.text, forwarded: true }, { text: m.text, forwarded: true });
  }
  if (m.media) {
    try {
      const data = await media(m.media);
      const att = await app.session!.upload(m.kind, data, m.media.mime ?? 'application/octet-stream', m.media.name ?? '');
      await kv.put('blob:' + att.id, data);
      await sendPayload(chat, { type: m.kind, media: att, caption: m.caption, forwarded: true },
        { kind: m.kind, media: att, caption: m.caption, forwarded: true, text: undefined }, [att.id]);
    } catch (e: any) { notice(t('status_failed') + ': ' + (e?.message ?? e)); }
  }
}
