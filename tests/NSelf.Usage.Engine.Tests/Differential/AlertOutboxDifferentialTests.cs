using System.Diagnostics;
using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using NSelf.Usage.Engine.Alerts;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Storage.Postgres;
using NSelf.Usage.Engine.Storage.Sqlite;
using NSelf.Usage.Engine.Tests.Storage;
using Xunit.Abstractions;

namespace NSelf.Usage.Engine.Tests.Differential;

// Issue 20's outbox, differentially: which alerts an action takes is written three times (the
// SQLite trigger, the PostgreSQL trigger, AlertActionRecord.Takes), and claims, leases and
// completions are SQL the model states in a few lines. Generated steps drive a real store and
// AlertOutboxModel; every step's outcome and, after every step, every read is compared.

/// <summary>One generated step of the outbox. Numbers are abstract choices resolved when the step runs.</summary>
public abstract record OutboxOp;

/// <summary>
/// SaveAlertAction of a record built by AlertActionRules: a name (<see cref="OutboxCatalog.Names"/>),
/// the levels of a bit mask (1 Warning, 2 Critical, 4 Exceeded), a service and a customer
/// (-1: none), webhook or e-mail, a target and secret variant, replace or not.
/// </summary>
public sealed record OutboxRegister(int Name, int Levels, int Service, int Customer, bool Email, int Variant, bool Replace) : OutboxOp
{
    public override string ToString() =>
        $"Register({Quote(OutboxCatalog.Names[Name])}, {string.Join("+", OutboxCatalog.LevelsOf(Levels))}, service {(Service < 0 ? "any" : OutboxCatalog.ActionServices[Service])}, "
        + $"customer {(Customer < 0 ? "any" : "c" + Customer)}, {(Email ? "e-mail" : "webhook")} #{Variant}{(Replace ? ", replace" : "")})";

    internal static string Quote(string name) => $"'{string.Format(CultureInfo.InvariantCulture, name, "")}'";
}

/// <summary>RemoveAlertAction of a name, registered or not.</summary>
public sealed record OutboxRemove(int Name) : OutboxOp
{
    public override string ToString() => $"Remove({OutboxRegister.Quote(OutboxCatalog.Names[Name])})";
}

/// <summary>An alert: a customer (c0..c2), a service, a level, a quota period, raised some seconds and microseconds ago, with some numbers.</summary>
public sealed record OutboxAlert(int Customer, int Service, int Level, int Period, int AgeSeconds, int Micros, int Amount)
{
    public override string ToString() =>
        $"c{Customer}/{OutboxCatalog.AlertServices[Service]}/{OutboxCatalog.Levels[Level]}/p{Period}{(AgeSeconds == 0 && Micros == 0 ? "" : $" -{AgeSeconds}s{Micros}µs")}";
}

/// <summary>RaiseAlerts of a batch (QuotaChecker's write).</summary>
public sealed record OutboxRaise(IReadOnlyList<OutboxAlert> Alerts) : OutboxOp
{
    public override string ToString() => $"Raise[{string.Join(", ", Alerts)}]";
}

/// <summary>Alerts inserted with plain SQL (an operator, nself's tools): one INSERT of their rows, ON CONFLICT DO NOTHING.</summary>
public sealed record OutboxInsert(IReadOnlyList<OutboxAlert> Alerts) : OutboxOp
{
    public override string ToString() => $"InsertSql[{string.Join(", ", Alerts)}]";
}

public sealed record OutboxAdvance(int Seconds) : OutboxOp
{
    public override string ToString() => $"Advance({Seconds}s)";
}

/// <summary>ClaimAlertDelivery as one of two senders, with a lease; Pick null: the next due, else a delivery by id (Pick-th, or one that does not exist).</summary>
public sealed record OutboxClaim(int Owner, int LeaseSeconds, int? Pick) : OutboxOp
{
    public override string ToString() => $"Claim(host{Owner}, lease {LeaseSeconds}s, {(Pick is { } p ? $"delivery pick {p}" : "next due")})";
}

/// <summary>
/// CompleteAlertDelivery of the Pick-th claim from the latest, as its owner or as the other sender,
/// with an outcome: 0 delivered, 1 failed (AfterFailure: retry or Failed), 2 stopped (pending now).
/// </summary>
public sealed record OutboxComplete(int Pick, bool OtherOwner, int Outcome) : OutboxOp
{
    public override string ToString() => $"Complete(claim -{Pick}, {(OtherOwner ? "other host" : "owner")}, {new[] { "delivered", "failed", "stopped" }[Outcome]})";
}

/// <summary>GetAlertDeliveries with a filter (-1: none; an index past the known ones: one that matches nothing) and HasDueAlertDeliveries, some seconds ahead.</summary>
public sealed record OutboxRead(int Customer, int Status, int Action, int Alert, int AheadSeconds) : OutboxOp
{
    public override string ToString() =>
        $"Read(customer {(Customer < 0 ? "any" : "c" + Customer)}, status {(Status < 0 ? "any" : ((AlertDeliveryStatus)Status).ToString())}, "
        + $"action {(Action < 0 ? "any" : Action < OutboxCatalog.Names.Length ? OutboxRegister.Quote(OutboxCatalog.Names[Action]) : "unknown")}, "
        + $"alert {(Alert < 0 ? "any" : "pick " + Alert)}, {AheadSeconds}s ahead)";
}

