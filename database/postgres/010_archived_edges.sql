-- NSelf.Usage PostgreSQL migration 10: archived events count at the ragged edges of a read. Whole
-- quarter hours of a read come from the rollups, which keep archived events; the partial quarter
-- hours at its ends (a start of 10:07, a billing period anchored at 10:15:30) are summed from the
-- stored events and the tombstones of archived ones. A restored event's tombstone goes in the
-- same statement that stores it again, so no event is in both.

-- Edge reads look tombstones up by customer and time, as they do stored events.
CREATE INDEX IF NOT EXISTS ix_usage_archived_events_customer_time ON usage_archived_events (customer_id, recorded_at);

-- Tombstones written before migration 8 have no quantity, and an edge read cannot count them.
-- Where it can be told, it is filled in: the only such tombstone of its customer, service and
-- quarter hour, whose rollup counts exactly the stored events, the tombstones with a quantity
-- and this one, has the rollup's quantity less theirs. The others stay unknown (and uncounted at
-- ragged edges; whole quarter hours still count them from the rollups).
UPDATE usage_archived_events a SET quantity = f.quantity
FROM (
    SELECT n.customer_id, n.service_name, n.bucket, r.quantity - e.quantity - t.quantity AS quantity
    FROM (SELECT customer_id, service_name, date_bin('15 minutes', recorded_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket
          FROM usage_archived_events WHERE quantity IS NULL GROUP BY 1, 2, 3 HAVING count(*) = 1) n
    JOIN usage_rollups r ON r.customer_id = n.customer_id AND r.service_name = n.service_name AND r.bucket_start = n.bucket
    CROSS JOIN LATERAL (SELECT count(*) AS events, coalesce(sum(x.quantity), 0) AS quantity FROM billing_usage_records x
                        WHERE x.customer_id = n.customer_id AND x.service_name = n.service_name
                          AND x.recorded_at >= n.bucket AND x.recorded_at < n.bucket + interval '15 minutes') e
    CROSS JOIN LATERAL (SELECT count(*) AS events, coalesce(sum(y.quantity), 0) AS quantity FROM usage_archived_events y
                        WHERE y.customer_id = n.customer_id AND y.service_name = n.service_name AND y.quantity IS NOT NULL
                          AND y.recorded_at >= n.bucket AND y.recorded_at < n.bucket + interval '15 minutes') t
    WHERE r.events = e.events + t.events + 1 AND r.quantity - e.quantity - t.quantity >= 0
) f
WHERE a.quantity IS NULL AND a.customer_id = f.customer_id AND a.service_name = f.service_name
  AND a.recorded_at >= f.bucket AND a.recorded_at < f.bucket + interval '15 minutes';
