// The business directory on the client API: search, and the names list
// that mention-to-chat matches messages against on this device. The
// names list is kept in memory and in IndexedDB and revalidated with its
// ETag; message text is never sent anywhere for matching.

import { kv } from './db';
import { buildMatcher, findMentions, type DirName, type Matcher, type Mention } from './mentions';
import { app, notify, type BusinessCard } from './state';

export interface DirResult {
  account: string; name: string; category: string; address?: string; city?: string;
  latitude?: number; longitude?: number; distance_km?: number;
  verified: boolean; has_hours: boolean; open_now: boolean;
}

export interface Interval { open: string; close: string }
export interface OpeningHours {
  time_zone: string;
  weekly: Partial<Record<Weekday, Interval[]>>;
  exceptions?: { date: string; closed?: boolean; intervals?: Interval[]; note?: string }[];
}
export type Weekday = 'monday' | 'tuesday' | 'wednesday' | 'thursday' | 'friday' | 'saturday' | 'sunday';

// CardX is the business card with the directory's extensions.
export type CardX = BusinessCard & {
  verified?: boolean;
  profile?: BusinessCard['profile'] & { opening_hours?: OpeningHours };
  hours?: { open_now: boolean; next_change?: number };
  listing?: { category: string; address: string; city: string; latitude?: number; longitude?: number };
};

export const CATEGORIES = ['RESTAURANT', 'GROCERY', 'RETAIL', 'APPAREL', 'BEAUTY', 'HEALTH', 'HOTEL', 'TRAVEL', 'AUTO', 'EDU',
  'ENTERTAIN', 'EVENT_PLAN', 'FINANCE', 'GOVT', 'NONPROFIT', 'PROF_SERVICES', 'OTHER'] as const;

async function api(path: string, headers: Record<string, string> = {}): Promise<Response> {
  const creds = app.creds!;
  return fetch(creds.server.replace(/\/$/, '') + path, { headers: { Authorization: 'Bearer ' + creds.token, ...headers } });
}

// apiError turns an error answer into what errorText understands.
async function apiError(r: Response): Promise<Error> {
  let body: any = {};
  try { body = await r.json(); } catch { /* not JSON */ }
  const e: any = new Error(body?.error?.message ?? r.statusText);
  e.code = body?.error?.code ?? 'generic';
  return e;
}

export interface SearchParams { q?: string; category?: string; lat?: number; lng?: number; radius_km?: number; cursor?: string; limit?: number }

export async function searchDirectory(p: SearchParams): Promise<{ results: DirResult[]; next_cursor?: string }> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(p)) if (v !== undefined && v !== '') qs.set(k, String(v));
  const r = await api('/v1/directory?' + qs.toString());
  if (!r.ok) throw await apiError(r);
  return r.json();
}

// --- the names list for mention-to-chat ---

let matcher: Matcher | null = null;
let etag = '';
let checked = 0;
let loading: Promise<void> | null = null;
const REFRESH_MS = 5 * 60 * 1000;

function use(names: DirName[]) {
  matcher = buildMatcher(names);
  notify();
}

async function refresh() {
  try {
    if (!matcher) {
      const saved = await kv.get('directoryNames');
      if (saved?.names) { etag = saved.etag ?? ''; use(saved.names); }
    }
    const r = await api('/v1/directory/names', etag ? { 'If-None-Match': etag } : {});
    checked = Date.now();
    if (r.status === 304) return;
    if (!r.ok) return;
    const body = await r.json();
    etag = r.headers.get('ETag') ?? '';
    use(body.names ?? []);
    await kv.put('directoryNames', { etag, names: body.names ?? [] });
  } catch {
    checked = Date.now(); // offline: try again at the next refresh
  } finally {
    loading = null;
  }
}

// mentions returns the listed businesses text names (see mentions.ts),
// leaving out except (the chat partner, the user). It starts a refresh of
// the names list when it is older than five minutes; the cards appear
// when it arrives.
export function mentions(text: string, except: string[] = []): Mention[] {
  if (!app.creds) return [];
  if (!loading && Date.now() - checked > REFRESH_MS) loading = refresh();
  if (!matcher || !text) return [];
  return findMentions(text, matcher, 3 + except.length).filter((m) => !except.includes(m.account)).slice(0, 3);
}
