-- NSelf.Usage PostgreSQL migration 17: after the invoice (issue 19). Payments, voids, credit
-- notes and prepaid credits, all as entries of one append-only ledger. What a customer owes on an
-- invoice and holds in credit is summed from it whenever it is read, never kept as a total.
-- (billing_invoices.paid_at is nself's own column: set when an invoice is paid in full.)

-- kind: invoiced (a finalization, for the statement), credit_applied / credit_returned (credit
-- of a grant put on an invoice / given back when it is voided), payment, credit_note, void (what
-- was still due when the invoice was voided), grant, grant_removed (the unused rest of a grant).
-- A grant is the entry of kind 'grant': its entry_id is the grant's id, and the entries that
-- spend it name it. db_role is the role that wrote the entry; recorded_by the host's user.
CREATE TABLE IF NOT EXISTS billing_ledger (
    entry_id       bigserial PRIMARY KEY,
    customer_id    varchar(255)  NOT NULL,
    kind           varchar(20)   NOT NULL CHECK (kind IN ('invoiced', 'credit_applied', 'credit_returned', 'payment', 'credit_note', 'void', 'grant', 'grant_removed')),
    currency       varchar(3)    NOT NULL,
    amount         numeric(20,4) NOT NULL CHECK (amount > 0),
    invoice_id     varchar(255),
    grant_id       bigint,
    credit_note_id varchar(255),
    reference      varchar(500),
    reason         varchar(1000),
    expires_at     timestamptz,
    priority       integer,
    effective_at   timestamptz   NOT NULL,
    recorded_at    timestamptz   NOT NULL DEFAULT now(),
    recorded_by    varchar(300)  NOT NULL,
    db_role        name          NOT NULL DEFAULT current_user
);
CREATE INDEX IF NOT EXISTS ix_billing_ledger_customer ON billing_ledger (customer_id, entry_id);
CREATE INDEX IF NOT EXISTS ix_billing_ledger_invoice ON billing_ledger (invoice_id) WHERE invoice_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_billing_ledger_grant ON billing_ledger (grant_id) WHERE grant_id IS NOT NULL;

-- Append-only, for every role (the owner included): a correction is a new entry, so the ledger
-- stays the history of what happened. TRUNCATE is refused too.
CREATE OR REPLACE FUNCTION billing_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'billing_ledger is append-only: record a correcting entry instead' USING ERRCODE = 'insufficient_privilege';
END
$$;
DROP TRIGGER IF EXISTS billing_ledger_append_only ON billing_ledger;
CREATE TRIGGER billing_ledger_append_only BEFORE UPDATE OR DELETE ON billing_ledger
    FOR EACH ROW EXECUTE FUNCTION billing_ledger_append_only();
DROP TRIGGER IF EXISTS billing_ledger_no_truncate ON billing_ledger;
CREATE TRIGGER billing_ledger_no_truncate BEFORE TRUNCATE ON billing_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION billing_ledger_append_only();

-- Credit notes: numbered documents that take part of a finalized invoice back at its tax rate.
-- Issued is issued: like the ledger, they are never changed or removed.
CREATE TABLE IF NOT EXISTS billing_credit_notes (
    credit_note_id      varchar(300)  PRIMARY KEY,
    credit_note_number  varchar(100)  NOT NULL UNIQUE,
    invoice_id          varchar(255)  NOT NULL,
    customer_id         varchar(255)  NOT NULL,
    currency            varchar(3)    NOT NULL,
    subtotal            numeric(14,4) NOT NULL,
    tax_rate            numeric(8,4)  NOT NULL,
    tax                 numeric(14,4) NOT NULL,
    total               numeric(14,4) NOT NULL CHECK (total > 0),
    applied_to_invoice  numeric(14,4) NOT NULL,
    credited_to_balance numeric(14,4) NOT NULL,
    reason              varchar(1000) NOT NULL,
    issued_at           timestamptz   NOT NULL,
    issued_by           varchar(300)  NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_billing_credit_notes_invoice ON billing_credit_notes (invoice_id);
CREATE INDEX IF NOT EXISTS ix_billing_credit_notes_customer ON billing_credit_notes (customer_id);

-- invoice_line_number NULL: the credit is of the invoice as a whole.
CREATE TABLE IF NOT EXISTS billing_credit_note_lines (
    credit_note_id      varchar(300)  NOT NULL REFERENCES billing_credit_notes (credit_note_id),
    line_number         integer       NOT NULL,
    customer_id         varchar(255)  NOT NULL,
    invoice_line_number integer,
    description         text          NOT NULL,
    quantity            numeric(30,6),
    unit                varchar(50),
    unit_price          numeric(20,10),
    amount              numeric(14,4) NOT NULL,
    PRIMARY KEY (credit_note_id, line_number)
);

DROP TRIGGER IF EXISTS billing_credit_notes_append_only ON billing_credit_notes;
CREATE TRIGGER billing_credit_notes_append_only BEFORE UPDATE OR DELETE ON billing_credit_notes
    FOR EACH ROW EXECUTE FUNCTION billing_ledger_append_only();
DROP TRIGGER IF EXISTS billing_credit_note_lines_append_only ON billing_credit_note_lines;
CREATE TRIGGER billing_credit_note_lines_append_only BEFORE UPDATE OR DELETE ON billing_credit_note_lines
    FOR EACH ROW EXECUTE FUNCTION billing_ledger_append_only();
DROP TRIGGER IF EXISTS billing_credit_notes_no_truncate ON billing_credit_notes;
CREATE TRIGGER billing_credit_notes_no_truncate BEFORE TRUNCATE ON billing_credit_notes
    FOR EACH STATEMENT EXECUTE FUNCTION billing_ledger_append_only();
DROP TRIGGER IF EXISTS billing_credit_note_lines_no_truncate ON billing_credit_note_lines;
CREATE TRIGGER billing_credit_note_lines_no_truncate BEFORE TRUNCATE ON billing_credit_note_lines
    FOR EACH STATEMENT EXECUTE FUNCTION billing_ledger_append_only();

-- Invoices finalized before the ledger get their entries, so a statement starts with them:
-- invoiced for every finalized one, paid in full for a paid one, the total voided for a void one.
-- Invoices nself finalized carry no finalized_at: their creation time stands in.
INSERT INTO billing_ledger (customer_id, kind, currency, amount, invoice_id, effective_at, recorded_at, recorded_by)
SELECT customer_id, 'invoiced', coalesce(currency, 'USD'), total_amount, invoice_id, coalesce(finalized_at, created_at, now()), coalesce(finalized_at, created_at, now()), 'migration 17'
FROM billing_invoices WHERE status IN ('open', 'paid', 'void', 'uncollectible') AND total_amount > 0
  AND NOT EXISTS (SELECT 1 FROM billing_ledger l WHERE l.invoice_id = billing_invoices.invoice_id);
INSERT INTO billing_ledger (customer_id, kind, currency, amount, invoice_id, effective_at, recorded_at, recorded_by)
SELECT customer_id, CASE status WHEN 'paid' THEN 'payment' ELSE 'void' END, coalesce(currency, 'USD'), total_amount, invoice_id,
    coalesce(paid_at, finalized_at, created_at, now()), coalesce(finalized_at, created_at, now()), 'migration 17'
FROM billing_invoices WHERE status IN ('paid', 'void') AND total_amount > 0
  AND NOT EXISTS (SELECT 1 FROM billing_ledger l WHERE l.invoice_id = billing_invoices.invoice_id AND l.kind <> 'invoiced');

-- Quotas paid from prepaid credit (-Enforcement Prepaid): enforcement_mode stays 'hard' for nself's tools.
ALTER TABLE billing_quotas ADD COLUMN IF NOT EXISTS prepaid boolean NOT NULL DEFAULT false;
ALTER TABLE usage_customer_quotas ADD COLUMN IF NOT EXISTS prepaid boolean NOT NULL DEFAULT false;

-- Row-level security as for the invoices (migrations 4 and 13): an admin writes, a
-- customer-scoped session reads its own, a session that names no customer keeps its grants.
ALTER TABLE billing_ledger ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing_credit_notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing_credit_note_lines ENABLE ROW LEVEL SECURITY;
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['billing_credit_notes', 'billing_credit_note_lines'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = t::regclass AND polname = t || '_admin_all') THEN
            EXECUTE format('CREATE POLICY %I ON %I FOR ALL USING (usage_is_admin()) WITH CHECK (usage_is_admin())', t || '_admin_all', t);
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = t::regclass AND polname = t || '_customer_select') THEN
            EXECUTE format('CREATE POLICY %I ON %I FOR SELECT USING (customer_id = usage_current_customer())', t || '_customer_select', t);
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = t::regclass AND polname = t || '_unscoped_all') THEN
            EXECUTE format('CREATE POLICY %I ON %I FOR ALL USING (usage_current_customer() IS NULL) WITH CHECK (usage_current_customer() IS NULL)', t || '_unscoped_all', t);
        END IF;
    END LOOP;
    IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'billing_ledger'::regclass AND polname = 'billing_ledger_admin_all') THEN
        CREATE POLICY billing_ledger_admin_all ON billing_ledger FOR ALL USING (usage_is_admin()) WITH CHECK (usage_is_admin());
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'billing_ledger'::regclass AND polname = 'billing_ledger_customer_select') THEN
        CREATE POLICY billing_ledger_customer_select ON billing_ledger FOR SELECT USING (customer_id = usage_current_customer());
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'billing_ledger'::regclass AND polname = 'billing_ledger_unscoped_all') THEN
        CREATE POLICY billing_ledger_unscoped_all ON billing_ledger FOR ALL
            USING (usage_current_customer() IS NULL) WITH CHECK (usage_current_customer() IS NULL);
    END IF;
END
$$;
