// Registration with phone number and code, and linking this browser as a
// device of an existing account (a code that `parley chat link CODE`
// approves, also shown as a QR code).

import { useEffect, useRef, useState } from 'preact/hooks';
import qrcode from 'qrcode-generator';
import type { Core, Credentials } from './core';
import { errorText, t } from './i18n';

interface Props { core: Core; onLogin: (c: Credentials) => void }

const server = location.origin;

export function Login({ core, onLogin }: Props) {
  const [mode, setMode] = useState<'phone' | 'code' | 'link'>('phone');
  const [phone, setPhone] = useState(localStorage.getItem('login.phone') ?? '');
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const [dev, setDev] = useState(false);
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);

  const request = async (e: Event) => {
    e.preventDefault();
    setErr('');
    if (!core.accountID(phone)) { setErr(t('badPhone')); return; }
    setBusy(true);
    try {
      const r = await core.requestCode(server, phone);
      localStorage.setItem('login.phone', phone);
      setDev(r.development);
      setMode('code');
    } catch (e) { setErr(errorText(e)); } finally { setBusy(false); }
  };
  const verify = async (e: Event) => {
    e.preventDefault();
    setErr('');
    setBusy(true);
    try {
      const c = await core.verify(server, phone, code, name.trim() || 'Browser');
      onLogin(c);
    } catch (e) { setErr(errorText(e)); setCode(''); } finally { setBusy(false); }
  };

  if (mode === 'link') return <Link core={core} onLogin={onLogin} onBack={() => setMode('phone')} />;
  return (
    <main class="login">
      <h1>{t('welcome')}</h1>
      <p>{t('welcomeText')}</p>
      {mode === 'phone' ? (
        <form onSubmit={request}>
          <label for="phone">{t('phone')}</label>
          <input id="phone" type="tel" autocomplete="tel" required value={phone} aria-describedby="phone-hint"
            onInput={(e) => setPhone(e.currentTarget.value)} autofocus />
          <small id="phone-hint">{t('phoneHint')}</small>
          <button type="submit" disabled={busy}>{t('sendCode')}</button>
        </form>
      ) : (
        <form onSubmit={verify}>
          <p>{t('codeSent', { phone })}</p>
          {dev && <p class="hint">{t('codeDev')}</p>}
          <label for="code">{t('code')}</label>
          <input id="code" inputMode="numeric" autocomplete="one-time-code" required value={code}
            onInput={(e) => setCode(e.currentTarget.value)} autofocus />
          <label for="name">{t('name')}</label>
          <input id="name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
          <div class="row">
            <button type="button" class="secondary" onClick={() => { setMode('phone'); setErr(''); }}>{t('back')}</button>
            <button type="submit" disabled={busy}>{t('verify')}</button>
          </div>
        </form>
      )}
      {err && <p class="error" role="alert">{err}</p>}
      <p><button type="button" class="link" onClick={() => setMode('link')}>{t('orLink')}</button></p>
    </main>
  );
}

function Link({ core, onLogin, onBack }: Props & { onBack: () => void }) {
  const [code, setCode] = useState(() => core.newLinkCode());
  const [err, setErr] = useState('');
  const alive = useRef(true);
  useEffect(() => () => { alive.current = false; }, []);
  useEffect(() => {
    core.linkWait(server, code).then((c) => { if (alive.current) onLogin(c); }).catch((e) => {
      if (!alive.current) return;
      if (e?.code === 'expired' || e?.code === 'not_found') { setErr(t('linkExpired')); setCode(core.newLinkCode()); return; }
      setErr(errorText(e));
      setTimeout(() => alive.current && setCode(core.newLinkCode()), 3000);
    });
  }, [code]);
  const qr = qrcode(0, 'M');
  qr.addData(code);
  qr.make();
  return (
    <main class="login">
      <h1>{t('linkTitle')}</h1>
      <p>{t('linkText')}</p>
      <pre class="cmd" aria-label="command"><code data-testid="link-command">parley chat link {code}</code></pre>
      <div class="qr" role="img" aria-label={code} dangerouslySetInnerHTML={{ __html: qr.createSvgTag({ cellSize: 4, margin: 4, scalable: true }) }} />
      <p role="status">{t('linkWaiting')}</p>
      {err && <p class="error" role="alert">{err}</p>}
      <button type="button" class="secondary" onClick={onBack}>{t('back')}</button>
    </main>
  );
}
