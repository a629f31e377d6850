using System.Globalization;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Exports;
using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Tests.Culture;

/// <summary>
/// Stored identifiers and written documents do not depend on the session culture. The cultures
/// here are the ones that differ where en-US, de-DE, fr-FR and tr-TR agree: th-TH counts years in
/// the Thai Buddhist calendar (2026 is 2569) and fi-FI separates hours and minutes with a dot.
/// </summary>
public sealed class CultureTests
{
    [Theory]
    [InlineData("th-TH")]
    [InlineData("fi-FI")]
    [InlineData("tr-TR")]
    public void InvoiceId_IsTheSameInEveryCulture(string culture)
    {
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var end = start.AddMonths(1);
        var invariant = InCulture("en-US", () => InvoiceBuilder.InvoiceId("cus_culture", start, end));
        Assert.StartsWith("INV-20260101-", invariant, StringComparison.Ordinal);
        Assert.Equal(invariant, InCulture(culture, () => InvoiceBuilder.InvoiceId("cus_culture", start, end)));
    }

    [Theory]
    [InlineData("th-TH")]
    [InlineData("fi-FI")]
    public void UsageReport_WritesDatesInTheGregorianIsoForm(string culture)
    {
        var data = new UsageReportData("Usage report", null, new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero),
            TimeZoneInfo.Utc, [], [], [], [], null, new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero), [], [], new DateTimeOffset(2026, 2, 1, 10, 30, 0, TimeSpan.Zero));
        var html = InCulture(culture, () => UsageReportDocument.Html(data));
        Assert.Contains("2026-01-01 to 2026-01-31", html, StringComparison.Ordinal);
        Assert.Contains("generated 2026-02-01 10:30 UTC", html, StringComparison.Ordinal);
        Assert.Equal(InCulture("en-US", () => UsageReportDocument.Html(data)), html);
    }

    // Messages are English and quote numbers a user may type back: 65,536 in every culture, not
    // 65.536 (de-DE) or 65 536 with a narrow no-break space (fr-FR).
    [Theory]
    [InlineData("de-DE")]
    [InlineData("fr-FR")]
    [InlineData("tr-TR")]
    public void ErrorMessages_WriteNumbersInTheInvariantForm(string culture)
    {
        var json = "{\"k\":\"" + new string('x', Metadata.MaximumBytes) + "\"}";
        var metadata = InCulture(culture, () => Assert.Throws<UsageException>(() => Metadata.Normalize(json)));
        Assert.Contains("the limit is 65,536 bytes", metadata.Message, StringComparison.Ordinal);
        var text = InCulture(culture, () => Assert.Throws<UsageException>(() => TextRules.Text(new string('x', 1500), "Endpoint", ErrorIds.InvalidArgument, 1000)));
        Assert.Equal("Endpoint is 1,500 characters long; the limit is 1,000.", text.Message);
    }

    internal static T InCulture<T>(string name, Func<T> action)
    {
        var (culture, ui) = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture);
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo(name);
            return action();
        }
        finally
        {
            (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture) = (culture, ui);
        }
    }
}
