using System.Globalization;
using System.Management.Automation;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Records what happened to a finalized invoice (bash: invoice_mark_paid, invoice_void): a payment
/// (-Paid; with -Amount a part of what is due), or a void (-Void -Reason), which makes its period
/// billable again. Each is an entry of the append-only ledger (Get-BillingLedger): neither can be
/// undone, so both ask first.
/// </summary>
[Cmdlet(VerbsCommon.Set, "BillingInvoice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = PaidSet)]
[OutputType(typeof(BillingInvoice))]
public sealed class SetBillingInvoiceCommand : BillingCmdlet
{
    private const string PaidSet = "Paid";
    private const string VoidSet = "Void";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.InvoiceIdCompleter))]
    [AllowEmptyString, AllowNull]
    public string InvoiceId { get; set; } = "";

    /// <summary>Records a payment: of what is due, or of -Amount.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PaidSet)]
    public SwitchParameter Paid { get; set; }

    /// <summary>What was paid, in the invoice's currency; default: everything still due. A number or plain invariant text such as '20.00'.</summary>
    [Parameter(ParameterSetName = PaidSet, ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    public object? Amount { get; set; }

    /// <summary>The payment's currency, checked against the invoice's (a EUR payment is never recorded on a USD invoice).</summary>
    [Parameter(ParameterSetName = PaidSet, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString, AllowNull]
    public string? Currency { get; set; }

    /// <summary>When it was paid (default: now); offset-less times are in -TimeZone.</summary>
    [Parameter(ParameterSetName = PaidSet)]
    [AllowNull]
    public object? PaidAt { get; set; }

    /// <summary>The bank transfer's or cheque's reference, kept in the ledger.</summary>
    [Parameter(ParameterSetName = PaidSet, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString, AllowNull]
    public string? PaymentReference { get; set; }

    /// <summary>Voids a finalized invoice nothing was paid or credited on.</summary>
    [Parameter(Mandatory = true, ParameterSetName = VoidSet)]
    public SwitchParameter Void { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = VoidSet)]
    [AllowEmptyString, AllowNull]
    public string Reason { get; set; } = "";

    /// <summary>The zone of an offset-less -PaidAt (default: the session's, else UTC).</summary>
    [Parameter(ParameterSetName = PaidSet)]
    [ArgumentCompleter(typeof(Completion.TimeZoneCompleter))]
    public string? TimeZone { get; set; }

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var id = CustomerAccounts.InvoiceId(InvoiceId);
            var accounts = Accounts;
            BillingInvoice invoice;
            if (ParameterSetName == VoidSet)
            {
                if (!ShouldProcess(id, "Void the invoice (its period becomes billable again; this cannot be undone)"))
                    return;
                invoice = accounts.Void(id, Reason);
                WriteVerbose($"Invoice {invoice.InvoiceNumber ?? id} of {invoice.CustomerId} voided; credits returned: {Text(invoice.CreditsApplied)} {invoice.Currency}.");
            }
            else
            {
                decimal? amount = MyInvocation.BoundParameters.ContainsKey(nameof(Amount)) ? PowerShellValues.Amount(Amount, "The payment") : null;
                DateTimeOffset? paidAt = MyInvocation.BoundParameters.ContainsKey(nameof(PaidAt))
                    ? ToInstant(PaidAt ?? throw new UsageException(ErrorIds.InvalidTimestamp, UsageErrorKind.InvalidArgument, "-PaidAt is empty: give a time, or leave it out for now.", null), ResolveZone(TimeZone))
                    : null;
                if (MyInvocation.BoundParameters.ContainsKey(nameof(Currency)) && string.IsNullOrWhiteSpace(Currency))
                    throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, "-Currency is empty: give the payment's currency, or leave it out.", Currency);
                if (MyInvocation.BoundParameters.ContainsKey(nameof(PaymentReference)) && PaymentReference is null)
                    throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, "-PaymentReference is empty; leave it out instead.", null);
                var what = amount is { } a ? $"Record a payment of {Text(a)}" : "Record a payment of what is due";
                if (!ShouldProcess(id, what + " (ledger entries cannot be undone)"))
                    return;
                invoice = accounts.Pay(id, amount, Currency, paidAt, PaymentReference);
                WriteVerbose($"Payment recorded on invoice {invoice.InvoiceNumber ?? id} of {invoice.CustomerId}: paid {Text(invoice.AmountPaid)}, due {Text(invoice.AmountDue)} {invoice.Currency}; status {invoice.Status}.");
            }
            WriteObject(invoice);
        });
    }

    private static string Text(decimal amount) => amount.ToString(CultureInfo.InvariantCulture);
}
