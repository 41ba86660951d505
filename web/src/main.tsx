// Boot: load the Go core, then log in or start the saved device.

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ChatView } from './chat';
import { ChatList } from './chats';
import { BusinessView, DirectoryView } from './directory';
import { loadCore, type Core, type Credentials } from './core';
import { kv, wipe } from './db';
import { errorText, t } from './i18n';
import { LinkGate } from './landing';
import { applyLink } from './links';
import { Login } from './login';
import { app, closeChat, notify, openChat, start, useApp } from './state';
import './style.css';

function Shell({ core }: { core: Core }) {
  const [creds, setCreds] = useState<Credentials | null | undefined>(undefined);
  const [err, setErr] = useState('');
  useEffect(() => { kv.get('creds').then((c) => setCreds(c ?? null)).catch((e) => setErr(errorText(e))); }, []);
  const [other, setOther] = useState(false);
  const [steal, setSteal] = useState(false);
  useEffect(() => {
    if (!creds) return;
    holdDevice(steal).then((ok) => {
      if (!ok) { setOther(true); return; }
      setOther(false);
      start(core, creds).catch((e) => setErr(errorText(e)));
    });
  }, [creds, steal]);
  if (err) return <p class="error" role="alert">{err}</p>;
  if (other) {
    return (
      <main class="login" role="alert">
        <p>{t('stopped_4009')}.</p>
        <button type="button" onClick={() => setSteal(true)}>{t('useHere')}</button>
      </main>
    );
  }
  if (creds === undefined) return <p class="boot" role="status">{t('loading')}</p>;
  if (creds === null) {
    return <Login core={core} onLogin={async (c) => { await kv.put('creds', c); setCreds(c); }} />;
  }
  return <Main />;
}

// holdDevice takes the lock that makes this tab the only one running the
// device: two tabs would each advance the Signal ratchets and undo the
// other's steps. With steal, another tab loses it and stops its session.
function holdDevice(steal: boolean): Promise<boolean> {
  if (!navigator.locks) return Promise.resolve(true);
  return new Promise((resolve) => {
    navigator.locks.request('parley-device', steal ? { steal: true } : { ifAvailable: true }, (lock) => {
      if (!lock) { resolve(false); return undefined; }
      resolve(true);
      return new Promise(() => {}); // held while the page lives
    }).catch(() => {
      // Another tab took over.
      app.session?.stop();
      app.stopped = 'closed:4009';
      notify();
    });
  });
}

function Main() {
  useApp();
  const [view, setView] = useState(''); // "directory" or "business/<account>" (directory.tsx)
  useEffect(() => {
    const route = () => {
      const h = decodeURIComponent(location.hash.replace(/^#\//, ''));
      setView(/^(directory|business\/\d{8,15})$/.test(h) ? h : '');
      if (/^[ag]:/.test(h)) openChat(h);
      else if (app.open && /^(directory|business\/)/.test(h)) { app.open = ''; notify(); }
      else if (app.open) closeChat();
    };
    const linked = applyLink(); // a click-to-chat link opens its chat, the text in the composer
    // The chat waits for the session's credentials (its business card is
    // read with them).
    const open = () => (app.creds ? openChat(linked!) : setTimeout(open, 20));
    if (linked) open(); else route();
    window.addEventListener('popstate', route);
    return () => window.removeEventListener('popstate', route);
  }, []);
  const logout = async () => { await app.session?.stop(); await wipe(); location.reload(); };
  return (
    <div class={'main' + (app.open || view ? ' open' : '')}>
      <Banner onLogout={logout} />
      <ChatList />
      {app.open ? <ChatView chat={app.open} /> : view === 'directory' ? <DirectoryView /> : view ? <BusinessView account={view.slice(9)} /> : <section class="chat-view empty" aria-hidden="true"><p>{t('welcomeText')}</p></section>}
      <footer class="me">
        <span>{t('me', { phone: '+' + (app.creds?.account ?? '') })}</span>
        {typeof Notification !== 'undefined' && Notification.permission === 'default' &&
          <button type="button" class="link" onClick={() => Notification.requestPermission().then(() => app.open && openChat(app.open))}>{t('notifications')}</button>}
        <button type="button" class="link" onClick={logout}>{t('logout')}</button>
      </footer>
      <div class="notices" role="status" aria-live="polite">
        {app.notices.map((n) => <p key={n.id} class={'notice ' + n.kind}>{n.text}</p>)}
      </div>
    </div>
  );
}

function Banner({ onLogout }: { onLogout: () => void }) {
  if (app.stopped) {
    const c = app.stopped.replace('closed:', '');
    const reason = ['4001', '4002', '4003', '4009'].includes(c) ? t(('stopped_' + c) as any) : app.stopped;
    return (
      <div class="banner error" role="alert" data-testid="banner">
        {t('stopped', { reason })} <button type="button" onClick={c === '4009' ? () => location.reload() : onLogout}>{c === '4009' ? t('retry') : t('loginAgain')}</button>
      </div>
    );
  }
  if (app.connection === 'online') return null;
  return <div class="banner" role="status" data-testid="banner" data-state={app.connection} title={app.connMessage}>{t(app.connection === 'offline' ? 'conn_offline' : 'conn_connecting')}</div>;
}

const root = document.getElementById('app')!;
performance.mark('parley-boot');
loadCore()
  .then((core) => {
    render(<LinkGate><Shell core={core} /></LinkGate>, root);
    performance.mark('parley-interactive');
    document.documentElement.dataset.ready = '1';
  })
  .catch((e) => { root.textContent = t('loadFailed') + (e?.message ?? e); });
