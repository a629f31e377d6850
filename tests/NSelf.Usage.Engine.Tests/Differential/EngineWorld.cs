using Microsoft.Extensions.Time.Testing;
using NSelf.Usage.Engine.Tracking;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Exports;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tests.Differential;

/// <summary>
/// A store opened once per test class reads its clock through this: each sequence gets its own
/// <see cref="FakeTimeProvider"/>, started at <see cref="Catalog.Start"/> and only moved forward.
/// </summary>
public sealed class SequenceClock : TimeProvider
{
    public FakeTimeProvider Current { get; set; } = new(Catalog.Start) { AutoAdvanceAmount = TimeSpan.Zero };

    public override DateTimeOffset GetUtcNow() => Current.GetUtcNow();

    public override long GetTimestamp() => Current.GetTimestamp();
}

/// <summary>
/// A real store driven through the engine classes the cmdlets use: UsageTracker (tracking),
/// UsageArchiver (Move-UsageRecord), UsageImporter (Import-UsageRecord), Subscriptions
/// (subscriptions), Invoicing (New/Complete-BillingInvoice), UsageReports with PlanCosts
/// (Get-Usage, Get-UsageAggregate) and QuotaChecker (Test-UsageQuota).
/// </summary>
/// <summary>
/// What a run reaches beside the store, as nself's tools and an operator do: plain SQL on the
/// store's database, and (PostgreSQL) the run's tenant roles with a store opened as each.
/// </summary>
public sealed record Outside(Action<string> ExecuteSql, IReadOnlyList<string> Roles, IReadOnlyList<IUsageStore> AsRole);

/// <summary>
/// The SMTP server every run sends its invoices to: a real one (LocalSmtpServer) on a loopback
/// port, started on first use and kept for the test process. It keeps no message: the
/// differential compares what the store records, and the mail tests look at what arrives.
/// </summary>
public static class Mailbox
{
    private static readonly Lazy<Mail.LocalSmtpServer> Server = new(() =>
        Mail.LocalSmtpServer.StartAsync(new Mail.LocalSmtpServerOptions { KeepMessages = false }).GetAwaiter().GetResult());

    public static NSelf.Usage.Engine.Configuration.EnvironmentSettings Environment => new(name => name switch
    {
        "BILLING_SMTP_SERVER" => Server.Value.Host,
        "BILLING_SMTP_PORT" => Server.Value.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => null,
    });
}

public sealed class EngineWorld : IWorld
{
    private static readonly TimeZoneInfo DefaultZone = TimeZoneInfo.Utc;

    private readonly IUsageStore _store;
    private readonly SequenceClock _clock;
    private readonly string _folder;
    private readonly UsageTracker _tracker;
    private readonly Outside _outside;

    public EngineWorld(IUsageStore store, SequenceClock clock, string folder, Outside outside)
    {
        _store = store;
        _outside = outside;
        _clock = clock;
        _folder = folder;
        _tracker = new UsageTracker(store, clock);
    }

    private Subscriptions Book => new(_store, _clock);

    private Invoicing Invoicing => new(Book, Catalog.TaxRate);

    private string PathOf(string file) => Path.Combine(_folder, file);

    /// <summary>Once per store: the custom service, the plans and their quotas the catalog describes.</summary>
    public static void Prepare(IUsageStore store)
    {
        if (!store.GetServices(refresh: true).TryFind(Catalog.CustomService, out _))
            store.RegisterService(new UsageService { Name = Catalog.CustomService, Unit = "tokens", DisplayPrice = Catalog.DisplayPrices[Catalog.CustomService], Currency = "USD", BuiltIn = false }, replace: false);
        // The seller of every invoice (issue 18): German, set up for reverse charge.
        store.SaveProfile(new ProfileChange(LegalName: "Differenz GmbH", Country: "DE", TaxId: "DE123456789", Email: "rechnung@differenz.example", ReverseCharge: true));
        foreach (var (country, region, name, rate) in Catalog.TaxRates)
            store.SaveTaxRate(country, region, name, rate);
        foreach (var plan in Catalog.Plans)
        {
            store.SavePlan(new BillingPlan { Name = plan.Name, PriceMonthly = plan.Monthly, PriceYearly = plan.Monthly * 10, Currency = plan.Currency, IsActive = true, SortOrder = 0 });
            foreach (var quota in plan.Quotas)
                store.SaveQuota(quota.ToQuota(plan.Name, null));
        }
    }

