using System.Globalization;
using System.Management.Automation;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Issues a credit note of a finalized invoice: an amount (tax included) of the invoice or of one of
/// its lines, or a quantity of a line at its price; tax is taken back at the invoice's rate, and
/// never more than was invoiced. What the invoice still owed is reduced; the rest becomes the
/// customer's prepaid credit. Numbered from the seller's credit note series; it cannot be undone.
/// </summary>
[Cmdlet(VerbsCommon.New, "BillingCreditNote", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = AmountSet)]
[OutputType(typeof(BillingCreditNote))]
public sealed class NewBillingCreditNoteCommand : BillingCmdlet
{
    private const string AmountSet = "Amount";
    private const string QuantitySet = "Quantity";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.InvoiceIdCompleter))]
    [AllowEmptyString, AllowNull]
    public string InvoiceId { get; set; } = "";

    /// <summary>What to credit, tax included, in the invoice's currency. A number or plain invariant text such as '5.60'.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AmountSet)]
    [AllowNull]
    public object? Amount { get; set; }

    /// <summary>The invoice line credited (its LineNumber); with -Amount, a part of that line.</summary>
    [Parameter(ParameterSetName = AmountSet)]
    [Parameter(Mandatory = true, ParameterSetName = QuantitySet)]
    [AllowNull]
    public object? Line { get; set; }

    /// <summary>The units of the line to credit, at the line's price.</summary>
    [Parameter(Mandatory = true, ParameterSetName = QuantitySet)]
    [AllowNull]
    public object? Quantity { get; set; }

    /// <summary>Why: printed on the credit note and kept in the ledger.</summary>
    [Parameter(Mandatory = true)]
    [AllowEmptyString, AllowNull]
    public string Reason { get; set; } = "";

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var id = CustomerAccounts.InvoiceId(InvoiceId);
            decimal? amount = ParameterSetName == AmountSet ? PowerShellValues.Amount(Amount, "The credit") : null;
            int? line = null;
            if (MyInvocation.BoundParameters.ContainsKey(nameof(Line)))
            {
                var number = PowerShellValues.WholeNumber(Line, "The line");
                line = number is < 1 or > int.MaxValue
                    ? throw new UsageException(ErrorIds.InvoiceLineNotFound, UsageErrorKind.InvalidArgument, string.Create(CultureInfo.InvariantCulture, $"-Line is {number}; invoice lines are numbered from 1."), number)
                    : (int)number;
            }
            decimal? quantity = ParameterSetName == QuantitySet ? PowerShellValues.Quantity(Quantity) : null;
            var what = amount is { } a ? string.Create(CultureInfo.InvariantCulture, $"Issue a credit note of {a}") : string.Create(CultureInfo.InvariantCulture, $"Issue a credit note of {quantity} unit(s) of line {line}");
            if (!ShouldProcess(id, what + " (it is numbered and cannot be undone)"))
                return;
            var note = Accounts.CreditNote(id, amount, line, quantity, Reason);
            WriteVerbose(string.Create(CultureInfo.InvariantCulture,
                $"Credit note {note.CreditNoteNumber} of invoice {note.InvoiceNumber ?? note.InvoiceId}: {note.Total} {note.Currency} ({note.AppliedToInvoice} off what it owed, {note.CreditedToBalance} to the customer's credit)."));
            WriteObject(note);
        });
    }
}
