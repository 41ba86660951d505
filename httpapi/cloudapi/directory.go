package cloudapi

import (
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
)

// Parley extensions of the Cloud API for the business directory:
// GET and POST /{phone-number-id}/directory_listing. Meta has no such
// edge; SDKs never call it. The verified badge is read-only here (the
// operator sets it).

func listingObject(l *parley.DirectoryListing) object {
	o := object{"name": l.Name, "listed": l.Listed, "category": l.Category, "address": l.Address, "city": l.City,
		"verified": l.Verified, "messaging_product": "whatsapp"}
	if l.HasLocation {
		o["latitude"], o["longitude"] = l.Latitude, l.Longitude
	}
	return o
}

// getListing is GET /{phone-number-id}/directory_listing.
func (a *API) getListing(w http.ResponseWriter, r *http.Request) error {
	if a.Directory == nil {
		return unsupported(r.PathValue("id"))
	}
	l, err := a.Directory.Listing(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, object{"data": []object{listingObject(l)}})
	return nil
}

// updateListing is POST /{phone-number-id}/directory_listing: only the
// fields sent change.
func (a *API) updateListing(w http.ResponseWriter, r *http.Request) error {
	if a.Directory == nil {
		return unsupported(r.PathValue("id"))
	}
	p, err := readParams(w, r)
	if err != nil {
		return err
	}
	u, err := service.ParseListingUpdate(p.has, p.str)
	if err != nil {
		return err
	}
	if _, err := a.Directory.UpdateListing(r.Context(), caller(r), r.PathValue("id"), u); err != nil {
		return err
	}
	return success(w)
}
