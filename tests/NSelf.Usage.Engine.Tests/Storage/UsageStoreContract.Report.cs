using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Exports;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// The HTML usage report (issue 14, fix 14), read back from the generated page as a reader
/// would read it: the numbers in its cards, the labels of its bars, the period its quotas are of.
/// </summary>
public abstract partial class UsageStoreContract
{
    private string Report(string? customer, DateTimeOffset start, DateTimeOffset end, TimeZoneInfo? zone = null) =>
        UsageReportDocument.Html(UsageReportDocument.Gather(Store, Book, customer is null ? UsageFilter.AllCustomers() : new UsageFilter(customer),
            start, end, zone ?? TimeZoneInfo.Utc, Thresholds));

    /// <summary>The text of a card's value, found by its caption.</summary>
    private static string Card(string html, string caption)
    {
        var match = Regex.Match(html, $"""<div class="muted">{Regex.Escape(caption)}</div><div class="value">(.*?)</div>""");
        Assert.True(match.Success, $"The report has no '{caption}' card.");
        return WebUtility.HtmlDecode(Regex.Replace(match.Groups[1].Value, "<[^>]+>", "")).Trim();
    }

    /// <summary>What a reader sees of a piece of HTML: its text without tags or entities.</summary>
    private static string Text(string html) => WebUtility.HtmlDecode(Regex.Replace(html, "<[^>]+>", "")).Trim();

    /// <summary>The bars of one chart: (label, text beside the bar).</summary>
    private static List<(string Label, string Text)> Bars(string html, string chart)
    {
        var start = html.IndexOf($"data-chart=\"{chart}\"", StringComparison.Ordinal);
        Assert.True(start >= 0, $"The report has no chart '{chart}'.");
        var end = html.IndexOf("</section>", start, StringComparison.Ordinal);
        var block = html[start..end];
        // A chart ends where the next one starts.
        var next = block.IndexOf("data-chart=", 12, StringComparison.Ordinal);
        if (next > 0)
            block = block[..next];
        return Regex.Matches(block, """<div class="bar-label">(.*?)</div>.*?<div class="bar-text">(.*?)</div>""")
            .Select(m => (Text(m.Groups[1].Value), Text(m.Groups[2].Value))).ToList();
    }

    private void TwoCustomersInOctober()
    {
        Use("cus_a", "api", 3000, Clock.Utc(2026, 10, 5, 10), events: 3);
        Use("cus_a", "storage", 48, Clock.Utc(2026, 10, 6, 11));
        Use("cus_b", "api", 1000, Clock.Utc(2026, 10, 7, 12));
    }

