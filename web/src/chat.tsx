// One chat: messages with ticks, replies, reactions, attachments,
// business messages; the composer with drafts; typing and presence.

import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Msg } from './db';
import {
  app, byRef, businessCard, setMarketing, businessText, chatMessages, sendListReply, templateBody, templateParams, type BusinessCard, chatName, closeChat, displayName, groupLine, markRead, media, preview,
  resend, notify, sendButtonReply, setTimer, TIMERS, duration, sendFile, sendReaction, sendText, typing, useApp, chats, deleteForMe, deleteForEveryone, forward,
} from './state';
import { errorText, t, time } from './i18n';
import { HoursTable, MentionCards, OpenState } from './directory';
import { Products } from './products';

const MEDIA_TYPES: MediaKind[] = ['image', 'video', 'audio', 'sticker', 'document'];
const EMOJI = ['👍', '❤️', '😂', '😮', '🙏'];

export function ChatView({ chat }: { chat: string }) {
  useApp();
  const list = chatMessages(chat);
  const [replyTo, setReplyTo] = useState<Msg | undefined>();
  const [info, setInfo] = useState<'' | 'safety' | 'members' | 'business'>('');
  const end = useRef<HTMLDivElement>(null);
  const name = chatName(chat);
  const peer = chat.startsWith('a:') ? chat.slice(2) : '';
  const pres = peer ? app.presence.get(peer) : undefined;
  const isTyping = peer && (app.typing.get(peer) ?? 0) > Date.now();
  const card = peer ? businessCard(peer) : null;

  useLayoutEffect(() => { end.current?.scrollIntoView({ block: 'end' }); }, [chat, list.length]);
  useEffect(() => {
    const v = () => { if (document.visibilityState === 'visible') markRead(chat); };
    document.addEventListener('visibilitychange', v);
    return () => document.removeEventListener('visibilitychange', v);
  }, [chat]);

  let status = '';
  if (isTyping) status = t('typing');
  else if (pres?.online) status = t('online');
  else if (pres?.lastSeen) status = t('lastSeen', { time: time(pres.lastSeen) });
  const group = chat.startsWith('g:') ? app.groups.get(chat.slice(2)) : undefined;
  const timer = app.timers.get(chat) ?? 0;
  if (group) status = (group.Members ?? []).map((m) => displayName(m.Account)).join(', ');

  return (
    <section class="chat-view" aria-label={t('chatWith', { name })}>
      <header>
        <button type="button" class="back" onClick={closeChat} aria-label={t('backToChats')}>←</button>
        <div class="title">
          <h2>{name}{card && <span class="verified" role="img" aria-label={t('verified')} title={t('verified')} data-testid="verified">✔</span>}</h2>
          <p class="status" aria-live="polite" data-testid="chat-status">{status}</p>
          {timer > 0 && <p class="status timer-state" data-testid="timer">⏱ {t('timerState', { d: duration(timer) })}</p>}
        </div>
        {!card && (
          <select class="timer" aria-label={t('timerLabel')} title={t('timerLabel')} value={String(timer)}
            onChange={(e) => setTimer(chat, Number(e.currentTarget.value))}>
            {(TIMERS.includes(timer) ? TIMERS : [...TIMERS, timer]).map((s) => <option key={s} value={String(s)}>⏱ {s ? duration(s) : t('timerOffShort')}</option>)}
          </select>
        )}
        {card && <button type="button" class="secondary" onClick={() => setInfo(info === 'business' ? '' : 'business')}>{t('businessInfo')}</button>}
        {peer && <button type="button" class="secondary" onClick={() => setInfo('safety')}>{t('safety')}</button>}
        {group && <button type="button" class="secondary" onClick={() => setInfo('members')}>{t('info')}</button>}
      </header>
      {info === 'safety' && <Safety account={peer} onClose={() => setInfo('')} />}
      {info === 'members' && group && <Members chat={chat} onClose={() => setInfo('')} />}
      {info === 'business' && card && <Profile card={card} onClose={() => setInfo('')} />}
      {(card ? card.hosted : list.some((m) => m.kind === 'business')) && <p class="notice business" data-testid="business-notice">{t('businessNotice')}</p>}
      <ol class="messages" aria-label={t('message')} aria-live="polite">
        {list.map((m) => <Bubble key={m.id} m={m} group={!!group} onReply={() => setReplyTo(m)} onSafety={() => setInfo('safety')} />)}
      </ol>
      <div ref={end} />
      <Composer chat={chat} replyTo={replyTo} clearReply={() => setReplyTo(undefined)} />
    </section>
  );
}

