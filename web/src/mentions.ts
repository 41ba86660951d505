// Mention-to-chat: finds the listed businesses a message names, on the
// device, against the directory's names list (GET /v1/directory/names).
// Pure functions without DOM or network, so that they are unit-tested
// (web/unit/mentions.test.mjs) and so that message text never leaves the
// device for matching.
//
// Rules:
// - "@Name" or the bare name, case-insensitive, on word boundaries (the
//   characters around the match are not letters or digits); whitespace
//   runs in the text match single spaces in the name.
// - A bare name needs at least MIN_BARE characters, so that a business
//   called "Post" is found as "@Post" but not in every sentence with the
//   word; an "@" mention matches any length.
// - Longest match wins where names overlap ("Linden" and "Linden
//   Bakery"); matches do not overlap.
// - Numbers match with or without "+" and with spaces, dashes, dots or
//   parentheses inside ("+49 30 1234-567", "4930 1234567"), not inside
//   a longer run of digits.

export interface DirName { name: string; account: string }

export interface Mention {
  account: string;
  name: string;          // the listed name
  start: number;         // UTF-16 offsets of the match in the text
  end: number;
  via: 'at' | 'name' | 'number';
}

export const MIN_BARE = 5;

interface Node { next: Map<string, Node>; hit?: DirName }

export interface Matcher { root: Node; accounts: Map<string, DirName> }

// fold lowercases one UTF-16 unit, keeping it when lowercasing would
// change the length (so that offsets in folded and original text agree).
function fold(c: string): string {
  const l = c.toLowerCase();
  return l.length === 1 ? l : c;
}

const wordChar = /[\p{L}\p{N}\p{M}]/u;
function isWord(c: string | undefined): boolean { return c !== undefined && wordChar.test(c); }
function isSpace(c: string | undefined): boolean { return c !== undefined && /\s/.test(c); }

// normalize is how names are keyed: trimmed, inner whitespace one space.
function normalize(name: string): string { return name.trim().replace(/\s+/g, ' '); }

export function buildMatcher(names: DirName[]): Matcher {
  const root: Node = { next: new Map() };
  const accounts = new Map<string, DirName>();
  for (const n of names) {
    if (!n || typeof n.name !== 'string' || typeof n.account !== 'string' || !/^\d{8,15}$/.test(n.account)) continue;
    accounts.set(n.account, n);
    const key = normalize(n.name);
    if (!key) continue;
    let node = root;
    for (const c of key) {
      for (let i = 0; i < c.length; i++) { // per UTF-16 unit
        const f = fold(c[i]);
        let nx = node.next.get(f);
        if (!nx) { nx = { next: new Map() }; node.next.set(f, nx); }
        node = nx;
      }
    }
    node.hit ??= n; // two businesses with one name: the first (by account) wins
  }
  return { root, accounts };
}

// longestName walks the trie from text[i] and returns the end of the
// longest name ending on a word boundary, or -1.
function longestName(m: Matcher, text: string, i: number): { end: number; hit?: DirName } {
  let node: Node | undefined = m.root;
  let best = { end: -1 } as { end: number; hit?: DirName };
  let j = i;
  while (node && j <= text.length) {
    if (node.hit && j > i && !isWord(text[j])) best = { end: j, hit: node.hit };
    if (j === text.length) break;
    const c = text[j];
    if (isSpace(c)) {
      node = node.next.get(' ');
      while (isSpace(text[j])) j++;
      continue;
    }
    node = node.next.get(fold(c));
    j++;
  }
  return best;
}

const numberAt = /\+?\d[\d \-.()]{5,20}\d/y;

export function findMentions(text: string, m: Matcher, max = 3): Mention[] {
  const out: Mention[] = [];
  const seen = new Set<string>();
  let i = 0;
  while (i < text.length && out.length < max) {
    const prev = text[i - 1];
    const c = text[i];
    // A number: "+" or a digit not preceded by a word character.
    if ((c === '+' || /\d/.test(c)) && !isWord(prev) && prev !== '+') {
      numberAt.lastIndex = i;
      const r = numberAt.exec(text);
      if (r && !/\d/.test(text[i + r[0].length] ?? '')) {
        const digits = r[0].replace(/\D/g, '');
        const n = m.accounts.get(digits);
        if (n) {
          if (!seen.has(n.account)) { seen.add(n.account); out.push({ account: n.account, name: n.name, start: i, end: i + r[0].length, via: 'number' }); }
          i += r[0].length;
          continue;
        }
      }
    }
    // A name: "@" then the name, or the bare name; never inside a word,
    // an e-mail address, a domain or a path ("info@linden.example").
    if (!isWord(prev) && !(prev !== undefined && '@./'.includes(prev))) {
      const at = c === '@';
      const from = at ? i + 1 : i;
      if (from < text.length && !isSpace(text[from])) {
        const r = longestName(m, text, from);
        if (r.hit && (at || r.end - from >= MIN_BARE)) {
          if (!seen.has(r.hit.account)) {
            seen.add(r.hit.account);
            out.push({ account: r.hit.account, name: r.hit.name, start: i, end: r.end, via: at ? 'at' : 'name' });
          }
          i = r.end;
          continue;
        }
      }
    }
    i++;
  }
  return out;
}
