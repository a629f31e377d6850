using System.Management.Automation;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Time;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Reconciles finalized invoices against the stored usage, event by event, and emits one
/// BillingInvoiceDiscrepancy per problem; nothing when every sealed event is on exactly one line at
/// the quantity it has now. Reads only: the work is InvoiceReconciliation's.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "BillingInvoice", DefaultParameterSetName = CustomerSet)]
[OutputType(typeof(BillingInvoiceDiscrepancy))]
public sealed class TestBillingInvoiceCommand : BillingCmdlet
{
    private const string CustomerSet = "Customer";
    private const string AllSet = "All";

    // "Not given" (the default customer), told apart from a given $null or empty list by reference;
    // see UsageCmdlet.NotGivenCustomerId for why a sentinel rather than MyInvocation.BoundParameters.
    private static readonly string[] NotGiven = { NotGivenCustomerId };

    /// <summary>The customers to check; binds from the pipeline by property name (Get-BillingCustomer, Get-BillingInvoice).</summary>
    [Parameter(Position = 0, ParameterSetName = CustomerSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    public string[]? CustomerId { get; set; } = NotGiven;

    /// <summary>Every customer of the store, removed ones included: their finalized invoices still bill.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AllSet)]
    public SwitchParameter AllCustomers { get; set; }

    /// <summary>Check the finalized invoices whose periods end after this (inclusive start of the range).</summary>
    [Parameter]
    public object? Start { get; set; }

    /// <summary>Check the finalized invoices whose periods start before this (exclusive); a date-only end covers that whole day.</summary>
    [Parameter]
    public object? End { get; set; }

    private DateTimeOffset? _start;
    private DateTimeOffset? _end;

    // Customers already checked by this invocation: Get-BillingInvoice -AllCustomers piped in names
    // a customer once per invoice, and each of its discrepancies must still be reported once.
    private readonly HashSet<string> _checked = new(StringComparer.Ordinal);

    protected override void BeginProcessing()
    {
        // The range is checked once, before any customer is read: a bad -Start or -End stops the
        // command rather than repeating the same error for every piped customer.
        (_start, _end) = Require(() =>
        {
            var zone = ResolveZone(null);
            var start = Instant(nameof(Start), Start, zone, TimeBound.Start);
            var end = Instant(nameof(End), End, zone, TimeBound.End);
            if (start is { } s && end is { } e)
                Engine.Reporting.ReportingPeriods.RequireOrdered(s, e, End);
            return (start, end);
        });
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == AllSet)
        {
            foreach (var customer in Require(() => Store.GetCustomers(includeRemoved: true)))
                Check(customer.CustomerId);
            return;
        }
        if (ReferenceEquals(CustomerId, NotGiven))
        {
            Try(() => Check(Engine.Ingestion.TextRules.CustomerId(DefaultCustomerId()), mustExist: false));
            return;
        }
        // Given as $null or @() (an unset variable?): refused, not read as the default customer.
        if (CustomerId is not { Length: > 0 })
        {
            WriteUsageError(Engine.Configuration.CustomerIdResolver.Blank(null));
            return;
        }
        foreach (var id in CustomerId)
            Try(() =>
            {
                if (string.IsNullOrWhiteSpace(id))
                    throw Engine.Configuration.CustomerIdResolver.Blank(id);
                Check(Engine.Ingestion.TextRules.CustomerId(id), mustExist: true);
            });
    }

    /// <summary>
    /// One customer's discrepancies. A customer named by -CustomerId that the store does not know
    /// is an error: "nothing found" for a mistyped id would read as a clean bill of health.
    /// </summary>
    private void Check(string customerId, bool mustExist)
    {
        if (!_checked.Add(customerId))
            return;
        if (mustExist && Store.GetCustomer(customerId, includeRemoved: true) is null)
            throw new UsageException(ErrorIds.CustomerNotFound, UsageErrorKind.ObjectNotFound, $"Customer '{customerId}' does not exist.", customerId);
        foreach (var discrepancy in new InvoiceReconciliation(Store).Check(customerId, _start, _end))
            WriteObject(discrepancy);
    }

    private void Check(string customerId) => Try(() => Check(customerId, mustExist: false));

    /// <summary>-Start or -End as an instant; null when not given, an error when given as $null.</summary>
    private DateTimeOffset? Instant(string name, object? value, TimeZoneInfo zone, TimeBound bound)
    {
        if (value is null)
            return MyInvocation.BoundParameters.ContainsKey(name)
                ? throw new UsageException(ErrorIds.InvalidTimestamp, UsageErrorKind.InvalidArgument,
                    $"-{name} was given as $null (an unset variable?). Give a date such as 2026-11-01, or leave -{name} out to check every finalized period.", null)
                : null;
        return ToInstant(value, zone, bound);
    }
}