function Bubble({ m, group, onReply, onSafety }: { m: Msg; group: boolean; onReply: () => void; onSafety: () => void }) {
  if (m.kind === 'system') {
    const text = m.text === 'group' ? groupLine(m) : m.text === 'identity' ? t('keyChanged', { name: chatName(m.chat) }) : preview(m);
    return (
      <li class="system" id={'m-' + m.id}>
        {text} {m.text === 'identity' && <button type="button" class="link" onClick={onSafety}>{t('keyView')}</button>}
      </li>
    );
  }
  const quoted = m.replyTo ? byRef(m.replyTo) : undefined;
  const reactions = Object.entries(m.reactions ?? {});
  const [menu, setMenu] = useState<'' | 'menu' | 'forward'>('');
  return (
    <li class={'msg ' + (m.mine ? 'mine' : 'theirs')} id={'m-' + m.id} tabIndex={0} data-status={m.status ?? ''} data-kind={m.kind}>
      {group && !m.mine && <span class="sender">{displayName(m.from)}</span>}
      {m.forwarded && <span class="forwarded">{t('forwarded')}</span>}
      {quoted && <blockquote class="quote"><strong>{displayName(quoted.from)}</strong> {preview(quoted)}</blockquote>}
      <Body m={m} />
      <MentionCards m={m} />
      <span class="foot">
        {m.ttl && <span class="ttl" role="img" aria-label={t('disappearing')} title={t('disappearing')} data-testid="ttl">⏱</span>}
        <time>{time(m.ts)}</time>
        {m.mine && <Ticks m={m} />}
      </span>
      {reactions.length > 0 && (
        <span class="reactions" aria-label={t('react')}>
          {reactions.map(([who, e]) => <span key={who} title={displayName(who)}>{e}</span>)}
        </span>
      )}
      {m.kind !== 'waiting' && m.kind !== 'deleted' && (
        <span class="actions">
          <button type="button" onClick={onReply} aria-label={t('reply')}>↩</button>
          {EMOJI.map((e) => <button type="button" key={e} aria-label={t('react') + ' ' + e} onClick={() => sendReaction(m, e)}>{e}</button>)}
          {m.status === 'failed' && <button type="button" onClick={() => resend(m)}>{t('retry')}</button>}
          <button type="button" aria-label={t('more')} aria-expanded={menu !== ''} onClick={() => setMenu(menu ? '' : 'menu')}>⋯</button>
        </span>
      )}
      {m.kind === 'deleted' && (
        <span class="actions">
          <button type="button" onClick={() => deleteForMe(m)}>{t('deleteForMe')}</button>
        </span>
      )}
      {menu === 'menu' && (
        <span class="menu" role="menu">
          {(m.kind === 'text' || m.media) && <button type="button" role="menuitem" onClick={() => setMenu('forward')}>{t('forward')}</button>}
          <button type="button" role="menuitem" onClick={() => { setMenu(''); deleteForMe(m); }}>{t('deleteForMe')}</button>
          {m.mine && m.serverId && <button type="button" role="menuitem" onClick={() => { setMenu(''); deleteForEveryone(m); }}>{t('deleteForEveryone')}</button>}
        </span>
      )}
      {menu === 'forward' && (
        <span class="menu" role="menu" aria-label={t('forwardTo')}>
          <strong>{t('forwardTo')}</strong>
          {chats().map((c) => <button type="button" role="menuitem" key={c.id} onClick={() => { setMenu(''); forward(m, c.id); }}>{c.name}</button>)}
        </span>
      )}
    </li>
  );
}