    public string Apply(Command command)
    {
        try
        {
            switch (command)
            {
                case IngestCommand c:
                    var events = c.Events.Select(e => _tracker.Create(e.Customer, e.Service, e.Quantity, e.Timestamp, e.EventId, e.Metadata)).ToList();
                    var result = _tracker.Write(events);
                    return $"ingest inserted={result.Inserted} duplicates={result.Duplicates}" + (result.Rejected.Count > 0 ? $" rejected={result.Rejected.Count}" : "");
                case ArchiveCommand c:
                    var archived = new UsageArchiver(_store).Archive(new UsageFilter(c.Customer), c.Cutoff, PathOf(c.File));
                    return $"archive rows={archived.Rows}" + (archived.Deleted != archived.Rows ? $" deleted={archived.Deleted}" : "");
                case ImportCommand c:
                    return Import(PathOf(c.File));
                case ExportImportCommand c:
                    using (var stream = File.Create(PathOf(c.File)))
                        UsageFile.WriteFile(_store.ReadRecords(new RecordQuery(new UsageFilter(c.Customer), null, null, Bulk: true)), UsageFileFormat.Csv, false, stream);
                    return Import(PathOf(c.File));
                case SubscribeCommand c:
                    Book.Subscribe(c.Customer, c.Plan, BillingCycle.Monthly, c.Start, c.Zone);
                    return "subscribed";
                case ChangePlanCommand c:
                    Book.ChangePlan(c.Customer, c.Plan);
                    return "changed";
                case CancelCommand c:
                    Book.Cancel(c.Customer, atPeriodEnd: false);
                    return "canceled now";
                case OverrideCommand c:
                    _store.SaveQuota(c.Quota.ToQuota(null, c.Customer));
                    return "saved";
                case InvoiceCommand c:
                    var saved = Invoicing.Create(c.Customer, c.Start, c.End, DefaultZone, regenerateDraft: false);
                    return saved.Written ? $"invoice new Draft total={saved.Invoice.Total}" : $"invoice existing {saved.Invoice.Status}";
                case FinalizeCommand c:
                    var invoice = _store.FindInvoice(c.Customer, c.Start, c.End) ?? throw new InvalidOperationException($"No invoice for {c}.");
                    var final = Invoicing.Complete(invoice.InvoiceId, DefaultZone);
                    return $"finalized {final.InvoiceNumber} total={final.Total}";
                case AdvanceCommand c:
                    _clock.Current.Advance(c.By);
                    return "ok";
                case PlaceCommand c:
                {
                    var place = Catalog.Places[c.Place];
                    var cleared = new HashSet<string>();
                    if (place.Country is null) cleared.Add("Country");
                    if (place.Region is null) cleared.Add("Region");
                    if (place.TaxId is null) cleared.Add("TaxId");
                    _store.UpdateCustomer(c.Customer, new CustomerChange(Country: place.Country, Region: place.Region, TaxId: place.TaxId, TaxExempt: place.Exempt) { Cleared = cleared });
                    return "placed";
                }
                case PrefixCommand c:
                    return "prefix " + _store.SaveProfile(new ProfileChange(InvoicePrefix: c.Prefix)).InvoicePrefix;
                case SendCommand c:
                {
                    var toSend = _store.FindInvoice(c.Customer, c.Start, c.End) ?? throw new InvalidOperationException($"No invoice for {c}.");
                    var sending = new InvoiceSending(Book, _clock, Mailbox.Environment);
                    var delivery = sending.Send(sending.Plan(toSend.InvoiceId, [c.To], null, c.Force), c.Force, DefaultZone, null);
                    return $"sent {delivery.InvoiceNumber} to {string.Join(",", delivery.To)}";
                }
                case GrantCommand c:
                    Accounts.Grant(c.Customer, c.Amount, c.Currency, c.ExpiresAt, c.Priority, null);
                    return "granted";
                case PayCommand c:
                {
                    var paid = Accounts.Pay(InvoiceOf(c.Invoice).InvoiceId, c.Amount, null, null, null);
                    return $"paid {paid.Status} due={SettlementText.M(paid.AmountDue)}";
                }
                case VoidCommand c:
                    return $"voided {Accounts.Void(InvoiceOf(c.Invoice).InvoiceId, "differential").Status}";
                case CreditNoteCommand c:
                {
                    var note = Accounts.CreditNote(InvoiceOf(c.Invoice).InvoiceId, c.Amount, null, null, "differential");
                    return $"credit note total={SettlementText.M(note.Total)} applied={SettlementText.M(note.AppliedToInvoice)} balance={SettlementText.M(note.CreditedToBalance)} number={note.CreditNoteNumber}";
                }
                case ForeignUpdateCommand c:
                    return $"updated {Sql($"UPDATE billing_usage_records SET quantity = {StoredQuantity(c.Quantity)} WHERE customer_id = '{c.Customer}' AND event_id = '{c.EventId}'")}";
                case ForeignDeleteCommand c:
                    return $"deleted {Sql($"DELETE FROM billing_usage_records WHERE customer_id = '{c.Customer}' AND event_id = '{c.EventId}'")}";
                case ForeignInsertCommand { Event: var e }:
                    // nself's bulk insert names customer, service, quantity and time; the event id
                    // and ingestion time are named here so that both sides know them.
                    return $"inserted {Sql($"INSERT INTO billing_usage_records (event_id, customer_id, service_name, quantity, unit, metadata, recorded_at, ingested_at) VALUES ('{e.EventId}', '{e.Customer}', '{e.Service}', {StoredQuantity(e.Quantity)}, '', '{e.Metadata}', {StoredTime(e.Timestamp)}, {StoredTime(_clock.GetUtcNow())})")}";
                case VerifyCommand c:
                    return $"verify differences={_store.VerifyRollups(new RollupScope(c.Customers)).Count}";
                case RepairCommand c:
                    var repaired = RollupCheck.Repair(_store, new RollupScope(c.Customers));
                    return $"repair buckets={repaired.Count} repaired={repaired.Count(d => d.Repaired)}";
                case RegisterServiceCommand c:
                    _store.RegisterService(new UsageService { Name = c.Service, Unit = Unregistered.Unit, DisplayPrice = Unregistered.DisplayPrice, Currency = "USD", BuiltIn = false }, replace: false);
                    return "registered";
                case GrantAccessCommand c:
                    var granted = _store.GrantCustomerAccess(RoleName(c.Role), c.Customer);
                    return $"granted {(granted.Role == RoleName(c.Role) && granted.CustomerId == c.Customer)}";
                case RevokeAccessCommand c:
                    return $"revoked {_store.RevokeCustomerAccess(RoleName(c.Role), c.Customer)}";
                case ListAccessCommand c:
                    return "access " + string.Join(",", _store.GetCustomerAccess(RoleName(c.Role), null)
                        .Where(a => c.Customers.Contains(a.CustomerId)).Select(a => a.CustomerId).Order(StringComparer.Ordinal));
                default:
                    throw new InvalidOperationException(command.ToString());
            }
        }
        catch (UsageException e)
        {
            return "error " + e.ErrorId;
        }
    }

