package service

import (
	"context"

	"github.com/parley-chat/parley"
)

// Product catalogs (parley.Catalog): every method is scoped to the
// caller's business; another business's catalog is answered exactly like
// an unknown id.

// CreateCatalog makes a new, empty catalog of the caller's business.
func (s *Business) CreateCatalog(ctx context.Context, c *Caller, waba, name string) (*parley.Catalog, error) {
	if _, err := s.WABA(ctx, c, waba); err != nil {
		return nil, err
	}
	if err := parley.ValidateCatalogName(name); err != nil {
		return nil, err
	}
	cat := &parley.Catalog{ID: NewGraphID(), Business: waba, Name: name, CreatedAt: s.clock.Now()}
	if err := s.store.CreateCatalog(ctx, cat, parley.MaxCatalogs); parley.Match(err, parley.ERATELIMIT) {
		return nil, parley.Errorf(parley.EINVALID, "Business %s has %d catalogs, the most it can have.", waba, parley.MaxCatalogs)
	} else if err != nil {
		return nil, err
	}
	return cat, nil
}

// Catalogs lists the catalogs of the caller's business.
func (s *Business) Catalogs(ctx context.Context, c *Caller, waba string) ([]parley.Catalog, error) {
	if _, err := s.WABA(ctx, c, waba); err != nil {
		return nil, err
	}
	return s.store.Catalogs(ctx, waba)
}

// catalog returns a catalog of business.
func (s *Business) catalog(ctx context.Context, business, id string) (*parley.Catalog, error) {
	if !parley.ValidGraphID(id) || business == "" {
		return nil, objectNotFound(id)
	}
	cat, err := s.store.Catalog(ctx, id)
	if parley.Match(err, parley.ENOTFOUND) || err == nil && cat.Business != business {
		return nil, objectNotFound(id)
	}
	return cat, err
}

func callerBusiness(c *Caller) string {
	if c == nil {
		return ""
	}
	return c.Business
}

// PutProduct creates a product in a catalog of the caller's business,
// or updates the one with the same retailer id; p.ID is set.
func (s *Business) PutProduct(ctx context.Context, c *Caller, catalogID string, p *parley.Product) error {
	if _, err := s.catalog(ctx, callerBusiness(c), catalogID); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	p.ID, p.Catalog, p.UpdatedAt = NewGraphID(), catalogID, s.clock.Now()
	if err := s.store.PutProduct(ctx, p, parley.MaxProducts); parley.Match(err, parley.ERATELIMIT) {
		return parley.Errorf(parley.EINVALID, "Catalog %s has %d products, the most it can have.", catalogID, parley.MaxProducts)
	} else if parley.Match(err, parley.ENOTFOUND) {
		return objectNotFound(catalogID) // deleted meanwhile
	} else if err != nil {
		return err
	}
	return nil
}

// Products lists the products of a catalog of the caller's business.
func (s *Business) Products(ctx context.Context, c *Caller, catalogID string) ([]parley.Product, error) {
	if _, err := s.catalog(ctx, callerBusiness(c), catalogID); err != nil {
		return nil, err
	}
	return s.store.Products(ctx, catalogID)
}

// MaxProductLookup is how many products ProductsByID looks up at once
// (Meta's limit on the items of a product_list message).
const MaxProductLookup = 30

// ProductsByID returns the named products of a catalog of the caller's
// business, in the order named; ids the catalog does not have (any more)
// are left out.
func (s *Business) ProductsByID(ctx context.Context, c *Caller, catalogID string, ids []string) ([]parley.Product, error) {
	if len(ids) > MaxProductLookup {
		return nil, parley.Errorf(parley.EINVALID, "at most %d products at once", MaxProductLookup)
	}
	if _, err := s.catalog(ctx, callerBusiness(c), catalogID); err != nil {
		return nil, err
	}
	out := []parley.Product{}
	for _, id := range ids {
		p, err := s.store.Product(ctx, catalogID, id)
		if parley.Match(err, parley.ENOTFOUND) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	return out, nil
}

// DeleteProduct deletes a product of a catalog of the caller's business.
func (s *Business) DeleteProduct(ctx context.Context, c *Caller, catalogID, retailerID string) error {
	if _, err := s.catalog(ctx, callerBusiness(c), catalogID); err != nil {
		return err
	}
	if retailerID == "" {
		return parley.Errorf(parley.EINVALID, "The parameter retailer_id is required.")
	}
	err := s.store.DeleteProduct(ctx, catalogID, retailerID)
	if parley.Match(err, parley.ENOTFOUND) {
		return parley.Errorf(parley.EINVALID, "Catalog %s has no product with retailer_id %q.", catalogID, retailerID)
	}
	return err
}

// checkProducts refuses a product or product_list message of business
// whose catalog is not the business's or that names a product the
// catalog does not have.
func (s *Business) checkProducts(ctx context.Context, business string, m *parley.CloudMessage) error {
	catalogID, ids := m.ProductRetailerIDs()
	if ids == nil {
		return nil
	}
	if _, err := s.catalog(ctx, business, catalogID); parley.Match(err, parley.ENOTFOUND) {
		return parley.Errorf(parley.EINVALID, "Param interactive.action.catalog_id: catalog %s does not exist or is not this business's.", catalogID)
	} else if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := s.store.Product(ctx, catalogID, id); parley.Match(err, parley.ENOTFOUND) {
			return parley.Errorf(parley.EINVALID, "Product %q is not in catalog %s.", id, catalogID)
		} else if err != nil {
			return err
		}
	}
	return nil
}
