// IndexedDB: the browser device's storage. "kv" holds what the Go core
// writes (Signal state: the device's private keys; dedupe and sent
// records) and the credentials; "messages" holds the chat history. Nothing
// here is sent to the server.

export interface Attachment {
  id: string; key: string; sha256: string; size: number; mime?: string; name?: string;
}

export type Status = 'pending' | 'sent' | 'delivered' | 'read' | 'failed';

export interface Msg {
  id: string;            // server message id (received), or client id (sent from here)
  serverId?: string;     // server message id of a message sent from here
  chat: string;          // "a:<account>" or "g:<group>"
  from: string;          // sender account
  mine: boolean;
  ts: number;
  kind: string;          // text, image, document, video, audio, sticker, business, system, deleted, waiting, unknown
  text?: string;
  caption?: string;
  media?: Attachment;
  replyTo?: string;      // server id of the message answered
  status?: Status;       // of own messages
  seen?: boolean;        // incoming: read here
  reactions?: Record<string, string>;
  business?: any;        // the Cloud API message object of a business payload
  wamid?: string;
  error?: string;
  payload?: string;      // the raw payload (for forwarding, unknown types)
  forwarded?: boolean;
  hidden?: boolean;      // deleted for me
  chosen?: { id: string; title: string }; // business message: the reply button or list row tapped
  ttl?: number;          // disappearing message: seconds (counted from sending, or for received ones from reading)
  expires?: number;      // disappearing message: when it is deleted here (ms)
  evicted?: boolean;     // its cached attachment was removed to stay within the storage budget
}

let dbp: Promise<IDBDatabase> | undefined;

export function openDB(): Promise<IDBDatabase> {
  if (!dbp) {
    dbp = new Promise((resolve, reject) => {
      const r = indexedDB.open('parley', 1);
      r.onupgradeneeded = () => {
        const db = r.result;
        db.createObjectStore('kv');
        const m = db.createObjectStore('messages', { keyPath: 'id' });
        m.createIndex('chat', 'chat');
      };
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  }
  return dbp;
}

function tx<T>(store: string, mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T> | void): Promise<T> {
  return openDB().then((db) => new Promise<T>((resolve, reject) => {
    const t = db.transaction(store, mode, { durability: 'strict' } as any);
    const req = fn(t.objectStore(store));
    t.oncomplete = () => resolve(req ? req.result : (undefined as T));
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error ?? new Error('transaction aborted'));
  }));
}

// kv is the storage object the Go core gets (get/put resolve after commit).
export const kv = {
  get: (key: string): Promise<any> => tx('kv', 'readonly', (s) => s.get(key)),
  put: (key: string, value: any): Promise<void> => tx('kv', 'readwrite', (s) => { s.put(value, key); }),
  del: (key: string): Promise<void> => tx('kv', 'readwrite', (s) => { s.delete(key); }),
};

export const messages = {
  all: (): Promise<Msg[]> => tx('messages', 'readonly', (s) => s.getAll()),
  put: (m: Msg): Promise<void> => tx('messages', 'readwrite', (s) => { s.put(m); }),
  del: (ids: string[]): Promise<void> => tx('messages', 'readwrite', (s) => { for (const id of ids) s.delete(id); }),
};

// delBlobs drops cached attachment bytes.
export function delBlobs(ids: string[]): Promise<void> {
  return tx('kv', 'readwrite', (s) => { for (const id of ids) s.delete('blob:' + id); });
}

// wipe deletes everything this device stored (log out).
export async function wipe(): Promise<void> {
  const db = await openDB();
  db.close();
  dbp = undefined;
  await new Promise<void>((resolve, reject) => {
    const r = indexedDB.deleteDatabase('parley');
    r.onsuccess = () => resolve();
    r.onerror = () => reject(r.error);
    r.onblocked = () => resolve();
  });
  localStorage.clear();
}