function Ticks({ m }: { m: Msg }) {
  const s = m.status ?? 'sent';
  const mark = s === 'pending' ? '🕓' : s === 'failed' ? '⚠' : s === 'sent' ? '✓' : '✓✓';
  return <span class={'ticks ' + s} role="img" aria-label={t(('status_' + s) as any)} data-testid="ticks">{mark}</span>;
}

function Body({ m }: { m: Msg }) {
  switch (m.kind) {
    case 'text': return <p class="text">{m.text}</p>;
    case 'image': case 'document': case 'video': case 'audio': case 'sticker': return <Media m={m} kind={kindOf(m.kind, m.media?.mime)} />;
    case 'business': return <Business m={m} />;
    case 'waiting': return <p class="text muted">{t('undecryptable')}</p>;
    case 'deleted': return <p class="text muted">{t('deletedMsg')}</p>;
    default: return <p class="text muted">{m.error ? t('decryptFailed') : t('unsupported')}</p>;
  }
}

// MediaKind is how an attachment is shown: an image, a video or audio
// player with controls, a sticker (an image with alt text), or a
// document to download.
type MediaKind = 'image' | 'video' | 'audio' | 'sticker' | 'document';

// kindOf picks the presentation of an attachment from the message kind,
// or from its MIME type where the kind says nothing (template headers).
export function kindOf(kind: string | undefined, mime: string | undefined): MediaKind {
  if (kind === 'image' || kind === 'video' || kind === 'audio' || kind === 'sticker' || kind === 'document') return kind;
  const m = (mime ?? '').toLowerCase();
  if (m === 'image/webp') return 'sticker';
  if (m.startsWith('image/')) return 'image';
  if (m.startsWith('video/')) return 'video';
  if (m.startsWith('audio/')) return 'audio';
  return 'document';
}

function Media({ m, kind }: { m: Msg; kind: MediaKind }) {
  const [url, setUrl] = useState('');
  const [err, setErr] = useState('');
  const a = m.media!;
  const inline = kind !== 'document';
  const load = async () => {
    try {
      const b = await media(a);
      const u = URL.createObjectURL(new Blob([b as BlobPart], { type: a.mime || 'application/octet-stream' }));
      setUrl(u);
      return u;
    } catch (e) { setErr(errorText(e)); return ''; }
  };
  useEffect(() => { if (inline && !m.evicted) load(); }, [a.id]);
  useEffect(() => () => { if (url) URL.revokeObjectURL(url); }, [url]);
  const save = async () => {
    const u = url || await load();
    if (!u) return;
    const l = document.createElement('a');
    l.href = u; l.download = a.name || 'file';
    l.click();
  };
  const label = m.caption || a.name || t(kind === 'document' ? 'document' : kind === 'image' ? 'photo' : kind);
  if (m.evicted) {
    return (
      <div class="media" data-media={kind}>
        <p class="text muted" data-testid="evicted">{t('evicted', { name: a.name || t(kind === 'image' ? 'photo' : kind) })}</p>
        {m.caption && <p class="text">{m.caption}</p>}
      </div>
    );
  }
  return (
    <div class="media" data-media={kind}>
      {kind === 'image' && url && <img src={url} alt={label} />}
      {kind === 'sticker' && url && <img class="sticker" src={url} alt={t('sticker')} />}
      {kind === 'video' && url && <video controls preload="metadata" aria-label={label}><source src={url} type={a.mime} /></video>}
      {kind === 'audio' && url && <audio controls preload="metadata" aria-label={label}><source src={url} type={a.mime} /></audio>}
      {kind === 'document' && <button type="button" class="doc" onClick={save}>📄 {a.name || t('document')} ({Math.ceil(a.size / 1024)} KB) — {t('download')}</button>}
      {err && <p class="error" role="alert">{err}</p>}
      {m.caption && <p class="text">{m.caption}</p>}
    </div>
  );
}

