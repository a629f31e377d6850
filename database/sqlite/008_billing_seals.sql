-- NSelf.Usage SQLite schema, migration 8: which events an invoice bills is decided by seals the
-- store gives out, never by a writer's clock. Finalizing an invoice seals every unsealed event of
-- its customer (stored or archived) with the next seal number, in one write transaction; a line
-- bills the events of its period with a seal in (sealed_after, sealed_through], and an unsealed
-- event counts as newer than every seal. So an event is on the invoice finalized after it was
-- stored, or on exactly one adjustment after that, whatever the clocks of the hosts said.

ALTER TABLE billing_usage_records ADD COLUMN billing_seal INTEGER;
ALTER TABLE usage_archived_events ADD COLUMN billing_seal INTEGER;
ALTER TABLE billing_invoices ADD COLUMN billing_seal INTEGER;
ALTER TABLE billing_invoice_lines ADD COLUMN sealed_after INTEGER;
ALTER TABLE billing_invoice_lines ADD COLUMN sealed_through INTEGER;

-- The last seal given out; the next is one more.
CREATE TABLE billing_seal_counter (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    last INTEGER NOT NULL
);

-- What each finalized line billed, event by event, written in the transaction that finalizes it:
-- the ledger Test-BillingInvoice reconciles against the stored usage (an event on no line, on two,
-- or billed at another quantity than it now has). Quantities are scaled by 10^6, as events'.
CREATE TABLE billing_line_events (
    customer_id TEXT    NOT NULL,
    event_id    TEXT    NOT NULL,
    invoice_id  TEXT    NOT NULL,
    line_number INTEGER NOT NULL,
    quantity    INTEGER NOT NULL,
    PRIMARY KEY (customer_id, event_id, invoice_id, line_number),
    FOREIGN KEY (invoice_id, line_number) REFERENCES billing_invoice_lines (invoice_id, line_number) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX ix_billing_line_events_line ON billing_line_events (invoice_id, line_number);

-- Finalization finds a customer's unsealed events without reading its sealed history.
CREATE INDEX ix_billing_usage_records_unsealed ON billing_usage_records (customer_id) WHERE billing_seal IS NULL;
CREATE INDEX ix_usage_archived_events_unsealed ON usage_archived_events (customer_id) WHERE billing_seal IS NULL;

-- Invoices finalized before seals existed get them in the order they were finalized, and every
-- event the seal of the first of its customer's invoices finalized at or after its ingest time:
-- exactly what the ingest-time comparisons of earlier versions billed.
CREATE TEMP TABLE seal_backfill AS
SELECT invoice_id, customer_id, finalized_at, row_number() OVER (ORDER BY finalized_at, invoice_id) AS seal
FROM billing_invoices WHERE finalized_at IS NOT NULL AND status <> 'draft';
CREATE INDEX temp.ix_seal_backfill ON seal_backfill (customer_id, finalized_at);

UPDATE billing_invoices SET billing_seal = (SELECT s.seal FROM seal_backfill s WHERE s.invoice_id = billing_invoices.invoice_id);
UPDATE billing_usage_records SET billing_seal = (
    SELECT min(s.seal) FROM seal_backfill s WHERE s.customer_id = billing_usage_records.customer_id AND s.finalized_at >= billing_usage_records.ingested_at);
UPDATE usage_archived_events SET billing_seal = (
    SELECT min(s.seal) FROM seal_backfill s WHERE s.customer_id = usage_archived_events.customer_id AND s.finalized_at >= usage_archived_events.ingested_at);
UPDATE billing_invoice_lines SET
    sealed_through = (SELECT min(s.seal) FROM seal_backfill s WHERE s.customer_id = billing_invoice_lines.customer_id AND s.finalized_at >= billing_invoice_lines.ingested_through),
    sealed_after = (SELECT min(s.seal) FROM seal_backfill s WHERE s.customer_id = billing_invoice_lines.customer_id AND s.finalized_at >= billing_invoice_lines.ingested_after)
WHERE invoice_id IN (SELECT invoice_id FROM billing_invoices WHERE billing_seal IS NOT NULL);

-- The ledger of what those invoices billed, from their lines' seal ranges.
INSERT OR IGNORE INTO billing_line_events (customer_id, event_id, invoice_id, line_number, quantity)
SELECT l.customer_id, e.event_id, l.invoice_id, l.line_number, e.quantity
FROM billing_invoice_lines l
JOIN billing_invoices i ON i.invoice_id = l.invoice_id AND i.billing_seal IS NOT NULL
JOIN (SELECT customer_id, service_name, recorded_at, event_id, quantity, billing_seal FROM billing_usage_records
      UNION ALL
      SELECT customer_id, service_name, recorded_at, event_id, quantity, billing_seal FROM usage_archived_events WHERE quantity IS NOT NULL) e
  ON e.customer_id = l.customer_id AND e.service_name = l.service_name AND e.recorded_at >= l.period_start AND e.recorded_at < l.period_end
WHERE l.kind IN ('usage', 'adjustment') AND l.sealed_through IS NOT NULL
  AND e.billing_seal IS NOT NULL AND e.billing_seal <= l.sealed_through AND (l.sealed_after IS NULL OR e.billing_seal > l.sealed_after);

INSERT INTO billing_seal_counter (id, last) SELECT 1, coalesce(max(seal), 0) FROM seal_backfill;
DROP TABLE seal_backfill;
