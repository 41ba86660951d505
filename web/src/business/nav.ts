// Navigation between the app's pages and error messages for people.

import { ApiError } from './api';
import { lang, t } from './i18n';

export function navigate(path: string) {
  if (location.pathname !== path) history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 0) return t('network');
    if (e.status === 409 && e.message.includes('changed by someone else')) return t('conflict');
    return e.message;
  }
  return String(e);
}


// tabKeys gives a role=tablist the arrow-key behaviour of ARIA tabs:
// Left/Right (and Home/End) move to the neighbouring tab and select it.
export function tabKeys(e: KeyboardEvent) {
  const tabs = Array.from((e.currentTarget as HTMLElement).querySelectorAll<HTMLButtonElement>('[role=tab]'));
  const i = tabs.indexOf(document.activeElement as HTMLButtonElement);
  if (i < 0) return;
  const next = e.key === 'ArrowRight' ? (i + 1) % tabs.length : e.key === 'ArrowLeft' ? (i - 1 + tabs.length) % tabs.length
    : e.key === 'Home' ? 0 : e.key === 'End' ? tabs.length - 1 : -1;
  if (next < 0) return;
  e.preventDefault();
  tabs[next].focus();
  tabs[next].click();
}

// when formats a time (unix milliseconds) with date and time.
export function when(ms: number): string {
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(ms);
}
