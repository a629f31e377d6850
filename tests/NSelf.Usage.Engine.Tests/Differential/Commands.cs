namespace NSelf.Usage.Engine.Tests.Differential;

/// <summary>An event exactly as it is sent: every store and the model get the same one.</summary>
public sealed record EventSpec(string EventId, string Customer, string Service, decimal Quantity, DateTimeOffset Timestamp, string Metadata)
{
    public bool SamePayload(EventSpec other) => Service == other.Service && Timestamp == other.Timestamp && Quantity == other.Quantity;
}

/// <summary>A concrete step, resolved from an <see cref="Op"/> against the model's state.</summary>
public abstract record Command;

public sealed record IngestCommand(IReadOnlyList<EventSpec> Events) : Command;

public sealed record ArchiveCommand(string Customer, DateTimeOffset Cutoff, string File) : Command;

public sealed record ImportCommand(string File) : Command;

public sealed record ExportImportCommand(string Customer, string File) : Command;

public sealed record SubscribeCommand(string Customer, string Plan, string Zone, DateTimeOffset Start) : Command;

public sealed record ChangePlanCommand(string Customer, string Plan) : Command;

public sealed record CancelCommand(string Customer) : Command;

public sealed record OverrideCommand(string Customer, QuotaDef Quota) : Command;

public sealed record InvoiceCommand(string Customer, DateTimeOffset? Start, DateTimeOffset? End) : Command;

public sealed record FinalizeCommand(string Customer, DateTimeOffset Start, DateTimeOffset End) : Command;

public sealed record AdvanceCommand(TimeSpan By) : Command;

/// <summary>Set-BillingCustomer -Country -Region -TaxId -TaxExempt (and -Clear for what the place has not).</summary>
public sealed record PlaceCommand(string Customer, int Place) : Command;

/// <summary>Set-BillingProfile -InvoicePrefix.</summary>
public sealed record PrefixCommand(string Prefix) : Command;

/// <summary>Send-BillingInvoice -To [-Force] of the customer's invoice of a period, to a real local SMTP server.</summary>
public sealed record SendCommand(string Customer, DateTimeOffset Start, DateTimeOffset End, bool Force) : Command
{
    public string To => $"billing@{Customer}.example";
}

/// <summary>Add-BillingCredit (issue 19).</summary>
public sealed record GrantCommand(string Customer, decimal Amount, string Currency, DateTimeOffset? ExpiresAt, int Priority) : Command;

/// <summary>
/// One invoice of a customer: its period, and which of that period's invoices (0 the first; a
/// period invoiced again after a void has more than one), in the order they were made.
/// </summary>
public sealed record InvoiceRef(string Customer, DateTimeOffset Start, DateTimeOffset End, int Generation);

/// <summary>Set-BillingInvoice -Paid [-Amount] (null: what is due).</summary>
public sealed record PayCommand(InvoiceRef Invoice, decimal? Amount) : Command;

/// <summary>Set-BillingInvoice -Void -Reason.</summary>
public sealed record VoidCommand(InvoiceRef Invoice) : Command;

/// <summary>New-BillingCreditNote -Amount (tax included).</summary>
public sealed record CreditNoteCommand(InvoiceRef Invoice, decimal Amount) : Command;

/// <summary>UPDATE billing_usage_records SET quantity with plain SQL.</summary>
public sealed record ForeignUpdateCommand(string Customer, string EventId, decimal Quantity) : Command;

/// <summary>DELETE FROM billing_usage_records with plain SQL.</summary>
public sealed record ForeignDeleteCommand(string Customer, string EventId) : Command;

/// <summary>INSERT INTO billing_usage_records with plain SQL (ingested now, by the sequence's clock).</summary>
public sealed record ForeignInsertCommand(EventSpec Event) : Command;

public sealed record VerifyCommand(IReadOnlyList<string> Customers) : Command
{
    public override string ToString() => $"VerifyCommand(the sequence's {Customers.Count} customers)";
}

public sealed record RepairCommand(IReadOnlyList<string> Customers) : Command
{
    public override string ToString() => $"RepairCommand(the sequence's {Customers.Count} customers)";
}

public sealed record RegisterServiceCommand(string Service) : Command;

public sealed record GrantAccessCommand(int Role, string Customer) : Command;

public sealed record RevokeAccessCommand(int Role, string Customer) : Command;

