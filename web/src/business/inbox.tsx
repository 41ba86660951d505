// The inbox: conversation list (state tabs, filters, search, unread
// counts) and the conversation (timeline, 24-hour window, composer with
// /shortcut quick replies, templates outside the window, notes with
// @mentions, assignment, state and labels), kept live by the event
// stream. Text is rendered as text only.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, draft, expire, saveDraft, upload, type Agent, type Conversation, type InboxEvent, type Label, type Message, type QuickReply, type Template } from './api';
import { lang, t } from './i18n';
import { errorText, navigate, tabKeys } from './nav';
import { ProductCards } from './products';
import { fillVars, templateVars } from './templates';

type Listener = (ev: InboxEvent) => void;
const listeners = new Set<Listener>();

// useEvents keeps one EventSource open while the inbox is shown; after a
// reconnect (the stream may drop events then) onReady reloads.
function useEvents(onReady: () => void) {
  useEffect(() => {
    let first = true;
    const es = new EventSource('/business/api/events');
    es.addEventListener('ready', () => { if (!first) onReady(); first = false; });
    es.onmessage = (m) => {
      let ev: InboxEvent;
      try { ev = JSON.parse(m.data); } catch { return; }
      if (!ev.type) return;
      for (const l of listeners) l(ev);
    };
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) api('GET', '/me').catch((e) => { if (e instanceof ApiError && e.status === 401) expire(); });
    };
    return () => es.close();
  }, []);
}

function useListener(l: Listener, deps: unknown[]) {
  useEffect(() => { listeners.add(l); return () => { listeners.delete(l); }; }, deps);
}

