// The profile editor: the business profile of each number (about,
// description, address, email, websites, category, opening hours per
// weekday with exceptions, time zone) and a preview of the business card
// as customers' clients show it. Saving names the version it edited; a
// change by someone else in between is refused and reloaded.

import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from './api';
import { lang, t } from './i18n';
import { errorText } from './nav';

interface Interval { open: string; close: string }
interface Exception { date: string; closed?: boolean; intervals?: Interval[]; note?: string }
type Weekday = 'monday' | 'tuesday' | 'wednesday' | 'thursday' | 'friday' | 'saturday' | 'sunday';
interface Hours { time_zone: string; weekly: Partial<Record<Weekday, Interval[]>>; exceptions?: Exception[] }
interface Profile { about: string; address: string; description: string; email: string; websites: string[]; vertical: string; opening_hours: Hours | null }
interface Number { id: string; account: string; display_phone_number: string; verified_name: string }
interface ProfileAnswer { number: Number; profile: Profile; hours?: { open_now: boolean; next_change?: number }; updated_at: number; picture_url?: string }

const WEEK: Weekday[] = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const VERTICALS = ['RESTAURANT', 'GROCERY', 'RETAIL', 'APPAREL', 'BEAUTY', 'HEALTH', 'HOTEL', 'TRAVEL', 'AUTO', 'EDU',
  'ENTERTAIN', 'EVENT_PLAN', 'FINANCE', 'GOVT', 'NONPROFIT', 'PROF_SERVICES', 'OTHER'];

const dayName = (i: number) => new Intl.DateTimeFormat(lang, { weekday: 'long', timeZone: 'UTC' }).format(Date.UTC(2024, 0, 1 + i));
const span = (iv: Interval) => iv.open + '–' + iv.close;
const zones = (): string[] => {
  try { return (Intl as any).supportedValuesOf('timeZone'); } catch { return ['UTC', 'Europe/Berlin']; }
};
const localZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

export function ProfilePage({ admin }: { admin: boolean }) {
  const [numbers, setNumbers] = useState<Number[]>([]);
  const [sel, setSel] = useState('');
  const [ans, setAns] = useState<ProfileAnswer | null>(null);
  const [p, setP] = useState<Profile | null>(null);
  const [msg, setMsg] = useState('');
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api<{ numbers: Number[] }>('GET', '/numbers').then((r) => { setNumbers(r.numbers); if (r.numbers[0]) setSel(r.numbers[0].id); }).catch((e) => setErr(errorText(e)));
  }, []);
  async function load(id = sel) {
    if (!id) return;
    try {
      const a = await api<ProfileAnswer>('GET', `/numbers/${id}/profile`);
      setAns(a); setP(structuredClone(a.profile));
    } catch (e) { setErr(errorText(e)); }
  }
  useEffect(() => { load(); }, [sel]);

  async function save(e: Event) {
    e.preventDefault();
    if (!p || !ans) return;
    setBusy(true); setErr(''); setMsg('');
    try {
      const body = { ...p, websites: p.websites.filter((w) => w.trim()), updated_at: ans.updated_at };
      const a = await api<ProfileAnswer>('PUT', `/numbers/${sel}/profile`, body);
      setAns(a); setP(structuredClone(a.profile)); setMsg(t('saved'));
    } catch (x) {
      setErr(errorText(x));
      if (x instanceof ApiError && x.status === 409) {
        const a = await api<ProfileAnswer>('GET', `/numbers/${sel}/profile`).catch(() => null);
        if (a) setAns(a); // keep the agent's edits; saving again applies them over the new version
      }
    } finally { setBusy(false); }
  }

  async function upload(e: Event) {
    const f = (e.currentTarget as HTMLInputElement).files?.[0];
    if (!f) return;
    setBusy(true); setErr(''); setMsg('');
    try {
      const a = await api<ProfileAnswer>('PUT', `/numbers/${sel}/picture`, f);
      setAns(a); setMsg(t('saved')); // the other fields keep the agent's edits
    } catch (x) { setErr(errorText(x)); } finally { setBusy(false); }
  }

  const set = (k: keyof Profile, v: any) => setP((o) => (o ? { ...o, [k]: v } : o));
  const hours = p?.opening_hours ?? null;
  const setHours = (h: Hours | null) => set('opening_hours', h);
  return (
    <main class="page profile">
      <h1>{t('profileTitle')}</h1>
      {numbers.length > 1 && (
        <label>{t('number')}
          <select value={sel} onChange={(e) => setSel(e.currentTarget.value)}>
            {numbers.map((n) => <option key={n.id} value={n.id}>{n.verified_name} {n.display_phone_number}</option>)}
          </select>
        </label>
      )}
      {!admin && <p class="notice">{t('onlyAdmins')}</p>}
      {err && <p class="error" role="alert">{err}</p>}
      {p && ans && (
        <div class="profile-grid">
          <form onSubmit={save} class="card-form">
            <fieldset disabled={!admin}>
              <legend class="sr">{t('profileTitle')}</legend>
              <label>{t('picture')}<input type="file" accept="image/jpeg,image/png" onChange={upload} /></label>
              <label>{t('about')}<input maxLength={139} value={p.about} onInput={(e) => set('about', e.currentTarget.value)} /></label>
              <label>{t('description')}<textarea maxLength={512} rows={3} value={p.description} onInput={(e) => set('description', e.currentTarget.value)} /></label>
              <label>{t('address')}<input maxLength={256} value={p.address} onInput={(e) => set('address', e.currentTarget.value)} /></label>
              <label>{t('email')}<input type="email" maxLength={128} value={p.email} onInput={(e) => set('email', e.currentTarget.value)} /></label>
              {[0, 1].map((i) => (
                <label key={i}>{t('website', { n: i + 1 })}<input type="url" placeholder="https://" value={p.websites[i] ?? ''}
                  onInput={(e) => { const w = p.websites.slice(); w[i] = e.currentTarget.value; set('websites', w); }} /></label>
              ))}
              <label>{t('category')}
                <select value={p.vertical} onChange={(e) => set('vertical', e.currentTarget.value)}>
                  <option value="">{t('noCategory')}</option>
                  {VERTICALS.map((v) => <option key={v} value={v}>{v}</option>)}
                </select>
              </label>
              <HoursEditor hours={hours} onChange={setHours} />
              <p role="status" class="ok">{msg}</p>
              <button type="submit" disabled={busy}>{t('save')}</button>
            </fieldset>
          </form>
          <aside class="preview" aria-label={t('preview')}>
            <h2>{t('preview')}</h2>
            <Card n={ans.number} p={p} state={ans.hours} savedHours={ans.profile.opening_hours} picture={ans.picture_url} />
          </aside>
        </div>
      )}
    </main>
  );
}

