namespace NSelf.Usage.Engine.Reporting;

/// <summary>
/// What a quantity of a service costs a customer over an interval, and in which currency. Reports
/// ask; the plans' pricing (Accounts/UsageCosts.cs) or the services' display prices answer.
/// </summary>
public interface IUsageCosts
{
    (decimal Cost, string Currency) Price(string customerId, string service, decimal quantity, DateTimeOffset start, DateTimeOffset end);

    /// <summary>Lets a pricing load what it needs for many customers at once, before their rows are priced.</summary>
    void Prepare(IEnumerable<string> customerIds, DateTimeOffset start, DateTimeOffset end)
    {
    }
}
