// The business app (docs/inbox.md, "Business app"): agents sign in and
// work the inbox, owners and admins edit the business profile and the
// standard messages. Served by the node at /business/; it talks only to
// /business/api. Everything people typed is rendered as text (JSX
// children), never as HTML.

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, onExpired, setCSRF, type Agent } from './api';
import { errorText, navigate } from './nav';
import { t, lang } from './i18n';
import { Inbox } from './inbox';
import { ProfilePage } from './profile';
import { SettingsPage } from './settings';
import { AccountPage } from './account';
import { TeamPage } from './team';
import { AuditPage } from './audit';
import './business.css';

document.documentElement.lang = lang;
document.title = t('title');

function usePath(): string {
  const [p, setP] = useState(location.pathname);
  useEffect(() => {
    const f = () => setP(location.pathname);
    addEventListener('popstate', f);
    return () => removeEventListener('popstate', f);
  }, []);
  return p;
}

type Choice = { id: string; name: string };

function SignIn({ expired, onDone }: { expired: boolean; onDone: (a: Agent) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState('');
  // The businesses the email and password fit, when they fit several.
  const [choices, setChoices] = useState<Choice[] | null>(null);
  async function signIn(business?: string) {
    setBusy(true); setErr('');
    try {
      const r = await api<{ agent?: Agent; csrf_token?: string; choose_business?: Choice[] }>('POST', '/login',
        { email, password, code: code || undefined, business });
      if (r.choose_business) { setChoices(r.choose_business); return; }
      setCSRF(r.csrf_token!);
      onDone(r.agent!);
    } catch (x) {
      if (x instanceof ApiError) {
        setErr(x.status === 401 ? t('wrongCredentials') : x.status === 423 ? t('locked') : x.status === 429 ? t('rateLimited') : errorText(x));
      } else setErr(errorText(x));
    } finally { setBusy(false); }
  }
  function submit(e: Event) { e.preventDefault(); signIn(); }
  if (choices) {
    return (
      <main class="signin">
        <h1>{t('title')}</h1>
        <section class="choose" aria-labelledby="choose-title">
          <h2 id="choose-title">{t('chooseBusiness')}</h2>
          <ul>
            {choices.map((c) => (
              <li key={c.id}><button type="button" disabled={busy} onClick={() => signIn(c.id)}>{c.name}</button></li>
            ))}
          </ul>
          <label>{t('code')}<input inputMode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" value={code} onInput={(e) => setCode(e.currentTarget.value)} aria-describedby="choose-code-hint" /></label>
          <small id="choose-code-hint">{t('codeHint')}</small>
          <p class="error" role="alert">{err}</p>
          <button type="button" class="secondary" onClick={() => { setChoices(null); setPassword(''); setCode(''); setErr(''); }}>{t('otherAccount')}</button>
        </section>
      </main>
    );
  }
  return (
    <main class="signin">
      <h1>{t('title')}</h1>
      <form onSubmit={submit} aria-describedby="signin-status">
        <h2>{t('signInTitle')}</h2>
        {expired && <p class="notice" role="status">{t('expired')}</p>}
        <label>{t('email')}<input type="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} /></label>
        <label>{t('password')}<input type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} /></label>
        <label>{t('code')}<input inputMode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" value={code} onInput={(e) => setCode(e.currentTarget.value)} aria-describedby="code-hint" /></label>
        <small id="code-hint">{t('codeHint')}</small>
        <p id="signin-status" class="error" role="alert">{err}</p>
        <button type="submit" disabled={busy}>{busy ? t('signingIn') : t('signIn')}</button>
      </form>
    </main>
  );
}

function App() {
  const [me, setMe] = useState<Agent | null | undefined>(undefined);
  const [expired, setExpired] = useState(false);
  const path = usePath();
  useEffect(() => {
    onExpired(() => { setExpired(true); setMe(null); });
    api<{ agent: Agent; csrf_token: string }>('GET', '/me')
      .then((r) => { setCSRF(r.csrf_token); setMe(r.agent); })
      .catch(() => setMe(null));
  }, []);
  if (me === undefined) return <p class="boot" role="status">{t('title')}…</p>;
  if (me === null) return <SignIn expired={expired} onDone={(a) => { setExpired(false); setMe(a); }} />;
  const admin = me.role !== 'agent';
  const pages = ['profile', 'settings', 'team', 'audit', 'account'] as const;
  type Page = 'inbox' | typeof pages[number];
  const page: Page = pages.find((p) => path.startsWith('/business/' + p) && (p !== 'audit' || admin)) ?? 'inbox';
  const link = (to: string, name: Page) => (
    <a href={to} aria-current={page === name ? 'page' : undefined} onClick={(e) => { e.preventDefault(); navigate(to); }}>{t(name)}</a>
  );
  const signedOut = () => { setExpired(false); setMe(null); };
  async function signOut() {
    try { await api('POST', '/logout'); } catch { /* gone anyway */ }
    signedOut();
  }
  return (
    <div class="shell">
      <header class="top">
        <span class="brand">{t('title')}</span>
        <nav aria-label={t('title')}>
          {link('/business/', 'inbox')}
          {link('/business/profile', 'profile')}
          {link('/business/settings', 'settings')}
          {link('/business/team', 'team')}
          {admin && link('/business/audit', 'audit')}
          {link('/business/account', 'account')}
        </nav>
        <span class="who" data-testid="me">{me.name || me.email}</span>
        <button type="button" class="secondary" onClick={signOut}>{t('signOut')}</button>
      </header>
      {page === 'inbox' && <Inbox me={me} path={path} />}
      {page === 'profile' && <ProfilePage admin={admin} />}
      {page === 'settings' && <SettingsPage admin={admin} />}
      {page === 'team' && <TeamPage me={me} />}
      {page === 'audit' && <AuditPage />}
      {page === 'account' && <AccountPage me={me} onMe={setMe} onSignedOut={signedOut} />}
    </div>
  );
}

render(<App />, document.getElementById('app')!);
