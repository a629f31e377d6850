using System.Management.Automation;
using NSelf.Usage.Engine.Tracking;

namespace NSelf.Usage.Internal;

/// <summary>The base of the batch commands: flushing and reporting a flush the same way.</summary>
public abstract class BatchCmdlet : UsageCmdlet
{
    // Delivering a spool writes events of registered services; it reads no stored usage.
    private protected override bool ReadsUnregisteredServices => false;

    /// <summary>
    /// Delivers the spool of the current store: through the session's batch in batch mode, else
    /// directly (a spool left by a crashed process or an outage is delivered by any session).
    /// </summary>
    internal UsageBatchResult Flush()
    {
        DeliveryResult result;
        long ownPending = 0;
        if (Session.Batch is { } batch)
        {
            result = batch.Flush();
        }
        else
        {
            var spool = Session.CurrentSpool();
            // A big spool (an outage's worth) takes a while: a bar from its first chunk on. A stop
            // rolls back the chunk being written; the segment stays in the spool for the next
            // flush, which stores only what is not stored yet (exactly once by event id).
            ProgressRecord? progress = null;
            result = SpoolDelivery.Deliver(spool, Store, Session.Time, StopToken, n =>
            {
                progress ??= new ProgressRecord(7, MyInvocation.MyCommand.Name, $"Delivering the spool {spool.Directory}");
                progress.StatusDescription = $"{n:N0} events delivered";
                WriteProgress(progress);
            });
            if (progress is not null)
            {
                progress.RecordType = ProgressRecordType.Completed;
                WriteProgress(progress);
            }
        }
        return Report(result, ownPending);
    }

    /// <summary>Writes a flush's warnings and error, and turns it into the command's output.</summary>
    internal UsageBatchResult Report(DeliveryResult result, long ownPending = 0)
    {
        foreach (var warning in result.Warnings)
            WriteWarning(warning);
        if (result.Error is { } error)
            WriteUsageError(new UsageException(error.ErrorId, error.Kind,
                $"The spool could not be delivered; its events stay in it for the next flush: {error.Message}", error.Target, error));
        return new UsageBatchResult
        {
            Submitted = result.Submitted,
            Duplicates = result.Duplicates,
            Failed = result.Failed,
            Pending = result.Pending + ownPending,
            SpoolFiles = result.Files,
            Duration = result.Duration,
            Error = result.Error?.Message,
        };
    }

    /// <summary>The batch settings: a parameter, else USAGE_BATCH_SIZE / USAGE_BATCH_TIMEOUT.</summary>
    internal static TimeSpan ToInterval(object? value)
    {
        var raw = PowerShellValues.Unwrap(value);
        decimal? seconds = raw switch
        {
            TimeSpan span => (decimal)span.TotalSeconds,
            string text when text.Contains(':') && TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var parsed) => (decimal)parsed.TotalSeconds,
            // The plain-number rule of every money and quantity: '0,75' is refused, not read as 75.
            string text when Engine.Ingestion.PlainNumbers.TryParse(text, allowExponent: false, out var number) => number,
            double d => Engine.Ingestion.PlainNumbers.FromDouble(d),
            int or long or decimal or float => Convert.ToDecimal(raw, System.Globalization.CultureInfo.InvariantCulture),
            _ => null,
        };
        if (seconds is not { } s || s < 0.05m || s > 86_400m)
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                $"-FlushInterval must be from 0.05 seconds to one day (a number of seconds, or a TimeSpan such as '00:00:30'); got '{PowerShellValues.Unwrap(value)}'.", value);
        return TimeSpan.FromTicks(decimal.ToInt64(s * TimeSpan.TicksPerSecond));
    }
}
