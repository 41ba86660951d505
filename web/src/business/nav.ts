// Navigation between the app's pages and error messages for people.

import { ApiError } from './api';
import { t } from './i18n';

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

