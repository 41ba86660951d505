// Referrals: where a business chat was started (a click-to-chat link, a
// short link, a QR code, a website button). A chat opened by such a link
// keeps its referral here until the first message is sent from it; that
// message carries it ("referral" in the payload, sdk/referral.go) and the
// business's webhook shows it as Meta's referral object.

export interface Referral {
  source_type: 'link' | 'short_link' | 'qr' | 'website_button';
  source_url: string;
  source_id?: string;
  body?: string;
}

const key = (chat: string) => 'referral:' + chat;

// A referral is kept for a day: a message written much later was not
// prompted by the link.
const keepFor = 24 * 3600 * 1000;

export function putReferral(chat: string, r: Referral) {
  localStorage.setItem(key(chat), JSON.stringify({ r, at: Date.now() }));
}

// takeReferral returns the chat's pending referral and forgets it.
export function takeReferral(chat: string): Referral | undefined {
  const raw = localStorage.getItem(key(chat));
  if (!raw) return undefined;
  localStorage.removeItem(key(chat));
  try {
    const { r, at } = JSON.parse(raw);
    return Date.now() - at < keepFor ? r : undefined;
  } catch { return undefined; }
}
