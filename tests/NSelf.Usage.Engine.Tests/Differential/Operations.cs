using System.Globalization;
using FsCheck;
using FsCheck.Fluent;

namespace NSelf.Usage.Engine.Tests.Differential;

/// <summary>
/// One generated step. Numbers are abstract choices (which customer, which earlier event, which
/// invoice), resolved against the model's state when the step runs, so every store is given
/// exactly the same concrete command and a shrunk sequence stays meaningful.
/// </summary>
public abstract record Op
{
    internal static string Q(decimal d) => d.ToString(CultureInfo.InvariantCulture);
}

public sealed record Track(int Customer, int Service, decimal Quantity, int AgeMinutes, int Micros, int IdStyle) : Op
{
    public override string ToString() => $"Track(c{Customer}, {Catalog.Services[Service]}, {Q(Quantity)}, {AgeMinutes} min {Micros} µs ago, id style {IdStyle})";
}

public sealed record Bulk(IReadOnlyList<Track> Events, int Duplicates) : Op
{
    public override string ToString() => $"Bulk({Events.Count} events, {Duplicates} re-sent ids within: [{string.Join("; ", Events.Take(4))}{(Events.Count > 4 ? "; ..." : "")}])";
}

public sealed record Resend(int Pick, bool SamePayload) : Op;

public sealed record Archive(int Customer, int OlderThanDays) : Op;

public sealed record ReimportArchive(int Pick) : Op;

public sealed record ReimportExport(int Customer) : Op;

public sealed record Subscribe(int Customer, int Plan, int Zone, int DaysAgo) : Op
{
    public override string ToString() => $"Subscribe(c{Customer}, {Catalog.Plans[Plan].Name}, {Catalog.Zones[Zone]}, {DaysAgo} days ago)";
}

public sealed record ChangePlan(int Customer, int Plan) : Op
{
    public override string ToString() => $"ChangePlan(c{Customer}, {Catalog.Plans[Plan].Name})";
}

public sealed record Cancel(int Customer) : Op;

public sealed record Override(int Customer, int Variant) : Op;

public sealed record Invoice(int Customer) : Op;

/// <summary>One part of the last closed period, split at a percentage of it (fix 5).</summary>
public sealed record InvoicePart(int Customer, int SplitPercent, bool Second) : Op;

public sealed record Finalize(int Customer) : Op;

/// <summary>A backdated event in a finalized period, sent after it was finalized.</summary>
public sealed record Late(int Customer, int Service, decimal Quantity, int Percent) : Op
{
    public override string ToString() => $"Late(c{Customer}, {Catalog.Services[Service]}, {Q(Quantity)}, at {Percent}% of the finalized period)";
}

public sealed record Advance(int Minutes) : Op;

public sealed record Culture(int Index) : Op
{
    public override string ToString() => $"Culture({Catalog.Cultures[Index]})";
}

public sealed record Check : Op;

/// <summary>
/// An operator's or nself's correction with plain SQL: a stored event's quantity set (UPDATE),
/// chosen among the events no finalized invoice billed (issue 15: the triggers keep rollups right).
/// </summary>
public sealed record ForeignUpdate(int Pick, decimal Quantity) : Op
{
    public override string ToString() => $"ForeignUpdate(event #{Pick}, quantity := {Q(Quantity)})";
}

/// <summary>A stored event deleted with plain SQL (nself's usage_archive, an operator's DELETE), never one a finalized invoice billed.</summary>
public sealed record ForeignDelete(int Pick) : Op;

/// <summary>
/// A row inserted with plain SQL as nself's tools insert it: PostgreSQL's insert trigger rolls it
/// up, SQLite's schema has none (decision 150), so Verify reports it until Repair. Unregistered
/// stores it under this sequence's service that nobody registered (issue 15 item 1).
/// </summary>
public sealed record ForeignInsert(int Customer, int Service, decimal Quantity, int AgeMinutes, bool Unregistered, int? PeriodPercent = null) : Op
{
    public override string ToString() =>
        $"ForeignInsert(c{Customer}, {(Unregistered ? "<unregistered>" : Catalog.Services[Service])}, {Q(Quantity)}, "
        + (PeriodPercent is { } p ? $"at {p}% of the period a default invoice bills)" : $"{AgeMinutes} min ago)");
}

