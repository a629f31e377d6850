-- NSelf.Usage PostgreSQL migration 11: which events an invoice bills is decided by seals the
-- database gives out, never by a writer's clock. Finalizing an invoice seals every unsealed event
-- of its customer (stored or archived, whoever wrote it: nself's tools and psql included) with the
-- next value of billing_seal_seq, in one transaction that holds the customer's lock; a line bills
-- the events of its period with a seal in (sealed_after, sealed_through], and an unsealed event
-- counts as newer than every seal. An event committed after a finalization read the ledger is
-- unsealed then, so it is late, never lost: on the invoice finalized after it was stored, or on
-- exactly one adjustment after that, whatever the clocks of the hosts said.

ALTER TABLE billing_usage_records ADD COLUMN IF NOT EXISTS billing_seal bigint;
ALTER TABLE usage_archived_events ADD COLUMN IF NOT EXISTS billing_seal bigint;
ALTER TABLE billing_invoices ADD COLUMN IF NOT EXISTS billing_seal bigint;
ALTER TABLE billing_invoice_lines ADD COLUMN IF NOT EXISTS sealed_after bigint;
ALTER TABLE billing_invoice_lines ADD COLUMN IF NOT EXISTS sealed_through bigint;

CREATE SEQUENCE IF NOT EXISTS billing_seal_seq;

-- What each finalized line billed, event by event, written in the transaction that finalizes it:
-- the ledger Test-BillingInvoice reconciles against the stored usage (an event on no line, on two,
-- or billed at another quantity than it now has).
CREATE TABLE IF NOT EXISTS billing_line_events (
    customer_id varchar(255) NOT NULL,
    event_id    varchar(255) NOT NULL,
    invoice_id  varchar(255) NOT NULL,
    line_number integer NOT NULL,
    quantity    numeric(20,6) NOT NULL,
    PRIMARY KEY (customer_id, event_id, invoice_id, line_number),
    FOREIGN KEY (invoice_id, line_number) REFERENCES billing_invoice_lines (invoice_id, line_number) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS ix_billing_line_events_line ON billing_line_events (invoice_id, line_number);

-- Row-level security as for the invoice lines: an admin writes, a customer-scoped session reads its own.
ALTER TABLE billing_line_events ENABLE ROW LEVEL SECURITY;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = 'billing_line_events' AND policyname = 'billing_line_events_admin_all') THEN
        CREATE POLICY billing_line_events_admin_all ON billing_line_events FOR ALL USING (usage_is_admin()) WITH CHECK (usage_is_admin());
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = 'billing_line_events' AND policyname = 'billing_line_events_customer_select') THEN
        CREATE POLICY billing_line_events_customer_select ON billing_line_events FOR SELECT USING (customer_id = usage_current_customer());
    END IF;
END
$$;

-- Finalization finds a customer's unsealed events without reading its sealed history.
CREATE INDEX IF NOT EXISTS ix_billing_usage_records_unsealed ON billing_usage_records (customer_id) WHERE billing_seal IS NULL;
CREATE INDEX IF NOT EXISTS ix_usage_archived_events_unsealed ON usage_archived_events (customer_id) WHERE billing_seal IS NULL;

-- Invoices finalized before seals existed get them in the order they were finalized, and every
-- event the seal of the first of its customer's invoices finalized at or after its ingest time:
-- exactly what the ingest-time comparisons of earlier versions billed.
CREATE TEMP TABLE seal_backfill ON COMMIT DROP AS
SELECT invoice_id, customer_id, finalized_at, row_number() OVER (ORDER BY finalized_at, invoice_id) AS seal
FROM billing_invoices WHERE finalized_at IS NOT NULL AND status <> 'draft';
CREATE INDEX ON seal_backfill (customer_id, finalized_at);
ANALYZE seal_backfill;

UPDATE billing_invoices i SET billing_seal = s.seal FROM seal_backfill s WHERE s.invoice_id = i.invoice_id;
UPDATE billing_usage_records r SET billing_seal = (
    SELECT min(s.seal) FROM seal_backfill s WHERE s.customer_id = r.customer_id AND s.finalized_at >= coalesce(r.ingested_at, r.recorded_at))
WHERE EXISTS (SELECT 1 FROM seal_backfill s WHERE s.customer_id = r.customer_id AND s.finalized_at >= coalesce(r.ingested_at, r.recorded_at));
UPDATE usage_archived_events a SET billing_seal = (
    SELECT min(s.seal) FROM seal_backfill s WHERE s.customer_id = a.customer_id AND s.finalized_at >= a.ingested_at)
WHERE EXISTS (SELECT 1 FROM seal_backfill s WHERE s.customer_id = a.customer_id AND s.finalized_at >= a.ingested_at);
UPDATE billing_invoice_lines l SET
    sealed_through = (SELECT min(s.seal) FROM seal_backfill s WHERE s.customer_id = l.customer_id AND s.finalized_at >= l.ingested_through),
    sealed_after = (SELECT min(s.seal) FROM seal_backfill s WHERE s.customer_id = l.customer_id AND s.finalized_at >= l.ingested_after)
WHERE l.invoice_id IN (SELECT invoice_id FROM billing_invoices WHERE billing_seal IS NOT NULL);

-- The ledger of what those invoices billed, from their lines' seal ranges.
INSERT INTO billing_line_events (customer_id, event_id, invoice_id, line_number, quantity)
SELECT l.customer_id, e.event_id, l.invoice_id, l.line_number, e.quantity
FROM billing_invoice_lines l
JOIN billing_invoices i ON i.invoice_id = l.invoice_id AND i.billing_seal IS NOT NULL
CROSS JOIN LATERAL (
    SELECT r.event_id, r.quantity, r.billing_seal FROM billing_usage_records r
    WHERE r.customer_id = l.customer_id AND r.service_name = l.service_name AND r.recorded_at >= l.period_start AND r.recorded_at < l.period_end
    UNION ALL
    SELECT a.event_id, a.quantity, a.billing_seal FROM usage_archived_events a
    WHERE a.customer_id = l.customer_id AND a.service_name = l.service_name AND a.recorded_at >= l.period_start AND a.recorded_at < l.period_end AND a.quantity IS NOT NULL) e
WHERE l.kind IN ('usage', 'adjustment') AND l.sealed_through IS NOT NULL
  AND e.billing_seal IS NOT NULL AND e.billing_seal <= l.sealed_through AND (l.sealed_after IS NULL OR e.billing_seal > l.sealed_after)
ON CONFLICT DO NOTHING;

SELECT setval('billing_seal_seq', (SELECT max(seal) FROM seal_backfill)) WHERE EXISTS (SELECT 1 FROM seal_backfill);
