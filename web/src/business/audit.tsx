// The audit log (owners and admins): newest first, 50 entries at a
// time, paged by sequence number; actors and agent targets by name,
// actions in words.

import { useEffect, useState } from 'preact/hooks';
import { api, type Agent } from './api';
import { t, tOr } from './i18n';
import { errorText, when } from './nav';

interface Entry { seq: number; agent?: string; action: string; target?: string; detail?: string; at: number }

const PAGE = 50;

export function AuditPage() {
  const [entries, setEntries] = useState<Entry[]>([]);
  const [agents, setAgents] = useState<Record<string, Agent>>({});
  const [more, setMore] = useState(false);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState('');
  async function load(before: number) {
    setBusy(true);
    try {
      const r = await api<{ entries: Entry[] }>('GET', `/audit?limit=${PAGE}` + (before ? `&before=${before}` : ''));
      setEntries((old) => (before ? [...old, ...r.entries] : r.entries));
      setMore(r.entries.length === PAGE);
      setErr('');
    } catch (x) { setErr(errorText(x)); } finally { setBusy(false); }
  }
  useEffect(() => {
    api<{ agents: Agent[] }>('GET', '/agents')
      .then((r) => setAgents(Object.fromEntries(r.agents.map((a) => [a.id, a]))))
      .catch(() => { /* ids then */ });
    load(0);
  }, []);
  const person = (id?: string) => {
    if (!id) return t('operator');
    const a = agents[id];
    return a ? (a.name ? `${a.name} (${a.email})` : a.email) : t('removedAgent', { id });
  };
  const target = (id?: string) => (id && agents[id] ? person(id) : id ?? '');
  return (
    <main class="page audit-page">
      <h1>{t('audit')}</h1>
      <section>
        {err && <p class="error" role="alert">{err}</p>}
        {!err && !busy && entries.length === 0 && <p>{t('auditEmpty')}</p>}
        <table class="audit" data-testid="audit">
          <thead><tr><th scope="col">{t('when')}</th><th scope="col">{t('who')}</th><th scope="col">{t('what')}</th><th scope="col">{t('target')}</th><th scope="col">{t('detail')}</th></tr></thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.seq} data-action={e.action}>
                <td data-label={t('when')}><time dateTime={new Date(e.at).toISOString()}>{when(e.at)}</time></td>
                <td data-label={t('who')}>{person(e.agent)}</td>
                <td data-label={t('what')} title={e.action}>{tOr('act_' + e.action, e.action)}</td>
                <td data-label={t('target')} class="text">{target(e.target)}</td>
                <td data-label={t('detail')} class="text">{e.detail ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {more && <button type="button" class="secondary" disabled={busy} onClick={() => load(entries[entries.length - 1].seq)}>{t('auditOlder')}</button>}
        {!more && entries.length > 0 && <p class="muted">{t('auditEnd')}</p>}
      </section>
    </main>
  );
}
