// Product cards of interactive product and product_list messages in the
// business app: the message names products by retailer id; their
// details come from the business's own catalog
// (GET /business/api/catalogs/{id}/products), once per catalog and set
// of ids. Product images are not shown (as in the messenger).
import { useEffect, useState } from 'preact/hooks';
import { api } from './api';
import { lang, t } from './i18n';
import { formatPrice } from '../price';

export interface Product { retailer_id: string; name: string; description?: string; price: number; currency: string; url?: string; availability: string }

const cache = new Map<string, Promise<Product[]>>();

function products(catalog: string, ids: string[]): Promise<Product[]> {
  const key = catalog + '\n' + ids.join(',');
  let p = cache.get(key);
  if (!p) {
    p = api<{ products: Product[] }>('GET', `/catalogs/${encodeURIComponent(catalog)}/products?ids=${ids.map(encodeURIComponent).join(',')}`).then((r) => r.products);
    p.catch(() => cache.delete(key)); // try again next time
    cache.set(key, p);
  }
  return p;
}


function Card({ p, sku }: { p?: Product; sku: string }) {
  if (!p) return <div class="product missing" data-testid="product"><span class="muted">{t('productUnavailable', { id: sku })}</span></div>;
  const url = /^https?:\/\//i.test(p.url ?? '') ? p.url : undefined;
  return (
    <div class="product" data-testid="product">
      <strong>{p.name}</strong>
      {p.description && <p class="text">{p.description}</p>}
      <span data-testid="price">{formatPrice(p.price, p.currency, lang)}</span>{' · '}
      <span>{p.availability === 'out of stock' ? t('outOfStock') : t('inStock')}</span>
      {url && <> · <a href={url} target="_blank" rel="noopener noreferrer">{t('viewProduct')}</a></>}
    </div>
  );
}

// ProductCards renders the products of an interactive message object.
export function ProductCards({ i }: { i: any }) {
  const a = i?.action ?? {};
  const sections: { title?: string; ids: string[] }[] = i?.type === 'product'
    ? [{ ids: [String(a.product_retailer_id ?? '')] }]
    : (a.sections ?? []).map((s: any) => ({ title: s.title, ids: (s.product_items ?? []).map((x: any) => String(x.product_retailer_id ?? '')) }));
  const ids = sections.flatMap((s) => s.ids).filter(Boolean).slice(0, 30);
  const [list, setList] = useState<Product[] | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (!a.catalog_id || !ids.length) return;
    products(String(a.catalog_id), ids).then(setList).catch(() => setFailed(true));
  }, [a.catalog_id, ids.join(',')]);
  const byID = new Map((list ?? []).map((p) => [p.retailer_id, p]));
  return (
    <div class="products">
      {i?.header?.text && <strong>{i.header.text}</strong>}
      {i?.body?.text && <p class="text">{i.body.text}</p>}
      {failed && <p class="muted">{t('productsFailed')}</p>}
      {list && sections.map((s, k) => (
        <section key={k} aria-label={s.title || t('products')}>
          {s.title && <h4>{s.title}</h4>}
          {s.ids.map((id) => <Card key={id} p={byID.get(id)} sku={id} />)}
        </section>
      ))}
    </div>
  );
}