public sealed class OutboxSequence
{
    public OutboxSequence(IReadOnlyList<OutboxOp> ops) => Ops = ops;

    public IReadOnlyList<OutboxOp> Ops { get; }

    public override string ToString() =>
        Ops.Count + " steps:" + Environment.NewLine + string.Join(Environment.NewLine, Ops.Select((op, i) => $"  {i + 1,2}. {op}"));
}

public static class OutboxCatalog
{
    public static readonly DateTimeOffset Start = new(2026, 6, 10, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Action names (a sequence's prefix goes in {0}): "Ops" differs from "ops" by case only, " {0}pager " is "{0}pager" trimmed.</summary>
    public static readonly string[] Names = ["{0}ops", "{0}pager", "{0}Ops", " {0}pager ", "{0}finance"];

    public static readonly string[] ActionServices = ["api", "storage"];

    /// <summary>What alerts name: "Api" is another service than "api" to every rule.</summary>
    public static readonly string[] AlertServices = ["api", "storage", "Api"];

    /// <summary>Ok is no level an action takes: nothing is queued for it.</summary>
    public static readonly QuotaLevel[] Levels = [QuotaLevel.Warning, QuotaLevel.Critical, QuotaLevel.Exceeded, QuotaLevel.Ok];

    public static readonly (DateTimeOffset Start, DateTimeOffset End)[] Periods =
    [
        (new(2026, 5, 1, 0, 0, 0, TimeSpan.Zero), new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero)),
        (new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero), new(2026, 7, 1, 0, 0, 0, TimeSpan.Zero)),
        (new(2026, 6, 8, 0, 0, 0, TimeSpan.Zero), new(2026, 6, 15, 0, 0, 0, TimeSpan.Zero)),
    ];

    public static readonly (decimal Used, decimal Limit, decimal Percent)[] Amounts =
    [
        (95m, 100m, 95m), (9_100.5m, 10_000m, 91.005m), (0.000001m, 0.000001m, 100m), (123_456_789.123456m, 100_000_000m, 123.4568m),
    ];

    public static readonly string[] Errors =
    [
        "HTTP 503 Service Unavailable: down for maintenance",
        "Could not reach https://hooks.example.com: Connection refused (l'hôte n'a pas répondu)",
        "No answer from https://hooks.example.com within 5 s.",
    ];

    public static readonly string[] Owners = ["host-a:101:5f0c", "host-b:202:9e1d"];

    /// <summary>Small MaxAttempts so Failed happens; waits of 10 s, 20 s.</summary>
    public static readonly AlertDeliverySettings Settings = new(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), 3);

    public static IReadOnlyList<QuotaLevel> LevelsOf(int mask) =>
        new[] { QuotaLevel.Warning, QuotaLevel.Critical, QuotaLevel.Exceeded }.Where((_, i) => (mask & (1 << i)) != 0).ToList();
}

public static class OutboxOperations
{
    public const int Customers = 3;

    private static Gen<OutboxOp> RegisterGen() =>
        from name in Gen.Frequency((3, Gen.Choose(0, 1)), (1, Gen.Choose(2, OutboxCatalog.Names.Length - 1)))
        from levels in Gen.Frequency((2, Gen.Constant(7)), (3, Gen.Choose(1, 7)))
        from service in Gen.Frequency((2, Gen.Constant(-1)), (1, Gen.Choose(0, OutboxCatalog.ActionServices.Length - 1)))
        from customer in Gen.Frequency((2, Gen.Constant(-1)), (1, Gen.Choose(0, Customers - 1)))
        from email in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
        from variant in Gen.Choose(0, 3)
        from replace in Gen.Elements(true, true, false)
        select (OutboxOp)new OutboxRegister(name, levels, service, customer, email, variant, replace);

