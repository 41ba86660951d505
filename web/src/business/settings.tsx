// Settings: quick replies, the greeting and away message (with a
// preview) and labels with colours (the team has its own page).

import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type Label, type QuickReply, type Settings } from './api';
import { t } from './i18n';
import { errorText } from './nav';

export function SettingsPage({ admin }: { admin: boolean }) {
  return (
    <main class="page settings">
      <h1>{t('settings')}</h1>
      <QuickReplies />
      <Messages admin={admin} />
      <Labels admin={admin} />
    </main>
  );
}

function useLoad<T>(path: string, pick: (r: any) => T, init: T): [T, () => void, string, (s: string) => void] {
  const [v, setV] = useState<T>(init);
  const [err, setErr] = useState('');
  const load = () => api('GET', path).then((r) => { setV(pick(r)); setErr(''); }).catch((e) => setErr(errorText(e)));
  useEffect(() => { load(); }, []);
  return [v, load, err, setErr];
}

function QuickReplies() {
  const [list, load, err, setErr] = useLoad<QuickReply[]>('/quick-replies', (r) => r.quick_replies, []);
  const [shortcut, setShortcut] = useState('/');
  const [text, setText] = useState('');
  async function add(e: Event) {
    e.preventDefault();
    try { await api('PUT', '/quick-replies', { shortcut, text }); setShortcut('/'); setText(''); load(); } catch (x) { setErr(errorText(x)); }
  }
  async function del(s: string) {
    try { await api('DELETE', '/quick-replies?shortcut=' + encodeURIComponent(s)); load(); } catch (x) { setErr(errorText(x)); }
  }
  return (
    <section aria-labelledby="qr-h">
      <h2 id="qr-h">{t('quickReplies')}</h2>
      <ul class="rows" data-testid="quick-replies">
        {list.map((q) => (
          <li key={q.shortcut}><strong>{q.shortcut}</strong> <span class="text">{q.text}</span>
            <button type="button" class="secondary small" aria-label={`${t('edit')} ${q.shortcut}`} onClick={() => { setShortcut(q.shortcut); setText(q.text); }}>{t('edit')}</button>
            <button type="button" class="secondary small" aria-label={`${t('remove')} ${q.shortcut}`} onClick={() => del(q.shortcut)}>{t('remove')}</button></li>
        ))}
      </ul>
      <form onSubmit={add} class="inline-form">
        <label>{t('shortcut')}<input required value={shortcut} onInput={(e) => setShortcut(e.currentTarget.value)} /></label>
        <label>{t('text')}<textarea required rows={2} value={text} onInput={(e) => setText(e.currentTarget.value)} /></label>
        {err && <p class="error" role="alert">{err}</p>}
        <button type="submit">{t('add')}</button>
      </form>
    </section>
  );
}

const fill = (s: string, name: string) => s.replaceAll('{{name}}', name);

function Messages({ admin }: { admin: boolean }) {
  const [st, load, err, setErr] = useLoad<Settings | null>('/settings', (r) => r, null);
  const [form, setForm] = useState<Settings | null>(null);
  const [msg, setMsg] = useState('');
  useEffect(() => { if (st) setForm(st); }, [st]);
  if (!form) return err ? <p class="error" role="alert">{err}</p> : null;
  async function save(e: Event) {
    e.preventDefault();
    setMsg('');
    try { setForm(await api<Settings>('PUT', '/settings', form)); setMsg(t('saved')); setErr(''); } catch (x) {
      setErr(errorText(x));
      if (x instanceof ApiError && x.status === 409) load();
    }
  }
  const sample = '+49 151 23456789';
  const part = (k: 'greeting' | 'away', on: 'greeting_enabled' | 'away_enabled') => (
    <fieldset>
      <legend>{t(k)}</legend>
      <label class="check"><input type="checkbox" checked={form[on]} onChange={(e) => setForm({ ...form, [on]: e.currentTarget.checked })} />{t('enabled')}</label>
      <label>{t('text')}<textarea rows={3} maxLength={4096} value={form[k]} onInput={(e) => setForm({ ...form, [k]: e.currentTarget.value })} /></label>
      {form[k] && (
        <div class="bubble-preview" aria-label={t('previewFor', { name: sample })}>
          <small>{t('previewFor', { name: sample })}</small>
          <p class="text" data-testid={k + '-preview'}>{fill(form[k], sample)}</p>
        </div>
      )}
    </fieldset>
  );
  return (
    <section aria-labelledby="msg-h">
      <h2 id="msg-h">{t('greeting')} · {t('away')}</h2>
      <form onSubmit={save}>
        <fieldset disabled={!admin} class="plain">
          {part('greeting', 'greeting_enabled')}
          {part('away', 'away_enabled')}
          <fieldset>
            <legend>{t('retention')}</legend>
            <label>{t('retentionDays')}<input type="number" name="retention_days" min={0} max={3650} value={form.retention_days ?? 0}
              onInput={(e) => setForm({ ...form, retention_days: Number(e.currentTarget.value) || 0 })} /></label>
            <small>{t('retentionHint')}</small>
          </fieldset>
          {!admin && <p class="notice">{t('onlyAdmins')}</p>}
          {err && <p class="error" role="alert">{err}</p>}
          <p role="status" class="ok">{msg}</p>
          <button type="submit">{t('save')}</button>
        </fieldset>
      </form>
    </section>
  );
}

function Labels({ admin }: { admin: boolean }) {
  const [list, load, err, setErr] = useLoad<Label[]>('/labels', (r) => r.labels, []);
  const [name, setName] = useState('');
  const [color, setColor] = useState('#0a6e5c');
  async function add(e: Event) {
    e.preventDefault();
    try { await api('PUT', '/labels/' + encodeURIComponent(name), { color }); setName(''); load(); } catch (x) { setErr(errorText(x)); }
  }
  async function del(n: string) {
    try { await api('DELETE', '/labels/' + encodeURIComponent(n)); load(); } catch (x) { setErr(errorText(x)); }
  }
  return (
    <section aria-labelledby="lb-h">
      <h2 id="lb-h">{t('labels')}</h2>
      <ul class="rows">
        {list.map((l) => (
          <li key={l.name}><span class="chip" style={{ '--chip': l.color }}>{l.name}</span>
            {admin && <button type="button" class="secondary small" aria-label={`${t('remove')} ${l.name}`} onClick={() => del(l.name)}>{t('remove')}</button>}</li>
        ))}
      </ul>
      {admin && (
        <form onSubmit={add} class="inline-form">
          <label>{t('labelName')}<input required maxLength={32} value={name} onInput={(e) => setName(e.currentTarget.value)} /></label>
          <label>{t('colour')}<input type="color" value={color} onInput={(e) => setColor(e.currentTarget.value)} /></label>
          <button type="submit">{t('add')}</button>
        </form>
      )}
      {err && <p class="error" role="alert">{err}</p>}
    </section>
  );
}
