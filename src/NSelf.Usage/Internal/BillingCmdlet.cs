using System.Management.Automation;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;

namespace NSelf.Usage.Internal;

/// <summary>The base of the billing commands: the store's plans, subscriptions and settings.</summary>
public abstract class BillingCmdlet : UsageCmdlet
{
    internal Subscriptions Book => new(Store, Session.Time);

    internal AlertThresholds Thresholds => AlertThresholds.From(Environment);

    internal Invoicing Invoicing => new(Book, InvoiceBuilder.TaxRate(Environment), InvoiceBuilder.DueDays(Environment));

    internal CustomerAccounts Accounts => new(Book);

    /// <summary>A sender of alert deliveries with this session's settings (USAGE_ALERT_*, SMTP).</summary>
    internal Engine.Alerts.AlertDeliverer NewDeliverer() =>
        new(Store, Session.Time, Engine.Alerts.AlertDeliverySettings.From(Environment), Environment);

    /// <summary>The zone of calendar months for customers without a subscription.</summary>
    internal TimeZoneInfo DefaultZone => ResolveZone(null);

    internal string Customer(string? parameter)
    {
        var customer = Engine.Ingestion.TextRules.CustomerId(ResolveCustomerId(parameter));
        VerboseOnce($"Customer: {customer}.");
        return customer;
    }

    /// <summary>One customer, or null for -AllCustomers; both at once is refused as Get-Usage refuses it.</summary>
    internal string? CustomerOrAll(string? parameter, bool allCustomers) => Filter(parameter, allCustomers, null).CustomerId;
}
