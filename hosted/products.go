package hosted

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/parley-chat/parley"
)

// withProducts adds the details of the products an interactive product
// or product_list message names (name, description, price, currency,
// url, availability) to the payload: "product" in the action of a
// single-product message, and in each item of a product list. The
// customer's client shows the cards from these alone and never asks the
// server or the shop. image_url is left out: no client loads it. A
// product deleted since the send (or a catalog that is not the
// number's business's) is left without details; other messages are
// returned unchanged.
func (b *Business) withProducts(ctx context.Context, n *parley.BusinessNumber, body []byte) []byte {
	var m parley.CloudMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	catalogID, ids := m.ProductRetailerIDs()
	if ids == nil {
		return body
	}
	if c, err := b.Store.Catalog(ctx, catalogID); err != nil || c.Business != n.Business {
		return body
	}
	details := func(id string) map[string]any {
		p, err := b.Store.Product(ctx, catalogID, id)
		if err != nil {
			return nil
		}
		return map[string]any{"retailer_id": p.RetailerID, "name": p.Name, "description": p.Description, "price": p.Price,
			"currency": p.Currency, "url": p.URL, "availability": p.Availability}
	}
	var msg map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // keep other numbers as sent
	if dec.Decode(&msg) != nil {
		return body
	}
	it, _ := msg["interactive"].(map[string]any)
	action, _ := it["action"].(map[string]any)
	if action == nil {
		return body
	}
	if m.Interactive.Type == "product" {
		if d := details(m.Interactive.Action.ProductRetailerID); d != nil {
			action["product"] = d
		}
	} else {
		sections, _ := action["sections"].([]any)
		for _, sec := range sections {
			sm, _ := sec.(map[string]any)
			items, _ := sm["product_items"].([]any)
			for _, item := range items {
				im, _ := item.(map[string]any)
				id, _ := im["product_retailer_id"].(string)
				if d := details(id); im != nil && d != nil {
					im["product"] = d
				}
			}
		}
	}
	out, err := json.Marshal(msg)
	if err != nil {
		return body
	}
	return out
}
