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

SELECT setval('billing_seal_seq', (SELECT max(seal) FROM seal_backfill)) WHERE EXISTS (SELECT 1 FROM seal_backfill);
