namespace NSelf.Usage;

/// <summary>One stored usage event.</summary>
public sealed class UsageRecord
{
    /// <summary>The idempotency key: the same id for the same customer is stored once.</summary>
    public required string EventId { get; init; }
    public required string CustomerId { get; init; }
    public required string Service { get; init; }
    public required decimal Quantity { get; init; }
    public required string Unit { get; init; }
    /// <summary>When the usage happened (UTC).</summary>
    public required DateTimeOffset Timestamp { get; init; }
    /// <summary>When the store accepted the event (UTC).</summary>
    public required DateTimeOffset RecordedAt { get; init; }
    /// <summary>The event's metadata as compact JSON object text.</summary>
    public required string Metadata { get; init; }
}

/// <summary>Usage of one service over a period (one customer, or one row per customer).</summary>
public sealed class UsageSummary
{
    public required string CustomerId { get; init; }
    public required string Service { get; init; }
    /// <summary>The metadata value this row is grouped by, when -GroupBy was used.</summary>
    public string? Group { get; init; }
    public required decimal Quantity { get; init; }
    public required string Unit { get; init; }
    public required long Events { get; init; }
    public required decimal Cost { get; init; }
    public required string Currency { get; init; }
    public required DateTimeOffset Start { get; init; }
    public required DateTimeOffset End { get; init; }
}

/// <summary>Usage of one service on one calendar day (in the requested time zone).</summary>
public sealed class UsageBreakdown
{
    public required string CustomerId { get; init; }
    public required DateTime Date { get; init; }
    public required string Service { get; init; }
    public string? Group { get; init; }
    public required decimal Quantity { get; init; }
    public required string Unit { get; init; }
    public required long Events { get; init; }
    public required decimal Cost { get; init; }
    public required string Currency { get; init; }
    public required DateTimeOffset Start { get; init; }
    public required DateTimeOffset End { get; init; }
}

/// <summary>The calendar buckets Get-UsageAggregate groups by.</summary>
public enum UsageInterval
{
    Hourly,
    Daily,
    Monthly,
}

/// <summary>One bucket of Get-UsageAggregate: an hour, day or month in the requested zone.</summary>
public sealed class UsageAggregate
{
    public required string CustomerId { get; init; }
    /// <summary>Start of the bucket, as local time in the requested zone with its offset.</summary>
    public required DateTimeOffset Period { get; init; }
    public required DateTimeOffset PeriodEnd { get; init; }
    public required UsageInterval Interval { get; init; }
    public required string Service { get; init; }
    public string? Group { get; init; }
    public required long Events { get; init; }
    public required decimal Total { get; init; }
    public required string Unit { get; init; }
    public required decimal Cost { get; init; }
    public required string Currency { get; init; }
    public required decimal Average { get; init; }
    public required decimal Minimum { get; init; }
    public required decimal Maximum { get; init; }
}

/// <summary>A metered service: the six built-in ones and any registered with Register-UsageService.</summary>
public sealed class UsageService
{
    public required string Name { get; init; }
    public required string Unit { get; init; }
    /// <summary>The flat display price per unit used for Cost when no plan prices the service.</summary>
    public required decimal DisplayPrice { get; init; }
    public required string Currency { get; init; }
    public required bool BuiltIn { get; init; }
    public string? Description { get; init; }
}

/// <summary>A billing customer (nself's billing_customers row).</summary>
public sealed class BillingCustomer
{
    public required string CustomerId { get; init; }
    public required string ProjectName { get; init; }
    public string? Name { get; init; }
    public string? Email { get; init; }
    public string? Company { get; init; }
    public string? StripeCustomerId { get; init; }
    /// <summary>The postal address printed on invoices, one line per line.</summary>
    public string? Address { get; init; }
    /// <summary>ISO 3166-1 alpha-2: picks the tax rate (with Region) and decides reverse charge.</summary>
    public string? Country { get; init; }
    /// <summary>The ISO 3166-2 subdivision (CA for US-CA).</summary>
    public string? Region { get; init; }
    /// <summary>The buyer's tax id (a VAT id such as FR40303265045).</summary>
    public string? TaxId { get; init; }
    public bool TaxExempt { get; init; }
    /// <summary>The language and number and date formats of the customer's invoices (de-DE, fr-FR...).</summary>
    public string? Locale { get; init; }
    /// <summary>Where invoices are sent, when not to Email.</summary>
    public string? InvoiceEmail { get; init; }
    public required string Metadata { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? DeletedAt { get; init; }
}

/// <summary>Named reporting periods of Get-Usage -Period, computed in the requested zone.</summary>
public enum UsagePeriod
{
    Today,
    Yesterday,
    ThisMonth,
    LastMonth,
    /// <summary>The customer's current billing period (the calendar month when there is no subscription).</summary>
    BillingPeriod,
}

/// <summary>Statistics of per-event quantities of a service over the last days (Get-UsageStatistic).</summary>
public sealed class UsageStatistic
{
    /// <summary>The customer, or "*" for every customer together.</summary>
    public required string CustomerId { get; init; }
    public required string Service { get; init; }
    public required string Unit { get; init; }
    public required long Events { get; init; }
    public required decimal Total { get; init; }
    public required decimal Average { get; init; }
    public required decimal Minimum { get; init; }
    public required decimal Maximum { get; init; }
    /// <summary>Percentiles are continuous (interpolated), as PostgreSQL's percentile_cont.</summary>
    public required decimal Median { get; init; }
    public required decimal P95 { get; init; }
    public required decimal P99 { get; init; }
    public required DateTimeOffset Start { get; init; }
    public required DateTimeOffset End { get; init; }
}

/// <summary>One day of a service's usage next to the day before (Get-UsageTrend).</summary>
public sealed class UsageTrend
{
    public required string CustomerId { get; init; }
    public required DateTime Date { get; init; }
    public required string Service { get; init; }
    public required decimal Total { get; init; }
    public required long Events { get; init; }
    public required decimal Previous { get; init; }
    /// <summary>Change from the previous day in percent; null when the previous day had no usage.</summary>
    public decimal? ChangePercent { get; init; }
}

/// <summary>One of the busiest hours or days of a service (Get-UsagePeak).</summary>
public sealed class UsagePeak
{
    public required int Rank { get; init; }
    public required string CustomerId { get; init; }
    public required string Service { get; init; }
    public required UsageInterval Interval { get; init; }
    public required DateTimeOffset Period { get; init; }
    public required decimal Total { get; init; }
    public required long Events { get; init; }
    public required string Unit { get; init; }
}