// Business messages: the Cloud API message object of a business payload
// (sdk/business.go). Reply buttons and list rows answer with an
// interactive_reply payload naming the business message's wamid.
function Business({ m }: { m: Msg }) {
  const b = m.business ?? {};
  const i = b.type === 'interactive' ? b.interactive ?? {} : undefined;
  const [listOpen, setListOpen] = useState(false);
  const buttons: { id: string; title: string }[] = i?.type === 'button'
    ? (i.action?.buttons ?? []).map((x: any) => x.reply).filter(Boolean) : [];
  const header = i?.header;
  const isProduct = i?.type === 'product' || i?.type === 'product_list';
  if (b.type === 'template') return <Template m={m} />;
  if (MEDIA_TYPES.includes(b.type) && m.media) {
    const o = b[b.type] ?? {};
    return (
      <div class="business" data-type={b.type}>
        <Media m={{ ...m, caption: o.caption, media: { ...m.media, name: m.media.name || o.filename } }} kind={b.type} />
      </div>
    );
  }
  return (
    <div class="business" data-type={i ? 'interactive:' + i.type : b.type}>
      {header?.type === 'text' && header.text && <strong>{header.text}</strong>}
      {header && header.type !== 'text' && m.media && <Media m={{ ...m, caption: undefined }} kind={kindOf(header.type, m.media.mime)} />}
      {isProduct ? i.body?.text && <p class="text">{i.body.text}</p> : <p class="text">{businessText(b) || t('unsupported')}</p>}
      {isProduct && <Products i={i} />}
      {i?.footer?.text && <small>{i.footer.text}</small>}
      {buttons.length > 0 && (
        <div class="buttons">
          {buttons.map((x) => <button type="button" key={x.id} class={m.chosen?.id === x.id ? 'chosen' : undefined}
            aria-pressed={m.chosen?.id === x.id} onClick={() => sendButtonReply(m, x.id, x.title)}>{x.title}</button>)}
        </div>
      )}
      {m.chosen && <p class="chosen muted" data-testid="chosen">✓ {t('youChose', { title: m.chosen.title })}</p>}
      {i?.type === 'cta_url' && i.action?.parameters?.url && (
        <div class="buttons">
          <a class="button" href={i.action.parameters.url} target="_blank" rel="noopener noreferrer"
            title={t('openLink', { url: i.action.parameters.url })}>{i.action.parameters.display_text || i.action.parameters.url}</a>
        </div>
      )}
      {i?.type === 'list' && (
        <div class="buttons">
          <button type="button" aria-expanded={listOpen} onClick={() => setListOpen(!listOpen)}>☰ {i.action?.button || t('chooseOption')}</button>
          {listOpen && (
            <div class="list" role="listbox" aria-label={i.action?.button || t('chooseOption')}>
              {(i.action?.sections ?? []).map((sec: any, k: number) => (
                <div key={k} role="group" aria-label={sec.title}>
                  {sec.title && <h4>{sec.title}</h4>}
                  {(sec.rows ?? []).map((r: any) => (
                    <button type="button" role="option" aria-selected={m.chosen?.id === r.id} key={r.id}
                      onClick={() => { setListOpen(false); sendListReply(m, r); }}>
                      <span>{r.title}</span>{r.description && <small>{r.description}</small>}
                    </button>
                  ))}
                </div>
              ))}
            </div>
          )}
        </div>
      )}
    </div>
  );
}

// headerKind is the media type of a template's header parameter.
function headerKind(tpl: any): string | undefined {
  const c = (tpl?.components ?? []).find((x: any) => (x.type ?? '').toLowerCase() === 'header');
  const p = (c?.parameters ?? []).find((x: any) => ['image', 'video', 'document'].includes(x.type));
  return p?.type;
}

function Template({ m }: { m: Msg }) {
  const tpl = m.business?.template ?? {};
  const header = templateParams(tpl, 'header');
  const body = templateBody(tpl);
  return (
    <div class="business template" data-type="template">
      <small class="muted">{t('template')}: {tpl.name}{tpl.language?.code ? ' (' + tpl.language.code + ')' : ''}</small>
      {header.filter(Boolean).length > 0 && <strong>{header.join(' ')}</strong>}
      {m.media && <Media m={{ ...m, caption: undefined }} kind={kindOf(headerKind(tpl), m.media.mime)} />}
      {body && <p class="text">{body}</p>}
    </div>
  );
}

