using System.Text.RegularExpressions;

namespace NSelf.Usage.Engine.Storage;

/// <summary>
/// The rules of tenant isolation shared by both stores and the cmdlets: the admin role, the
/// customer tables it covers, what a role name may be, and the one refusal a SQLite store gives.
/// </summary>
public static partial class TenantIsolation
{
    /// <summary>Members of this role see every customer once isolation is enabled.</summary>
    public const string AdminRole = "usage_admin";

    /// <summary>
    /// The one wording of "SQLite has no row-level security", for -CustomerScope and every tenant
    /// isolation command alike.
    /// </summary>
    public const string SqliteRefusal =
        "Tenant isolation is PostgreSQL row-level security; a SQLite file has none (whoever can open the file can read all of it).";

    /// <summary>
    /// Archive records (path, checksum, customer_id; NULL for an all-customers archive). Not a
    /// customer table of migration 13 (it has no row-level security before Enable), but Enable puts
    /// it under the same restrictive test, so a tenant does not read other customers' archive
    /// paths and checksums; an all-customers archive is an unscoped admin's only.
    /// </summary>
    public const string ArchiveTable = "usage_archives";

    /// <summary>Every table with a customer_id: the tables migration 13 and Enable-UsageTenantIsolation cover.</summary>
    public static readonly IReadOnlyList<string> CustomerTables = new[]
    {
        "billing_customers", "billing_subscriptions", "billing_usage_records", "billing_invoices",
        "usage_rollups", "usage_customer_quotas", "usage_alerts", "billing_invoice_lines",
        "usage_archived_events", "usage_rollups_daily", "billing_plan_changes", "billing_line_events", "billing_invoice_deliveries",
        "billing_ledger", "billing_credit_notes", "billing_credit_note_lines", "usage_alert_deliveries",
    };

    // A PostgreSQL identifier as the module accepts it: 1 to 63 characters (NAMEDATALEN - 1),
    // ASCII letters, digits, '_' and '$', starting with a letter or '_'. Case is kept: a role
    // is matched exactly as pg_roles spells it. \z, not $, so a final newline is refused.
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_$]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex RoleNamePattern();

    /// <summary>Validates a role name before any SQL sees it.</summary>
    public static string RoleName(string? value)
    {
        if (value is null || !RoleNamePattern().IsMatch(value))
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                $"'{Shorten(value)}' is not a role name the module accepts: use 1 to 63 letters, digits, '_' or '$', starting with a letter or '_' (for example billing_app).", value);
        return value;
    }

    /// <summary>The refusal of a store without row-level security; the target is the input that asked for it.</summary>
    public static UsageException SqliteRefused(object? target) =>
        new(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, SqliteRefusal, target);

    private static string Shorten(string? value) =>
        value is null ? "" : value.Length <= 80 ? value : value[..80] + "...";
}