    private bool OnSqlite => _store.Backend == UsageStoreBackend.Sqlite;

    private CustomerAccounts Accounts => new(Book, "differential@sequence");

    /// <summary>A period's invoices in the order they were made: a period invoiced again after a void has more than one.</summary>
    private List<BillingInvoice> OfPeriod(string customer, DateTimeOffset start, DateTimeOffset end) =>
        _store.GetInvoices(customer).Where(i => i.PeriodStart == start && i.PeriodEnd == end)
            .OrderBy(i => i.CreatedAt).ThenBy(i => i.InvoiceId.Length).ThenBy(i => i.InvoiceId, StringComparer.Ordinal).ToList();

    private BillingInvoice InvoiceOf(InvoiceRef r) => OfPeriod(r.Customer, r.Start, r.End).ElementAtOrDefault(r.Generation)
        ?? throw new InvalidOperationException($"No invoice {r}.");

    /// <summary>The ledger and the grants of a customer, named as the model names them.</summary>
    private (List<LedgerLine> Ledger, List<GrantLine> Grants) Settled(string customer)
    {
        var rows = _store.GetLedger(customer);
        var grantIds = rows.Where(r => r.Kind == LedgerEntryKind.Grant).Select(r => r.EntryId).ToList();
        var invoices = _store.GetInvoices(customer);
        string? Key(string? invoiceId)
        {
            if (invoiceId is null)
                return null;
            var invoice = invoices.Single(i => i.InvoiceId == invoiceId);
            return SettlementText.Key(invoice.PeriodStart, invoice.PeriodEnd, OfPeriod(customer, invoice.PeriodStart, invoice.PeriodEnd).FindIndex(i => i.InvoiceId == invoiceId));
        }
        var ledger = rows.Select((r, n) => new LedgerLine(customer, n, r.Kind, r.Amount, r.Currency, Key(r.InvoiceId),
            r.Kind == LedgerEntryKind.Grant ? grantIds.IndexOf(r.EntryId) : r.GrantId is { } g ? grantIds.IndexOf(g) : null)).ToList();
        var grants = Settlement.Grants(rows, _clock.GetUtcNow()).OrderBy(g => g.GrantId)
            .Select(g => new GrantLine(customer, grantIds.IndexOf(g.GrantId), g.Amount, g.Currency, g.Remaining, g.Status)).ToList();
        return (ledger, grants);
    }