    [SkippableFact]
    public void ReportOfEveryCustomer_CountsDistinctServices_AndCustomersSeparately()
    {
        TwoCustomersInOctober();
        var html = Report(null, Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1));
        // Two services (api, storage) used by two customers: three customer-service pairs.
        Assert.Equal("2", Card(html, "Services used"));
        Assert.Equal("2", Card(html, "Customers"));
        Assert.Equal("5", Card(html, "Events"));
    }

    [SkippableFact]
    public void ReportOfEveryCustomer_LabelsEachCostBarWithItsCustomerAndService()
    {
        TwoCustomersInOctober();
        var bars = Bars(Report(null, Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1)), "cost");
        Assert.Equal(new[] { "cus_a · api", "cus_a · storage", "cus_b · api" }, bars.Select(b => b.Label));
        // One customer's report needs no customer in its labels.
        Assert.Equal(new[] { "api", "storage" }, Bars(Report("cus_a", Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1)), "cost").Select(b => b.Label));
    }

    [SkippableFact]
    public void ReportOfAPastMonth_ShowsQuotaUseOfThatMonthsBillingPeriod_NotTheCurrentOne()
    {
        // Now is 2026-11-27: October is a closed billing period of a starter subscription from October 1.
        Book.Subscribe("cus_q", "starter", BillingCycle.Monthly, Clock.Utc(2026, 10, 1), null);
        Use("cus_q", "api", 120_000, Clock.Utc(2026, 10, 20), events: 10);
        Use("cus_q", "api", 1_000, Clock.Utc(2026, 11, 20));

        var october = Report("cus_q", Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1));
        var api = Assert.Single(Bars(october, "quota"), b => b.Label == "api");
        Assert.StartsWith("120000 / 100000 requests (120%", api.Text, StringComparison.Ordinal);
        Assert.Contains("Billing period 2026-10-01 to 2026-10-31: the one containing 2026-10-31, the last day of this report", october, StringComparison.Ordinal);
        Assert.DoesNotContain("2026-11-", Section(october, "Quota use"), StringComparison.Ordinal);
        Assert.StartsWith("120%", Card(october, "Highest quota use"), StringComparison.Ordinal);

        // This month's report still shows this month's period.
        var november = Report("cus_q", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1));
        Assert.StartsWith("1000 / 100000 requests (1%", Assert.Single(Bars(november, "quota"), b => b.Label == "api").Text, StringComparison.Ordinal);
        Assert.Contains("Billing period 2026-11-01 to 2026-11-30: the one containing 2026-11-27, today", november, StringComparison.Ordinal);

        // A report that has not begun shows no quotas, and leaves the subscription in November.
        Assert.DoesNotContain("Quota use", Report("cus_q", Clock.Utc(2026, 12, 1), Clock.Utc(2027, 1, 1)), StringComparison.Ordinal);
        Assert.Equal(Clock.Utc(2026, 11, 1), Store.GetSubscriptions("cus_q").Single().CurrentPeriodStart);
    }

    private static string Section(string html, string heading)
    {
        var start = html.IndexOf($"<h2>{heading}", StringComparison.Ordinal);
        Assert.True(start >= 0, $"The report has no section '{heading}'.");
        return html[start..html.IndexOf("</section>", start, StringComparison.Ordinal)];
    }

    [SkippableFact]
    public void BusiestHours_AreRankedPerService_EachInItsOwnUnit()
    {
        // 5,000 GB-hours of storage is not "busier" than 100 API requests: they are not comparable.
        Use("cus_a", "api", 100, Clock.Utc(2026, 10, 5, 10), events: 100);
        Use("cus_a", "api", 40, Clock.Utc(2026, 10, 5, 13), events: 40);
        Use("cus_a", "storage", 5000, Clock.Utc(2026, 10, 5, 11));
        var html = Report("cus_a", Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1));
        var charts = Regex.Matches(Section(html, "Busiest hours"), "data-chart=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(new[] { "peaks-api", "peaks-storage" }, charts);
        Assert.Equal(new[] { ("2026-10-05 10:00", "100 requests (100 events)"), ("2026-10-05 13:00", "40 requests (40 events)") }, Bars(html, "peaks-api"));
        Assert.Equal(new[] { ("2026-10-05 11:00", "5000 GB-hours (1 event)") }, Bars(html, "peaks-storage"));
    }

    [SkippableFact]
    public void CostCard_IncludesTheBaseFee_ProratedAsTheInvoiceOfTheSameDatesWould()
    {
        Book.Subscribe("cus_f", "starter", BillingCycle.Monthly, Clock.Utc(2026, 10, 1), null);
        Use("cus_f", "api", 120_000, Clock.Utc(2026, 10, 10), events: 10);   // 20,000 over the allowance: 2.00
        var invoicing = new Invoicing(Book, 0m);

        var whole = Report("cus_f", Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1));
        Assert.Equal("31.00 USD", Card(whole, "Cost"));
        Assert.Equal("29.00 USD base fee + 2.00 USD usage", Detail(whole, "Cost"));
        Assert.Equal(invoicing.Preview("cus_f", Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1), TimeZoneInfo.Utc).Invoice.Subtotal,
            decimal.Parse(Card(whole, "Cost").Split(' ')[0], CultureInfo.InvariantCulture));

        // Half of October: 15 of 31 days of the fee, and the usage of those days (all of it) priced as one period.
        var half = Report("cus_f", Clock.Utc(2026, 10, 1), Clock.Utc(2026, 10, 16));
        var invoice = invoicing.Preview("cus_f", Clock.Utc(2026, 10, 1), Clock.Utc(2026, 10, 16), TimeZoneInfo.Utc).Invoice;
        Assert.Equal(invoice.Subtotal.ToString("0.00", CultureInfo.InvariantCulture) + " USD", Card(half, "Cost"));
        Assert.Equal("14.03 USD base fee + 2.00 USD usage", Detail(half, "Cost"));

        // Every customer: the fee of each subscribed customer, even one with no usage in the interval.
        Book.Subscribe("cus_g", "pro", BillingCycle.Monthly, Clock.Utc(2026, 10, 1), null);
        var everyone = Report(null, Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1));
        Assert.Equal("130.00 USD", Card(everyone, "Cost"));
        Assert.Equal("128.00 USD base fees + 2.00 USD usage", Detail(everyone, "Cost"));
    }

    /// <summary>The breakdown line under a card's value.</summary>
    private static string Detail(string html, string caption)
    {
        var match = Regex.Match(html, $"""<div class="muted">{Regex.Escape(caption)}</div><div class="value">.*?</div><div class="detail">(.*?)</div>""");
        Assert.True(match.Success, $"The '{caption}' card has no breakdown.");
        return WebUtility.HtmlDecode(Regex.Replace(match.Groups[1].Value, "<[^>]+>", "")).Trim();
    }

    [SkippableFact]
    public void TermsOverManyCustomers_AreEachCustomersTermsOver()
    {
        // A subscription since October whose plan changed in November, one canceled in November,
        // one started in November, and a customer with no subscription.
        Book.Subscribe("cus_changed", "starter", BillingCycle.Monthly, Clock.Utc(2026, 10, 1), null);
        Book.ChangePlan("cus_changed", "pro");
        Book.Subscribe("cus_canceled", "pro", BillingCycle.Yearly, Clock.Utc(2026, 9, 15), "Europe/Berlin");
        Time.SetUtcNow(Clock.Utc(2026, 11, 20));
        Book.Cancel("cus_canceled", atPeriodEnd: false);
        Book.Subscribe("cus_new", "starter", BillingCycle.Monthly, Clock.Utc(2026, 11, 10), null);
        Time.SetUtcNow(Clock.Utc(2026, 11, 27, 12));
        var customers = new[] { "cus_changed", "cus_canceled", "cus_new", "cus_none" };
        foreach (var (start, end) in new[] { (Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1)), (Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1)), (Clock.Utc(2026, 10, 15), Clock.Utc(2026, 11, 15)) })
        {
            var many = Book.TermsOver(customers, start, end, TimeZoneInfo.Utc);
            var each = customers.Select(c => Book.TermsOver(c, start, end, TimeZoneInfo.Utc)).ToList();
            Assert.Equal(each.Select(t => (t.CustomerId, t.Subscription?.SubscriptionId, t.Plan?.Name, t.BillingPeriod, t.BaseFee, t.Zone.Id, string.Join(",", t.Quotas.Keys.Order()))),
                many.Select(t => (t.CustomerId, t.Subscription?.SubscriptionId, t.Plan?.Name, t.BillingPeriod, t.BaseFee, t.Zone.Id, string.Join(",", t.Quotas.Keys.Order()))));
        }
        // October was starter's, whatever the plan is now.
        Assert.Equal("starter", Book.TermsOver(customers, Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1), TimeZoneInfo.Utc)[0].Plan?.Name);
    }
}
