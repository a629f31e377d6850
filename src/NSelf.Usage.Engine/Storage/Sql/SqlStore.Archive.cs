namespace NSelf.Usage.Engine.Storage.Sql;

public abstract partial class SqlStore
{
    /// <summary>
    /// Runs work with the keys of an archive in a temporary table <c>archive_keys (customer_id,
    /// event_id)</c> of the write transaction: each database's bulk path for loading them.
    /// </summary>
    private protected abstract T WithArchiveKeys<T>(SqlSession session, IReadOnlyList<(string CustomerId, string EventId)> keys, Func<T> work);

    public long ArchiveRecords(IReadOnlyList<(string CustomerId, string EventId)> keys, string path, string checksum, DateTimeOffset cutoff, string? customerId) =>
        InWriteTransaction(session => WithArchiveKeys(session, keys, () =>
        {
            var archiveId = session.Count(
                "INSERT INTO usage_archives (path, rows, checksum, cutoff, customer_id, created_at) VALUES (@path, @rows, @checksum, @cutoff, @customer, @now) RETURNING archive_id",
                ("path", path), ("rows", (long)keys.Count), ("checksum", checksum), ("cutoff", cutoff), ("customer", customerId), ("now", Now()));
            // A tombstone left from an earlier archive of the same event now describes this one.
            // The WHERE keeps SQLite from reading ON CONFLICT as the join's condition.
            session.Execute("""
                INSERT INTO usage_archived_events (customer_id, event_id, service_name, recorded_at, ingested_at, archive_id, quantity, billing_seal)
                SELECT r.customer_id, r.event_id, r.service_name, r.recorded_at, coalesce(r.ingested_at, r.recorded_at), @archive, r.quantity, r.billing_seal
                FROM billing_usage_records r JOIN archive_keys k ON k.customer_id = r.customer_id AND k.event_id = r.event_id WHERE 1 = 1
                ON CONFLICT (customer_id, event_id) DO UPDATE SET service_name = excluded.service_name, recorded_at = excluded.recorded_at,
                    ingested_at = excluded.ingested_at, archive_id = excluded.archive_id, quantity = excluded.quantity, billing_seal = excluded.billing_seal
                """, ("archive", archiveId));
            var deleted = session.Execute("DELETE FROM billing_usage_records WHERE (customer_id, event_id) IN (SELECT customer_id, event_id FROM archive_keys)");
            if (deleted != keys.Count)
                throw new UsageException(ErrorIds.ArchiveMismatch, UsageErrorKind.InvalidData,
                    $"The archive {path} lists {keys.Count:N0} events but {deleted:N0} of them are in the store; nothing was deleted.", path);
            return (long)deleted;
        }));
}
