// The business directory: search (name, category, near me), a business's
// profile with opening hours and "open now", and the mention cards under
// messages that name a listed business.

import { useEffect, useRef, useState } from 'preact/hooks';
import type { Msg } from './db';
import { CATEGORIES, mentions, searchDirectory, type CardX, type DirResult, type OpeningHours, type Weekday } from './dirapi';
import { errorText, lang, t, type Key } from './i18n';
import { app, openChat } from './state';

// go navigates inside the app (main.tsx routes on popstate).
export function go(hash: string) {
  history.pushState(null, '', hash || location.pathname);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function categoryName(c: string): string {
  const k = ('cat_' + c) as Key;
  return c ? t(k) : '';
}

export function DirectoryView() {
  const [q, setQ] = useState('');
  const [category, setCategory] = useState('');
  const [near, setNear] = useState(false);
  const [pos, setPos] = useState<{ lat: number; lng: number } | null>(null);
  const [results, setResults] = useState<DirResult[] | null>(null);
  const [next, setNext] = useState('');
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const seq = useRef(0);

  const run = async (cursor = '', at = pos) => {
    const n = ++seq.current; // only the newest search may show its answer
    setBusy(true);
    setErr('');
    try {
      const r = await searchDirectory({ q: q.trim(), category, cursor, ...(near && at ? { lat: at.lat, lng: at.lng, radius_km: 25 } : {}) });
      if (n !== seq.current) return;
      setResults(cursor ? [...(results ?? []), ...r.results] : r.results);
      setNext(r.next_cursor ?? '');
    } catch (e) { if (n === seq.current) setErr(errorText(e)); } finally { if (n === seq.current) setBusy(false); }
  };
  useEffect(() => { if (!near || pos) run(); }, [category, near, pos]);

  const toggleNear = (on: boolean) => {
    setNear(on);
    if (!on || pos) return;
    if (!navigator.geolocation) { setErr(t('noLocation', { msg: '' })); setNear(false); return; }
    setErr(t('locating'));
    navigator.geolocation.getCurrentPosition(
      (p) => { setErr(''); setPos({ lat: p.coords.latitude, lng: p.coords.longitude }); },
      (e) => { setErr(t('noLocation', { msg: e.message })); setNear(false); },
      { timeout: 10000, maximumAge: 300000 });
  };

  return (
    <section class="chat-view directory" aria-labelledby="dir-title">
      <header>
        <button type="button" class="back" onClick={() => go('')} aria-label={t('backToChats')}>←</button>
        <div class="title"><h2 id="dir-title">{t('dirTitle')}</h2></div>
      </header>
      <form role="search" class="dir-search" onSubmit={(e) => { e.preventDefault(); run(); }}>
        <label for="dir-q">{t('dirSearch')}</label>
        <input id="dir-q" type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} maxLength={64} />
        <label for="dir-cat">{t('category')}</label>
        <select id="dir-cat" value={category} onChange={(e) => setCategory(e.currentTarget.value)}>
          <option value="">{t('allCategories')}</option>
          {CATEGORIES.map((c) => <option key={c} value={c}>{categoryName(c)}</option>)}
        </select>
        <label class="check"><input type="checkbox" checked={near} onChange={(e) => toggleNear(e.currentTarget.checked)} /> {t('nearMe')}</label>
        <button type="submit" disabled={busy}>{t('dirSearchButton')}</button>
      </form>
      {err && <p class="error" role="alert">{err}</p>}
      <ul class="dir-results" aria-label={t('dirResults')} aria-busy={busy}>
        {results?.map((r) => (
          <li key={r.account}>
            <button type="button" class="dir-result" onClick={() => go('#/business/' + r.account)} data-account={r.account}>
              <span class="name">{r.name}{r.verified && <Badge />}</span>
              <span class="muted">{[categoryName(r.category), r.city || r.address].filter(Boolean).join(' · ')}</span>
              <span class="facts">
                {r.distance_km !== undefined && <span>{t('distance', { km: r.distance_km.toLocaleString(lang, { maximumFractionDigits: 1 }) })}</span>}
                {r.has_hours && <span class={r.open_now ? 'is-open' : 'is-closed'}>{r.open_now ? t('openNow') : t('closedNow')}</span>}
              </span>
            </button>
          </li>
        ))}
        {results && !results.length && <li class="empty">{t('dirNone')}</li>}
      </ul>
      {next && <button type="button" class="secondary" disabled={busy} onClick={() => run(next)}>{t('dirMore')}</button>}
    </section>
  );
}

function Badge() {
  return <span class="verified" role="img" aria-label={t('verifiedBadge')} title={t('verifiedBadge')} data-testid="badge">✔</span>;
}

