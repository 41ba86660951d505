// The Go core (web/wasm) compiled to WebAssembly: loading and types.

import type { Attachment } from './db';

export interface Credentials { server: string; account: string; device: number; token: string; expires_at?: number; created?: boolean }

export interface CoreError extends Error { code?: string }

export interface Group {
  ID: string; Name: string; Version: number;
  Members: { Account: string; Role: string }[] | null;
}

export type CoreEvent =
  | { type: 'message'; id: string; clientId: string; from: string; fromDevice: number; to: string; group: string; ts: number; payload: string; error?: string; expiresIn: number }
  | { type: 'receipt'; kind: 'delivered' | 'read'; messageId: string; from: string; to: string; group: string; ts: number }
  | { type: 'typing'; from: string; state: 'composing' | 'paused' }
  | { type: 'presence'; account: string; online: boolean; hidden: boolean; lastSeen: number }
  | { type: 'group'; id: string; from: string; ts: number; group: string; action: string; actor: string; accounts: string[] | null; name: string; error?: string }
  | { type: 'identity'; kind: string; account: string; device: number; safetyNumber: string }
  | { type: 'undecryptable'; id: string; from: string; ts: number }
  | { type: 'devices'; account: string }
  | { type: 'connection'; state: 'online' | 'connecting' | 'offline'; message: string }
  | { type: 'stopped'; code: string; message: string };

export interface Session {
  account: string;
  device: number;
  send(o: { to?: string; group?: string; payload: unknown; media?: string[]; clientId?: string; expiresIn?: number }): Promise<{ id: string; clientId: string; ts: number }>;
  upload(kind: string, data: Uint8Array, mime: string, name: string): Promise<Attachment>;
  download(a: Attachment): Promise<Uint8Array>;
  markRead(from: string, ids: string[]): Promise<void>;
  typing(to: string, composing: boolean): Promise<void>;
  watchPresence(accounts: string[]): Promise<void>;
  createGroup(name: string, members: string[]): Promise<Group>;
  groups(): Promise<Group[] | null>;
  group(id: string): Promise<Group>;
  addMembers(id: string, members: string[]): Promise<Group>;
  removeMember(id: string, account: string): Promise<void>;
  setAdmin(id: string, account: string, admin: boolean): Promise<Group>;
  leaveGroup(id: string): Promise<void>;
  safetyNumber(account: string): Promise<{ digits: string; text: string }>;
  approveLink(code: string): Promise<unknown>;
  stop(): Promise<void>;
}

export interface Core {
  requestCode(server: string, phone: string): Promise<{ expiresIn: number; development: boolean }>;
  verify(server: string, phone: string, code: string, deviceName: string): Promise<Credentials>;
  accountID(phone: string): string | null;
  newLinkCode(): string;
  linkWait(server: string, code: string): Promise<Credentials>;
  start(c: Credentials, storage: { get(k: string): Promise<any>; put(k: string, v: any): Promise<void> }, onEvent: (e: CoreEvent) => Promise<void> | void): Promise<Session>;
}

declare global {
  interface Window { Go: any; parleyCore?: Core; onParleyCore?: (c: Core) => void }
}

// loadCore fetches, compiles and starts the WebAssembly core. The fetch
// started by the preload link in index.html is reused.
export function loadCore(): Promise<Core> {
  return new Promise((resolve, reject) => {
    window.onParleyCore = resolve;
    const go = new window.Go();
    WebAssembly.instantiateStreaming(fetch('/parley.wasm', { credentials: 'same-origin' }), go.importObject)
      .then((r) => { go.run(r.instance); })
      .catch(reject);
  });
}