function Profile({ card, onClose }: { card: BusinessCard; onClose: () => void }) {
  const p = card.profile ?? {};
  const rows: [string, any][] = [[t('about'), p.about], [t('address'), p.address], [t('description'), p.description]];
  return (
    <div class="dialog" role="dialog" aria-label={t('businessInfo')}>
      {card.picture_url && app.creds && <img class="bizpic" src={app.creds.server.replace(/\/$/, '') + card.picture_url} alt="" width={96} height={96} data-testid="business-picture" />}
      <h3>{card.verified_name} <span class="verified" role="img" aria-label={t('verified')}>✔</span></h3>
      <p class="muted">+{card.account}</p>
      <dl>
        {rows.filter(([, v]) => v).map(([k, v]) => [<dt key={k + ':t'}>{k}</dt>, <dd key={k}>{v}</dd>])}
        {p.email && [<dt key="e:t">{t('email')}</dt>, <dd key="e"><a href={'mailto:' + p.email}>{p.email}</a></dd>]}
        {(p.websites ?? []).length > 0 && [<dt key="w:t">{t('websites')}</dt>,
          <dd key="w">{p.websites!.map((w) => <a key={w} href={w} target="_blank" rel="noopener noreferrer">{w}</a>)}</dd>]}
      </dl>
      <OpenState card={card} />
      <HoursTable card={card} />
      <Marketing account={card.account} />
      <button type="button" onClick={onClose}>{t('close')}</button>
    </div>
  );
}

// Marketing is the switch for the business's marketing messages.
function Marketing({ account }: { account: string }) {
  const [last, setLast] = useState(localStorage.getItem('marketing:' + account));
  const choose = async (on: boolean) => { await setMarketing(account, on); setLast(localStorage.getItem('marketing:' + account)); };
  return (
    <fieldset class="marketing">
      <legend>{t('marketing')}</legend>
      {last && <p class="muted" data-testid="marketing-state">{t(last === 'on' ? 'marketingOn' : 'marketingOff')}</p>}
      <button type="button" onClick={() => choose(false)}>{t('marketingStop')}</button>
      <button type="button" onClick={() => choose(true)}>{t('marketingAllow')}</button>
    </fieldset>
  );
}

function Composer({ chat, replyTo, clearReply }: { chat: string; replyTo?: Msg; clearReply: () => void }) {
  const key = 'draft:' + chat;
  const [text, setText] = useState(localStorage.getItem(key) ?? '');
  const file = useRef<HTMLInputElement>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  useEffect(() => { setText(localStorage.getItem(key) ?? ''); input.current?.focus(); }, [chat]);
  const update = (v: string) => {
    setText(v);
    if (v) localStorage.setItem(key, v); else localStorage.removeItem(key);
    typing(chat, v !== '');
  };
  const submit = async (e?: Event) => {
    e?.preventDefault();
    const v = text.trim();
    if (!v) return;
    const reply = replyTo ? (replyTo.serverId ?? replyTo.id) : undefined;
    update('');
    clearReply();
    typing(chat, false);
    await sendText(chat, v, reply);
  };
  const onFile = async () => {
    const f = file.current?.files?.[0];
    if (!f) return;
    const caption = text.trim();
    update('');
    await sendFile(chat, f, caption);
    file.current!.value = '';
  };
  return (
    <form class="composer" onSubmit={submit}>
      {replyTo && (
        <div class="replying">
          <span>{t('replyingTo', { name: displayName(replyTo.from) })}: {preview(replyTo)}</span>
          <button type="button" onClick={clearReply} aria-label={t('cancelReply')}>✕</button>
        </div>
      )}
      <div class="row">
        <label class="attach" title={t('attach')}>
          <svg aria-hidden="true" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"><path d="M21 11.5l-8.6 8.6a5 5 0 01-7.1-7.1l8.6-8.6a3.3 3.3 0 014.7 4.7l-8.6 8.6a1.7 1.7 0 01-2.4-2.4l7.9-7.9" /></svg>
          <span class="sr">{t('attach')}</span>
          <input ref={file} type="file" onChange={onFile} aria-label={t('attach')} />
        </label>
        <textarea ref={input} rows={1} value={text} aria-label={t('message')} placeholder={t('message')}
          onInput={(e) => update(e.currentTarget.value)}
          onKeyDown={(e) => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); submit(); } if (e.key === 'Escape') clearReply(); }} />
        <button type="submit" aria-label={t('send')}>{t('send')}</button>
      </div>
    </form>
  );
}