export function BusinessView({ account }: { account: string }) {
  const [card, setCard] = useState<CardX | null>(null);
  const [err, setErr] = useState('');
  useEffect(() => {
    const creds = app.creds!;
    fetch(creds.server.replace(/\/$/, '') + '/v1/accounts/' + encodeURIComponent(account) + '/business', { headers: { Authorization: 'Bearer ' + creds.token } })
      .then(async (r) => {
        const body = await r.json();
        if (!r.ok) throw Object.assign(new Error(body?.error?.message ?? r.statusText), { code: body?.error?.code });
        setCard(body);
      })
      .catch((e) => setErr(errorText(e)));
  }, [account]);
  const p = card?.profile ?? {};
  const l = card?.listing;
  return (
    <section class="chat-view business-view" aria-labelledby="biz-title">
      <header>
        <button type="button" class="back" style="display:inline-block" onClick={() => go('#/directory')} aria-label={t('backToDirectory')}>←</button>
        <div class="title">
          <h2 id="biz-title">{card?.verified_name ?? '+' + account}{card?.verified && <Badge />}</h2>
          <p class="status">+{account}</p>
        </div>
      </header>
      {err && <p class="error" role="alert">{err}</p>}
      {card && (
        <div class="profile">
          <OpenState card={card} />
          <dl>
            {l?.category && [<dt key="c:t">{t('category')}</dt>, <dd key="c">{categoryName(l.category)}</dd>]}
            {(l?.address || p.address) && [<dt key="a:t">{t('address')}</dt>, <dd key="a">{[l?.address || p.address, l?.city].filter(Boolean).join(', ')}</dd>]}
            {p.about && [<dt key="b:t">{t('about')}</dt>, <dd key="b">{p.about}</dd>]}
            {p.description && [<dt key="d:t">{t('description')}</dt>, <dd key="d">{p.description}</dd>]}
          </dl>
          <HoursTable card={card} />
          <button type="button" onClick={() => openChat('a:' + account)}>{t('startChatWith', { name: card.verified_name })}</button>
        </div>
      )}
    </section>
  );
}

const WEEK: Weekday[] = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

function dayName(i: number): string {
  return new Intl.DateTimeFormat(lang, { weekday: 'long', timeZone: 'UTC' }).format(Date.UTC(2024, 0, 1 + i)); // 2024-01-01 was a Monday
}

function changeTime(ms: number, tz: string): string {
  const opt: Intl.DateTimeFormatOptions = { timeZone: tz, hour: '2-digit', minute: '2-digit' };
  const day = (d: number) => new Intl.DateTimeFormat('en-CA', { timeZone: tz, dateStyle: 'short' }).format(d);
  if (day(ms) !== day(Date.now())) opt.weekday = 'short';
  return new Intl.DateTimeFormat(lang, opt).format(ms);
}

// OpenState says whether the business is open now and when that changes
// (times in the business's time zone).
export function OpenState({ card }: { card: CardX }) {
  const h = card.hours;
  const tz = card.profile?.opening_hours?.time_zone;
  if (!h || !tz) return null;
  const when = h.next_change ? changeTime(h.next_change, tz) : '';
  return (
    <p class={'open-state ' + (h.open_now ? 'is-open' : 'is-closed')} data-testid="open-state">
      {h.open_now ? t('openNow') : t('closedNow')}
      {when && ' — ' + t(h.open_now ? 'closesAt' : 'opensAt', { time: when })}
    </p>
  );
}

const span = (iv: { open: string; close: string }) => iv.open + '–' + iv.close;

export function HoursTable({ card }: { card: CardX }) {
  const oh: OpeningHours | undefined = card.profile?.opening_hours;
  if (!oh?.time_zone) return null;
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: oh.time_zone, dateStyle: 'short' }).format(Date.now());
  const upcoming = (oh.exceptions ?? []).filter((e) => e.date >= today).slice(0, 5);
  const fmtDate = (d: string) => new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }).format(Date.parse(d + 'T00:00:00Z'));
  return (
    <div class="hours">
      <h3>{t('openingHours')}</h3>
      <table>
        <caption class="sr">{t('openingHours')} ({oh.time_zone})</caption>
        <tbody>
          {WEEK.map((d, i) => {
            const ivs = oh.weekly?.[d] ?? [];
            return <tr key={d}><th scope="row">{dayName(i)}</th><td>{ivs.length ? ivs.map(span).join(', ') : t('closedDay')}</td></tr>;
          })}
        </tbody>
      </table>
      {upcoming.length > 0 && (
        <>
          <h4>{t('specialHours')}</h4>
          <ul>
            {upcoming.map((e) => <li key={e.date}>{fmtDate(e.date)}: {e.closed ? t('closedDay') : (e.intervals ?? []).map(span).join(', ')}{e.note ? ' (' + e.note + ')' : ''}</li>)}
          </ul>
        </>
      )}
      <p class="muted small">{t('timeZone', { tz: oh.time_zone })}</p>
    </div>
  );
}

// MentionCards shows "Chat with <business>" under a message that names
// a listed business; the matching runs here, on the device.
export function MentionCards({ m }: { m: Msg }) {
  const text = m.kind === 'text' ? m.text : m.caption;
  if (!text) return null;
  const except = [app.creds?.account ?? ''];
  if (m.chat.startsWith('a:')) except.push(m.chat.slice(2));
  const found = mentions(text, except);
  if (!found.length) return null;
  return (
    <div class="mentions" role="group" aria-label={t('mentionsLabel')}>
      {found.map((f) => (
        <button type="button" class="mention-card" key={f.account} data-account={f.account} onClick={() => openChat('a:' + f.account)}>
          💬 {t('mentionCard', { name: f.name })}
        </button>
      ))}
    </div>
  );
}
