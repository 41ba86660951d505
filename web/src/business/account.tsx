// The signed-in agent's account: two-factor sign-in (set up with a QR
// code the server draws, or the key typed in; turned off with the
// password), the password, and the sessions (revoking this one signs
// out).

import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type Agent } from './api';
import { t } from './i18n';
import { errorText, when } from './nav';

interface Session { id: string; user_agent: string; created_at: number; last_seen_at: number; current?: boolean }
interface Setup { secret: string; otpauth_url: string; qr_svg: string }

// accountError says what went wrong with a password or code in the
// reader's language; anything else as the server said it.
function accountError(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 403 && e.message.includes('password')) return t('wrongPassword');
    if (e.status === 429) return t('tooManyTries');
    if (e.status === 400 && e.message.includes('password must have')) return t('weakPassword');
    if (e.status === 400 && e.message.startsWith('the code is wrong')) return t('wrongCode');
  }
  return errorText(e);
}

export function AccountPage({ me, onMe, onSignedOut }: { me: Agent; onMe: (a: Agent) => void; onSignedOut: () => void }) {
  const [sessionsKey, setSessionsKey] = useState(0);
  return (
    <main class="page account">
      <h1>{t('accountTitle')}</h1>
      <p class="muted">{me.name ? `${me.name} · ` : ''}{me.email} · {t(('role_' + me.role) as any)}</p>
      <TwoFactor me={me} onMe={onMe} />
      <Password onChanged={() => setSessionsKey((k) => k + 1)} />
      <Sessions key={sessionsKey} onSignedOut={onSignedOut} />
    </main>
  );
}

async function reloadMe(onMe: (a: Agent) => void) {
  const r = await api<{ agent: Agent }>('GET', '/me');
  onMe(r.agent);
}

