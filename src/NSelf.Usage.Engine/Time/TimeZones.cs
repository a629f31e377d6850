namespace NSelf.Usage.Engine.Time;

/// <summary>Looks up IANA time zones (Windows ids work too, through .NET's conversion).</summary>
public static class TimeZones
{
    public static TimeZoneInfo Find(string? id)
    {
        if (string.IsNullOrWhiteSpace(id) || id is "UTC" or "Etc/UTC" or "Z")
            return TimeZoneInfo.Utc;
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id.Trim());
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            throw new UsageException(ErrorIds.InvalidTimeZone, UsageErrorKind.InvalidArgument,
                $"'{id}' is not a known time zone. Use an IANA id such as 'America/New_York', 'Europe/Berlin' or 'UTC'.", id, e);
        }
    }

    /// <summary>The id to show for a zone: the IANA id where .NET knows one.</summary>
    public static string DisplayId(TimeZoneInfo zone)
    {
        if (zone == TimeZoneInfo.Utc || zone.Id is "Etc/UTC" or "UTC")
            return "UTC";
        if (!zone.HasIanaId && TimeZoneInfo.TryConvertWindowsIdToIanaId(zone.Id, out var iana))
            return iana;
        return zone.Id;
    }
}
