namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// The database nself's own migrations leave (Fixtures/nself_015_019.sql), with or without its
/// migration 019: nself installs 019 separately, so a real database may have 015's tables and rows
/// and no row-level security of nself's at all.
/// </summary>
public static class NselfFixture
{
    private const string PoliciesStart = "-- 019: nself's policies.";
    private const string PoliciesEnd = "-- Data nself's tools wrote";

    /// <summary>Creates nself's tables and legacy rows in the database; with019 adds nself's policies.</summary>
    public static void Load(string connectionString, bool with019)
    {
        var sql = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Storage", "Fixtures", "nself_015_019.sql"));
        if (!with019)
        {
            // The 019 block is cut by its markers; a fixture without them fails here rather than
            // silently loading nself's policies into a test that must run without them.
            var start = sql.IndexOf(PoliciesStart, StringComparison.Ordinal);
            var end = sql.IndexOf(PoliciesEnd, StringComparison.Ordinal);
            if (start < 0 || end < start)
                throw new InvalidOperationException($"The fixture nself_015_019.sql no longer has the block '{PoliciesStart}' ... '{PoliciesEnd}'.");
            sql = string.Concat(sql.AsSpan(0, start), sql.AsSpan(end));
            if (sql.Contains("ROW LEVEL SECURITY", StringComparison.OrdinalIgnoreCase) || sql.Contains("CREATE POLICY", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException("The fixture's migration 015 part enables row-level security outside the 019 block.");
        }
        PostgresServer.Execute(connectionString, sql);
    }
}
