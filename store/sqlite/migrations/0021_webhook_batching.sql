-- An app may opt into batched webhook POSTs (docs/webhooks.md, "Batched
-- POSTs"): up to max_changes consecutive changes of one conversation in
-- one POST; 0 keeps one change per POST.
ALTER TABLE business_apps ADD COLUMN max_changes INTEGER NOT NULL DEFAULT 0;
