-- NSelf.Usage PostgreSQL migration 15: invoices a business can send (issue 18). The seller's
-- profile, tax rates by place, the buyer's details, and gapless invoice numbers.

-- The seller: one row per store, so every host prints the same seller on its invoices.
CREATE TABLE IF NOT EXISTS billing_profile (
    profile_id           smallint PRIMARY KEY DEFAULT 1 CHECK (profile_id = 1),
    legal_name           varchar(255),
    address              text,
    country              varchar(2),
    tax_id               varchar(50),
    email                varchar(255),
    website              varchar(255),
    logo                 bytea,
    logo_type            varchar(20),
    payment_instructions text,
    invoice_prefix       varchar(20) NOT NULL DEFAULT 'INV-',
    locale               varchar(35),
    reverse_charge       boolean NOT NULL DEFAULT false,
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- Tax rates by the buyer's place: a country's rate (region '') or a region's within it.
CREATE TABLE IF NOT EXISTS billing_tax_rates (
    country    varchar(2)   NOT NULL,
    region     varchar(3)   NOT NULL DEFAULT '',
    tax_name   varchar(50)  NOT NULL,
    rate       numeric(8,4) NOT NULL CHECK (rate >= 0 AND rate <= 100),
    updated_at timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (country, region)
);

-- The buyer: nself's customer row gains what an invoice must show about the buyer.
ALTER TABLE billing_customers ADD COLUMN IF NOT EXISTS address text;
ALTER TABLE billing_customers ADD COLUMN IF NOT EXISTS country varchar(2);
ALTER TABLE billing_customers ADD COLUMN IF NOT EXISTS region varchar(3);
ALTER TABLE billing_customers ADD COLUMN IF NOT EXISTS tax_id varchar(50);
ALTER TABLE billing_customers ADD COLUMN IF NOT EXISTS tax_exempt boolean NOT NULL DEFAULT false;
ALTER TABLE billing_customers ADD COLUMN IF NOT EXISTS locale varchar(35);
ALTER TABLE billing_customers ADD COLUMN IF NOT EXISTS invoice_email varchar(255);

-- The invoice keeps what it was issued with: its number, how it was taxed, and the seller and
-- buyer as they were when it was finalized (a later address change does not rewrite it).
ALTER TABLE billing_invoices ADD COLUMN IF NOT EXISTS invoice_number varchar(64);
ALTER TABLE billing_invoices ADD COLUMN IF NOT EXISTS tax_name varchar(50);
ALTER TABLE billing_invoices ADD COLUMN IF NOT EXISTS tax_treatment varchar(20);
ALTER TABLE billing_invoices ADD COLUMN IF NOT EXISTS seller jsonb;
ALTER TABLE billing_invoices ADD COLUMN IF NOT EXISTS buyer jsonb;
CREATE UNIQUE INDEX IF NOT EXISTS ux_billing_invoices_number ON billing_invoices (invoice_number) WHERE invoice_number IS NOT NULL;

-- One counter per series (kind and prefix). The finalizing transaction takes the next number by
-- updating its row, which PostgreSQL locks until the transaction ends: a rolled-back
-- finalization gives its number back, so the series has no gap and no number twice.
CREATE TABLE IF NOT EXISTS billing_number_series (
    series      varchar(40) PRIMARY KEY,
    last_number bigint NOT NULL CHECK (last_number > 0)
);

-- Every role that may finalize (a tenant's too) takes numbers and reads the seller and the rates;
-- only the tables' owner (or an admin it grants to) changes the profile and the rates.
GRANT SELECT ON billing_profile, billing_tax_rates TO PUBLIC;