function HoursEditor({ hours, onChange }: { hours: Hours | null; onChange: (h: Hours | null) => void }) {
  const h = hours;
  const setDay = (d: Weekday, ivs: Interval[]) => onChange({ ...h!, weekly: { ...h!.weekly, [d]: ivs } });
  const setEx = (ex: Exception[]) => onChange({ ...h!, exceptions: ex });
  return (
    <fieldset class="hours-editor">
      <legend>{t('hours')}</legend>
      <label class="check"><input type="checkbox" checked={!!h} onChange={(e) => onChange(e.currentTarget.checked ? { time_zone: localZone(), weekly: {}, exceptions: [] } : null)} />{t('hoursOn')}</label>
      {h && (
        <>
          <label>{t('timeZone')}
            <input list="zones" value={h.time_zone} onInput={(e) => onChange({ ...h, time_zone: e.currentTarget.value })} />
          </label>
          <datalist id="zones">{zones().map((z) => <option key={z} value={z} />)}</datalist>
          <table class="week">
            <tbody>
              {WEEK.map((d, i) => {
                const ivs = h.weekly[d] ?? [];
                return (
                  <tr key={d} data-day={d}>
                    <th scope="row">{dayName(i)}</th>
                    <td>
                      {ivs.length === 0 && <span class="muted">{t('closedDay')} </span>}
                      {ivs.map((iv, j) => (
                        <span class="interval" key={j}>
                          <input type="time" aria-label={`${dayName(i)} ${t('opens')} ${j + 1}`} value={iv.open} onInput={(e) => setDay(d, ivs.map((x, k) => (k === j ? { ...x, open: e.currentTarget.value } : x)))} />
                          –
                          <input type="time" aria-label={`${dayName(i)} ${t('closes')} ${j + 1}`} value={iv.close === '24:00' ? '23:59' : iv.close} onInput={(e) => setDay(d, ivs.map((x, k) => (k === j ? { ...x, close: e.currentTarget.value } : x)))} />
                          <button type="button" class="secondary small" aria-label={`${t('remove')} ${dayName(i)} ${j + 1}`} onClick={() => setDay(d, ivs.filter((_, k) => k !== j))}>×</button>
                        </span>
                      ))}
                      {ivs.length < 6 && <button type="button" class="secondary small" aria-label={`${t('addInterval')}: ${dayName(i)}`} onClick={() => setDay(d, [...ivs, { open: '09:00', close: '17:00' }])}>+ {t('addInterval')}</button>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <h3>{t('exceptions')}</h3>
          <ul class="exceptions">
            {(h.exceptions ?? []).map((x, i) => {
              const ex = h.exceptions ?? [];
              const put = (v: Exception) => setEx(ex.map((y, k) => (k === i ? v : y)));
              return (
                <li key={i}>
                  <label>{t('date')}<input type="date" value={x.date} onInput={(e) => put({ ...x, date: e.currentTarget.value })} /></label>
                  <label class="check"><input type="checkbox" checked={!!x.closed} onChange={(e) => put(e.currentTarget.checked ? { ...x, closed: true, intervals: undefined } : { ...x, closed: false, intervals: [{ open: '10:00', close: '14:00' }] })} />{t('closedAllDay')}</label>
                  {!x.closed && (x.intervals ?? []).map((iv, j) => (
                    <span class="interval" key={j}>
                      <input type="time" aria-label={`${x.date} ${t('opens')}`} value={iv.open} onInput={(e) => put({ ...x, intervals: x.intervals!.map((y, k) => (k === j ? { ...y, open: e.currentTarget.value } : y)) })} />–
                      <input type="time" aria-label={`${x.date} ${t('closes')}`} value={iv.close} onInput={(e) => put({ ...x, intervals: x.intervals!.map((y, k) => (k === j ? { ...y, close: e.currentTarget.value } : y)) })} />
                    </span>
                  ))}
                  <label>{t('noteLabel')}<input maxLength={64} value={x.note ?? ''} onInput={(e) => put({ ...x, note: e.currentTarget.value })} /></label>
                  <button type="button" class="secondary small" onClick={() => setEx(ex.filter((_, k) => k !== i))}>{t('remove')}</button>
                </li>
              );
            })}
          </ul>
          <button type="button" class="secondary" onClick={() => setEx([...(h.exceptions ?? []), { date: new Date().toISOString().slice(0, 10), closed: true }])}>+ {t('addException')}</button>
        </>
      )}
    </fieldset>
  );
}

function changeTime(ms: number, tz: string): string {
  const opt: Intl.DateTimeFormatOptions = { timeZone: tz, hour: '2-digit', minute: '2-digit' };
  const day = (d: number) => new Intl.DateTimeFormat('en-CA', { timeZone: tz, dateStyle: 'short' }).format(d);
  if (day(ms) !== day(Date.now())) opt.weekday = 'short';
  return new Intl.DateTimeFormat(lang, opt).format(ms);
}

// Card is the business card as the web client shows it: name, verified
// number, open now (for the saved hours, as the server computes it for
// customers), about, description, address, email, websites, category and
// the opening hours with upcoming exceptions.
function Card({ n, p, state, savedHours, picture }: { n: Number; p: Profile; state?: { open_now: boolean; next_change?: number }; savedHours: Hours | null; picture?: string }) {
  const oh = p.opening_hours;
  let today = '';
  try { today = oh ? new Intl.DateTimeFormat('en-CA', { timeZone: oh.time_zone, dateStyle: 'short' }).format(Date.now()) : ''; } catch { /* unknown zone while typing */ }
  const upcoming = (oh?.exceptions ?? []).filter((e) => e.date >= today).slice(0, 5);
  return (
    <div class="bizcard" data-testid="preview">
      {picture && <img class="bizpic" src={picture} alt={t('picture')} width={96} height={96} data-testid="preview-picture" />}
      <h3>{n.verified_name}</h3>
      <p class="muted">{n.display_phone_number}</p>
      {state && savedHours && (
        <p class={'open-state ' + (state.open_now ? 'is-open' : 'is-closed')} data-testid="open-state">
          {state.open_now ? t('openNow') : t('closedNow')}
          {state.next_change ? ' — ' + t(state.open_now ? 'closesAt' : 'opensAt', { time: changeTime(state.next_change, savedHours.time_zone) }) : ''}
        </p>
      )}
      {p.about && <p class="about">{p.about}</p>}
      {p.description && <p>{p.description}</p>}
      <dl>
        {p.vertical && <><dt>{t('category')}</dt><dd>{p.vertical}</dd></>}
        {p.address && <><dt>{t('address')}</dt><dd>{p.address}</dd></>}
        {p.email && <><dt>{t('email')}</dt><dd>{p.email}</dd></>}
        {p.websites.filter(Boolean).map((w, i) => <><dt key={'t' + i}>{t('website', { n: i + 1 })}</dt><dd key={'d' + i}>{w}</dd></>)}
      </dl>
      {oh && (
        <div class="hours">
          <h4>{t('hours')}</h4>
          <table>
            <tbody>
              {WEEK.map((d, i) => {
                const ivs = oh.weekly[d] ?? [];
                return <tr key={d}><th scope="row">{dayName(i)}</th><td>{ivs.length ? ivs.map(span).join(', ') : t('closedDay')}</td></tr>;
              })}
            </tbody>
          </table>
          {upcoming.length > 0 && (
            <>
              <h4>{t('specialHours')}</h4>
              <ul>{upcoming.map((e) => <li key={e.date}>{e.date}: {e.closed ? t('closedDay') : (e.intervals ?? []).map(span).join(', ')}{e.note ? ' (' + e.note + ')' : ''}</li>)}</ul>
            </>
          )}
          <p class="muted small">{t('tzShown', { tz: oh.time_zone })}</p>
        </div>
      )}
      <p class="muted small">{t('previewSaved')}</p>
    </div>
  );
}