/// <summary>Test-UsageStore -Verify over the sequence's customers: the buckets whose rollups differ from the stored events.</summary>
public sealed record Verify : Op;

/// <summary>Test-UsageStore -Verify -Repair over the sequence's customers.</summary>
public sealed record Repair : Op;

/// <summary>Register-UsageService of the sequence's unregistered service.</summary>
public sealed record RegisterService : Op;

/// <summary>Grant-UsageCustomerAccess of one of the run's tenant roles (PostgreSQL; SQLite refuses it).</summary>
public sealed record GrantAccess(int Role, int Customer) : Op;

/// <summary>Revoke-UsageCustomerAccess: mostly of a mapping the model holds (the Pick-th), else of the pair given.</summary>
public sealed record RevokeAccess(int Role, int Customer, int Pick, bool Existing) : Op;

/// <summary>Get-UsageCustomerAccess -Role.</summary>
public sealed record ListAccess(int Role) : Op;

/// <summary>Set-BillingCustomer of a customer's place (country, region, tax id, exempt) from <see cref="Catalog.Places"/>.</summary>
public sealed record Place(int Customer, int Index) : Op
{
    public override string ToString() => $"Place(c{Customer}, {Catalog.Places[Index]})";
}

/// <summary>Set-BillingProfile -InvoicePrefix: the sequence's first series or its second.</summary>
public sealed record Prefix(bool Second) : Op;

/// <summary>Send-BillingInvoice [-Force] of one of the customer's invoices (drafts included, which it refuses).</summary>
public sealed record Send(int Customer, int Pick, bool Force) : Op;

/// <summary>Add-BillingCredit: cents (whole yen in JPY), expiring in some days (0: never), at a priority.</summary>
public sealed record GrantCredit(int Customer, int Cents, bool Yen, int ExpiresInDays, int Priority) : Op;

/// <summary>Set-BillingInvoice -Paid of one of the customer's invoices (Pick -1: the one finalized last): a percentage of what it owes (100: all, without -Amount).</summary>
public sealed record PayInvoice(int Customer, int Pick, int Percent) : Op;

/// <summary>Set-BillingInvoice -Void of one of the customer's invoices.</summary>
public sealed record VoidInvoice(int Customer, int Pick) : Op;

/// <summary>New-BillingCreditNote -Amount: a percentage of what is left to credit of one of the customer's invoices.</summary>
public sealed record CreditInvoice(int Customer, int Pick, int Percent) : Op;

/// <summary>A generated sequence, printed one step a line so a shrunk failure reads as a script.</summary>
public sealed class Sequence
{
    public Sequence(IReadOnlyList<Op> ops) => Ops = ops;

    public IReadOnlyList<Op> Ops { get; }

    public override string ToString() =>
        Ops.Count + " steps:" + Environment.NewLine + string.Join(Environment.NewLine, Ops.Select((op, i) => $"  {i + 1,2}. {op}"));
}

public static class Operations
{
    public const int Customers = 3;

    /// <summary>Tenant roles per run (PostgreSQL): created once per test class, dropped at its end.</summary>
    public const int Roles = 2;

    // Quantities with up to six decimals: tiny, ordinary and large (an event holds at most 1e9).
    private static Gen<decimal> Quantity() => Gen.Frequency(
        (3, Gen.Choose(1, 10_000).Select(n => n / 1_000_000m)),
        (5, Gen.Choose(0, 500).SelectMany(w => Gen.Choose(0, 999_999).Select(f => w + f / 1_000_000m))),
        (2, Gen.Choose(1, 99_999).SelectMany(w => Gen.Choose(0, 999_999).Select(f => w * 10_000m + f / 1_000_000m))),
        (1, Gen.Elements(1_000_000_000m, 999_999_999.999999m, 0.000001m)));

    private static Gen<int> Customer() => Gen.Choose(0, Customers - 1);

