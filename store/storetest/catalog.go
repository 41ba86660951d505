package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// testCatalogs: catalogs are created up to a per-business limit and
// listed per business; products are created, updated in place by
// retailer id (keeping their id), listed, read and deleted, up to a
// per-catalog limit (also when created at once).
func testCatalogs(t *testing.T, open func(t *testing.T) parley.Store) {
	s := open(t)
	f := mustBusiness(t, s)
	g := mustBusiness(t, s)
	c1 := &parley.Catalog{ID: graphID(), Business: f.b.ID, Name: "Plants", CreatedAt: at(0)}
	c2 := &parley.Catalog{ID: graphID(), Business: f.b.ID, Name: "Pots", CreatedAt: at(time.Second)}
	for _, c := range []*parley.Catalog{c1, c2} {
		if err := s.CreateCatalog(ctxT(t), c, 2); err != nil {
			t.Fatalf("CreateCatalog: %v", err)
		}
	}
	if err := s.CreateCatalog(ctxT(t), &parley.Catalog{ID: graphID(), Business: f.b.ID, Name: "x", CreatedAt: at(0)}, 2); !parley.Match(err, parley.ERATELIMIT) {
		t.Errorf("CreateCatalog over the limit = %v, want %s", err, parley.ERATELIMIT)
	}
	if err := s.CreateCatalog(ctxT(t), &parley.Catalog{ID: graphID(), Business: graphID(), Name: "x", CreatedAt: at(0)}, 2); !parley.Match(err, parley.ENOTFOUND) {
		t.Errorf("CreateCatalog for an unknown business = %v, want %s", err, parley.ENOTFOUND)
	}
	if got, err := s.Catalog(ctxT(t), c2.ID); err != nil || *got != *c2 {
		t.Errorf("Catalog = %+v, %v; want %+v", got, err, c2)
	}
	if _, err := s.Catalog(ctxT(t), graphID()); !parley.Match(err, parley.ENOTFOUND) {
		t.Errorf("Catalog(unknown) = %v, want %s", err, parley.ENOTFOUND)
	}
	if list, err := s.Catalogs(ctxT(t), f.b.ID); err != nil || len(list) != 2 || list[0] != *c1 || list[1] != *c2 {
		t.Errorf("Catalogs = %+v, %v; want %s, %s", list, err, c1.ID, c2.ID)
	}
	if list, err := s.Catalogs(ctxT(t), g.b.ID); err != nil || len(list) != 0 {
		t.Errorf("Catalogs(other business) = %+v, %v; want none", list, err)
	}

	p := &parley.Product{ID: graphID(), Catalog: c1.ID, RetailerID: "SKU-1", Name: "Fern", Description: "Green", Price: 1299,
		Currency: "EUR", URL: "https://shop.example/fern", Availability: parley.AvailabilityInStock, UpdatedAt: at(0)}
	if err := s.PutProduct(ctxT(t), p, 2); err != nil {
		t.Fatalf("PutProduct: %v", err)
	}
	firstID := p.ID
	upd := *p
	upd.ID, upd.Price, upd.Availability, upd.ImageURL, upd.UpdatedAt = graphID(), 999, parley.AvailabilityOutOfStock, "https://shop.example/fern.jpg", at(time.Minute)
	if err := s.PutProduct(ctxT(t), &upd, 2); err != nil || upd.ID != firstID {
		t.Fatalf("PutProduct(update) = %v, id %s; want the first id %s", err, upd.ID, firstID)
	}
	if got, err := s.Product(ctxT(t), c1.ID, "SKU-1"); err != nil || *got != upd {
		t.Errorf("Product = %+v, %v; want %+v", got, err, upd)
	}
	if _, err := s.Product(ctxT(t), c2.ID, "SKU-1"); !parley.Match(err, parley.ENOTFOUND) {
		t.Errorf("Product in another catalog = %v, want %s", err, parley.ENOTFOUND)
	}
	p2 := &parley.Product{ID: graphID(), Catalog: c1.ID, RetailerID: "SKU-0", Name: "Moss", Price: 0, Currency: "EUR",
		URL: "http://shop.example/moss", Availability: parley.AvailabilityInStock, UpdatedAt: at(0)}
	if err := s.PutProduct(ctxT(t), p2, 2); err != nil {
		t.Fatalf("PutProduct(second): %v", err)
	}
	p3 := *p2
	p3.ID, p3.RetailerID = graphID(), "SKU-9"
	if err := s.PutProduct(ctxT(t), &p3, 2); !parley.Match(err, parley.ERATELIMIT) {
		t.Errorf("PutProduct over the limit = %v, want %s", err, parley.ERATELIMIT)
	}
	p3.Catalog = graphID()
	if err := s.PutProduct(ctxT(t), &p3, 2); !parley.Match(err, parley.ENOTFOUND) {
		t.Errorf("PutProduct into an unknown catalog = %v, want %s", err, parley.ENOTFOUND)
	}
	if list, err := s.Products(ctxT(t), c1.ID); err != nil || len(list) != 2 || list[0] != *p2 || list[1] != upd {
		t.Errorf("Products = %+v, %v; want SKU-0, SKU-1", list, err)
	}
	if err := s.DeleteProduct(ctxT(t), c1.ID, "SKU-1"); err != nil {
		t.Fatalf("DeleteProduct: %v", err)
	}
	if err := s.DeleteProduct(ctxT(t), c1.ID, "SKU-1"); !parley.Match(err, parley.ENOTFOUND) {
		t.Errorf("DeleteProduct twice = %v, want %s", err, parley.ENOTFOUND)
	}
	if list, err := s.Products(ctxT(t), c1.ID); err != nil || len(list) != 1 || list[0].RetailerID != "SKU-0" {
		t.Errorf("Products after delete = %+v, %v; want SKU-0", list, err)
	}

	t.Run("ConcurrentLimit", func(t *testing.T) {
		g := mustBusiness(t, s)
		c := &parley.Catalog{ID: graphID(), Business: g.b.ID, Name: "Many", CreatedAt: at(0)}
		if err := s.CreateCatalog(ctxT(t), c, 10); err != nil {
			t.Fatalf("CreateCatalog: %v", err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := &parley.Product{ID: graphID(), Catalog: c.ID, RetailerID: fmt.Sprintf("sku-%02d", i), Name: "x", Currency: "EUR",
					URL: "https://shop.example", Availability: parley.AvailabilityInStock, UpdatedAt: at(0)}
				err := s.PutProduct(ctxT(t), p, 5)
				if err != nil && !parley.Match(err, parley.ERATELIMIT) && !parley.Match(err, parley.EUNAVAILABLE) {
					t.Errorf("PutProduct: %v", err)
				}
				if err == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if list, _ := s.Products(ctxT(t), c.ID); ok > 5 || ok == 0 || len(list) != ok {
			t.Errorf("%d concurrent creations succeeded, %d stored; want 1 to 5, as many stored", ok, len(list))
		}
	})
}
