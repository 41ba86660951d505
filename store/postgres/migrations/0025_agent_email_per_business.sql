-- An agent's email is unique within a business, not across the server:
-- one person may be an agent of several businesses (an agency answering
-- for its clients), and adding an agent no longer tells a business that
-- an email is in use at another one. Sign-in asks which business when
-- the password fits more than one (docs/inbox.md).
ALTER TABLE inbox_agents DROP CONSTRAINT inbox_agents_email_key;
ALTER TABLE inbox_agents ADD CONSTRAINT inbox_agents_business_email_key UNIQUE (business, email);
CREATE INDEX inbox_agents_email ON inbox_agents (email);
