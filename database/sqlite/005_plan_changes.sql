-- NSelf.Usage SQLite schema, migration 5: the plan history of subscriptions. A plan change
-- takes effect from the start of the billing period it is made in; closed periods keep the plan
-- they had, so an invoice made later for one of them is priced as it would have been then.

CREATE TABLE billing_plan_changes (
    subscription_id TEXT    NOT NULL REFERENCES billing_subscriptions (subscription_id) ON DELETE CASCADE,
    customer_id     TEXT    NOT NULL,
    effective_from  INTEGER NOT NULL,
    changed_at      INTEGER NOT NULL,
    from_plan       TEXT    NOT NULL,
    to_plan         TEXT    NOT NULL,
    PRIMARY KEY (subscription_id, effective_from, changed_at)
) WITHOUT ROWID;

CREATE INDEX ix_billing_plan_changes_customer ON billing_plan_changes (customer_id);
