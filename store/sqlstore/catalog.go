package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/parley-chat/parley"
)

const productColumns = `id, catalog, retailer_id, name, description, price, currency, url, availability, image_url, updated_at`

var (
	// Creations take turns per business and per catalog (the dialect's
	// LockRows), so that two cannot pass the limit together.
	qLockCatalogBusiness = newQuery(`SELECT id FROM businesses WHERE id = ?`)
	qCountCatalogs       = newQuery(`SELECT COUNT(*) FROM catalogs WHERE business = ?`)
	qInsertCatalog       = newQuery(`INSERT INTO catalogs (id, business, name, created_at) VALUES (?, ?, ?, ?)`)
	qCatalog             = newQuery(`SELECT id, business, name, created_at FROM catalogs WHERE id = ?`)
	qCatalogs            = newQuery(`SELECT id, business, name, created_at FROM catalogs WHERE business = ? ORDER BY created_at, id`)
	qLockCatalog         = newQuery(`SELECT id FROM catalogs WHERE id = ?`)
	qProductID           = newQuery(`SELECT id FROM catalog_products WHERE catalog = ? AND retailer_id = ?`)
	qCountProducts       = newQuery(`SELECT COUNT(*) FROM catalog_products WHERE catalog = ?`)
	qInsertProduct       = newQuery(`INSERT INTO catalog_products (` + productColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	qUpdateProduct       = newQuery(`UPDATE catalog_products SET name = ?, description = ?, price = ?, currency = ?, url = ?, availability = ?, image_url = ?, updated_at = ? WHERE catalog = ? AND retailer_id = ?`)
	qProduct             = newQuery(`SELECT ` + productColumns + ` FROM catalog_products WHERE catalog = ? AND retailer_id = ?`)
	qProducts            = newQuery(`SELECT ` + productColumns + ` FROM catalog_products WHERE catalog = ? ORDER BY retailer_id`)
	qDeleteProduct       = newQuery(`DELETE FROM catalog_products WHERE catalog = ? AND retailer_id = ?`)
)

// CreateCatalog stores a new catalog unless its business has max.
func (s *Store) CreateCatalog(ctx context.Context, c *parley.Catalog, max int) error {
	return s.writeTx(ctx, "CreateCatalog", func(tx *sql.Tx) error {
		var id string
		if err := tx.QueryRowContext(ctx, s.lockText(qLockCatalogBusiness), c.Business).Scan(&id); errors.Is(err, sql.ErrNoRows) {
			return s.notFound("CreateCatalog", "no business %s", c.Business)
		} else if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.sql(qCountCatalogs), c.Business).Scan(&n); err != nil {
			return err
		}
		if n >= max {
			return parley.Errorf(parley.ERATELIMIT, "Business %s has %d catalogs, the most it can have.", c.Business, n)
		}
		_, err := tx.ExecContext(ctx, s.sql(qInsertCatalog), c.ID, c.Business, c.Name, micros(c.CreatedAt))
		return err
	})
}

func scanCatalog(sc scanner) (*parley.Catalog, error) {
	var c parley.Catalog
	var created int64
	if err := sc.Scan(&c.ID, &c.Business, &c.Name, &created); err != nil {
		return nil, err
	}
	c.CreatedAt = fromMicros(created)
	return &c, nil
}

// Catalog returns a catalog.
func (s *Store) Catalog(ctx context.Context, id string) (*parley.Catalog, error) {
	c, err := scanCatalog(s.r.QueryRowContext(ctx, s.sql(qCatalog), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound("Catalog", "no catalog %s", id)
	}
	if err != nil {
		return nil, s.wrap("Catalog", err)
	}
	return c, nil
}

// Catalogs lists a business's catalogs, oldest first.
func (s *Store) Catalogs(ctx context.Context, business string) ([]parley.Catalog, error) {
	rows, err := s.r.QueryContext(ctx, s.sql(qCatalogs), business)
	if err != nil {
		return nil, s.wrap("Catalogs", err)
	}
	defer rows.Close()
	var out []parley.Catalog
	for rows.Next() {
		c, err := scanCatalog(rows)
		if err != nil {
			return nil, s.wrap("Catalogs", err)
		}
		out = append(out, *c)
	}
	return out, s.wrapIf("Catalogs", rows.Err())
}

// PutProduct creates or updates a product by retailer id.
func (s *Store) PutProduct(ctx context.Context, p *parley.Product, max int) error {
	return s.writeTx(ctx, "PutProduct", func(tx *sql.Tx) error {
		var id string
		if err := tx.QueryRowContext(ctx, s.lockText(qLockCatalog), p.Catalog).Scan(&id); errors.Is(err, sql.ErrNoRows) {
			return s.notFound("PutProduct", "no catalog %s", p.Catalog)
		} else if err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, s.sql(qProductID), p.Catalog, p.RetailerID).Scan(&id)
		if err == nil {
			p.ID = id
			_, err = tx.ExecContext(ctx, s.sql(qUpdateProduct), p.Name, p.Description, p.Price, p.Currency, p.URL, p.Availability,
				p.ImageURL, micros(p.UpdatedAt), p.Catalog, p.RetailerID)
			return err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.sql(qCountProducts), p.Catalog).Scan(&n); err != nil {
			return err
		}
		if n >= max {
			return parley.Errorf(parley.ERATELIMIT, "Catalog %s has %d products, the most it can have.", p.Catalog, n)
		}
		_, err = tx.ExecContext(ctx, s.sql(qInsertProduct), p.ID, p.Catalog, p.RetailerID, p.Name, p.Description, p.Price, p.Currency,
			p.URL, p.Availability, p.ImageURL, micros(p.UpdatedAt))
		return err
	})
}

func scanProduct(sc scanner) (*parley.Product, error) {
	var p parley.Product
	var updated int64
	if err := sc.Scan(&p.ID, &p.Catalog, &p.RetailerID, &p.Name, &p.Description, &p.Price, &p.Currency, &p.URL, &p.Availability,
		&p.ImageURL, &updated); err != nil {
		return nil, err
	}
	p.UpdatedAt = fromMicros(updated)
	return &p, nil
}

// Product returns a product by retailer id.
func (s *Store) Product(ctx context.Context, catalog, retailerID string) (*parley.Product, error) {
	p, err := scanProduct(s.r.QueryRowContext(ctx, s.sql(qProduct), catalog, retailerID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound("Product", "no product %s in catalog %s", retailerID, catalog)
	}
	if err != nil {
		return nil, s.wrap("Product", err)
	}
	return p, nil
}

// Products lists a catalog's products by retailer id.
func (s *Store) Products(ctx context.Context, catalog string) ([]parley.Product, error) {
	rows, err := s.r.QueryContext(ctx, s.sql(qProducts), catalog)
	if err != nil {
		return nil, s.wrap("Products", err)
	}
	defer rows.Close()
	var out []parley.Product
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, s.wrap("Products", err)
		}
		out = append(out, *p)
	}
	return out, s.wrapIf("Products", rows.Err())
}

// DeleteProduct deletes a product.
func (s *Store) DeleteProduct(ctx context.Context, catalog, retailerID string) error {
	res, err := s.w.ExecContext(ctx, s.sql(qDeleteProduct), catalog, retailerID)
	if err != nil {
		return s.wrap("DeleteProduct", err)
	}
	if ok, err := rowsAffected(res); err != nil {
		return s.wrap("DeleteProduct", err)
	} else if !ok {
		return s.notFound("DeleteProduct", "no product %s in catalog %s", retailerID, catalog)
	}
	return nil
}