    private static Gen<OutboxAlert> AlertGen() =>
        from customer in Gen.Choose(0, Customers - 1)
        from service in Gen.Frequency((5, Gen.Choose(0, 1)), (1, Gen.Constant(2)))
        from level in Gen.Frequency((6, Gen.Choose(0, 2)), (1, Gen.Constant(3)))
        from period in Gen.Choose(0, OutboxCatalog.Periods.Length - 1)
        from age in Gen.Frequency((3, Gen.Constant(0)), (2, Gen.Choose(1, 120)))
        from micros in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Choose(1, 999_999)))
        from amount in Gen.Choose(0, OutboxCatalog.Amounts.Length - 1)
        select new OutboxAlert(customer, service, level, period, age, micros, amount);

    private static Gen<OutboxOp> ClaimGen() =>
        from owner in Gen.Choose(0, 1)
        from lease in Gen.Elements(5, 15, 15, 30, 60)
        from pick in Gen.Frequency((3, Gen.Constant<int?>(null)), (1, Gen.Choose(0, 100).Select(p => (int?)p)))
        select (OutboxOp)new OutboxClaim(owner, lease, pick);

    private static Gen<OutboxOp> CompleteGen() =>
        from pick in Gen.Frequency((4, Gen.Constant(0)), (1, Gen.Choose(1, 5)))
        from other in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
        from outcome in Gen.Frequency((2, Gen.Constant(0)), (3, Gen.Constant(1)), (1, Gen.Constant(2)))
        select (OutboxOp)new OutboxComplete(pick, other, outcome);

    // Exact lease ends and backoffs (5, 10, 15, 20, 30 s) are where off-by-one comparisons show.
    private static Gen<OutboxOp> AdvanceGen() =>
        Gen.Frequency((3, Gen.Elements(5, 10, 15, 20, 30, 60)), (3, Gen.Choose(1, 45)), (1, Gen.Choose(60, 7_200))).Select(s => (OutboxOp)new OutboxAdvance(s));

    // Mostly one filter at a time (each then matches something), sometimes all four at once.
    private static Gen<OutboxOp> ReadGen() =>
        from which in Gen.Choose(0, 5)
        from customer in Gen.Frequency((6, Gen.Choose(0, Customers - 1)), (1, Gen.Constant(Customers)))
        from status in Gen.Choose(0, 3)
        from action in Gen.Frequency((6, Gen.Choose(0, OutboxCatalog.Names.Length - 1)), (1, Gen.Constant(OutboxCatalog.Names.Length)))
        from alert in Gen.Choose(0, 100)
        from ahead in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Elements(5, 10, 15, 30, 60)))
        select (OutboxOp)new OutboxRead(which is 1 or 5 ? customer : -1, which is 2 or 5 ? status : -1, which is 3 or 5 ? action : -1, which is 4 or 5 ? alert : -1, ahead);

    private static Gen<OutboxOp> OpGen() => Gen.Frequency(
        (3, RegisterGen()),
        (1, Gen.Choose(0, OutboxCatalog.Names.Length - 1).Select(n => (OutboxOp)new OutboxRemove(n))),
        (3, from n in Gen.Frequency((3, Gen.Choose(1, 3)), (1, Gen.Choose(4, 8))) from alerts in Gen.ListOf(AlertGen(), n) select (OutboxOp)new OutboxRaise(alerts.ToList())),
        (2, from n in Gen.Frequency((3, Gen.Constant(1)), (1, Gen.Choose(2, 3))) from alerts in Gen.ListOf(AlertGen(), n) select (OutboxOp)new OutboxInsert(alerts.ToList())),
        (4, AdvanceGen()),
        (6, ClaimGen()),
        (5, CompleteGen()),
        (2, ReadGen()));

    /// <summary>A sender's run: alerts raised, the next due claimed and completed, a wait, the next again.</summary>
    private static Gen<IList<OutboxOp>> SenderStory() =>
        from alerts in Gen.ListOf(AlertGen(), 2)
        from first in CompleteGen()
        from wait in AdvanceGen()
        from owner in Gen.Choose(0, 1)
        from second in CompleteGen()
        select (IList<OutboxOp>)new OutboxOp[]
        {
            new OutboxRaise(alerts.ToList()), new OutboxClaim(owner, 15, null), first, wait, new OutboxClaim(1 - owner, 15, null), second,
        };

    /// <summary>One alert tried until it fails for good (MaxAttempts 3), then asked for again by id, maybe by the other sender.</summary>
    private static Gen<IList<OutboxOp>> RetryStory() =>
        from alert in AlertGen()
        from owner in Gen.Choose(0, 1)
        from again in Gen.Choose(0, 1)
        from pick in Gen.Choose(0, 100)
        from last in Gen.Frequency((2, Gen.Constant(0)), (1, Gen.Constant(1)))
        select (IList<OutboxOp>)new OutboxOp[]
        {
            new OutboxRaise([alert]),
            new OutboxClaim(owner, 15, null), new OutboxComplete(0, false, 1), new OutboxAdvance(10),
            new OutboxClaim(owner, 15, null), new OutboxComplete(0, false, 1), new OutboxAdvance(20),
            new OutboxClaim(1 - owner, 15, null), new OutboxComplete(0, false, 1), new OutboxAdvance(60),
            new OutboxClaim(again, 30, pick), new OutboxComplete(0, false, last),
        };

    public static Arbitrary<OutboxSequence> Sequences() =>
        Arb.From(
            from setup in Gen.Choose(1, 3).SelectMany(k => Gen.ListOf(RegisterGen(), k))
            from n in Gen.Sized(size => Gen.Choose(4, Math.Max(5, Math.Min(40, 8 + size / 2))))
            from chunks in Gen.ListOf(Gen.Frequency((12, OpGen().Select(op => (IList<OutboxOp>)new[] { op })), (1, SenderStory()), (1, RetryStory())), n)
            select new OutboxSequence(setup.Concat(chunks.SelectMany(c => c)).ToList()), Shrink);

    /// <summary>Shrinks by dropping halves, quarters, then single steps, and by halving batches of alerts.</summary>
    private static IEnumerable<OutboxSequence> Shrink(OutboxSequence sequence)
    {
        var ops = sequence.Ops;
        for (var chunk = ops.Count / 2; chunk >= 1; chunk /= 2)
            for (var at = 0; at + chunk <= ops.Count; at += chunk)
                yield return new OutboxSequence(ops.Take(at).Concat(ops.Skip(at + chunk)).ToList());
        for (var i = 0; i < ops.Count; i++)
        {
            OutboxOp? half = ops[i] switch
            {
                OutboxRaise { Alerts.Count: > 1 } raise => new OutboxRaise(raise.Alerts.Take(raise.Alerts.Count / 2).ToList()),
                OutboxInsert { Alerts.Count: > 1 } insert => new OutboxInsert(insert.Alerts.Take(insert.Alerts.Count / 2).ToList()),
                _ => null,
            };
            if (half is not null)
                yield return new OutboxSequence(ops.Select((o, k) => k == i ? half : o).ToList());
        }
    }
}

