-- NSelf.Usage SQLite schema, migration 10: invoices a business can send (issue 18). The seller's
-- profile, tax rates by place, the buyer's details, and gapless invoice numbers.

-- The seller: one row per store.
CREATE TABLE billing_profile (
    profile_id           INTEGER NOT NULL PRIMARY KEY DEFAULT 1 CHECK (profile_id = 1),
    legal_name           TEXT,
    address              TEXT,
    country              TEXT,
    tax_id               TEXT,
    email                TEXT,
    website              TEXT,
    logo                 BLOB,
    logo_type            TEXT,
    payment_instructions TEXT,
    invoice_prefix       TEXT    NOT NULL DEFAULT 'INV-',
    locale               TEXT,
    reverse_charge       INTEGER NOT NULL DEFAULT 0,
    updated_at           INTEGER NOT NULL
);

-- Tax rates by the buyer's place: a country's rate (region '') or a region's within it. The rate
-- is decimal text, as all money is.
CREATE TABLE billing_tax_rates (
    country    TEXT    NOT NULL,
    region     TEXT    NOT NULL DEFAULT '',
    tax_name   TEXT    NOT NULL,
    rate       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (country, region)
);

ALTER TABLE billing_customers ADD COLUMN address TEXT;
ALTER TABLE billing_customers ADD COLUMN country TEXT;
ALTER TABLE billing_customers ADD COLUMN region TEXT;
ALTER TABLE billing_customers ADD COLUMN tax_id TEXT;
ALTER TABLE billing_customers ADD COLUMN tax_exempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE billing_customers ADD COLUMN locale TEXT;
ALTER TABLE billing_customers ADD COLUMN invoice_email TEXT;

ALTER TABLE billing_invoices ADD COLUMN invoice_number TEXT;
ALTER TABLE billing_invoices ADD COLUMN tax_name TEXT;
ALTER TABLE billing_invoices ADD COLUMN tax_treatment TEXT;
ALTER TABLE billing_invoices ADD COLUMN seller TEXT;
ALTER TABLE billing_invoices ADD COLUMN buyer TEXT;
CREATE UNIQUE INDEX ux_billing_invoices_number ON billing_invoices (invoice_number) WHERE invoice_number IS NOT NULL;

-- One counter per series (kind and prefix), taken in the finalizing write transaction: a
-- rolled-back finalization gives its number back.
CREATE TABLE billing_number_series (
    series      TEXT    NOT NULL PRIMARY KEY,
    last_number INTEGER NOT NULL CHECK (last_number > 0)
) WITHOUT ROWID;
