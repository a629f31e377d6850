using System.Management.Automation;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Where each service's use will end the current billing period: used so far, the projected total
/// with an 80% interval, its cost through the plan's pricing, the quota and the day it will be
/// crossed (docs/Get-UsageForecast.md describes the method and its assumptions).
/// </summary>
[Cmdlet(VerbsCommon.Get, "UsageForecast")]
[OutputType(typeof(UsageForecast))]
public sealed class GetUsageForecastCommand : BillingCmdlet
{
    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(Completion.ServiceNameCompleter))]
    [AllowEmptyString, AllowNull]
    public string? Service { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("customer_id")]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    public string[]? CustomerId { get; set; } = NotGivenCustomerIds;

    /// <summary>Every customer with a subscription or a quota override, in one read.</summary>
    [Parameter]
    public SwitchParameter AllCustomers { get; set; }

    // Per record: each piped customer (Get-BillingCustomer | Get-UsageForecast) is forecast on its own.
    protected override void ProcessRecord()
    {
        foreach (var given in EachCustomerId(CustomerId))
            Try(() =>
            {
                if (MyInvocation.BoundParameters.ContainsKey(nameof(Service)) && string.IsNullOrWhiteSpace(Service))
                    throw new UsageException(ErrorIds.InvalidService, UsageErrorKind.InvalidArgument, "-Service is empty: name a service, or leave -Service out for every one.", Service);
                var service = Service is null ? null : Store.GetServices().Find(Service).Name;
                var book = Book;
                var customer = CustomerOrAll(given, AllCustomers);
                var terms = customer is null ? book.TermsFor(null, DefaultZone) : [book.Terms(customer, DefaultZone)];
                var forecasts = new UsageForecasts(book, DefaultZone).For(terms, service);
                WriteVerbose($"{forecasts.Count:N0} forecast(s) for {terms.Count:N0} customer(s), from up to {Engine.Reporting.UsageForecasting.HistoryDays} whole days of history each.");
                WriteObject(forecasts, enumerateCollection: true);
            });
    }
}
