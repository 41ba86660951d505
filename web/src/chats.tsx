// The chat list: search, new chat, new group, unread counts, last message.

import { useState } from 'preact/hooks';
import { app, chatMessages, chats, displayName, notice, openChat, preview, useApp } from './state';
import { errorText, t, time } from './i18n';
import { go } from './directory';

export function ChatList() {
  useApp();
  const [q, setQ] = useState('');
  const [dialog, setDialog] = useState<'' | 'chat' | 'group'>('');
  const list = chats();
  const query = q.trim().toLowerCase();
  const shown = query ? list.filter((c) => c.name.toLowerCase().includes(query)) : list;
  const hits = query
    ? list.flatMap((c) => chatMessages(c.id).filter((m) => (m.text ?? m.caption ?? '').toLowerCase().includes(query) && m.kind !== 'system')
      .map((m) => ({ c, m }))).slice(-50).reverse()
    : [];
  return (
    <nav class="chats" aria-label={t('chats')}>
      <header>
        <h1>{t('chats')}</h1>
        <button type="button" onClick={() => setDialog('chat')}>{t('newChat')}</button>
        <button type="button" onClick={() => setDialog('group')}>{t('newGroup')}</button>
        <button type="button" onClick={() => go('#/directory')}>{t('directory')}</button>
      </header>
      <input type="search" class="search" placeholder={t('search')} aria-label={t('search')} value={q}
        onInput={(e) => setQ(e.currentTarget.value)} />
      {dialog === 'chat' && <NewChat onClose={() => setDialog('')} />}
      {dialog === 'group' && <NewGroup onClose={() => setDialog('')} />}
      <ul role="list">
        {shown.map((c) => (
          <li key={c.id}>
            <button type="button" class={'chat' + (app.open === c.id ? ' active' : '')} aria-current={app.open === c.id}
              onClick={() => openChat(c.id)} data-chat={c.id}>
              <span class="avatar" aria-hidden="true">{c.group ? c.name.slice(0, 2) : c.name.slice(-2)}</span>
              <span class="meta">
                <span class="name">{c.name}</span>
                <span class="last">{c.last ? (c.last.mine ? t('you') + ': ' : '') + preview(c.last) : ''}</span>
              </span>
              <span class="side">
                {c.last && <time>{time(c.last.ts)}</time>}
                {c.unread > 0 && <span class="badge" aria-label={t('unread', { n: c.unread })}>{c.unread}</span>}
              </span>
            </button>
          </li>
        ))}
        {!list.length && <li class="empty">{t('noChats')}</li>}
      </ul>
      {query && (
        <section aria-label={t('results')} class="results">
          <h2>{t('results')}</h2>
          {!hits.length && <p>{t('noResults')}</p>}
          {hits.map(({ c, m }) => (
            <button type="button" class="hit" key={m.id} onClick={() => { openChat(c.id); setTimeout(() => document.getElementById('m-' + m.id)?.scrollIntoView({ block: 'center' }), 50); }}>
              <strong>{c.name}</strong> <span>{displayName(m.from)}: {m.text ?? m.caption}</span>
            </button>
          ))}
        </section>
      )}
    </nav>
  );
}

function NewChat({ onClose }: { onClose: () => void }) {
  const [phone, setPhone] = useState('');
  const [err, setErr] = useState('');
  const submit = (e: Event) => {
    e.preventDefault();
    const id = app.core!.accountID(phone);
    if (!id) { setErr(t('badPhone')); return; }
    openChat('a:' + id);
    onClose();
  };
  return (
    <form class="dialog" onSubmit={submit} aria-label={t('newChat')}>
      <label for="new-phone">{t('phone')}</label>
      <input id="new-phone" type="tel" required value={phone} onInput={(e) => setPhone(e.currentTarget.value)} autofocus />
      {err && <p class="error" role="alert">{err}</p>}
      <div class="row">
        <button type="button" class="secondary" onClick={onClose}>{t('cancel')}</button>
        <button type="submit">{t('startChat')}</button>
      </div>
    </form>
  );
}

function NewGroup({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [members, setMembers] = useState('');
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const list = members.split(/[\n,;]+/).map((s) => s.trim()).filter(Boolean);
    const ids: string[] = [];
    for (const p of list) {
      const id = app.core!.accountID(p);
      if (!id) { setErr(t('badPhone') + ' (' + p + ')'); return; }
      ids.push(id);
    }
    setBusy(true);
    try {
      const g = await app.session!.createGroup(name.trim(), ids);
      app.groups.set(g.ID, g);
      openChat('g:' + g.ID);
      onClose();
    } catch (e) { setErr(errorText(e)); notice(errorText(e)); } finally { setBusy(false); }
  };
  return (
    <form class="dialog" onSubmit={submit} aria-label={t('newGroup')}>
      <label for="group-name">{t('groupName')}</label>
      <input id="group-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} autofocus />
      <label for="group-members">{t('members')}</label>
      <textarea id="group-members" rows={3} value={members} onInput={(e) => setMembers(e.currentTarget.value)} />
      {err && <p class="error" role="alert">{err}</p>}
      <div class="row">
        <button type="button" class="secondary" onClick={onClose}>{t('cancel')}</button>
        <button type="submit" disabled={busy}>{t('create')}</button>
      </div>
    </form>
  );
}
