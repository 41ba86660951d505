// The team: every agent sees the colleagues with their role, two-factor
// sign-in and who is online; owners and admins add and remove
// colleagues (owners only owners), owners change roles. The server
// enforces all of it; the page only hides what the role cannot do.

import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type Agent } from './api';
import { t } from './i18n';
import { errorText } from './nav';

type Role = Agent['role'];
const ROLES: Role[] = ['agent', 'admin', 'owner'];
const roleName = (r: string) => t(('role_' + r) as any);
const nameOf = (a: Agent) => a.name || a.email;
// focusNow focuses an element as it is added: the confirmation's button
// takes the focus from the button it replaces (autoFocus is honoured only
// for the first element of a page, and then a frame later).
const focusNow = (el: HTMLElement | null) => el?.focus();

// teamError turns the server's refusals into the reader's language.
function teamError(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 409 && e.message.startsWith('the business has an agent with the email')) return t('emailTaken');
    if (e.status === 409 && e.message.includes('last owner')) return t('lastOwner');
    if (e.status === 403) return t('roleNotAllowed');
    if (e.status === 400 && e.message.includes('password must have')) return t('weakPassword');
    if (e.status === 400 && e.message.startsWith('email is not')) return t('invalidEmail');
  }
  return errorText(e);
}

export function TeamPage({ me }: { me: Agent }) {
  const [list, setList] = useState<Agent[]>([]);
  const [err, setErr] = useState('');
  const [msg, setMsg] = useState('');
  const [confirming, setConfirming] = useState('');
  const [roles, setRoles] = useState<Record<string, Role>>({});
  const manager = me.role !== 'agent';
  const owner = me.role === 'owner';
  const load = () => api<{ agents: Agent[] }>('GET', '/agents').then((r) => { setList(r.agents); setRoles({}); }).catch((e) => setErr(errorText(e)));
  useEffect(() => { load(); }, []);
  async function act(f: () => Promise<string>) {
    setErr(''); setMsg('');
    // The list is reloaded before the message or the error shows, so
    // that what it says is what the list shows, and so that the reload
    // (which drops the roles chosen but not applied) comes before
    // anything the reader does after seeing it.
    let m = '', e = '';
    try { m = await f(); } catch (x) { e = teamError(x); }
    await load();
    if (e) setErr(e);
    setMsg(m);
  }
  const changeRole = (a: Agent) => act(async () => {
    const r = await api<Agent>('PUT', `/agents/${encodeURIComponent(a.id)}/role`, { role: roles[a.id] });
    return t('roleChanged', { name: nameOf(a), role: roleName(r.role) });
  });
  const remove = (a: Agent) => act(async () => {
    setConfirming('');
    await api('DELETE', '/agents/' + encodeURIComponent(a.id));
    return t('removed', { name: nameOf(a) });
  });
  const canRemove = (a: Agent) => manager && a.id !== me.id && (a.role !== 'owner' || owner);
  return (
    <main class="page team-page">
      <h1>{t('teamTitle')}</h1>
      <section aria-labelledby="tm-h">
        <h2 id="tm-h" class="sr">{t('teamTitle')}</h2>
        {!manager && <p class="notice">{t('teamReadOnly')}</p>}
        <ul class="team-list" data-testid="team">
          {list.map((a) => (
            <li key={a.id} data-agent={a.email}>
              <div class="who-col">
                <strong>{a.name || a.email}</strong>{a.id === me.id ? ` (${t('me')})` : ''}
                {a.name && <><br /><small>{a.email}</small></>}
              </div>
              <div class="facts">
                <span class="chip role" data-testid="role">{roleName(a.role)}</span>
                <span class="small">{t('twoFactorShort')}: <span data-testid="totp">{a.totp ? t('on') : t('off')}</span></span>
                {a.online && <span class="small online">● {t('online')}</span>}
              </div>
              {(owner || canRemove(a)) && (
                <div class="actions">
                  {owner && (
                    <>
                      <select aria-label={t('roleOf', { name: nameOf(a) })} value={roles[a.id] ?? a.role}
                        onChange={(e) => setRoles({ ...roles, [a.id]: e.currentTarget.value as Role })}>
                        {ROLES.map((r) => <option key={r} value={r}>{roleName(r)}</option>)}
                      </select>
                      <button type="button" class="secondary small" disabled={(roles[a.id] ?? a.role) === a.role}
                        aria-label={t('changeRoleOf', { name: nameOf(a) })} onClick={() => changeRole(a)}>{t('changeRole')}</button>
                    </>
                  )}
                  {canRemove(a) && confirming !== a.id && (
                    <button type="button" class="secondary small" aria-label={t('removeAgent', { name: nameOf(a) })}
                      onClick={() => { setConfirming(a.id); setMsg(''); }}>{t('remove')}</button>
                  )}
                </div>
              )}
              {confirming === a.id && (
                <div class="confirm" role="group" aria-label={t('confirmRemove', { name: nameOf(a) })}>
                  <span>{t('confirmRemove', { name: nameOf(a) })}</span>
                  <button type="button" class="danger small" ref={focusNow} onClick={() => remove(a)}>{t('remove')}</button>
                  <button type="button" class="secondary small" onClick={() => setConfirming('')}>{t('cancel')}</button>
                </div>
              )}
            </li>
          ))}
        </ul>
        {err && <p class="error" role="alert">{err}</p>}
        <p class="ok" role="status">{msg}</p>
      </section>
      {manager && <AddAgent owner={owner} onAdded={async (a) => { setErr(''); await load(); setMsg(t('added', { name: nameOf(a) })); }} />}
    </main>
  );
}

function AddAgent({ owner, onAdded }: { owner: boolean; onAdded: (a: Agent) => void }) {
  const [f, setF] = useState({ email: '', name: '', role: 'agent' as Role, password: '' });
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true); setErr('');
    try {
      const a = await api<Agent>('POST', '/agents', { ...f, name: f.name || undefined });
      setF({ email: '', name: '', role: 'agent', password: '' });
      onAdded(a);
    } catch (x) { setErr(teamError(x)); } finally { setBusy(false); }
  }
  const field = (k: 'email' | 'name' | 'password', label: string, extra: Record<string, any>) => (
    <label>{label}<input {...extra} value={f[k]} onInput={(e) => setF({ ...f, [k]: e.currentTarget.value })} /></label>
  );
  return (
    <section aria-labelledby="add-h">
      <h2 id="add-h">{t('addAgent')}</h2>
      <form onSubmit={submit} class="inline-form">
        {field('email', t('email'), { type: 'email', required: true, autocomplete: 'off' })}
        {field('name', t('name'), { maxLength: 128, autocomplete: 'off' })}
        <label>{t('role')}
          <select value={f.role} onChange={(e) => setF({ ...f, role: e.currentTarget.value as Role })}>
            {ROLES.filter((r) => owner || r !== 'owner').map((r) => <option key={r} value={r}>{roleName(r)}</option>)}
          </select>
        </label>
        {field('password', t('initialPassword'), { type: 'text', required: true, autocomplete: 'new-password', spellcheck: false, 'aria-describedby': 'add-pw-hint' })}
        <small id="add-pw-hint">{t('passwordHint')}</small>
        {err && <p class="error" role="alert">{err}</p>}
        <button type="submit" disabled={busy}>{t('add')}</button>
      </form>
    </section>
  );
}
