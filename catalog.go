package parley

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// Product catalogs: Parley's minimal stand-in for Meta's Catalog API
// (docs/cloudapi.md, "Product catalogs"). A business (WABA) owns
// catalogs; a catalog holds products named by the business's own
// retailer_id (its SKU), unique in the catalog. Interactive product and
// product_list messages name products of a catalog of the sending
// business; the hosted business device adds the products' details to
// what it delivers, so that the customer's client shows cards without
// asking the server. Images are not part of the card: image_url is kept
// and returned to the business, never loaded by clients (it would tell
// the shop's server the customer's address).
type Catalog struct {
	ID        string // Graph id
	Business  string // WABA id
	Name      string
	CreatedAt time.Time
}

// Product is an item of a catalog.
type Product struct {
	ID           string // Graph id, kept when the product is updated
	Catalog      string
	RetailerID   string
	Name         string
	Description  string
	Price        int64  // minor units of Currency (cents)
	Currency     string // ISO 4217, upper case
	URL          string // the product's page (http or https)
	Availability string // AvailabilityInStock or AvailabilityOutOfStock
	ImageURL     string // optional; never loaded by Parley's clients
	UpdatedAt    time.Time
}

// Availability of a product (Meta's values).
const (
	AvailabilityInStock    = "in stock"
	AvailabilityOutOfStock = "out of stock"
)

// Limits of catalogs.
const (
	MaxCatalogName        = 100
	MaxRetailerID         = 100
	MaxProductName        = 150
	MaxProductDescription = 5000
	MaxCatalogs           = 100   // per business
	MaxProducts           = 10000 // per catalog
)

// ValidateCatalogName checks a catalog's name.
func ValidateCatalogName(name string) error {
	if strings.TrimSpace(name) == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxCatalogName {
		return Errorf(EINVALID, "Param name must have 1 to %d characters.", MaxCatalogName)
	}
	return nil
}

// Validate checks a product and normalizes it: the currency upper case,
// availability defaults to in stock.
func (p *Product) Validate() error {
	p.Currency = strings.ToUpper(p.Currency)
	if p.Availability == "" {
		p.Availability = AvailabilityInStock
	}
	switch {
	case p.RetailerID == "" || !utf8.ValidString(p.RetailerID) || utf8.RuneCountInString(p.RetailerID) > MaxRetailerID || strings.ContainsAny(p.RetailerID, "\x00\r\n"):
		return Errorf(EINVALID, "Param retailer_id must have 1 to %d characters.", MaxRetailerID)
	case strings.TrimSpace(p.Name) == "" || !utf8.ValidString(p.Name) || utf8.RuneCountInString(p.Name) > MaxProductName:
		return Errorf(EINVALID, "Param name must have 1 to %d characters.", MaxProductName)
	case !utf8.ValidString(p.Description) || utf8.RuneCountInString(p.Description) > MaxProductDescription:
		return Errorf(EINVALID, "Param description must be at most %d characters long.", MaxProductDescription)
	case p.Price < 0 || p.Price > 1e12:
		return Errorf(EINVALID, "Param price must be a whole number of minor units (cents) from 0 to 10^12.")
	case !validCurrency(p.Currency):
		return Errorf(EINVALID, "Param currency must be an ISO 4217 code (three letters, e.g. EUR).")
	case !validLink(p.URL):
		return Errorf(EINVALID, "Param url must be an http(s) URL.")
	case p.Availability != AvailabilityInStock && p.Availability != AvailabilityOutOfStock:
		return Errorf(EINVALID, "Param availability must be %q or %q.", AvailabilityInStock, AvailabilityOutOfStock)
	case p.ImageURL != "" && !validLink(p.ImageURL):
		return Errorf(EINVALID, "Param image_url must be an http(s) URL.")
	}
	return nil
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// ProductRetailerIDs returns the retailer ids an interactive product or
// product_list message names, in order; nil for other messages.
func (m *CloudMessage) ProductRetailerIDs() (catalog string, ids []string) {
	if m.Type != MessageInteractive || m.Interactive == nil || m.Interactive.Action == nil {
		return "", nil
	}
	a := m.Interactive.Action
	switch m.Interactive.Type {
	case "product":
		return a.CatalogID, []string{a.ProductRetailerID}
	case "product_list":
		for _, s := range a.Sections {
			for _, p := range s.ProductItems {
				ids = append(ids, p.ProductRetailerID)
			}
		}
		return a.CatalogID, ids
	}
	return "", nil
}

// CatalogStore keeps catalogs and their products.
type CatalogStore interface {
	// CreateCatalog stores a new catalog unless its business has max
	// catalogs (ERATELIMIT then).
	CreateCatalog(ctx context.Context, c *Catalog, max int) error
	// Catalog returns a catalog; ENOTFOUND when unknown.
	Catalog(ctx context.Context, id string) (*Catalog, error)
	// Catalogs lists a business's catalogs, oldest first.
	Catalogs(ctx context.Context, business string) ([]Catalog, error)
	// PutProduct creates a product (with p.ID) or updates the one with
	// the same retailer id in the catalog (keeping its id, which is set
	// in p); ERATELIMIT when a new product would pass max.
	PutProduct(ctx context.Context, p *Product, max int) error
	// Product returns a product by retailer id; ENOTFOUND when unknown.
	Product(ctx context.Context, catalog, retailerID string) (*Product, error)
	// Products lists a catalog's products by retailer id.
	Products(ctx context.Context, catalog string) ([]Product, error)
	// DeleteProduct deletes a product; ENOTFOUND when unknown.
	DeleteProduct(ctx context.Context, catalog, retailerID string) error
}