/// <summary>What the runner reaches beside the store: plain SQL on its database, and instants as its SQL writes them.</summary>
public sealed record OutboxOutside(Action<string> ExecuteSql, Func<string, long> CountSql, Func<DateTimeOffset, string> TimeSql);

/// <summary>
/// Runs one sequence against the store and the model. Each sequence starts with an empty outbox
/// (the four tables emptied with plain SQL; ids go on) and has customers and action names of its own.
/// </summary>
public sealed class OutboxRunner
{
    private readonly IUsageStore _store;
    private readonly SequenceClock _clock;
    private readonly OutboxOutside _outside;
    private readonly string _run = Guid.NewGuid().ToString("n")[..6];
    private int _sequence;

    public OutboxRunner(IUsageStore store, SequenceClock clock, OutboxOutside outside)
    {
        _store = store;
        _clock = clock;
        _outside = outside;
    }

    /// <summary>How often each kind of step had each outcome (refusals included): a run that never fails a delivery proves little.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, int> Outcomes { get; } = new();

    public System.Collections.Concurrent.ConcurrentDictionary<string, double> Seconds { get; } = new();

    private void Count(string outcome) => Outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);

    private void Time(string what, Stopwatch watch) => Seconds.AddOrUpdate(what, watch.Elapsed.TotalSeconds, (_, s) => s + watch.Elapsed.TotalSeconds);

    private sealed class State
    {
        public required AlertOutboxModel Model { get; init; }
        public required string[] Customers { get; init; }
        public required string[] Names { get; init; }
        public List<(long DeliveryId, int Owner, int Attempt)> Claims { get; } = new();
        public long MaxAlertId { get; set; }
        public long MaxDeliveryId { get; set; }
        public long MaxActionId { get; set; }
    }

    public string? Run(OutboxSequence sequence)
    {
        var number = Interlocked.Increment(ref _sequence);
        var prefix = $"o{_run}{number}-";
        _outside.ExecuteSql("DELETE FROM usage_alert_deliveries; DELETE FROM usage_alert_action_secrets; DELETE FROM usage_alert_actions; DELETE FROM usage_alerts;");
        _clock.Current = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(OutboxCatalog.Start) { AutoAdvanceAmount = TimeSpan.Zero };
        var state = new State
        {
            Model = new AlertOutboxModel(),
            // c2 differs from c0 by case only: the same customer to no rule.
            Customers = [$"{prefix}cus-a", $"{prefix}cus-b", $"{prefix}CUS-a"],
            Names = OutboxCatalog.Names.Select(n => string.Format(CultureInfo.InvariantCulture, n, prefix)).ToArray(),
        };
        for (var step = 0; step < sequence.Ops.Count; step++)
        {
            var op = sequence.Ops[step];
            var watch = Stopwatch.StartNew();
            var differs = Apply(op, state);
            Time(op.GetType().Name["Outbox".Length..], watch);
            if (differs is not null)
                return $"step {step + 1} ({op}):{Environment.NewLine}{differs}";
            watch.Restart();
            differs = Compare(state);
            Time("(reads after every step)", watch);
            if (differs is not null)
                return $"after step {step + 1} ({op}):{Environment.NewLine}{differs}";
        }
        return null;
    }

    private DateTimeOffset Now => NSelf.Usage.Engine.Time.Micros.Truncate(_clock.GetUtcNow());

    private static string Differ(string model, string store) => $"  model: {model}{Environment.NewLine}  store: {store}";

    private static string? Same(string what, string model, string store) => model == store ? null : $"{what}{Environment.NewLine}{Differ(model, store)}";

    private string? Apply(OutboxOp op, State s)
    {
        var model = s.Model;
        switch (op)
        {
            case OutboxRegister r:
            {
                var record = Record(r, s);
                var secret = r.Email ? null : Secret(r.Variant);
                var now = Now;
                var by = r.Variant % 2 == 0 ? "differential@host" : "différentiel@hôte-ü";
                var (saved, error, replaced) = model.Save(record, secret, r.Replace, now, by);
                string actual;
                UsageAlertAction? stored = null;
                try
                {
                    stored = _store.SaveAlertAction(record, secret, r.Replace, now, by);
                    actual = Render(stored);
                }
                catch (UsageException e)
                {
                    actual = "error " + e.ErrorId;
                }
                if (saved is not null && !replaced && stored is not null)
                {
                    // A new action's id is the store's to give: learned, and it must be one not given before.
                    if (stored.ActionId <= s.MaxActionId)
                        return $"a new action was given id {stored.ActionId}, not above {s.MaxActionId}";
                    saved.StoreId = s.MaxActionId = stored.ActionId;
                }
                var expected = saved is null ? "error " + error : Render(AlertOutboxModel.View(saved));
                Count("Register: " + (error is not null ? "refused " + error : replaced ? "replaced" : "new") + (r.Email ? " (e-mail)" : " (webhook)"));
                return Same($"Register '{record.Name}' {record.Kind} {record.Target} levels={string.Join(",", record.Levels)} service={record.Service ?? "-"} "
                    + $"customer={record.CustomerId ?? "-"} replace={r.Replace} secret={secret ?? "none"}", expected, actual);
            }
            case OutboxRemove r:
            {
                var name = AlertActionRules.Name(s.Names[r.Name]);
                foreach (var d in model.Deliveries.Where(d => d.Action?.Record.Name == name))
                    Count("Remove: its delivery " + (d.Status is AlertDeliveryStatus.Pending or AlertDeliveryStatus.Failed
                        ? $"{d.Status.ToString().ToLowerInvariant()}{(d.LeaseUntil > Now ? " (leased)" : "")} cancelled" : $"{d.Status.ToString().ToLowerInvariant()} kept"));
                var expected = model.Remove(name);
                var actual = _store.RemoveAlertAction(name);
                Count("Remove: " + (expected ? "removed" : "refused (no such action)"));
                return Same($"Remove '{name}'", expected.ToString(), actual.ToString());
            }
            case OutboxRaise r:
            {
                var alerts = r.Alerts.Select(a => Alert(a, s)).ToList();
                var expected = model.Record(alerts);
                var actual = _store.RaiseAlerts(alerts);
                foreach (var fresh in expected)
                    Count("RaiseAlerts: alert " + (fresh ? "new" : "refused (duplicate)"));
                return Same("RaiseAlerts", string.Join(",", expected), string.Join(",", actual)) ?? Learn(s);
            }
            case OutboxInsert i:
            {
                var alerts = i.Alerts.Select(a => Alert(a, s)).ToList();
                foreach (var fresh in model.Record(alerts))
                    Count("InsertSql: alert " + (fresh ? "new" : "refused (duplicate)"));
                _outside.ExecuteSql(InsertSql(alerts));
                return Learn(s);
            }
            case OutboxAdvance a:
                _clock.Current.Advance(TimeSpan.FromSeconds(a.Seconds));
                Count("Advance");
                return null;
            case OutboxClaim c:
            {
                var now = Now;
                var until = now.AddSeconds(c.LeaseSeconds);
                long? id = null;
                if (c.Pick is { } pick)
                {
                    var all = model.Deliveries;
                    id = pick % (all.Count + 1) is var k && k < all.Count ? all[k].StoreId : s.MaxDeliveryId + 1_000;
                }
                var expected = model.Claim(now, OutboxCatalog.Owners[c.Owner], until, id);
                var actual = _store.ClaimAlertDelivery(now, OutboxCatalog.Owners[c.Owner], until, id);
                if (expected is not null)
                    s.Claims.Add((expected.DeliveryId, c.Owner, expected.Attempt));
                Count($"Claim {(id is null ? "next due" : "by id")}: " + (expected is null ? "refused (none)" : $"claimed, attempt {Math.Min(expected.Attempt, 4)}{(expected.Attempt >= 4 ? "+" : "")}"));
                return Same($"Claim as {OutboxCatalog.Owners[c.Owner]} at {T(now)} until {T(until)}{(id is { } x ? $" delivery #{x}" : "")}", Render(expected), Render(actual));
            }
            case OutboxComplete c:
            {
                if (s.Claims.Count == 0)
                {
                    // Nothing claimed yet: an answer for a delivery nobody holds (a sender that never claimed it) changes nothing.
                    if (model.Deliveries.Count == 0)
                    {
                        Count("Complete: skipped (nothing queued yet)");
                        return null;
                    }
                    var unclaimed = model.Deliveries[c.Pick % model.Deliveries.Count];
                    var stray = new AlertAttemptResult(AlertDeliveryStatus.Delivered, Now, null, null);
                    var who = OutboxCatalog.Owners[c.OtherOwner ? 1 : 0];
                    Count("Complete: refused (never claimed)");
                    return Same($"Complete #{unclaimed.StoreId} as {who} with {stray}",
                        Render(model.Complete(unclaimed.StoreId, who, stray)), Render(_store.CompleteAlertDelivery(unclaimed.StoreId, who, stray)));
                }
                // Pick 0: the latest claim still held by its claimer, if any (a sender answering); else the Pick-th latest claim, held or not.
                var held = s.Claims.Where(x => model.Deliveries.First(d => d.StoreId == x.DeliveryId) is { } d
                    && d.LeaseOwner == OutboxCatalog.Owners[x.Owner] && d.Attempts == x.Attempt).ToList();
                var claim = c.Pick == 0 && held.Count > 0 ? held[^1] : s.Claims[s.Claims.Count - 1 - c.Pick % s.Claims.Count];
                var owner = OutboxCatalog.Owners[c.OtherOwner ? 1 - claim.Owner : claim.Owner];
                var now = Now;
                var (afterFailure, nextAttempt) = OutboxCatalog.Settings.AfterFailure(claim.Attempt, now);
                var result = c.Outcome switch
                {
                    0 => new AlertAttemptResult(AlertDeliveryStatus.Delivered, now, null, null),
                    // As AlertDeliverer records a failed attempt: another one after a backoff, or Failed after the last.
                    1 => new AlertAttemptResult(afterFailure, now, nextAttempt, OutboxCatalog.Errors[(claim.Attempt + c.Pick) % OutboxCatalog.Errors.Length]),
                    // As AlertDeliverer records an attempt the user stopped: pending, due now.
                    _ => new AlertAttemptResult(AlertDeliveryStatus.Pending, now, now, "Stopped before the receiver answered."),
                };
                var holder = model.Deliveries.First(d => d.StoreId == claim.DeliveryId).LeaseOwner;
                var expected = model.Complete(claim.DeliveryId, owner, result);
                var actual = _store.CompleteAlertDelivery(claim.DeliveryId, owner, result);
                Count("Complete: " + (holder == owner ? "recorded " + result.Status.ToString().ToLowerInvariant() : "refused (not the lease's owner)"));
                return Same($"Complete #{claim.DeliveryId} as {owner} with {result}", Render(expected), Render(actual));
            }
            case OutboxRead r:
            {
                var at = Now.AddSeconds(r.AheadSeconds);
                var filter = new AlertDeliveryFilter
                {
                    CustomerId = r.Customer < 0 ? null : r.Customer < s.Customers.Length ? s.Customers[r.Customer] : $"o{_run}-nobody",
                    Status = r.Status < 0 ? null : (AlertDeliveryStatus)r.Status,
                    Action = r.Action < 0 ? null : r.Action < s.Names.Length ? s.Names[r.Action].Trim() : "no-such-action",
                    AlertId = r.Alert < 0 ? null : r.Alert % (model.Alerts.Count + 1) is var k && k < model.Alerts.Count ? model.Alerts[k].StoreId : s.MaxAlertId + 1_000,
                };
                var expected = model.Read(filter, at).Select(Render).Append($"due {model.HasDue(at)}").ToList();
                var actual = _store.GetAlertDeliveries(filter, at).Select(Render).Append($"due {_store.HasDueAlertDeliveries(at)}").ToList();
                Count("Read: " + (expected.Count == 1 ? "none match" : "some match") + (filter == new AlertDeliveryFilter() ? " (no filter)" : ""));
                foreach (var status in model.Read(filter, at).Select(d => d.Leased ? "pending, leased" : d.Status.ToString().ToLowerInvariant()))
                    Count("Read: row " + status);
                return Lines($"GetAlertDeliveries {filter} at {T(at)}", expected, actual);
            }
            default:
                throw new InvalidOperationException(op.ToString());
        }
    }

    /// <summary>After alerts were recorded: the store's ids of the new alerts and of the deliveries they queued, each above every earlier one.</summary>
    private string? Learn(State s)
    {
        var model = s.Model;
        var stored = _store.GetAlerts(null, new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero));
        static string Key(UsageAlert a) => $"{a.CustomerId}/{a.Service}/{a.Level}/{T(a.PeriodStart)}";
        var byKey = stored.ToDictionary(Key);
        var keys = Lines("the alerts recorded (customer/service/level/period)", model.Alerts.Select(a => Key(a.Value)).Order(StringComparer.Ordinal).ToList(), byKey.Keys.Order(StringComparer.Ordinal).ToList());
        if (keys is not null)
            return keys;
        foreach (var alert in model.Alerts.Where(a => a.StoreId == 0))
        {
            var id = byKey[Key(alert.Value)].AlertId;
            if (id <= s.MaxAlertId)
                return $"alert {Key(alert.Value)} recorded after alert #{s.MaxAlertId} has id {id}";
            alert.StoreId = s.MaxAlertId = id;
        }
        var queued = _store.GetAlertDeliveries(new AlertDeliveryFilter(), Now).ToDictionary(d => (d.AlertId, d.Action));
        var fresh = model.Deliveries.Where(d => d.StoreId == 0).ToList();
        var which = Lines("the deliveries queued (alert #id action)",
            model.Deliveries.Select(d => $"#{d.Alert.StoreId} {d.ActionName}").Order(StringComparer.Ordinal).ToList(),
            queued.Keys.Select(k => $"#{k.AlertId} {k.Action}").Order(StringComparer.Ordinal).ToList());
        if (which is not null)
            return which;
        // The deliveries of one alert may be numbered in any order; those of a later alert come after.
        foreach (var group in fresh.GroupBy(d => d.Alert))
        {
            var ids = group.Select(d => queued[(d.Alert.StoreId, d.ActionName)].DeliveryId).ToList();
            if (ids.Min() <= s.MaxDeliveryId)
                return $"the deliveries of alert #{group.Key.StoreId} have ids {string.Join(", ", ids)}, not all above #{s.MaxDeliveryId} queued before";
            foreach (var d in group)
                d.StoreId = queued[(d.Alert.StoreId, d.ActionName)].DeliveryId;
            s.MaxDeliveryId = ids.Max();
        }
        foreach (var d in fresh)
            Count("queued: delivery");
        return null;
    }

    /// <summary>Everything, after every step: the actions and their secrets, every delivery, whether one is due.</summary>
    private string? Compare(State s)
    {
        var model = s.Model;
        var now = Now;
        var expected = new List<string>();
        var actual = new List<string>();
        expected.AddRange(model.Actions.Select(a => Render(AlertOutboxModel.View(a)) + " secret=" + (a.Secret ?? "none")));
        actual.AddRange(_store.GetAlertActions().Select(a => Render(a) + " secret=" + (_store.GetAlertActionSecret(a.ActionId) ?? "none")));
        expected.Add("secret rows " + model.Actions.Count(a => a.Secret is not null));
        actual.Add("secret rows " + _outside.CountSql("SELECT count(*) FROM usage_alert_action_secrets"));
        expected.AddRange(model.Read(new AlertDeliveryFilter(), now).Select(Render));
        actual.AddRange(_store.GetAlertDeliveries(new AlertDeliveryFilter(), now).Select(Render));
        expected.Add($"due {model.HasDue(now)}");
        actual.Add($"due {_store.HasDueAlertDeliveries(now)}");
        return Lines($"the outbox at {T(now)}", expected, actual);
    }

    private static string? Lines(string what, IReadOnlyList<string> expected, IReadOnlyList<string> actual)
    {
        if (expected.SequenceEqual(actual))
            return null;
        var missing = expected.Except(actual).Select(l => "  model only: " + l);
        var extra = actual.Except(expected).Select(l => "  store only: " + l);
        var lines = missing.Concat(extra).ToList();
        if (lines.Count == 0)
            lines.Add("  the same lines in another order:" + Environment.NewLine + string.Join(Environment.NewLine, expected.Select(l => "    model: " + l).Concat(actual.Select(l => "    store: " + l))));
        return what + ":" + Environment.NewLine + string.Join(Environment.NewLine, lines);
    }

    private static AlertActionRecord Record(OutboxRegister r, State s)
    {
        var kind = r.Email ? AlertActionKind.Email : AlertActionKind.Webhook;
        var target = r.Email
            ? AlertActionRules.Email(r.Variant switch
            {
                0 => ["ops@example.com"],
                1 => ["ops@example.com", "Pager <pager@example.com>", "OPS@example.com"],
                2 => ["\"Bereitschaft, Ops\" <bereitschaft@example.de>"],
                _ => ["finance@example.com", "cfo@example.com"],
            })
            : AlertActionRules.Webhook($"https://hooks.example.com/{s.Names[r.Name].Trim()}/v{r.Variant}?q=a%20b");
        return new AlertActionRecord(AlertActionRules.Name(s.Names[r.Name]), kind, target, AlertActionRules.Levels(OutboxCatalog.LevelsOf(r.Levels)),
            r.Service < 0 ? null : OutboxCatalog.ActionServices[r.Service], r.Customer < 0 ? null : TextRules.CustomerId(s.Customers[r.Customer]));
    }

    private static string Secret(int variant)
    {
        var secret = variant % 2 == 0
            ? "whsec_" + Convert.ToBase64String(Enumerable.Range(0, 24).Select(i => (byte)(i * 7 + variant)).ToArray())
            : $"ein-geheimnis-für-webhooks-{variant}-ü'";
        AlertActionRules.Key(secret);
        return secret;
    }

    private UsageAlert Alert(OutboxAlert a, State s)
    {
        var (start, end) = OutboxCatalog.Periods[a.Period];
        var (used, limit, percent) = OutboxCatalog.Amounts[a.Amount];
        var level = OutboxCatalog.Levels[a.Level];
        var service = OutboxCatalog.AlertServices[a.Service];
        return new UsageAlert
        {
            AlertId = 0, CustomerId = s.Customers[a.Customer], Service = service, Level = level, Used = used, Limit = limit, Percent = percent,
            PeriodStart = start, PeriodEnd = end, RaisedAt = Now.AddSeconds(-a.AgeSeconds).AddTicks(-a.Micros * 10L),
            Message = $"{level.ToString().ToUpperInvariant()}: {service} usage at {N(percent)}% of the customer's limit",
        };
    }

    private string InsertSql(IReadOnlyList<UsageAlert> alerts) =>
        "INSERT INTO usage_alerts (customer_id, service_name, level, used, limit_value, percent, period_start, period_end, raised_at, message) VALUES "
        + string.Join(", ", alerts.Select(a =>
            $"({Text(a.CustomerId)}, {Text(a.Service)}, {Text(a.Level.ToString().ToLowerInvariant())}, {Text(N(a.Used))}, {Text(N(a.Limit))}, {Text(N(a.Percent))}, "
            + $"{_outside.TimeSql(a.PeriodStart)}, {_outside.TimeSql(a.PeriodEnd)}, {_outside.TimeSql(a.RaisedAt)}, {Text(a.Message)})"))
        + " ON CONFLICT DO NOTHING";

    private static string Text(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string N(decimal d) => (d / 1.000000000000000000000000000m).ToString(CultureInfo.InvariantCulture);

    private static string T(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture);

    private static string T(DateTimeOffset? t) => t is { } v ? T(v) : "-";

    private static string Render(UsageAlertAction a) =>
        $"action #{a.ActionId} '{a.Name}' {a.Kind} {a.Target} levels={string.Join(",", a.Level)} service={a.Service ?? "-"} customer={a.CustomerId ?? "-"} "
        + $"secretSet={a.SecretSet} created={T(a.CreatedAt)} by={a.CreatedBy}";

    private static string Render(UsageAlertDelivery? d) => d is null ? "none" :
        $"delivery #{d.DeliveryId} alert #{d.AlertId} '{d.Action}' {d.CustomerId} {d.Service} {d.Level} {d.Status} attempts={d.Attempts} next={T(d.NextAttemptAt)} "
        + $"last={T(d.LastAttemptAt)} error={d.LastError ?? "-"} delivered={T(d.DeliveredAt)} created={T(d.CreatedAt)} leased={d.Leased}";

    private static string Render(AlertDeliveryWork? w) => w is null ? "none" :
        $"work #{w.DeliveryId} attempt {w.Attempt} alert #{w.Alert.AlertId} {w.Alert.CustomerId} {w.Alert.Service} {w.Alert.Level} used={N(w.Alert.Used)} "
        + $"limit={N(w.Alert.Limit)} percent={N(w.Alert.Percent)} {T(w.Alert.PeriodStart)}..{T(w.Alert.PeriodEnd)} raised={T(w.Alert.RaisedAt)} "
        + $"message={w.Alert.Message} action #{w.ActionId} '{w.ActionName}' {w.Kind} {w.Target}";
}

