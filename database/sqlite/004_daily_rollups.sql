-- NSelf.Usage SQLite schema, migration 4: daily rollups beside the quarter-hour ones. A month
-- read across a thousand customers is then ~31 rows per customer and service instead of up to
-- 2,976: whole UTC days come from here, the ragged ends of a period from the quarter hours.

CREATE TABLE usage_rollups_daily (
    customer_id  TEXT    NOT NULL,
    bucket_start INTEGER NOT NULL,
    service_name TEXT    NOT NULL,
    events       INTEGER NOT NULL,
    quantity     INTEGER NOT NULL,
    min_quantity INTEGER NOT NULL,
    max_quantity INTEGER NOT NULL,
    PRIMARY KEY (customer_id, bucket_start, service_name)
) WITHOUT ROWID;

CREATE INDEX ix_usage_rollups_daily_bucket ON usage_rollups_daily (bucket_start);

INSERT INTO usage_rollups_daily (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity)
SELECT customer_id, bucket_start - (bucket_start % 86400000000), service_name, sum(events), sum(quantity), min(min_quantity), max(max_quantity)
FROM usage_rollups
GROUP BY 1, 2, 3;