function Safety({ account, onClose }: { account: string; onClose: () => void }) {
  const [n, setN] = useState<string | null>(null);
  const [err, setErr] = useState('');
  useEffect(() => {
    app.session!.safetyNumber(account).then((r) => setN(r.text)).catch(() => setErr(t('safetyNone')));
  }, [account]);
  return (
    <div class="dialog" role="dialog" aria-label={t('safety')}>
      <h3>{t('safety')}</h3>
      <p>{t('safetyText', { name: '+' + account })}</p>
      {n && <pre class="safety" data-testid="safety-number">{n}</pre>}
      {err && <p>{err}</p>}
      <button type="button" onClick={onClose} autofocus>{t('close')}</button>
    </div>
  );
}

function Members({ chat, onClose }: { chat: string; onClose: () => void }) {
  useApp();
  const g = app.groups.get(chat.slice(2))!;
  const [add, setAdd] = useState('');
  const [err, setErr] = useState('');
  const me = app.creds!.account;
  const iAmAdmin = (g.Members ?? []).some((m) => m.Account === me && m.Role === 'admin');
  // act runs a change of the member list and reloads the group.
  const act = async (fn: () => Promise<unknown>) => {
    try { await fn(); app.groups.set(g.ID, await app.session!.group(g.ID)); setErr(''); notify(); } catch (e) { setErr(errorText(e)); }
  };
  const leave = async () => {
    try { await app.session!.leaveGroup(g.ID); onClose(); } catch (e) { setErr(errorText(e)); }
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    const ids = add.split(/[\n,;]+/).map((s) => app.core!.accountID(s.trim())).filter((x): x is string => !!x);
    if (!ids.length) { setErr(t('badPhone')); return; }
    try { app.groups.set(g.ID, await app.session!.addMembers(g.ID, ids)); setAdd(''); setErr(''); } catch (e) { setErr(errorText(e)); }
  };
  return (
    <div class="dialog" role="dialog" aria-label={t('membersTitle')}>
      <h3>{t('membersTitle')}</h3>
      <ul class="members">{(g.Members ?? []).map((m) => (
        <li key={m.Account} data-member={m.Account}>
          {displayName(m.Account)} {m.Role === 'admin' && <small>({t('admin')})</small>}
          {iAmAdmin && m.Account !== me && (
            <span class="member-actions">
              <button type="button" class="secondary" onClick={() => act(() => app.session!.setAdmin(g.ID, m.Account, m.Role !== 'admin'))}
                aria-label={t(m.Role === 'admin' ? 'dismissAdmin' : 'makeAdmin') + ' ' + displayName(m.Account)}>
                {t(m.Role === 'admin' ? 'dismissAdmin' : 'makeAdmin')}
              </button>
              <button type="button" class="secondary" onClick={() => act(() => app.session!.removeMember(g.ID, m.Account))}
                aria-label={t('removeMember') + ' ' + displayName(m.Account)}>{t('removeMember')}</button>
            </span>
          )}
        </li>
      ))}</ul>
      <form onSubmit={submit}>
        <label for="add-members">{t('addMembers')}</label>
        <input id="add-members" value={add} onInput={(e) => setAdd(e.currentTarget.value)} />
        <button type="submit">{t('add')}</button>
      </form>
      {err && <p class="error" role="alert">{err}</p>}
      <div class="row">
        <button type="button" class="secondary" onClick={leave}>{t('leave')}</button>
        <button type="button" onClick={onClose}>{t('close')}</button>
      </div>
    </div>
  );
}