/// <summary>The outbox's differential property over one store; subclasses open SQLite and PostgreSQL.</summary>
public abstract class AlertOutboxDifferentialTests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly TempDirectory _folder = new();
    private readonly SequenceClock _clock = new();

    protected AlertOutboxDifferentialTests(ITestOutputHelper output) => _output = output;

    protected SequenceClock Clock => _clock;

    protected TempDirectory Folder => _folder;

    /// <summary>How many sequences a run checks: NSELF_DIFFERENTIAL_SEQUENCES (as the billing differential), default 400 (about 45 s a store on a busy 2-core machine).</summary>
    public static int SequenceCount =>
        DifferentialRun.Count(400);

    protected abstract IUsageStore OpenStore();

    protected abstract OutboxOutside OutsideOf(IUsageStore store);

    protected void CheckSequences()
    {
        using var store = OpenStore();
        // The first read migrates the database: the runner's plain SQL finds the outbox's tables.
        store.GetAlertActions();
        var runner = new OutboxRunner(store, _clock, OutsideOf(store));
        var watch = Stopwatch.StartNew();
        DifferentialRun.Check(OutboxOperations.Sequences(), runner.Run, SequenceCount);
        _output.WriteLine($"{SequenceCount} outbox sequences on {store.Backend} in {watch.Elapsed.TotalSeconds:F1} s.");
        foreach (var (outcome, n) in runner.Outcomes.OrderBy(o => o.Key, StringComparer.Ordinal))
            _output.WriteLine($"  {n,7}  {outcome}");
        foreach (var (what, seconds) in runner.Seconds.OrderByDescending(s => s.Value))
            _output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {seconds,7:F1} s  {what}"));
    }

    public virtual void Dispose()
    {
        _folder.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class SqliteAlertOutboxDifferentialTests : AlertOutboxDifferentialTests
{
    public SqliteAlertOutboxDifferentialTests(ITestOutputHelper output) : base(output) { }

    private string File => Folder.File("outbox.db");

    protected override IUsageStore OpenStore() => new SqliteUsageStore(File, Clock);

    // The sqlite3 shell's view of the file: a connection of its own, no pooling.
    protected override OutboxOutside OutsideOf(IUsageStore store) => new(
        sql =>
        {
            using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={File};Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.ExecuteNonQuery();
        },
        sql =>
        {
            using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={File};Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        },
        at => NSelf.Usage.Engine.Time.Micros.From(at).ToString(CultureInfo.InvariantCulture));

    [Fact]
    public void EverySequence_QueuesClaimsAndCompletes_AsTheOutboxModelSays() => CheckSequences();
}

public sealed class PostgresAlertOutboxDifferentialTests : AlertOutboxDifferentialTests
{
    private string? _database;

    public PostgresAlertOutboxDifferentialTests(ITestOutputHelper output) : base(output) { }

    // One database for the class (CreateDatabase fails without a server when CI=true, else skips).
    protected override IUsageStore OpenStore() => new PostgresUsageStore(_database = PostgresServer.CreateDatabase(), null, Clock);

    protected override OutboxOutside OutsideOf(IUsageStore store)
    {
        var database = _database!;
        return new(sql => PostgresServer.Execute(database, sql),
            sql => Convert.ToInt64(PostgresServer.Scalar<object>(database, sql), CultureInfo.InvariantCulture),
            at => string.Create(CultureInfo.InvariantCulture, $"'{at.UtcDateTime:yyyy-MM-dd HH:mm:ss.ffffff}Z'::timestamptz"));
    }

    [SkippableFact]
    public void EverySequence_QueuesClaimsAndCompletes_AsTheOutboxModelSays() => CheckSequences();

    public override void Dispose()
    {
        Npgsql.NpgsqlConnection.ClearAllPools();
        if (_database is not null)
            PostgresServer.DropDatabase(_database);
        base.Dispose();
    }
}