    private static Gen<Track> TrackGen() =>
        from c in Customer()
        from s in Gen.Choose(0, Catalog.Services.Length - 1)
        from q in Quantity()
        // Some events land right by the ragged start of a check's read (40 days and 7 minutes ago), whose partial quarter hour comes from raw events.
        from age in Gen.Frequency((3, Gen.Choose(0, 600)), (5, Gen.Choose(0, 60 * 24 * 75)), (1, Gen.Choose(60 * 24 * 40 - 8, 60 * 24 * 40 + 20)))
        from micros in Gen.Choose(0, 59_999_999)
        from style in Gen.Choose(0, 4)
        select new Track(c, s, q, age, micros, style);

    private static Gen<Op> OpGen()
    {
        var ops = new List<(int, Gen<Op>)>
        {
            (14, TrackGen().Select(t => (Op)t)),
            (4, from n in Gen.Frequency((3, Gen.Choose(1, 12)), (1, Gen.Choose(60, 90)))
                from events in Gen.ArrayOf(TrackGen(), n)
                from d in Gen.Choose(0, 3)
                select (Op)new Bulk(events, d)),
            (4, from p in Gen.Choose(0, 1000) from same in Gen.Elements(true, true, false) select (Op)new Resend(p, same)),
            (2, from c in Gen.Choose(-1, Customers - 1) from d in Gen.Choose(0, 60) select (Op)new Archive(c, d)),
            (2, Gen.Choose(0, 100).Select(p => (Op)new ReimportArchive(p))),
            (1, Customer().Select(c => (Op)new ReimportExport(c))),
            (4, from c in Customer() from p in Gen.Choose(0, Catalog.Plans.Count - 1) from z in Gen.Choose(0, Catalog.Zones.Length - 1)
                from d in Gen.Frequency((4, Gen.Choose(32, 75)), (1, Gen.Choose(0, 31))) select (Op)new Subscribe(c, p, z, d)),
            (2, from c in Customer() from p in Gen.Choose(0, Catalog.Plans.Count - 1) select (Op)new ChangePlan(c, p)),
            (2, from c in Customer() from v in Gen.Choose(0, Catalog.Overrides.Count - 1) select (Op)new Override(c, v)),
            (7, Customer().Select(c => (Op)new Invoice(c))),
            (6, Customer().Select(c => (Op)new Finalize(c))),
            (6, from c in Customer() from s in Gen.Choose(0, Catalog.Services.Length - 1) from q in Quantity() from p in Gen.Choose(0, 99)
                select (Op)new Late(c, s, q, p)),
            (5, Gen.Frequency((3, Gen.Choose(1, 600)), (2, Gen.Choose(600, 60 * 24 * 20)), (2, Gen.Choose(60 * 24 * 28, 60 * 24 * 35))).Select(m => (Op)new Advance(m))),
            (2, Gen.Choose(0, Catalog.Cultures.Length - 1).Select(i => (Op)new Culture(i))),
            (3, Gen.Constant((Op)new Check())),
        };
        ops.Add((4, from c in Customer() from s in Gen.Choose(1, 99) from second in Gen.Elements(false, true) select (Op)new InvoicePart(c, s, second)));
        ops.Add((1, Customer().Select(c => (Op)new Cancel(c))));
        // Issue 15 and 22 (foreign writes, Verify/Repair, unregistered services, tenant access).
        ops.Add((2, from p in Gen.Choose(0, 1000) from q in Quantity() select (Op)new ForeignUpdate(p, q)));
        ops.Add((1, Gen.Choose(0, 1000).Select(p => (Op)new ForeignDelete(p))));
        ops.Add((1, ForeignInsertGen()));
        ops.Add((1, Gen.Constant((Op)new Verify())));
        ops.Add((1, Gen.Constant((Op)new Repair())));
        ops.Add((1, Gen.Constant((Op)new RegisterService())));
        ops.Add((2, from r in Gen.Choose(0, Roles - 1) from c in Customer() select (Op)new GrantAccess(r, c)));
        ops.Add((1, RevokeGen()));
        ops.Add((1, Gen.Choose(0, Roles - 1).Select(r => (Op)new ListAccess(r))));
        // Issue 18 (tax by place, invoice numbers).
        ops.Add((3, from c in Customer() from p in Gen.Choose(0, Catalog.Places.Count - 1) select (Op)new Place(c, p)));
        ops.Add((1, Gen.Elements(false, true).Select(b => (Op)new Prefix(b))));
        ops.Add((2, from c in Customer() from p in Gen.Choose(0, 1000) from f in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true))) select (Op)new Send(c, p, f)));
        // Issue 19 (credits, payments, voids, credit notes).
        ops.Add((2, GrantGen().Select(g => (Op)g)));
        ops.Add((2, from c in Customer() from p in Gen.Choose(0, 1000) from pc in Gen.Frequency((2, Gen.Constant(100)), (2, Gen.Choose(1, 99))) select (Op)new PayInvoice(c, p, pc)));
        ops.Add((1, from c in Customer() from p in Gen.Choose(0, 1000) select (Op)new VoidInvoice(c, p)));
        ops.Add((1, from c in Customer() from p in Gen.Choose(0, 1000) from pc in Gen.Frequency((1, Gen.Constant(100)), (3, Gen.Choose(1, 99))) select (Op)new CreditInvoice(c, p, pc)));
        return Gen.Frequency(ops.ToArray());
    }

    private static Gen<GrantCredit> GrantGen() =>
        from c in Customer()
        from cents in Gen.Frequency((4, Gen.Choose(1, 5_000)), (1, Gen.Choose(5_000, 50_000)))
        from yen in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
        from days in Gen.Frequency((2, Gen.Constant(0)), (2, Gen.Choose(1, 45)))
        from priority in Gen.Choose(0, 3)
        select new GrantCredit(c, cents, yen, days, priority * 10);

    /// <summary>Issue 19's settling: credit granted, an invoice finalized with it, paid in part, credited, voided or paid, invoiced again.</summary>
    private static Gen<IList<Op>> SettleStory() =>
        from grant in GrantGen()
        from second in GrantGen()
        from part in Gen.Choose(1, 99)
        from credit in Gen.Choose(1, 100)
        from voidIt in Gen.Elements(false, true)
        select (IList<Op>)(voidIt
            ? new Op[]
            {
                grant, second with { Customer = grant.Customer }, new Invoice(grant.Customer), new Finalize(grant.Customer), new VoidInvoice(grant.Customer, -1),
                new Invoice(grant.Customer), new Finalize(grant.Customer), new PayInvoice(grant.Customer, -1, part), new CreditInvoice(grant.Customer, -1, credit), new Check(),
            }
            : new Op[]
            {
                grant, second with { Customer = grant.Customer }, new Invoice(grant.Customer), new Finalize(grant.Customer),
                new PayInvoice(grant.Customer, -1, part), new CreditInvoice(grant.Customer, -1, credit), new PayInvoice(grant.Customer, -1, 100), new Check(),
            });

    public static Arbitrary<Sequence> Sequences() =>
        Arb.From(
            // Most stories start with customers subscribed a month or two ago, so that they have closed periods to invoice.
            from subscribed in Gen.Frequency<IList<Op>>((3, Gen.ListOf(from c in Customer() from p in Gen.Choose(0, Catalog.Plans.Count - 1) from z in Gen.Choose(0, Catalog.Zones.Length - 1)
                                                           from d in Gen.Choose(32, 75) select (Op)new Subscribe(c, p, z, d), 3).Select(l => (IList<Op>)l)),
                                                     (1, Gen.Constant<IList<Op>>(new List<Op>())))
            from n in Gen.Sized(size => Gen.Choose(3, Math.Max(4, Math.Min(30, 6 + size / 2))))
            from chunks in Gen.ListOf(Gen.Frequency((36, OpGen().Select(op => (IList<Op>)new[] { op })), (4, Story()), (1, ForeignStory()), (1, UnregisteredStory()), (1, TenantStory()), (1, SendStory()), (2, SettleStory())), n)
            select new Sequence(subscribed.Concat(chunks.SelectMany(c => c)).ToList()), Shrink);

    /// <summary>A billing cycle with late usage: invoice, finalize, a backdated event, a month on, the next invoice.</summary>
    private static Gen<IList<Op>> Story() =>
        from c in Customer()
        from s in Gen.Choose(0, Catalog.Services.Length - 1)
        from q in Quantity()
        from p in Gen.Choose(0, 99)
        from more in Gen.Choose(0, 2)
        from days in Gen.Choose(28, 33)
        select (IList<Op>)new Op[] { new Invoice(c), new Finalize(c), new Late(c, s, q, p), new Advance(60 * 24 * days), new Late(c, s, q, (p + 37) % 100), new Invoice(c) }
            .Concat(more > 0 ? new Op[] { new Finalize(c), new Check() } : Array.Empty<Op>()).ToList();

    /// <summary>Issue 18's sending: a draft refused, the finalized invoice sent, refused again, sent again with -Force.</summary>
    private static Gen<IList<Op>> SendStory() =>
        from c in Customer()
        from p in Gen.Choose(0, 1000)
        select (IList<Op>)new Op[] { new Invoice(c), new Send(c, p, false), new Finalize(c), new Send(c, p, false), new Advance(7), new Send(c, p, false), new Send(c, p, true), new Check() };

    private static Gen<Op> ForeignInsertGen() =>
        from c in Customer()
        from s in Gen.Choose(0, Catalog.Services.Length - 1)
        from q in Quantity()
        from age in Gen.Frequency((3, Gen.Choose(0, 600)), (5, Gen.Choose(0, 60 * 24 * 75)))
        from unregistered in Gen.Elements(false, false, true)
        select (Op)new ForeignInsert(c, s, q, age, unregistered);

    private static Gen<Op> RevokeGen() =>
        from r in Gen.Choose(0, Roles - 1)
        from c in Customer()
        from pick in Gen.Choose(0, 20)
        from existing in Gen.Elements(true, true, true, false)
        select (Op)new RevokeAccess(r, c, pick, existing);

    /// <summary>Mappings granted (often of the pairs a check asks MayActFor of), listed, one revoked, checked.</summary>
    private static Gen<IList<Op>> TenantStory() =>
        from pairs in Gen.ArrayOf(Gen.Elements(ReadPlan.MayActForPairs.ToArray()), 2)
        from other in Gen.Choose(0, Customers - 1)
        from revoke in RevokeGen()
        select (IList<Op>)new Op[]
        {
            new GrantAccess(pairs[0].Role, pairs[0].Customer), new GrantAccess(pairs[1].Role, other), new ListAccess(pairs[0].Role), revoke,
        };

    /// <summary>
    /// Rows changed behind the module's back, then Verify and Repair. The new stories hold no
    /// Check of their own (checks are most of the suite's time): each step's outcome is compared,
    /// and every read is compared at the end of the sequence and at the generated checks.
    /// </summary>
    private static Gen<IList<Op>> ForeignStory() =>
        from insert in ForeignInsertGen()
        from pick in Gen.Choose(0, 1000)
        from q in Quantity()
        from delete in Gen.Choose(0, 1000)
        select (IList<Op>)new Op[] { new ForeignUpdate(pick, q), insert, new ForeignDelete(delete), new Verify(), new Repair() };

    /// <summary>
    /// Usage nself stored under a service nobody registered, in the last closed period: the draft
    /// shows it unpriced, finalizing refuses (UnpricedUsage), registering prices it.
    /// </summary>
    private static Gen<IList<Op>> UnregisteredStory() =>
        from c in Customer()
        from q in Quantity()
        from percent in Gen.Choose(0, 99)
        select (IList<Op>)new Op[]
        {
            new ForeignInsert(c, 0, q, 0, true, percent), new Repair(), new Invoice(c), new Finalize(c), new RegisterService(), new Finalize(c),
        };

    /// <summary>Shrinks by dropping halves, quarters, then single steps, and by trimming bulk batches.</summary>
    private static IEnumerable<Sequence> Shrink(Sequence sequence)
    {
        var ops = sequence.Ops;
        for (var chunk = ops.Count / 2; chunk >= 1; chunk /= 2)
            for (var at = 0; at + chunk <= ops.Count; at += chunk)
                yield return new Sequence(ops.Take(at).Concat(ops.Skip(at + chunk)).ToList());
        for (var i = 0; i < ops.Count; i++)
            if (ops[i] is Bulk { Events.Count: > 1 } bulk)
            {
                var half = bulk with { Events = bulk.Events.Take(bulk.Events.Count / 2).ToList() };
                yield return new Sequence(ops.Select((o, k) => k == i ? half : o).ToList());
            }
    }
}