public sealed record ListAccessCommand(int Role, IReadOnlyList<string> Customers) : Command
{
    public override string ToString() => $"ListAccessCommand(role{Role}, the sequence's {Customers.Count} customers)";
}

/// <summary>The units and display price the sequence's unregistered service is registered with.</summary>
public static class Unregistered
{
    public const string Unit = "messages";

    public const decimal DisplayPrice = 0.003m;
}

/// <summary>The intervals every read of a check covers, chosen from the model's state so both sides read the same.</summary>
public sealed record ReadPlan(IReadOnlyList<string> Customers, IReadOnlyList<(string Name, DateTimeOffset Start, DateTimeOffset End)> Intervals,
    IReadOnlyList<(UsageInterval Interval, string Zone, DateTimeOffset Start, DateTimeOffset End)> Aggregates)
{
    /// <summary>
    /// Whether a check runs Verify (SQLite) and the tenant reads (PostgreSQL): only once the sequence
    /// wrote behind the module's back or touched tenant access. Each costs a query or a connection as
    /// a role per check; before such a step there is nothing for them to find that the reads of
    /// totals would not (the suite's time in CI may grow by a fifth at most).
    /// </summary>
    public bool Verify { get; init; }

    public bool Tenants { get; init; }

    /// <summary>The (tenant role, customer) pairs a check asks MayActFor of, as the role: a few, each a connection as that role.</summary>
    public static readonly IReadOnlyList<(int Role, int Customer)> MayActForPairs = new[] { (0, 0), (1, 1), (0, 2) };
}

/// <summary>What a check reads: the same engine types whoever produced them.</summary>
public sealed record Reads(
    IReadOnlyList<(string Interval, UsageSummary Row)> Summaries,
    IReadOnlyList<(string Interval, UsageAggregate Row)> Aggregates,
    IReadOnlyList<QuotaStatus> Quotas,
    IReadOnlyList<BillingInvoice> Invoices,
    IReadOnlyList<BillingInvoiceDiscrepancy> Discrepancies)
{
    /// <summary>Test-UsageStore -Verify over the customers.</summary>
    public IReadOnlyList<UsageStoreDifference> Verified { get; init; } = Array.Empty<UsageStoreDifference>();

    /// <summary>Tenant access (PostgreSQL): the mappings of the customers (Get-UsageCustomerAccess).</summary>
    public IReadOnlyList<(int Role, string Customer)> Access { get; init; } = Array.Empty<(int, string)>();

    /// <summary>MayActFor asked as each tenant role, for each customer.</summary>
    public IReadOnlyList<(int Role, string Customer, bool May)> MayActFor { get; init; } = Array.Empty<(int, string, bool)>();

    /// <summary>Each customer's ledger (issue 19), in order.</summary>
    public IReadOnlyList<LedgerLine> Ledger { get; init; } = Array.Empty<LedgerLine>();

    /// <summary>Each customer's credit grants, in the order they were granted, as they stand now.</summary>
    public IReadOnlyList<GrantLine> Grants { get; init; } = Array.Empty<GrantLine>();
}

/// <summary>A ledger entry as both sides can name it: the invoice by period and generation, the grant by its place among the customer's grants.</summary>
public sealed record LedgerLine(string Customer, int Index, LedgerEntryKind Kind, decimal Amount, string Currency, string? Invoice, int? Grant);

public sealed record GrantLine(string Customer, int Ordinal, decimal Amount, string Currency, decimal Remaining, CreditGrantStatus Status);

/// <summary>How both sides write what a step of issue 19 did, and name an invoice.</summary>
public static class SettlementText
{
    public static string M(decimal d) => (d / 1.000000000000000000000000000m).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string Key(DateTimeOffset start, DateTimeOffset end, int generation) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{start.UtcDateTime:yyyy-MM-ddTHH:mm:ss.ffffff}..{end.UtcDateTime:yyyy-MM-ddTHH:mm:ss.ffffff}#{generation}");
}

/// <summary>One side of the comparison: a real store through the engine, or the reference model.</summary>
public interface IWorld
{
    /// <summary>Applies a command and describes its outcome ("error &lt;ErrorId&gt;" when refused).</summary>
    string Apply(Command command);

    Reads Read(ReadPlan plan);
}

/// <summary>A refusal the model predicts, with the error id the product must give.</summary>
public sealed class ModelRefusal : Exception
{
    public ModelRefusal(string errorId) : base(errorId) => ErrorId = errorId;

    public string ErrorId { get; }
}
