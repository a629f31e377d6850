-- NSelf.Usage PostgreSQL migration 16: invoices sent by e-mail (issue 18). The seller's SMTP
-- server, its password apart from the profile, and a record of every sending.

ALTER TABLE billing_profile ADD COLUMN IF NOT EXISTS smtp_server varchar(255);
ALTER TABLE billing_profile ADD COLUMN IF NOT EXISTS smtp_port integer CHECK (smtp_port BETWEEN 1 AND 65535);
-- NULL: STARTTLS when the server offers it (required once a login is set); true required; false off.
ALTER TABLE billing_profile ADD COLUMN IF NOT EXISTS smtp_use_tls boolean;
ALTER TABLE billing_profile ADD COLUMN IF NOT EXISTS smtp_user varchar(255);
ALTER TABLE billing_profile ADD COLUMN IF NOT EXISTS smtp_certificate_sha256 varchar(64);
-- Whether billing_smtp_secret holds the login's password: what every role may know of it.
ALTER TABLE billing_profile ADD COLUMN IF NOT EXISTS smtp_password_set boolean NOT NULL DEFAULT false;

-- The SMTP password, apart from the profile: billing_profile is readable by every role (migration
-- 15), this table only by its owner. Row-level security without a policy hides its row from every
-- other role, even one given all tables (GRANT ... ON ALL TABLES IN SCHEMA public, as application
-- roles often are); superusers and BYPASSRLS roles still read it.
CREATE TABLE IF NOT EXISTS billing_smtp_secret (
    profile_id smallint PRIMARY KEY DEFAULT 1 CHECK (profile_id = 1),
    password   text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON billing_smtp_secret FROM PUBLIC;
ALTER TABLE billing_smtp_secret ENABLE ROW LEVEL SECURITY;

-- One row per sending of an invoice. A sending is claimed ('sending') before the mail goes out,
-- so two hosts do not both send it; it becomes 'sent' when the server took the mail, or
-- 'uncertain' when the connection ended after the whole mail was transmitted. A sending that
-- failed with nothing transmitted is removed.
CREATE TABLE IF NOT EXISTS billing_invoice_deliveries (
    delivery_id bigserial PRIMARY KEY,
    invoice_id  varchar(255) NOT NULL REFERENCES billing_invoices (invoice_id) ON DELETE CASCADE,
    customer_id varchar(255) NOT NULL,
    status      varchar(20)  NOT NULL CHECK (status IN ('sending', 'sent', 'uncertain')),
    recipients  text         NOT NULL,
    cc          text,
    server      varchar(300) NOT NULL,
    message_id  varchar(300) NOT NULL,
    started_at  timestamptz  NOT NULL,
    sent_at     timestamptz
);
CREATE INDEX IF NOT EXISTS ix_billing_invoice_deliveries_invoice ON billing_invoice_deliveries (invoice_id, delivery_id);

-- Row-level security as for the invoice lines (migrations 4 and 13): an admin writes, a
-- customer-scoped session reads its own, a session that names no customer keeps its grants.
ALTER TABLE billing_invoice_deliveries ENABLE ROW LEVEL SECURITY;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'billing_invoice_deliveries'::regclass AND polname = 'billing_invoice_deliveries_admin_all') THEN
        CREATE POLICY billing_invoice_deliveries_admin_all ON billing_invoice_deliveries FOR ALL USING (usage_is_admin()) WITH CHECK (usage_is_admin());
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'billing_invoice_deliveries'::regclass AND polname = 'billing_invoice_deliveries_customer_select') THEN
        CREATE POLICY billing_invoice_deliveries_customer_select ON billing_invoice_deliveries FOR SELECT USING (customer_id = usage_current_customer());
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'billing_invoice_deliveries'::regclass AND polname = 'billing_invoice_deliveries_unscoped_all') THEN
        CREATE POLICY billing_invoice_deliveries_unscoped_all ON billing_invoice_deliveries FOR ALL
            USING (usage_current_customer() IS NULL) WITH CHECK (usage_current_customer() IS NULL);
    END IF;
END
$$;
