using System.Management.Automation;

namespace NSelf.Usage.Tests;

public sealed class TrackingCommandTests : IDisposable
{
    private readonly PowerShellHost _host = new();

    public void Dispose() => _host.Dispose();

    [Fact]
    public void EngineFailure_BecomesAnErrorRecordWithItsIdCategoryAndTarget()
    {
        var result = _host.Invoke("Add-UsageRecord nosuch 1 -CustomerId cus_a");
        var error = Assert.Single(result.Errors);
        Assert.Equal("InvalidService,NSelf.Usage.Commands.AddUsageRecordCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.Equal("nosuch", error.TargetObject);
        Assert.IsType<UsageException>(error.Exception);
    }

    [Fact]
    public void LongPipeline_IsStoredCompletelyInChunks()
    {
        _host.Run("""
            $t = [datetimeoffset]'2026-11-02T00:00:00Z'
            0..12344 | ForEach-Object { [pscustomobject]@{ Service = 'api'; Quantity = 1; Timestamp = $t.AddSeconds($_); EventId = "e$_" } } |
                Add-UsageRecord -CustomerId cus_bulk
            """);
        var usage = _host.Single<UsageSummary>("Get-Usage 2026-11-02 2026-11-02 -CustomerId cus_bulk");
        Assert.Equal((12345L, 12345m), (usage.Events, usage.Quantity));
    }

    [Fact]
    public void PassThru_ForADuplicate_EmitsTheRecordStoredFirst()
    {
        var first = _host.Single<UsageRecord>("Add-UsageRecord api 1 -Metadata @{ try = 1 } -EventId dup-1 -CustomerId cus_a -Timestamp 2026-11-02T10:00:00Z -PassThru");
        var second = _host.Single<UsageRecord>("Add-UsageRecord api 1 -Metadata @{ try = 2 } -EventId dup-1 -CustomerId cus_a -Timestamp 2026-11-02T11:00:00Z -PassThru");
        Assert.Equal(first.Timestamp, second.Timestamp);
        Assert.Equal("{\"try\":1}", second.Metadata);
    }

    [Fact]
    public void Timestamp_AcceptsDateTimeOffsetDateTimeAndText()
    {
        var records = _host.Run("""
            Add-UsageApiRequest /a -CustomerId cus_t -Timestamp ([datetimeoffset]'2026-11-02T10:00:00+02:00') -PassThru
            Add-UsageApiRequest /b -CustomerId cus_t -Timestamp ([datetime]::SpecifyKind([datetime]'2026-11-02 10:00:00', 'Utc')) -PassThru
            Add-UsageApiRequest /c -CustomerId cus_t -Timestamp '2026-11-02 10:00:00' -TimeZone Asia/Tokyo -PassThru
            """).Select(o => ((UsageRecord)o.BaseObject).Timestamp).ToList();
        Assert.Equal(new[]
        {
            new DateTimeOffset(2026, 11, 2, 8, 0, 0, TimeSpan.Zero),
            new DateTimeOffset(2026, 11, 2, 10, 0, 0, TimeSpan.Zero),
            new DateTimeOffset(2026, 11, 2, 1, 0, 0, TimeSpan.Zero),
        }, records);
    }

    [Fact]
    public void Metadata_AcceptsHashtablesObjectsAndJson()
    {
        var metadata = _host.Run("""
            (Add-UsageCompute 60 @{ instance = 't3.medium'; tags = @('a', 'b') } -CustomerId cus_m -PassThru).Metadata
            (Add-UsageCompute 60 ([pscustomobject]@{ instance = 'm5.large'; spot = $true }) -CustomerId cus_m -PassThru).Metadata
            (Add-UsageCompute 60 '{"instance":"c6g.xlarge"}' -CustomerId cus_m -PassThru).Metadata
            """).Select(o => (string)o.BaseObject).ToList();
        Assert.Contains("\"tags\":[\"a\",\"b\"]", metadata[0]);
        Assert.Equal("{\"instance\":\"m5.large\",\"spot\":true,\"seconds\":60}", metadata[1]);
        Assert.Equal("{\"instance\":\"c6g.xlarge\",\"seconds\":60}", metadata[2]);
    }

    [Fact]
    public void WhatIf_WritesNothing()
    {
        _host.Run("Add-UsageApiRequest /a -CustomerId cus_w -WhatIf; Add-UsageRecord -Record 'api:1' -CustomerId cus_w -WhatIf");
        Assert.Empty(_host.Run("Get-UsageRecord -CustomerId cus_w"));
    }

    [Fact]
    public void CustomerId_ComesFromTheSessionThenDotEnv()
    {
        File.WriteAllText(Path.Combine(_host.Directory, ".env"), "NSELF_CUSTOMER_ID=cus_dotenv\n");
        var saved = Environment.GetEnvironmentVariable("NSELF_CUSTOMER_ID");
        Environment.SetEnvironmentVariable("NSELF_CUSTOMER_ID", null);
        try
        {
            Assert.Equal("cus_dotenv", _host.Single<UsageRecord>("Add-UsageApiRequest /a -PassThru").CustomerId);
            _host.Run("Set-UsageConfiguration -CustomerId cus_session");
            Assert.Equal("cus_session", _host.Single<UsageRecord>("Add-UsageApiRequest /a -PassThru").CustomerId);
        }
        finally
        {
            Environment.SetEnvironmentVariable("NSELF_CUSTOMER_ID", saved);
        }
    }
}
