-- Opening hours on the business profile (a JSON object, '' when none
-- are published) and the business directory: numbers that chose to be
-- listed, with category, location and the operator's verified badge.
-- name is the number's verified name, copied when the listing is
-- written; name_fold its lower-case form (folded in Go, so that SQLite
-- and PostgreSQL compare the same text). Searches prefilter distance by
-- a latitude/longitude bounding box on the listed rows.
ALTER TABLE business_profiles ADD COLUMN opening_hours TEXT NOT NULL DEFAULT '';

CREATE TABLE directory_listings (
	number       TEXT COLLATE "C" PRIMARY KEY REFERENCES business_numbers (id),
	business     TEXT COLLATE "C" NOT NULL,
	account      TEXT COLLATE "C" NOT NULL,
	name         TEXT NOT NULL,
	name_fold    TEXT COLLATE "C" NOT NULL,
	listed       SMALLINT NOT NULL DEFAULT 0,
	category     TEXT COLLATE "C" NOT NULL DEFAULT '',
	has_location SMALLINT NOT NULL DEFAULT 0,
	latitude     DOUBLE PRECISION NOT NULL DEFAULT 0,
	longitude    DOUBLE PRECISION NOT NULL DEFAULT 0,
	address      TEXT NOT NULL DEFAULT '',
	city         TEXT NOT NULL DEFAULT '',
	verified     SMALLINT NOT NULL DEFAULT 0,
	updated_at   BIGINT NOT NULL
);
CREATE INDEX directory_listed_location ON directory_listings (latitude, longitude) WHERE listed <> 0 AND has_location <> 0;
CREATE INDEX directory_listed_name ON directory_listings (name_fold) WHERE listed <> 0;
