// What the browser keeps: IndexedDB is bounded so that a long-lived tab
// does not fill the disk. planPrune decides, oldest first, which messages
// go (beyond a per-chat and a total count) and which cached attachment
// bytes go (beyond a byte budget); state.ts carries it out. No imports:
// unit/prune.test.mjs tests it in node.

export interface Caps {
  perChat: number;   // messages kept per chat
  total: number;     // messages kept in all chats
  blobBytes: number; // bytes of decrypted attachments kept
}

// CAPS are the defaults (docs/ARCHITECTURE.md, web client).
export const CAPS: Caps = { perChat: 2000, total: 20000, blobBytes: 256 << 20 };

export interface Item {
  id: string;
  chat: string;
  ts: number;
  keep?: boolean;     // never pruned (own messages not sent yet)
  blob?: number;      // size of its cached attachment, if any
}

export interface Plan {
  drop: string[];     // messages to delete (with their blobs)
  dropBlobs: string[]; // messages whose cached attachment is deleted, the message kept
}

export function planPrune(items: Item[], caps: Caps): Plan {
  // Newest first; among equal times the later in items (the order the
  // messages arrived in, which is also the order the chat shows) is newer.
  const newest = items.map((m, i) => ({ m, i })).sort((a, b) => b.m.ts - a.m.ts || b.i - a.i).map((x) => x.m);
  const perChat = new Map<string, number>();
  const drop: string[] = [];
  const dropBlobs: string[] = [];
  let kept = 0;
  let bytes = 0;
  for (const m of newest) {
    const n = (perChat.get(m.chat) ?? 0) + 1;
    if (!m.keep && (n > caps.perChat || kept >= caps.total)) {
      drop.push(m.id);
      continue;
    }
    perChat.set(m.chat, n);
    kept++;
    if (m.blob) {
      if (!m.keep && bytes + m.blob > caps.blobBytes) dropBlobs.push(m.id);
      else bytes += m.blob;
    }
  }
  return { drop, dropBlobs };
}

// caps reads the limits: the defaults, or a JSON override of some of them
// stored under "parley.caps" in localStorage (for small devices; the
// browser tests use it to prune early).
export function caps(raw: string | null): Caps {
  if (!raw) return CAPS;
  try {
    const o = JSON.parse(raw);
    const pick = (k: keyof Caps) => (Number.isInteger(o?.[k]) && o[k] > 0 ? o[k] : CAPS[k]);
    return { perChat: pick('perChat'), total: pick('total'), blobBytes: pick('blobBytes') };
  } catch {
    return CAPS;
  }
}
