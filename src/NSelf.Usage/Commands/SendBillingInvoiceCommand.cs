using System.Management.Automation;
using NSelf.Usage.Engine.Exports;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// E-mails a finalized invoice to its customer (bash: invoice_send_email): the customer's copy as
/// the body, the PDF attached, through the seller's SMTP server (Set-BillingProfile -SmtpServer, or
/// $env:BILLING_SMTP_SERVER). Records when and to whom it was sent; an invoice sent before is not
/// sent again without -Force.
/// </summary>
[Cmdlet(VerbsCommunications.Send, "BillingInvoice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(BillingInvoiceDelivery))]
public sealed class SendBillingInvoiceCommand : BillingCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.InvoiceIdCompleter))]
    public string InvoiceId { get; set; } = "";

    /// <summary>The recipients; default the customer's invoice e-mail address, else its e-mail address.</summary>
    [Parameter(Position = 1)]
    [AllowEmptyCollection]
    public string[]? To { get; set; }

    [Parameter]
    [AllowEmptyCollection]
    public string[]? Cc { get; set; }

    /// <summary>The paper of the attached PDF: A4 or Letter. Default: Letter for US and Canadian locales, else A4.</summary>
    [Parameter]
    [ValidateSet("A4", "Letter", IgnoreCase = true)]
    public string? PaperSize { get; set; }

    /// <summary>Send an invoice that was sent (or may have been) before.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var sending = new InvoiceSending(Book, Session.Time, Environment);
            var plan = sending.Plan(InvoiceId, To, Cc, Force);
            var number = plan.Invoice.InvoiceNumber;
            if (!ShouldProcess($"invoice {number} of {plan.Invoice.CustomerId} to {string.Join(", ", plan.To)}", $"Send by e-mail through {plan.Smtp.Endpoint}"))
                return;
            var paper = PaperSize is null ? (InvoicePaperSize?)null : Enum.Parse<InvoicePaperSize>(PaperSize, ignoreCase: true);
            var delivery = sending.Send(plan, Force, DefaultZone, paper);
            WriteVerbose($"Invoice {number} sent to {string.Join(", ", delivery.To)}{(delivery.Cc.Count > 0 ? " (cc " + string.Join(", ", delivery.Cc) + ")" : "")} through {delivery.Server}; Message-ID {delivery.MessageId}.");
            WriteObject(delivery);
        });
    }
}
