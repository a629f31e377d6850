using System.Management.Automation;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Time;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Stored usage events, oldest first, streamed (use -First and -Skip to page).</summary>
[Cmdlet(VerbsCommon.Get, "UsageRecord", SupportsPaging = true)]
[OutputType(typeof(UsageRecord))]
public sealed class GetUsageRecordCommand : ReadingCmdlet
{
    [Parameter(Position = 0)]
    public object? Start { get; set; }

    [Parameter(Position = 1)]
    public object? End { get; set; }

    private protected override void Finish()
    {
        Try(() =>
        {
            var zone = ResolveZone(TimeZone);
            var filter = BuildFilter();
            DateTimeOffset? from = Start is null ? null : ToInstant(Start, zone, TimeBound.Start);
            DateTimeOffset? to = End is null ? null : ToInstant(End, zone, TimeBound.End);
            if (from is { } f && to is { } t)
                Engine.Reporting.ReportingPeriods.RequireOrdered(f, t, End);
            var first = PagingParameters.First == ulong.MaxValue ? (long?)null : (long)Math.Min(PagingParameters.First, long.MaxValue);
            var skip = (long)Math.Min(PagingParameters.Skip, long.MaxValue);
            var query = new RecordQuery(filter, from, to, skip, first);
            if (PagingParameters.IncludeTotalCount)
                WriteObject(PagingParameters.NewTotalCount((ulong)Store.CountRecords(query), 1.0));
            foreach (var record in Store.ReadRecords(query))
                WriteObject(record);
        });
    }
}
