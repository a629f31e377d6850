using System.Management.Automation;

namespace NSelf.Usage.Tests;

public sealed class ReadingCommandTests : IDisposable
{
    private readonly PowerShellHost _host = new();

    public ReadingCommandTests()
    {
        _host.Run("""
            Add-UsageApiRequest /users GET 200 -CustomerId cus_r -Timestamp 2026-01-31T23:59:59.9Z
            Add-UsageApiRequest /users GET 500 -CustomerId cus_r -Timestamp 2026-01-15T12:00:00Z
            Add-UsageApiRequest /posts POST 201 -CustomerId cus_r -Timestamp 2026-01-15T12:30:00Z
            Add-UsageStorage 1073741824 10 -CustomerId cus_r -Timestamp 2026-01-10T00:00:00Z
            Add-UsageApiRequest /users GET 200 -CustomerId cus_other -Timestamp 2026-01-20T00:00:00Z
            """);
    }

    public void Dispose() => _host.Dispose();

    [Fact]
    public void GetUsage_ForAMonth_GivesOneTypedRowPerService()
    {
        var rows = _host.Run("Get-Usage 2026-01-01 2026-01-31 -CustomerId cus_r").Select(o => (UsageSummary)o.BaseObject).ToList();
        Assert.Equal(new[] { ("api", 3m, 0.0003m), ("storage", 10m, 0.01m) }, rows.Select(r => (r.Service, r.Quantity, r.Cost)));
        Assert.All(rows, r => Assert.Equal("USD", r.Currency));
    }

    [Fact]
    public void GetUsage_Grouped_HasTheGroupedTypeName()
    {
        var rows = _host.Run("Get-Usage 2026-01-01 2026-01-31 -CustomerId cus_r -Service api -GroupBy status");
        Assert.Equal(new[] { "200", "201", "500" }, rows.Select(r => ((UsageSummary)r.BaseObject).Group));
        Assert.Equal("NSelf.Usage.UsageSummary#Grouped", rows[0].TypeNames[0]);
    }

    [Fact]
    public void GetUsage_AllCustomers_GivesARowPerCustomer()
    {
        var rows = _host.Run("Get-Usage 2026-01-01 2026-01-31 -AllCustomers -Service api").Select(o => (UsageSummary)o.BaseObject).ToList();
        Assert.Equal(new[] { ("cus_other", 1L), ("cus_r", 3L) }, rows.Select(r => (r.CustomerId, r.Events)));
    }

    // -Period and -Start/-End are parameter sets of their own, so the binder refuses the mix before
    // the command runs. The exact id matters: any error at all (a misspelt command's
    // CommandNotFoundException included) must not pass for this one.
    [Theory]
    [InlineData("Get-Usage -Period LastMonth -CustomerId cus_r -Start 2026-01-01")]
    [InlineData("Get-Usage -Period LastMonth -CustomerId cus_r -End 2026-01-31")]
    public void GetUsage_PeriodWithStartOrEnd_IsRefusedByParameterBinding(string script)
    {
        var result = _host.Invoke(script);
        var error = Assert.Single(result.Errors);
        Assert.Equal("AmbiguousParameterSet,NSelf.Usage.Commands.GetUsageCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.IsType<ParameterBindingException>(error.Exception);
        Assert.Empty(result.Output);
    }

    [Fact]
    public void GetUsage_CustomerIdAndAllCustomers_IsInvalidArgument()
    {
        var result = _host.Invoke("Get-Usage -CustomerId cus_r -AllCustomers");
        var error = Assert.Single(result.Errors);
        Assert.Equal("InvalidArgument,NSelf.Usage.Commands.GetUsageCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.Empty(result.Output);
    }

    [Fact]
    public void GetUsageAggregate_Monthly_GivesOneBucketPerMonthWithStatistics()
    {
        var rows = _host.Run("Get-UsageAggregate Monthly 2026-01-01 2026-03-31 -CustomerId cus_r -Service api").Select(o => (UsageAggregate)o.BaseObject).ToList();
        var january = Assert.Single(rows);
        Assert.Equal((3L, 3m, 1m, 1m, 1m), (january.Events, january.Total, january.Average, january.Minimum, january.Maximum));
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), january.Period);
    }

    [Fact]
    public void GetUsageRecord_StreamsTypedRecordsOldestFirst()
    {
        var records = _host.Run("Get-UsageRecord -CustomerId cus_r -Service api").Select(o => (UsageRecord)o.BaseObject).ToList();
        Assert.Equal(3, records.Count);
        Assert.True(records.Zip(records.Skip(1)).All(p => p.First.Timestamp <= p.Second.Timestamp));
    }

    [Fact]
    public void Tables_UseTheDefaultViews()
    {
        var text = string.Join("\n", _host.Run("Get-Usage 2026-01-01 2026-01-31 -CustomerId cus_r | Out-String -Width 200").Select(o => o.ToString()));
        // Figures first, so a narrow console cuts names, never money (issue 17).
        Assert.Matches(@"Quantity\s+Unit\s+Events\s+Cost\s+Currency\s+Service\s+CustomerId", text);
        // A table is display: money to the currency's minor unit (the 0.0003 cost shows as 0.00; the
        // object keeps it exactly), in the session culture (0,00 under de-DE).
        var cost = System.Text.RegularExpressions.Regex.Escape(0.00m.ToString("N2", System.Globalization.CultureInfo.CurrentCulture));
        Assert.Matches(@"3\s+requests\s+3\s+" + cost + @"\s+USD\s+api\s+cus_r", text);
    }

    [Fact]
    public void Sessions_InTwoRunspaces_DoNotShareSettings()
    {
        using var other = new PowerShellHost();
        _host.Run("Set-UsageConfiguration -CustomerId cus_one -TimeZone Asia/Tokyo");
        other.Run("Set-UsageConfiguration -CustomerId cus_two");
        Assert.Equal(("cus_one", "Asia/Tokyo"), (_host.Single<UsageConfiguration>("Get-UsageConfiguration").CustomerId, _host.Single<UsageConfiguration>("Get-UsageConfiguration").TimeZone));
        Assert.Equal(("cus_two", "UTC"), (other.Single<UsageConfiguration>("Get-UsageConfiguration").CustomerId, other.Single<UsageConfiguration>("Get-UsageConfiguration").TimeZone));
        Assert.NotEqual(_host.Single<UsageStore>("Get-UsageStore").Location, other.Single<UsageStore>("Get-UsageStore").Location);
    }
}
