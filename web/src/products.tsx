// Product cards of business messages (interactive product and
// product_list). The hosted business device adds each product's details
// (name, description, price in minor units, currency, url, availability)
// to the message, so nothing is fetched here; product images are never
// shown, as loading them would tell the shop's server the reader's
// address (docs/cloudapi.md, "Product messages").
import { lang, t } from './i18n';
import { formatPrice } from './price';


function safeURL(u: any): string | undefined {
  return typeof u === 'string' && /^https?:\/\//i.test(u) ? u : undefined;
}

function Card({ p, sku }: { p: any; sku: string }) {
  if (!p) return <div class="product missing" data-testid="product"><span class="muted">{t('productUnavailable', { id: sku })}</span></div>;
  const url = safeURL(p.url);
  const inStock = p.availability !== 'out of stock';
  return (
    <div class="product" data-testid="product">
      <strong class="name">{p.name}</strong>
      {p.description && <p class="text">{p.description}</p>}
      <div class="price-line">
        <span class="price" data-testid="price">{formatPrice(Number(p.price) || 0, String(p.currency || ''), lang)}</span>
        <span class={inStock ? 'stock' : 'stock out'}>{inStock ? t('inStock') : t('outOfStock')}</span>
      </div>
      {url && <a class="button" href={url} target="_blank" rel="noopener noreferrer" title={t('openLink', { url })}>{t('viewProduct')}</a>}
    </div>
  );
}

// Products renders the card of a single product or the sections of a
// product list.
export function Products({ i }: { i: any }) {
  const a = i?.action ?? {};
  if (i?.type === 'product') return <div class="products"><Card p={a.product} sku={a.product_retailer_id ?? ''} /></div>;
  return (
    <div class="products">
      {(a.sections ?? []).map((sec: any, k: number) => (
        <section key={k} aria-label={sec.title}>
          {sec.title && <h4>{sec.title}</h4>}
          {(sec.product_items ?? []).map((it: any, j: number) => <Card key={j} p={it.product} sku={it.product_retailer_id ?? ''} />)}
        </section>
      ))}
    </div>
  );
}
