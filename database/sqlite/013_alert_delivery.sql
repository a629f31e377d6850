-- NSelf.Usage SQLite schema, migration 13: alerts that reach people (issue 20). Actions say where
-- an alert goes (a signed webhook, e-mail); an outbox holds one delivery per new alert and matching
-- action until it has been delivered.

-- kind 'webhook': target is the URL; 'email': target is the addresses, joined by ', '. An alert
-- goes to an action when its level is one the action takes (on_*), and the action names no
-- service and no customer or the alert's.
CREATE TABLE usage_alert_actions (
    action_id    INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL UNIQUE,
    kind         TEXT    NOT NULL CHECK (kind IN ('webhook', 'email')),
    target       TEXT    NOT NULL,
    on_warning   INTEGER NOT NULL CHECK (on_warning IN (0, 1)),
    on_critical  INTEGER NOT NULL CHECK (on_critical IN (0, 1)),
    on_exceeded  INTEGER NOT NULL CHECK (on_exceeded IN (0, 1)),
    service_name TEXT,
    customer_id  TEXT,
    created_at   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL
);

-- A webhook's signing secret, apart from the action (as the SMTP password is).
CREATE TABLE usage_alert_action_secrets (
    action_id INTEGER NOT NULL PRIMARY KEY REFERENCES usage_alert_actions (action_id) ON DELETE CASCADE,
    secret    TEXT    NOT NULL
);

-- The outbox. status: pending (to be sent at next_attempt_at; a sender holding an unexpired lease
-- is sending it now), delivered, failed (gave up after the last attempt), cancelled (its action was
-- removed first). action_name keeps the history readable after the action is gone.
CREATE TABLE usage_alert_deliveries (
    delivery_id     INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    alert_id        INTEGER NOT NULL REFERENCES usage_alerts (alert_id) ON DELETE CASCADE,
    action_id       INTEGER REFERENCES usage_alert_actions (action_id) ON DELETE SET NULL,
    action_name     TEXT    NOT NULL,
    customer_id     TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER,
    last_attempt_at INTEGER,
    last_error      TEXT,
    delivered_at    INTEGER,
    created_at      INTEGER NOT NULL,
    UNIQUE (alert_id, action_id)
);
CREATE INDEX ix_usage_alert_deliveries_due ON usage_alert_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX ix_usage_alert_deliveries_customer ON usage_alert_deliveries (customer_id, delivery_id);

-- Every new alert, whoever records it (this module on any host, a script, an operator with the
-- sqlite3 shell), is put in the outbox in the same transaction, once per matching action.
-- Times are microseconds since the Unix epoch, as everywhere in this file.
CREATE TRIGGER usage_alerts_enqueue AFTER INSERT ON usage_alerts
BEGIN
    INSERT INTO usage_alert_deliveries (alert_id, action_id, action_name, customer_id, next_attempt_at, created_at)
    SELECT NEW.alert_id, a.action_id, a.name, NEW.customer_id, NEW.raised_at, NEW.raised_at
    FROM usage_alert_actions a
    WHERE ((NEW.level = 'warning' AND a.on_warning = 1) OR (NEW.level = 'critical' AND a.on_critical = 1) OR (NEW.level = 'exceeded' AND a.on_exceeded = 1))
      AND (a.service_name IS NULL OR a.service_name = NEW.service_name)
      AND (a.customer_id IS NULL OR a.customer_id = NEW.customer_id);
END;