    /// <summary>On SQLite (no roles) any name: the store refuses before it looks.</summary>
    private string RoleName(int role) => role < _outside.Roles.Count ? _outside.Roles[role] : $"differential_tenant{role}";

    private int Sql(string sql)
    {
        _outside.ExecuteSql(sql);
        return 1;
    }

    /// <summary>A quantity as the backend stores it (SQLite: integer millionths).</summary>
    private string StoredQuantity(decimal quantity) => OnSqlite
        ? Quantities.ToScaled(quantity).ToString(System.Globalization.CultureInfo.InvariantCulture)
        : quantity.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>An instant as the backend stores it, as an SQL literal (SQLite: microseconds).</summary>
    private string StoredTime(DateTimeOffset at) => OnSqlite
        ? NSelf.Usage.Engine.Time.Micros.From(at).ToString(System.Globalization.CultureInfo.InvariantCulture)
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"TIMESTAMPTZ '{at.UtcDateTime:yyyy-MM-dd HH:mm:ss.ffffff}+00'");

    private string Import(string path)
    {
        var refused = new List<UsageException>();
        var result = new UsageImporter(_tracker, _clock).Import(path, null, refused.Add);
        return $"import rows={result.Rows} inserted={result.Inserted} duplicates={result.Duplicates}"
            + (result.Rejected > 0 ? $" rejected={result.Rejected} ({string.Join("; ", refused.Select(r => r.ErrorId))})" : "");
    }

    public Reads Read(ReadPlan plan)
    {
        var summaries = new List<(string, UsageSummary)>();
        var aggregates = new List<(string, UsageAggregate)>();
        var quotas = new List<QuotaStatus>();
        var invoices = new List<BillingInvoice>();
        var discrepancies = new List<BillingInvoiceDiscrepancy>();
        foreach (var customer in plan.Customers)
        {
            var filter = new UsageFilter(customer);
            var reports = new UsageReports(_store, new PlanCosts(Book, DefaultZone));
            foreach (var (name, start, end) in plan.Intervals)
                summaries.AddRange(reports.Summaries(filter, start, end).Select(r => (name, r)));
            foreach (var (interval, zoneId, start, end) in plan.Aggregates)
            {
                var zone = TimeZoneInfo.FindSystemTimeZoneById(zoneId);
                aggregates.AddRange(new UsageReports(_store, new PlanCosts(Book, zone)).Aggregates(filter, start, end, interval, zone).Select(r => ($"{interval} {zoneId}", r)));
            }
            quotas.AddRange(new QuotaChecker(Book, new AlertThresholds(75, 90, 100)).Check(new[] { Book.Terms(customer, DefaultZone) }, null, raiseAlerts: false).Select(c => c.Status));
            invoices.AddRange(_store.GetInvoices(customer));
            discrepancies.AddRange(new InvoiceReconciliation(_store).Check(customer, null, null));
        }
        var access = new List<(int, string)>();
        var may = new List<(int, string, bool)>();
        if (!OnSqlite && plan.Tenants)
        {
            access.AddRange(_store.GetCustomerAccess(null, null).Where(a => plan.Customers.Contains(a.CustomerId) && _outside.Roles.Contains(a.Role))
                .Select(a => (_outside.Roles.ToList().IndexOf(a.Role), a.CustomerId)));
            foreach (var (role, customer) in ReadPlan.MayActForPairs)
                may.Add((role, plan.Customers[customer], _outside.AsRole[role].MayActFor(plan.Customers[customer])));
        }
        var settled = plan.Customers.Select(Settled).ToList();
        return new Reads(summaries, aggregates, quotas, invoices, discrepancies)
        {
            Ledger = settled.SelectMany(s => s.Ledger).ToList(),
            Grants = settled.SelectMany(s => s.Grants).ToList(),
            // PostgreSQL's triggers keep every rollup right, which the reads of totals prove; the
            // Verify op asks it there. SQLite's checks need it: a plain INSERT is seen only by it.
            Verified = OnSqlite && plan.Verify ? _store.VerifyRollups(new RollupScope(plan.Customers)) : Array.Empty<UsageStoreDifference>(),
            Access = access,
            MayActFor = may,
        };
    }
}
