// The pages of click-to-chat links before the client proper: a landing
// page for people who are not signed in (what Parley is, which business
// the link leads to, the prefilled text), and a page that says in plain
// words why a link does not work. Signed-in people go straight to the
// chat (links.ts applyLink, called when the client starts).

import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { kv } from './db';
import { lt } from './linkstrings';
import { holdLink, parseLink, resolveLink, type ChatLink } from './links';
import './links.css';

export function LinkGate({ children }: { children: ComponentChildren }) {
  const [link, setLink] = useState<ChatLink | null | undefined>(() => (parseLink() ? undefined : null));
  const [signedIn, setSignedIn] = useState<boolean | undefined>(undefined);
  const [go, setGo] = useState(false);
  useEffect(() => {
    const l = parseLink();
    if (!l) return;
    kv.get('creds').then((c) => setSignedIn(!!c)).catch(() => setSignedIn(false));
    resolveLink(l).then((r) => {
      if (!r.error) holdLink(r);
      setLink(r);
    });
  }, []);
  if (link === null) return <>{children}</>;
  if (link === undefined || signedIn === undefined) return <p class="boot" role="status">{lt('linkLoading')}</p>;
  if (link.error) return <LinkError link={link} />;
  if (!signedIn && !go) return <Landing link={link} onContinue={() => setGo(true)} />;
  return <>{children}</>;
}

function Landing({ link, onContinue }: { link: ChatLink; onContinue: () => void }) {
  const name = link.name || '+' + link.account;
  return (
    <main class="login landing" data-testid="landing">
      <h1>{lt('linkTitle', { name })}{link.business && <span class="verified" aria-hidden="true"> ✔</span>}</h1>
      <p>{lt('linkIntro', { name })}</p>
      {link.business && <p class="notice business">{lt('linkBusiness', { name })}</p>}
      {link.text && (
        <>
          <p>{lt('linkPrefill')}</p>
          <blockquote class="prefill" data-testid="prefill">{link.text}</blockquote>
        </>
      )}
      <p>{lt('linkRegister')}</p>
      <button type="button" onClick={onContinue}>{lt('linkContinue')}</button>
    </main>
  );
}

function LinkError({ link }: { link: ChatLink }) {
  const value = link.errorValue ?? '';
  const text = {
    badNumber: () => lt('linkBadNumber', { value }),
    tooLong: () => lt('linkTooLong', { n: value }),
    unknownCode: () => lt('linkUnknownCode', { value }),
    expired: () => lt('linkExpired'),
    network: () => lt('linkNetwork'),
  }[link.error!]();
  return (
    <main class="login" role="alert" data-testid="link-error">
      <h1>{lt('linkErrorTitle')}</h1>
      <p>{text}</p>
      <a class="button" href="/">{lt('linkOpenParley')}</a>
    </main>
  );
}
