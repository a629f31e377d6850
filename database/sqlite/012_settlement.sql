-- NSelf.Usage SQLite schema, migration 12: after the invoice (issue 19). Payments, voids, credit
-- notes and prepaid credits, all as entries of one append-only ledger. What a customer owes on an
-- invoice and holds in credit is summed from it whenever it is read, never kept as a total.

-- When the invoice was paid in full (nself's column on PostgreSQL).
ALTER TABLE billing_invoices ADD COLUMN paid_at INTEGER;

-- kind: invoiced (a finalization, for the statement), credit_applied / credit_returned (credit
-- of a grant put on an invoice / given back when it is voided), payment, credit_note, void (what
-- was still due when the invoice was voided), grant, grant_removed (the unused rest of a grant).
-- amount is positive, in the currency's minor unit, as exact decimal text. A grant is the entry
-- of kind 'grant': its entry_id is the grant's id, and the entries that spend it name it.
CREATE TABLE billing_ledger (
    entry_id       INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    customer_id    TEXT    NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('invoiced', 'credit_applied', 'credit_returned', 'payment', 'credit_note', 'void', 'grant', 'grant_removed')),
    currency       TEXT    NOT NULL,
    amount         TEXT    NOT NULL CHECK (CAST(amount AS REAL) > 0),
    invoice_id     TEXT,
    grant_id       INTEGER,
    credit_note_id TEXT,
    reference      TEXT,
    reason         TEXT,
    expires_at     INTEGER,
    priority       INTEGER,
    effective_at   INTEGER NOT NULL,
    recorded_at    INTEGER NOT NULL,
    recorded_by    TEXT    NOT NULL
);
CREATE INDEX ix_billing_ledger_customer ON billing_ledger (customer_id, entry_id);
CREATE INDEX ix_billing_ledger_invoice ON billing_ledger (invoice_id) WHERE invoice_id IS NOT NULL;
CREATE INDEX ix_billing_ledger_grant ON billing_ledger (grant_id) WHERE grant_id IS NOT NULL;

-- Append-only: a correction is a new entry, so the ledger stays the history of what happened.
CREATE TRIGGER billing_ledger_no_update BEFORE UPDATE ON billing_ledger
BEGIN SELECT RAISE(ABORT, 'billing_ledger is append-only: record a correcting entry instead'); END;
CREATE TRIGGER billing_ledger_no_delete BEFORE DELETE ON billing_ledger
BEGIN SELECT RAISE(ABORT, 'billing_ledger is append-only: record a correcting entry instead'); END;

-- Credit notes: numbered documents that take part of a finalized invoice back at its tax rate.
-- Issued is issued: like the ledger, they are never changed or removed.
CREATE TABLE billing_credit_notes (
    credit_note_id     TEXT    NOT NULL PRIMARY KEY,
    credit_note_number TEXT    NOT NULL UNIQUE,
    invoice_id         TEXT    NOT NULL,
    customer_id        TEXT    NOT NULL,
    currency           TEXT    NOT NULL,
    subtotal           TEXT    NOT NULL,
    tax_rate           TEXT    NOT NULL,
    tax                TEXT    NOT NULL,
    total              TEXT    NOT NULL,
    applied_to_invoice TEXT    NOT NULL,
    credited_to_balance TEXT   NOT NULL,
    reason             TEXT    NOT NULL,
    issued_at          INTEGER NOT NULL,
    issued_by          TEXT    NOT NULL
);
CREATE INDEX ix_billing_credit_notes_invoice ON billing_credit_notes (invoice_id);
CREATE INDEX ix_billing_credit_notes_customer ON billing_credit_notes (customer_id);

-- invoice_line_number NULL: the credit is of the invoice as a whole.
CREATE TABLE billing_credit_note_lines (
    credit_note_id      TEXT    NOT NULL REFERENCES billing_credit_notes (credit_note_id),
    line_number         INTEGER NOT NULL,
    customer_id         TEXT    NOT NULL,
    invoice_line_number INTEGER,
    description         TEXT    NOT NULL,
    quantity            TEXT,
    unit                TEXT,
    unit_price          TEXT,
    amount              TEXT    NOT NULL,
    PRIMARY KEY (credit_note_id, line_number)
) WITHOUT ROWID;

CREATE TRIGGER billing_credit_notes_no_update BEFORE UPDATE ON billing_credit_notes
BEGIN SELECT RAISE(ABORT, 'credit notes are never changed: issue another'); END;
CREATE TRIGGER billing_credit_notes_no_delete BEFORE DELETE ON billing_credit_notes
BEGIN SELECT RAISE(ABORT, 'credit notes are never changed: issue another'); END;
CREATE TRIGGER billing_credit_note_lines_no_update BEFORE UPDATE ON billing_credit_note_lines
BEGIN SELECT RAISE(ABORT, 'credit notes are never changed: issue another'); END;
CREATE TRIGGER billing_credit_note_lines_no_delete BEFORE DELETE ON billing_credit_note_lines
BEGIN SELECT RAISE(ABORT, 'credit notes are never changed: issue another'); END;

-- Invoices finalized before the ledger get their entries, so a statement starts with them:
-- invoiced for every finalized one, paid in full for a paid one, the total voided for a void one.
INSERT INTO billing_ledger (customer_id, kind, currency, amount, invoice_id, effective_at, recorded_at, recorded_by)
SELECT customer_id, 'invoiced', currency, total, invoice_id, finalized_at, finalized_at, 'migration 12'
FROM billing_invoices WHERE finalized_at IS NOT NULL AND status IN ('open', 'paid', 'void', 'uncollectible') AND CAST(total AS REAL) > 0;
INSERT INTO billing_ledger (customer_id, kind, currency, amount, invoice_id, effective_at, recorded_at, recorded_by)
SELECT customer_id, CASE status WHEN 'paid' THEN 'payment' ELSE 'void' END, currency, total, invoice_id, finalized_at, finalized_at, 'migration 12'
FROM billing_invoices WHERE finalized_at IS NOT NULL AND status IN ('paid', 'void') AND CAST(total AS REAL) > 0;
UPDATE billing_invoices SET paid_at = finalized_at WHERE status = 'paid' AND paid_at IS NULL;

-- Quotas paid from prepaid credit (-Enforcement Prepaid): enforcement_mode stays 'hard' for nself's tools.
ALTER TABLE billing_quotas ADD COLUMN prepaid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_customer_quotas ADD COLUMN prepaid INTEGER NOT NULL DEFAULT 0;
