-- Inbox retention (docs/inbox.md, "Retention"): a business may keep
-- resolved conversations for a number of days only (0: kept), and the
-- operator's sweep removes website visitors' conversations and visitors
-- that were inactive longer than the web-chat retention.
ALTER TABLE inbox_settings ADD COLUMN retention_days BIGINT NOT NULL DEFAULT 0;
CREATE INDEX inbox_conversations_web ON inbox_conversations (last_at) WHERE customer LIKE 'web:%';
CREATE INDEX webchat_visitors_seen ON webchat_visitors (last_seen_at);
