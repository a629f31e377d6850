-- NSelf.Usage SQLite schema, migration 11: invoices sent by e-mail (issue 18). The seller's SMTP
-- server, its password apart from the profile, and a record of every sending.

ALTER TABLE billing_profile ADD COLUMN smtp_server TEXT;
ALTER TABLE billing_profile ADD COLUMN smtp_port INTEGER;
-- NULL: STARTTLS when the server offers it (required once a login is set); 1 required; 0 off.
ALTER TABLE billing_profile ADD COLUMN smtp_use_tls INTEGER;
ALTER TABLE billing_profile ADD COLUMN smtp_user TEXT;
ALTER TABLE billing_profile ADD COLUMN smtp_certificate_sha256 TEXT;
-- Whether billing_smtp_secret holds the login's password.
ALTER TABLE billing_profile ADD COLUMN smtp_password_set INTEGER NOT NULL DEFAULT 0;

-- The SMTP password: never part of the profile a command shows. The file's permissions are what
-- protect it on SQLite (BILLING_SMTP_PASSWORD keeps it out of the store altogether).
CREATE TABLE billing_smtp_secret (
    profile_id INTEGER NOT NULL PRIMARY KEY DEFAULT 1 CHECK (profile_id = 1),
    password   TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

-- One row per sending of an invoice. A sending is claimed ('sending') before the mail goes out,
-- so two hosts do not both send it; it becomes 'sent' when the server took the mail, or
-- 'uncertain' when the connection ended after the whole mail was transmitted. A sending that
-- failed with nothing transmitted is removed.
CREATE TABLE billing_invoice_deliveries (
    delivery_id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    invoice_id  TEXT    NOT NULL REFERENCES billing_invoices (invoice_id) ON DELETE CASCADE,
    customer_id TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('sending', 'sent', 'uncertain')),
    recipients  TEXT    NOT NULL,
    cc          TEXT,
    server      TEXT    NOT NULL,
    message_id  TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    sent_at     INTEGER
);
CREATE INDEX ix_billing_invoice_deliveries_invoice ON billing_invoice_deliveries (invoice_id, delivery_id);
