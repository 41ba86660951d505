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

export function putReferral(chat: string, r: Referral) {
  localStorage.setItem(key(chat), JSON.stringify(r));
}

// takeReferral returns the chat's pending referral and forgets it.
export function takeReferral(chat: string): Referral | undefined {
  const raw = localStorage.getItem(key(chat));
  if (!raw) return undefined;
  localStorage.removeItem(key(chat));
  try { return JSON.parse(raw); } catch { return undefined; }
}