const when = (ms: number) => {
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  return new Intl.DateTimeFormat(lang, today ? { hour: '2-digit', minute: '2-digit' } : { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(d);
};

// who names a conversation's customer: the number, or for the website
// chat an anonymous visitor (customer "web:<id>") by the start of its id.
const who = (c: Conversation) => (c.channel === 'web' ? t('webVisitor', { id: c.customer.slice(4, 10) }) : '+' + c.customer);
const PAGE = 100;

// newer reports whether snapshot a of a conversation is strictly newer
// than b (events can arrive out of order across nodes).
const newer = (a: Conversation, b: Conversation) => a.version > b.version || a.last_at > b.last_at;

function agentName(agents: Agent[], id?: string) {
  if (!id) return '';
  const a = agents.find((x) => x.id === id);
  return a ? a.name || a.email : id;
}

export function Inbox({ me, path }: { me: Agent; path: string }) {
  const [tab, setTab] = useState<Conversation['state']>('open');
  const [q, setQ] = useState('');
  const [assignee, setAssignee] = useState('');
  const [label, setLabel] = useState('');
  const [unreadOnly, setUnreadOnly] = useState(false);
  const [more, setMore] = useState(false);
  const [list, setList] = useState<Conversation[]>([]);
  const [err, setErr] = useState('');
  const [agents, setAgents] = useState<Agent[]>([]);
  const [labels, setLabels] = useState<Label[]>([]);
  const selected = path.startsWith('/business/c/') ? decodeURIComponent(path.slice('/business/c/'.length)) : '';
  const filters = useRef({ tab, assignee, label, q, unreadOnly });
  filters.current = { tab, assignee, label, q, unreadOnly };

  function query(): URLSearchParams {
    const p = new URLSearchParams({ state: tab, limit: String(PAGE) });
    if (assignee) p.set('assignee', assignee);
    if (label) p.set('label', label);
    if (unreadOnly) p.set('unread', '1');
    if (q.trim()) p.set('q', q.trim());
    return p;
  }
  // loadMore pages on by last_at (the API includes that millisecond, so
  // merge by id).
  async function loadMore() {
    const p = query();
    p.set('before', String(list[list.length - 1].last_at));
    const my = loads.current;
    try {
      const r = await api<{ conversations: Conversation[] }>('GET', '/conversations?' + p);
      if (my !== loads.current) return;
      setList((old) => {
        const seen = new Set(old.map((c) => c.id));
        return [...old, ...r.conversations.filter((c) => !seen.has(c.id))];
      });
      setMore(r.conversations.length === PAGE);
    } catch (e) { setErr(errorText(e)); }
  }
  const loads = useRef(0);
  async function load() {
    const p = query();
    const started = Date.now();
    const my = ++loads.current;
    try {
      const r = await api<{ conversations: Conversation[] }>('GET', '/conversations?' + p);
      if (my !== loads.current) return; // the filters changed meanwhile: a newer load is under way
      // Events that arrived while the request ran may be newer than its answer: keep them.
      setList((old) => {
        const got = new Map(r.conversations.map((c) => [c.id, c]));
        for (const c of old) {
          const g = got.get(c.id);
          if (g ? newer(c, g) : c.last_at >= started && c.state === tab) got.set(c.id, c);
        }
        return [...got.values()].sort((a, b) => b.last_at - a.last_at);
      });
      setMore(r.conversations.length === PAGE);
      setErr('');
    } catch (e) { setErr(errorText(e)); }
  }
  async function loadTeam() {
    try {
      const [a, l] = await Promise.all([api<{ agents: Agent[] }>('GET', '/agents'), api<{ labels: Label[] }>('GET', '/labels')]);
      setAgents(a.agents); setLabels(l.labels);
    } catch (e) { setErr(errorText(e)); }
  }
  useEffect(() => { loadTeam(); }, []);
  useEffect(() => { const h = setTimeout(load, q ? 250 : 0); return () => clearTimeout(h); }, [tab, assignee, label, unreadOnly, q]);
  useEvents(() => { load(); loadTeam(); });
  useListener((ev) => {
    const c = ev.conversation;
    if (!c) return;
    const f = filters.current;
    const fits = c.state === f.tab && (!f.label || c.labels.includes(f.label)) && (!f.unreadOnly || c.unread > 0) &&
      (!f.assignee || (f.assignee === 'me' ? c.assignee === me.id : f.assignee === 'none' ? !c.assignee : c.assignee === f.assignee)) && !f.q;
    setList((old) => {
      const cur = old.find((x) => x.id === c.id);
      if (cur && newer(cur, c)) return old; // an older snapshot delivered late
      const rest = old.filter((x) => x.id !== c.id);
      if (!fits) return f.q && old.some((x) => x.id === c.id) ? old.map((x) => (x.id === c.id ? c : x)) : rest;
      return [c, ...rest].sort((a, b) => b.last_at - a.last_at);
    });
  }, []);

  const colour = (n: string) => labels.find((l) => l.name === n)?.color ?? '#777777';
  return (
    <div class={'inbox' + (selected ? ' has-selection' : '')}>
      <section class="list" aria-label={t('inbox')}>
        <div role="tablist" class="tabs" aria-label={t('byState')} onKeyDown={tabKeys}>
          {(['open', 'pending', 'resolved'] as const).map((s) => (
            <button type="button" role="tab" key={s} aria-selected={tab === s} tabIndex={tab === s ? 0 : -1} class={tab === s ? 'on' : ''} onClick={() => setTab(s)}>{t(s)}</button>
          ))}
        </div>
        <label class="sr" for="search">{t('search')}</label>
        <input id="search" type="search" placeholder={t('search')} value={q} onInput={(e) => setQ(e.currentTarget.value)} />
        <div class="filters">
          <span class="field">
            <label for="f-assignee">{t('assigneeFilter')}</label>
            <select id="f-assignee" value={assignee} onChange={(e) => setAssignee(e.currentTarget.value)}>
              <option value="">{t('anyone')}</option>
              <option value="me">{t('me')}</option>
              <option value="none">{t('nobody')}</option>
              {agents.filter((a) => a.id !== me.id).map((a) => <option key={a.id} value={a.id}>{a.name || a.email}</option>)}
            </select>
          </span>
          <span class="field">
            <label for="f-label">{t('labelFilter')}</label>
            <select id="f-label" value={label} onChange={(e) => setLabel(e.currentTarget.value)}>
              <option value="">{t('anyLabel')}</option>
              {labels.map((l) => <option key={l.name} value={l.name}>{l.name}</option>)}
            </select>
          </span>
        </div>
        <label class="check"><input type="checkbox" checked={unreadOnly} onChange={(e) => setUnreadOnly(e.currentTarget.checked)} />{t('unreadOnly')}</label>
        {err && <p class="error" role="alert">{err}</p>}
        {list.length === 0 ? <p class="muted">{t('noConversations')}</p> : (
          <ul class="convs">
            {list.map((c) => (
              <li key={c.id}>
                <a href={'/business/c/' + c.id} class={'conv' + (c.id === selected ? ' active' : '')} data-conversation={c.id} data-customer={c.customer}
                  aria-current={c.id === selected ? 'true' : undefined} onClick={(e) => { e.preventDefault(); navigate('/business/c/' + c.id); }}>
                  <span class="conv-top">
                    <strong>{who(c)}</strong>
                    <time>{when(c.last_at)}</time>
                  </span>
                  <span class="conv-preview">{c.preview}</span>
                  <span class="conv-meta">
                    {c.labels.map((l) => <span class="chip" key={l} style={{ '--chip': colour(l) }}>{l}</span>)}
                    {c.assignee && <span class="assignee">→ {agentName(agents, c.assignee)}</span>}
                    {c.unread > 0 && <span class="badge" aria-label={t('unread', { n: c.unread })}>{c.unread}</span>}
                  </span>
                </a>
              </li>
            ))}
          </ul>
        )}
        {more && <button type="button" class="secondary" onClick={loadMore}>{t('loadMore')}</button>}
      </section>
      {selected ? <ConversationView key={selected} id={selected} me={me} agents={agents} labels={labels} />
        : <section class="pane empty"><p class="muted">{t('pick')}</p></section>}
    </div>
  );
}

function Ticks({ m }: { m: Message }) {
  if (m.direction !== 'out' || !m.status) return null;
  const s = m.status;
  const mark = s === 'read' || s === 'delivered' ? '✓✓' : s === 'sent' ? '✓' : s === 'failed' ? '!' : '…';
  const label = t(('status_' + s) as any) ?? s;
  return <span class={'ticks ' + s} role="img" aria-label={label} title={label} data-status={s}>{mark}</span>;
}

// Body renders a Cloud API message object as text and safe elements.
function Body({ m }: { m: Message }) {
  const c = m.content ?? {};
  const o = c[c.type] ?? {};
  switch (c.type) {
    case 'text': return <p class="text">{o.body}</p>;
    case 'note': return <p class="text">{o.body}</p>;
    case 'image': case 'sticker':
      return <figure>{o.id && <img src={'/business/api/media/' + encodeURIComponent(o.id)} alt={o.caption || c.type} loading="lazy" />}{o.caption && <figcaption class="text">{o.caption}</figcaption>}</figure>;
    case 'video': case 'audio': case 'document':
      return (
        <p class="text">
          {t('attachment', { name: o.filename || c.type })}{' '}
          {o.id && <a href={'/business/api/media/' + encodeURIComponent(o.id)} download>{t('download')}</a>}
          {o.caption && <><br />{o.caption}</>}
        </p>
      );
    case 'location': return <p class="text">{t('location', { name: [o.name, o.address].filter(Boolean).join(', ') || `${o.latitude}, ${o.longitude}` })}</p>;
    case 'template': {
      const body = (o.components ?? []).find((x: any) => x.type === 'body');
      const params = (body?.parameters ?? []).map((p: any) => p.text).filter(Boolean).join(' · ');
      return <p class="text">{t('templateMsg', { name: o.name })}{params && ': ' + params}</p>;
    }
    case 'interactive': {
      if (o.type === 'product' || o.type === 'product_list') return <ProductCards i={o} />;
      const r = o.button_reply ?? o.list_reply;
      return <p class="text">{r ? r.title : o.body?.text ?? c.type}</p>;
    }
    case 'button': return <p class="text">{o.text}</p>;
    default: return <p class="text muted">{t('unsupported', { type: String(c.type ?? m.type) })}</p>;
  }
}

function left(ms: number): string {
  const m = Math.max(0, Math.floor(ms / 60000));
  const h = Math.floor(m / 60);
  return h ? `${h} h ${m % 60} min` : `${m} min`;
}

function ConversationView({ id, me, agents, labels }: { id: string; me: Agent; agents: Agent[]; labels: Label[] }) {
  const [conv, setConv] = useState<Conversation | null>(null);
  const [msgs, setMsgs] = useState<Message[]>([]);
  const [err, setErr] = useState('');
  const [history, setHistory] = useState<Conversation[]>([]);
  const [, tick] = useState(0);
  const end = useRef<HTMLLIElement>(null);

  async function load(keepErr = false) {
    try {
      const [c, m] = await Promise.all([api<Conversation>('GET', '/conversations/' + id),
        api<{ messages: Message[] }>('GET', '/conversations/' + id + '/messages?limit=200')]);
      setConv(c); setMsgs(m.messages.slice().reverse());
      if (!keepErr) setErr('');
      if (c.unread > 0) api<Conversation>('POST', '/conversations/' + id + '/read').then(setConv).catch(() => {});
      api<{ conversations: Conversation[] }>('GET', '/customers/' + c.customer + '/conversations').then((h) => setHistory(h.conversations)).catch(() => {});
    } catch (e) { setErr(errorText(e)); }
  }
  useEffect(() => { load(); const h = setInterval(() => tick((x) => x + 1), 30000); return () => clearInterval(h); }, [id]);
  useEffect(() => { end.current?.scrollIntoView({ block: 'end' }); }, [msgs.length]);
  useListener((ev) => {
    const c = ev.conversation;
    if (c?.id === id) setConv((cur) => (cur && newer(cur, c) ? cur : c));
    const m = ev.message;
    if (m && m.conversation === id) {
      setMsgs((old) => (old.some((x) => x.id === m.id) ? old.map((x) => (x.id === m.id ? m : x)) : [...old, m]));
      if (m.direction === 'in' && document.visibilityState === 'visible') api('POST', '/conversations/' + id + '/read').catch(() => {});
    }
  }, [id]);

  async function change(path: string, body: object) {
    if (!conv) return;
    try { setConv(await api<Conversation>('PUT', '/conversations/' + id + path, { ...body, version: conv.version })); setErr(''); } catch (e) {
      setErr(errorText(e));
      if (e instanceof ApiError && e.status === 409) load(true); // show what changed; the message stays
    }
  }

  async function react(target: string, emoji: string) {
    try {
      const m = await api<Message>('POST', `/conversations/${id}/messages`, { message: { type: 'reaction', reaction: { message_id: target, emoji } } });
      setMsgs((old) => (old.some((x) => x.id === m.id) ? old : [...old, m]));
    } catch (e) { setErr(errorText(e)); }
  }

  if (!conv) return <section class="pane">{err ? <p class="error" role="alert">{err}</p> : <p class="muted">…</p>}</section>;
  // The latest reaction of each side (customer, business) per message: a
  // new one replaces the side's earlier one, an empty emoji removes it.
  const reactions = new Map<string, { in?: string; out?: string }>();
  for (const m of msgs) if (m.type === 'reaction' && m.content?.reaction?.message_id) {
    const r = reactions.get(m.content.reaction.message_id) ?? {};
    if (m.direction === 'in' || m.direction === 'out') r[m.direction] = m.content.reaction.emoji || undefined;
    reactions.set(m.content.reaction.message_id, r);
  }
  const shown = msgs.filter((m) => !(m.type === 'reaction' && msgs.some((x) => x.id === m.content?.reaction?.message_id)));
  const remaining = conv.window_expires_at ? conv.window_expires_at - Date.now() : 0;
  // Website visitors have no 24-hour window: replies go to the widget.
  const web = conv.channel === 'web';
  const open = web || (conv.window_open && remaining > 0);
  return (
    <section class="pane conversation" aria-label={t('conversationWith', { who: who(conv) })}>
      <header class="conv-head">
        <button type="button" class="secondary back" onClick={() => navigate('/business/')}>{t('back')}</button>
        <h2>{who(conv)}</h2>
        <p class={'window ' + (open ? 'is-open' : 'is-closed')} data-testid="window">{web ? t('webWindow') : open ? t('windowLeft', { time: left(remaining) }) : t('windowClosed')}</p>
        {conv.moved_to && <p class="moved"><a href={'/business/c/' + conv.moved_to} onClick={(e) => { e.preventDefault(); navigate('/business/c/' + conv.moved_to); }}>{t('movedTo')}</a></p>}
        {conv.moved_from && <p class="moved"><a href={'/business/c/' + conv.moved_from} onClick={(e) => { e.preventDefault(); navigate('/business/c/' + conv.moved_from); }}>{t('movedFrom')}</a></p>}
      </header>
      <div class="conv-tools">
        <span class="field">
          <label for="conv-state">{t('state')}</label>
          <select id="conv-state" value={conv.state} onChange={(e) => change('/state', { state: e.currentTarget.value })}>
            {(['open', 'pending', 'resolved'] as const).map((s) => <option key={s} value={s}>{t(s)}</option>)}
          </select>
        </span>
        <span class="field">
          <label for="conv-assignee">{t('assign')}</label>
          <select id="conv-assignee" value={conv.assignee ?? ''} onChange={(e) => change('/assignee', { agent: e.currentTarget.value })}>
            <option value="">{t('unassigned')}</option>
            {agents.map((a) => <option key={a.id} value={a.id}>{a.id === me.id ? `${a.name || a.email} (${t('me')})` : a.name || a.email}{a.online ? ' • ' + t('online') : ''}</option>)}
            <option value="auto">{t('roundRobin')}</option>
          </select>
        </span>
        {conv.assignee !== me.id && <button type="button" class="secondary" onClick={() => change('/assignee', { agent: me.id })}>{t('assignMe')}</button>}
        <fieldset class="labels">
          <legend>{t('labels')}</legend>
          {labels.map((l) => (
            <label key={l.name} class="chip-check" style={{ '--chip': l.color }}>
              <input type="checkbox" checked={conv.labels.includes(l.name)}
                onChange={(e) => change('/labels', { labels: e.currentTarget.checked ? [...conv.labels, l.name] : conv.labels.filter((x) => x !== l.name) })} />
              {l.name}
            </label>
          ))}
        </fieldset>
      </div>
      {err && <p class="error" role="alert">{err}</p>}
      <ol class="timeline" aria-live="polite">
        {shown.map((m) => (
          <li key={m.id} class={'msg ' + m.direction} data-id={m.id} data-direction={m.direction}>
            {m.direction === 'note' && <span class="note-by">{t('noteBy', { name: agentName(agents, m.agent) })}</span>}
            <Body m={m} />
            <span class="meta">
              {m.direction === 'out' && m.agent && <span>{agentName(agents, m.agent)} · </span>}
              <time>{when(m.created_at)}</time> <Ticks m={m} />
              {[reactions.get(m.id)?.in, reactions.get(m.id)?.out].filter(Boolean).map((r, i) => (
                <span class="reaction" key={i} aria-label={t('reacted', { emoji: r! })}>{r}</span>
              ))}
              {m.direction === 'in' && open && m.type !== 'reaction' && (
                <ReactionPicker mine={reactions.get(m.id)?.out} onPick={(emoji) => react(m.id, emoji)} />
              )}
            </span>
          </li>
        ))}
        <li ref={end} class="end" aria-hidden="true" />
      </ol>
      <Composer conv={conv} agents={agents} open={open} onSent={(m) => setMsgs((old) => (old.some((x) => x.id === m.id) ? old : [...old, m]))} />
      {history.length > 1 && (
        <details class="history">
          <summary>{t('history')}</summary>
          <ul>
            {history.map((h) => (
              <li key={h.id}><a href={'/business/c/' + h.id} onClick={(e) => { e.preventDefault(); navigate('/business/c/' + h.id); }}>
                {t(h.state)} · {when(h.last_at)} · {h.preview}</a></li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}

function Composer({ conv, agents, open, onSent }: { conv: Conversation; agents: Agent[]; open: boolean; onSent: (m: Message) => void }) {
  const [mode, setMode] = useState<'reply' | 'note'>(open ? 'reply' : 'note');
  const key = (mode === 'reply' ? 'r:' : 'n:') + conv.id;
  const [text, setText] = useState(draft(key));
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const [quick, setQuick] = useState<QuickReply[]>([]);
  const [pick, setPick] = useState(0);
  useEffect(() => { setText(draft(key)); setErr(''); }, [key]);
  useEffect(() => { api<{ quick_replies: QuickReply[] }>('GET', '/quick-replies').then((r) => setQuick(r.quick_replies)).catch(() => {}); }, []);
  const matches = useMemo(() => (mode === 'reply' && /^\/[a-z0-9_-]*$/.test(text) ? quick.filter((q) => q.shortcut.startsWith(text)) : []), [text, quick, mode]);
  const mentionHint = mode === 'note' ? (text.match(/@([\w.-]*)$/)?.[1] ?? null) : null;
  const mentionList = mentionHint === null ? [] : agents.filter((a) => a.email.startsWith(mentionHint));

  function edit(v: string) { setText(v); saveDraft(key, v); setPick(0); }
  async function expand(q: QuickReply) {
    try {
      const r = await api<{ text: string }>('GET', `/conversations/${conv.id}/quick-reply?shortcut=${encodeURIComponent(q.shortcut)}`);
      edit(r.text);
    } catch (e) { setErr(errorText(e)); }
  }
  async function submit(e?: Event) {
    e?.preventDefault();
    if (!text.trim() || busy) return;
    setBusy(true); setErr('');
    try {
      const m = mode === 'reply'
        ? await api<Message>('POST', `/conversations/${conv.id}/messages`, { text })
        : await api<Message>('POST', `/conversations/${conv.id}/notes`, { text });
      onSent(m); edit('');
    } catch (x) { setErr(errorText(x)); } finally { setBusy(false); }
  }
  async function attach(e: Event) {
    const input = e.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    setBusy(true); setErr('');
    try {
      const up = await upload(conv.id, file);
      const kind = /^image\/(jpeg|png)$/.test(up.mime_type) ? 'image' : up.mime_type.startsWith('video/') ? 'video'
        : up.mime_type.startsWith('audio/') ? 'audio' : 'document';
      const obj: Record<string, string> = { id: up.id };
      if (kind === 'document') obj.filename = file.name;
      if (kind !== 'audio' && text.trim()) obj.caption = text;
      onSent(await api<Message>('POST', `/conversations/${conv.id}/messages`, { message: { type: kind, [kind]: obj } }));
      if (obj.caption) edit('');
    } catch (x) { setErr(errorText(x)); } finally { setBusy(false); }
  }
  function onKey(e: KeyboardEvent) {
    if (matches.length) {
      if (e.key === 'ArrowDown') { e.preventDefault(); setPick((pick + 1) % matches.length); return; }
      if (e.key === 'ArrowUp') { e.preventDefault(); setPick((pick - 1 + matches.length) % matches.length); return; }
      if (e.key === 'Enter' || e.key === 'Tab') { e.preventDefault(); expand(matches[pick]); return; }
      if (e.key === 'Escape') { e.preventDefault(); edit(text + ' '); return; }
    }
    if (mentionList.length && (e.key === 'Tab')) {
      e.preventDefault();
      edit(text.replace(/@[\w.-]*$/, '@' + mentionList[0].email.split('@')[0] + ' '));
      return;
    }
    if (e.key === 'Enter' && !e.shiftKey) submit(e);
  }
  return (
    <div class="composer">
      <div role="tablist" class="tabs small" onKeyDown={tabKeys}>
        <button type="button" role="tab" aria-selected={mode === 'reply'} tabIndex={mode === 'reply' ? 0 : -1} class={mode === 'reply' ? 'on' : ''} onClick={() => setMode('reply')}>{t('reply')}</button>
        <button type="button" role="tab" aria-selected={mode === 'note'} tabIndex={mode === 'note' ? 0 : -1} class={mode === 'note' ? 'on' : ''} onClick={() => setMode('note')}>{t('note')}</button>
      </div>
      {mode === 'reply' && !open ? <TemplatePicker conv={conv} onSent={onSent} /> : (
        <form onSubmit={submit} class={mode}>
          <label for="composer-text" class="sr">{mode === 'reply' ? t('reply') : t('note')}</label>
          <textarea id="composer-text" rows={3} value={text} onInput={(e) => edit(e.currentTarget.value)} onKeyDown={onKey}
            aria-describedby="composer-hint" aria-autocomplete="list" aria-controls={matches.length ? 'quick-list' : undefined}
            aria-activedescendant={matches.length ? 'quick-' + pick : undefined} />
          {matches.length > 0 && (
            <ul id="quick-list" role="listbox" class="suggest" aria-label={t('quickReplies')}>
              {matches.map((q, i) => (
                <li id={'quick-' + i} key={q.shortcut} role="option" aria-selected={i === pick} onMouseDown={(e) => { e.preventDefault(); expand(q); }}>
                  <strong>{q.shortcut}</strong> {q.text}
                </li>
              ))}
            </ul>
          )}
          {mentionList.length > 0 && <p class="muted small">{mentionList.map((a) => '@' + a.email.split('@')[0]).join(' ')}</p>}
          <small id="composer-hint">{mode === 'reply' ? t('replyHint') : t('noteHint')}</small>
          {err && <p class="error" role="alert">{err}</p>}
          <div class="send-row">
            {mode === 'reply' && <label class="attach">{t('attach')}<input type="file" onChange={attach} disabled={busy} /></label>}
            <button type="submit" disabled={busy || !text.trim()}>{mode === 'reply' ? t('send') : t('addNote')}</button>
          </div>
        </form>
      )}
    </div>
  );
}

const REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

// ReactionPicker offers a few reactions to a customer's message and,
// when the business reacted already, to take it back.
function ReactionPicker({ mine, onPick }: { mine?: string; onPick: (emoji: string) => void }) {
  const [open, setOpen] = useState(false);
  const pick = (e: string) => { setOpen(false); onPick(e); };
  return (
    <span class="react-picker" onKeyDown={(e) => { if (e.key === 'Escape') setOpen(false); }}>
      <button type="button" class="react" aria-expanded={open} aria-label={t('reactTo')} onClick={() => setOpen(!open)}>☺︎+</button>
      {open && (
        <span role="group" aria-label={t('reactTo')} class="react-menu">
          {REACTIONS.map((e) => (
            <button type="button" class="react" key={e} aria-pressed={mine === e} aria-label={t('react', { emoji: e })} onClick={() => pick(e)}>{e}</button>
          ))}
          {mine && <button type="button" class="react" aria-label={t('unreact')} onClick={() => pick('')}>✕</button>}
        </span>
      )}
    </span>
  );
}

// TemplatePicker sends an approved template outside the 24-hour window:
// positional or named variables of the header and body, a header image,
// video or document uploaded from here, with a preview of the texts.
function TemplatePicker({ conv, onSent }: { conv: Conversation; onSent: (m: Message) => void }) {
  const [list, setList] = useState<Template[] | null>(null);
  const [sel, setSel] = useState('');
  const [head, setHead] = useState<Record<string, string>>({});
  const [body, setBody] = useState<Record<string, string>>({});
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState('');
  useEffect(() => { api<{ templates: Template[] }>('GET', '/templates').then((r) => setList(r.templates)).catch((e) => setErr(errorText(e))); }, []);
  const tpl = list?.find((x) => x.name + '/' + x.language === sel);
  const named = tpl?.parameter_format === 'NAMED';
  const comp = (type: string) => tpl?.components?.find((c: any) => String(c.type).toUpperCase() === type);
  const header = comp('HEADER');
  const headerFormat = String(header?.format ?? '').toUpperCase();
  const headerText: string = headerFormat === 'TEXT' ? header?.text ?? '' : '';
  const media = ['IMAGE', 'VIDEO', 'DOCUMENT'].includes(headerFormat) ? headerFormat.toLowerCase() : '';
  const bodyText: string = comp('BODY')?.text ?? '';
  const headVars = templateVars(headerText, named);
  const bodyVars = templateVars(bodyText, named);
  const param = (name: string, value: string) => (named ? { type: 'text', parameter_name: name, text: value } : { type: 'text', text: value });
  function choose(v: string) { setSel(v); setHead({}); setBody({}); setFile(null); setErr(''); }
  async function send(e: Event) {
    e.preventDefault();
    if (!tpl) return;
    if (media && !file) { setErr(t('headerMediaMissing', { kind: t(('media_' + media) as any) })); return; }
    setBusy(true);
    try {
      const components: any[] = [];
      if (media && file) {
        const up = await upload(conv.id, file);
        const obj: any = { id: up.id };
        if (media === 'document') obj.filename = file.name;
        components.push({ type: 'header', parameters: [{ type: media, [media]: obj }] });
      } else if (headVars.length) {
        components.push({ type: 'header', parameters: headVars.map((v) => param(v, head[v] ?? '')) });
      }
      if (bodyVars.length) components.push({ type: 'body', parameters: bodyVars.map((v) => param(v, body[v] ?? '')) });
      onSent(await api<Message>('POST', `/conversations/${conv.id}/messages`, { template: { name: tpl.name, language: { code: tpl.language }, components } }));
      choose('');
    } catch (x) { setErr(errorText(x)); } finally { setBusy(false); }
  }
  const inputs = (part: string, vars: string[], values: Record<string, string>, set: (v: Record<string, string>) => void) => vars.map((v, i) => (
    <label key={part + v}>{named ? t('paramNamed', { name: v }) : t('param', { n: Number(v) || i + 1 })}{part === 'header' ? ` (${t('templateHeader')})` : ''}
      <input required value={values[v] ?? ''} maxLength={1024} onInput={(e) => set({ ...values, [v]: e.currentTarget.value })} /></label>
  ));
  return (
    <form class="templates" onSubmit={send}>
      <p class="notice">{t('windowClosed')}</p>
      {list && list.length === 0 ? <p class="muted">{t('noTemplates')}</p> : (
        <>
          <label for="tpl-select">{t('template')}</label>
          <select id="tpl-select" value={sel} onChange={(e) => choose(e.currentTarget.value)}>
            <option value="">{t('chooseTemplate')}</option>
            {(list ?? []).map((x) => <option key={x.name + x.language} value={x.name + '/' + x.language}>{x.name} ({x.language})</option>)}
          </select>
        </>
      )}
      {tpl && (
        <div class="bubble-preview" data-testid="template-preview">
          {headerText && <p class="text"><strong>{fillVars(headerText, headVars, head)}</strong></p>}
          {media && <p class="muted">{t('headerMedia', { kind: t(('media_' + media) as any) })}{file ? ': ' + file.name : ''}</p>}
          {bodyText && <p class="text tpl-body">{fillVars(bodyText, bodyVars, body)}</p>}
          {comp('FOOTER')?.text && <p class="muted small">{comp('FOOTER').text}</p>}
        </div>
      )}
      {media && (
        <label>{t('headerMedia', { kind: t(('media_' + media) as any) })}
          <input type="file" accept={media === 'image' ? 'image/jpeg,image/png' : media === 'video' ? 'video/mp4,video/3gpp' : undefined}
            onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} /></label>
      )}
      {inputs('header', headVars, head, setHead)}
      {inputs('body', bodyVars, body, setBody)}
      {err && <p class="error" role="alert">{err}</p>}
      <button type="submit" disabled={!tpl || busy}>{t('sendTemplate')}</button>
    </form>
  );
}
