package cloudapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/parley-chat/parley"
)

// Product catalogs: Parley's minimal stand-in for Meta's Catalog API
// (docs/cloudapi.md, "Product catalogs"). Catalogs belong to a business
// (WABA); products are created or updated by retailer_id. Another
// business's catalog is answered like an unknown id (100/33).
func (a *API) catalogRoutes(mux router) {
	mux.Handle("POST /{id}/product_catalogs", a.authed(a.createCatalog))
	mux.Handle("GET /{id}/product_catalogs", a.authed(a.listCatalogs))
	mux.Handle("POST /{id}/products", a.authed(a.putProduct))
	mux.Handle("GET /{id}/products", a.authed(a.listProducts))
	mux.Handle("DELETE /{id}/products", a.authed(a.deleteProduct))
	for _, p := range []string{"/{id}/product_catalogs", "/{id}/products"} {
		mux.Handle(p, a.authed(func(w http.ResponseWriter, r *http.Request) error {
			return unsupported(r.PathValue("id"))
		}))
	}
}

// createCatalog is POST /{waba-id}/product_catalogs {"name"}.
func (a *API) createCatalog(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(w, r)
	if err != nil {
		return err
	}
	c, err := a.Business.CreateCatalog(r.Context(), caller(r), r.PathValue("id"), p.str("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, object{"id": c.ID})
	return nil
}

// listCatalogs is GET /{waba-id}/product_catalogs.
func (a *API) listCatalogs(w http.ResponseWriter, r *http.Request) error {
	cs, err := a.Business.Catalogs(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	data := make([]object, 0, len(cs))
	for _, c := range cs {
		data = append(data, object{"id": c.ID, "name": c.Name})
	}
	writeJSON(w, http.StatusOK, object{"data": data})
	return nil
}

// putProduct is POST /{catalog-id}/products: creates the product with
// retailer_id or updates it.
func (a *API) putProduct(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(w, r)
	if err != nil {
		return err
	}
	price, err := strconv.ParseInt(strings.TrimSpace(p.str("price")), 10, 64)
	if err != nil {
		return parley.Errorf(parley.EINVALID, "Param price is required and must be a whole number of minor units (cents).")
	}
	prod := &parley.Product{RetailerID: p.str("retailer_id"), Name: p.str("name"), Description: p.str("description"), Price: price,
		Currency: p.str("currency"), URL: p.str("url"), Availability: p.str("availability"), ImageURL: p.str("image_url")}
	if err := a.Business.PutProduct(r.Context(), caller(r), r.PathValue("id"), prod); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, object{"id": prod.ID})
	return nil
}

// ProductObject is a product as the API shows it.
func ProductObject(p *parley.Product) map[string]any {
	o := map[string]any{"id": p.ID, "retailer_id": p.RetailerID, "name": p.Name, "description": p.Description,
		"price": p.Price, "currency": p.Currency, "url": p.URL, "availability": p.Availability}
	if p.ImageURL != "" {
		o["image_url"] = p.ImageURL
	}
	return o
}

// listProducts is GET /{catalog-id}/products.
func (a *API) listProducts(w http.ResponseWriter, r *http.Request) error {
	ps, err := a.Business.Products(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	data := make([]map[string]any, 0, len(ps))
	for i := range ps {
		data = append(data, ProductObject(&ps[i]))
	}
	writeJSON(w, http.StatusOK, object{"data": data})
	return nil
}

// deleteProduct is DELETE /{catalog-id}/products?retailer_id=….
func (a *API) deleteProduct(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(w, r)
	if err != nil {
		return err
	}
	if err := a.Business.DeleteProduct(r.Context(), caller(r), r.PathValue("id"), p.str("retailer_id")); err != nil {
		return err
	}
	return success(w)
}
