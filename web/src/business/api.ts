// The inbox API (/business/api, docs/inbox.md): JSON with the session
// cookie and the CSRF token; errors become ApiError with the server's
// message. A 401 on anything but the sign-in means the session ended:
// onExpired sends the app back to the sign-in (drafts stay in
// sessionStorage).

export interface Agent { id: string; email: string; name: string; role: 'owner' | 'admin' | 'agent'; business: string; totp: boolean; online: boolean }
export interface Conversation {
  id: string; phone_number_id: string; customer: string; state: 'open' | 'pending' | 'resolved'; assignee?: string;
  labels: string[]; unread: number; preview: string; last_at: number; last_inbound_at?: number;
  window_open: boolean; window_expires_at?: number; version: number;
  channel?: 'messenger' | 'web'; moved_to?: string; moved_from?: string;
}
export interface Message {
  id: string; conversation: string; direction: 'in' | 'out' | 'note'; type: string; content: any;
  context_id?: string; status?: string; error_code?: number; agent?: string; created_at: number;
}
export interface Label { name: string; color: string }
export interface QuickReply { shortcut: string; text: string }
export interface Settings { greeting_enabled: boolean; greeting: string; away_enabled: boolean; away: string; retention_days: number; version: number }
export interface Template { name: string; language: string; category: string; parameter_format: string; components: any[] }
export interface InboxEvent { type: 'message' | 'status' | 'conversation'; conversation?: Conversation; message?: Message; agent?: string; at: number }

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string) { super(message); }
}

const base = '/business/api';
let csrf = '';
export function setCSRF(token: string) { csrf = token; }

let expiredHandler: () => void = () => {};
export function onExpired(f: () => void) { expiredHandler = f; }

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const raw = body instanceof Blob; // a file, sent as is (its type is the Content-Type)
  if (body !== undefined && !raw) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrf;
  let r: Response;
  try {
    r = await fetch(base + path, { method, headers, body: body === undefined ? undefined : raw ? (body as Blob) : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network', '');
  }
  const text = await r.text();
  let data: any = null;
  try { data = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!r.ok) {
    const e = new ApiError(r.status, data?.error?.code ?? '', data?.error?.message ?? r.statusText);
    if (r.status === 401 && path !== '/login' && path !== '/me') expiredHandler();
    throw e;
  }
  return data as T;
}

// Drafts of replies and notes, per conversation, in sessionStorage: they
// survive a reload and a sign-in after the session ended, not the tab.
export function draft(key: string): string { return sessionStorage.getItem('draft:' + key) ?? ''; }
export function saveDraft(key: string, text: string) {
  if (text) sessionStorage.setItem('draft:' + key, text); else sessionStorage.removeItem('draft:' + key);
}

// upload sends a file for a reply (POST /conversations/{id}/media) and
// returns its media id.
export async function upload(conversation: string, file: File): Promise<{ id: string; mime_type: string }> {
  let r: Response;
  try {
    r = await fetch(`${base}/conversations/${conversation}/media?filename=${encodeURIComponent(file.name)}`, {
      method: 'POST', headers: { 'Content-Type': file.type || 'application/octet-stream', 'X-CSRF-Token': csrf }, body: file, credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'network', '');
  }
  const data = await r.json().catch(() => null);
  if (!r.ok) {
    if (r.status === 401) expiredHandler();
    throw new ApiError(r.status, data?.error?.code ?? '', data?.error?.message ?? r.statusText);
  }
  return data;
}

// expire tells the app that the session has ended.
export function expire() { expiredHandler(); }
