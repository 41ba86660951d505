-- Product catalogs (docs/cloudapi.md, "Product catalogs"): catalogs of a
-- business and their products, named by the business's retailer_id
-- (unique in a catalog). Prices are in minor units of the currency.
CREATE TABLE catalogs (
	id         TEXT PRIMARY KEY,
	business   TEXT NOT NULL,
	name       TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX catalogs_business ON catalogs (business);

CREATE TABLE catalog_products (
	id           TEXT NOT NULL UNIQUE,
	catalog      TEXT NOT NULL,
	retailer_id  TEXT NOT NULL,
	name         TEXT NOT NULL,
	description  TEXT NOT NULL,
	price        INTEGER NOT NULL,
	currency     TEXT NOT NULL,
	url          TEXT NOT NULL,
	availability TEXT NOT NULL,
	image_url    TEXT NOT NULL,
	updated_at   INTEGER NOT NULL,
	PRIMARY KEY (catalog, retailer_id)
);