function TwoFactor({ me, onMe }: { me: Agent; onMe: (a: Agent) => void }) {
  const [setup, setSetup] = useState<Setup | null>(null);
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const [err, setErr] = useState('');
  const [msg, setMsg] = useState('');
  const [busy, setBusy] = useState(false);
  async function run(f: () => Promise<void>) {
    setBusy(true); setErr(''); setMsg('');
    try { await f(); } catch (x) { setErr(accountError(x)); } finally { setBusy(false); }
  }
  const begin = () => run(async () => { setSetup(await api<Setup>('POST', '/totp')); setCode(''); });
  const confirm = (e: Event) => {
    e.preventDefault();
    run(async () => {
      await api('POST', '/totp/confirm', { code: code.trim() });
      setSetup(null); setCode('');
      await reloadMe(onMe);
      setMsg(t('twoFactorNowOn'));
    });
  };
  const turnOff = (e: Event) => {
    e.preventDefault();
    run(async () => {
      await api('DELETE', '/totp', { password });
      setPassword('');
      await reloadMe(onMe);
      setMsg(t('twoFactorNowOff'));
    });
  };
  return (
    <section aria-labelledby="tf-h">
      <h2 id="tf-h">{t('twoFactor')}</h2>
      <p data-testid="totp-state">{me.totp ? t('twoFactorOn') : t('twoFactorOff')}</p>
      {!me.totp && !setup && <button type="button" onClick={begin} disabled={busy}>{t('setUp2fa')}</button>}
      {!me.totp && setup && (
        <form onSubmit={confirm} class="totp-setup">
          <p id="tf-how">{t('scanQR')}</p>
          <img class="qr" width={200} height={200} alt={t('qrAlt')} src={'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(setup.qr_svg)} />
          <div class="field">
            <span id="tf-key">{t('secretKey')}</span>
            <code class="secret" aria-labelledby="tf-key" data-testid="totp-secret">{setup.secret.replace(/(.{4})(?=.)/g, '$1 ')}</code>
          </div>
          <label>{t('code')}
            <input inputMode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxLength={6} required value={code}
              aria-describedby="tf-how" onInput={(e) => setCode(e.currentTarget.value)} />
          </label>
          <div class="send-row">
            <button type="submit" disabled={busy}>{t('confirm2fa')}</button>
            <button type="button" class="secondary" onClick={() => { setSetup(null); setErr(''); }}>{t('cancel')}</button>
          </div>
        </form>
      )}
      {me.totp && (
        <form onSubmit={turnOff} class="inline-form">
          <label>{t('passwordToTurnOff')}
            <input type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
          </label>
          <button type="submit" class="secondary" disabled={busy}>{t('turnOff2fa')}</button>
        </form>
      )}
      {err && <p class="error" role="alert">{err}</p>}
      <p class="ok" role="status">{msg}</p>
    </section>
  );
}

function Password({ onChanged }: { onChanged: () => void }) {
  const [cur, setCur] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [err, setErr] = useState('');
  const [msg, setMsg] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(e: Event) {
    e.preventDefault();
    setErr(''); setMsg('');
    if (next !== again) { setErr(t('passwordsDiffer')); return; }
    setBusy(true);
    try {
      await api('PUT', '/password', { current_password: cur, new_password: next });
      setCur(''); setNext(''); setAgain('');
      setMsg(t('passwordChanged'));
      onChanged();
    } catch (x) { setErr(accountError(x)); } finally { setBusy(false); }
  }
  return (
    <section aria-labelledby="pw-h">
      <h2 id="pw-h">{t('changePassword')}</h2>
      <form onSubmit={submit} class="stack">
        <label>{t('currentPassword')}<input type="password" autocomplete="current-password" required value={cur} onInput={(e) => setCur(e.currentTarget.value)} /></label>
        <label>{t('newPassword')}<input type="password" autocomplete="new-password" required aria-describedby="pw-hint" value={next} onInput={(e) => setNext(e.currentTarget.value)} /></label>
        <small id="pw-hint">{t('passwordHint')}</small>
        <label>{t('repeatPassword')}<input type="password" autocomplete="new-password" required value={again} onInput={(e) => setAgain(e.currentTarget.value)} /></label>
        {err && <p class="error" role="alert">{err}</p>}
        <p class="ok" role="status">{msg}</p>
        <button type="submit" disabled={busy}>{t('changePassword')}</button>
      </form>
    </section>
  );
}

// device names a browser from its user agent, roughly ("Firefox on
// Windows"); the whole string is in the row's title.
export function device(ua: string): string {
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome'
    : /Safari\//.test(ua) ? 'Safari' : /^curl\//.test(ua) ? 'curl' : '';
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Windows/.test(ua) ? 'Windows'
    : /Mac OS X|Macintosh/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : '';
  if (!browser) return ua ? ua.slice(0, 60) : t('unknownDevice');
  return os ? t('deviceOn', { browser, os }) : browser;
}

function Sessions({ onSignedOut }: { onSignedOut: () => void }) {
  const [list, setList] = useState<Session[]>([]);
  const [err, setErr] = useState('');
  const load = () => api<{ sessions: Session[] }>('GET', '/sessions').then((r) => { setList(r.sessions); setErr(''); }).catch((e) => setErr(errorText(e)));
  useEffect(() => { load(); }, []);
  async function revoke(s: Session) {
    try {
      await api('DELETE', '/sessions/' + encodeURIComponent(s.id));
      if (s.current) { onSignedOut(); return; }
      load();
    } catch (x) { setErr(errorText(x)); }
  }
  return (
    <section aria-labelledby="ss-h">
      <h2 id="ss-h">{t('sessions')}</h2>
      <ul class="sessions" data-testid="sessions">
        {list.map((s) => (
          <li key={s.id} data-session={s.id} class={s.current ? 'current' : undefined}>
            <div>
              <strong title={s.user_agent}>{device(s.user_agent)}</strong>
              {s.current && <span class="chip current-chip">{t('thisDevice')}</span>}
              <br />
              <small>{t('signedInAt', { time: when(s.created_at) })} · {t('lastSeen', { time: when(s.last_seen_at) })}</small>
            </div>
            <button type="button" class="secondary small" onClick={() => revoke(s)}
              aria-label={t('revokeSession', { device: device(s.user_agent), time: when(s.created_at) }) + (s.current ? ` (${t('thisDevice')})` : '')}>{t('revoke')}</button>
          </li>
        ))}
      </ul>
      {err && <p class="error" role="alert">{err}</p>}
    </section>
  );
}
