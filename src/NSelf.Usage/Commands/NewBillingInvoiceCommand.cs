using System.Globalization;
using System.Management.Automation;
using NSelf.Usage.Engine.Time;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Creates the draft invoice of a period (bash: billing_generate_invoice); issuing it again
/// returns the same invoice. Default period: the customer's last closed billing period.
/// </summary>
[Cmdlet(VerbsCommon.New, "BillingInvoice", SupportsShouldProcess = true)]
[OutputType(typeof(BillingInvoice))]
public sealed class NewBillingInvoiceCommand : BillingCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    public string? CustomerId { get; set; } = NotGivenCustomerId;

    [Parameter(Position = 1)]
    public object? Start { get; set; }

    /// <summary>End of the period (exclusive); a date-only end covers that whole day.</summary>
    [Parameter(Position = 2)]
    public object? End { get; set; }

    /// <summary>The zone of offset-less -Start and -End (default: the session's, else UTC).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completion.TimeZoneCompleter))]
    public string? TimeZone { get; set; }

    /// <summary>Regenerate the period's draft from current usage (a finalized invoice never changes).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    // Customers invoiced so far in this pipeline: a bar from the second on (one invoice is quick).
    private int _invoiced;
    private ProgressRecord? _progress;

    protected override void ProcessRecord()
    {
        if (_invoiced > 0)
        {
            _progress ??= new ProgressRecord(6, "New-BillingInvoice", "Creating draft invoices");
            _progress.StatusDescription = $"{_invoiced:N0} customers done";
            WriteProgress(_progress);
        }
        _invoiced++;
        // Each invoice is written in one transaction: a stop keeps the invoices written before it,
        // each whole, and rolls back the one being written (docs/New-BillingInvoice.md).
        Try(() =>
        {
            var customer = Customer(CustomerId);
            if ((Start is null) != (End is null))
                throw new UsageException(ErrorIds.InvalidDateRange, UsageErrorKind.InvalidArgument, "Give both -Start and -End, or neither for the last closed billing period.", Start ?? End);
            var zone = ResolveZone(TimeZone);
            DateTimeOffset? start = Start is null ? null : ToInstant(Start, zone);
            DateTimeOffset? end = End is null ? null : ToInstant(End, zone, TimeBound.End);
            var invoicing = Invoicing;
            // Built once: the draft -WhatIf describes is the one saved.
            var draft = invoicing.Preview(customer, start, end, DefaultZone);
            var preview = draft.Invoice;
            var action = string.Create(CultureInfo.InvariantCulture,
                $"Create draft invoice {preview.InvoiceId} for {preview.PeriodStart:yyyy-MM-dd} to {preview.PeriodEnd:yyyy-MM-dd}: {preview.Lines.Count} line(s), total {preview.Total} {preview.Currency}");
            if (!ShouldProcess(customer, action))
                return;
            var saved = invoicing.Save(draft, Force);
            if (!saved.Written)
                WriteVerbose($"Invoice {saved.Invoice.InvoiceId} already exists for this period ({saved.Invoice.Status}); it is returned unchanged.");
            else
                WriteVerbose($"Invoice {saved.Invoice.InvoiceId} for {customer}, {Instant(saved.Invoice.PeriodStart)} to {Instant(saved.Invoice.PeriodEnd)}: {saved.Invoice.Lines.Count:N0} line(s) written, total {saved.Invoice.Total} {saved.Invoice.Currency}.");
            WriteObject(saved.Invoice);
        });
    }

    private protected override void Finish()
    {
        if (_progress is null)
            return;
        _progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(_progress);
    }
}
