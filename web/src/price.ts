// Prices of product cards, shared by the messenger and the business app
// (no imports, so each bundle takes only this).

// formatPrice formats minor units of an ISO 4217 currency for locale.
export function formatPrice(minor: number, currency: string, locale: string): string {
  try {
    const f = new Intl.NumberFormat(locale, { style: 'currency', currency });
    return f.format(minor / 10 ** (f.resolvedOptions().maximumFractionDigits ?? 2));
  } catch {
    return (minor / 100).toFixed(2) + ' ' + currency;
  }
}
