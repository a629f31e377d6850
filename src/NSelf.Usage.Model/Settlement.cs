namespace NSelf.Usage;

/// <summary>What a ledger entry records (Get-BillingLedger).</summary>
public enum LedgerEntryKind
{
    /// <summary>An invoice was finalized: its total became owed.</summary>
    Invoiced,
    /// <summary>Prepaid credit of a grant was put on an invoice when it was finalized.</summary>
    CreditApplied,
    /// <summary>Credit applied to an invoice went back to its grant when the invoice was voided.</summary>
    CreditReturned,
    /// <summary>A payment of an invoice (Set-BillingInvoice -Paid).</summary>
    Payment,
    /// <summary>A credit note took an amount off what an invoice owed.</summary>
    CreditNote,
    /// <summary>An invoice was voided: what it still owed is owed no more.</summary>
    Void,
    /// <summary>Prepaid credit was granted (Add-BillingCredit, or a credit note on a paid invoice).</summary>
    Grant,
    /// <summary>The unused rest of a grant was removed (Remove-BillingCredit).</summary>
    GrantRemoved,
}

/// <summary>One entry of the append-only ledger of payments, voids, credit notes and credits.</summary>
public sealed class BillingLedgerEntry
{
    public required long EntryId { get; init; }
    public required string CustomerId { get; init; }
    public required LedgerEntryKind Kind { get; init; }
    /// <summary>Always positive; the kind says which way it counts.</summary>
    public required decimal Amount { get; init; }
    public required string Currency { get; init; }
    public string? InvoiceId { get; init; }
    public string? InvoiceNumber { get; init; }
    /// <summary>The grant the entry grants, spends, returns to or removes from.</summary>
    public long? GrantId { get; init; }
    public string? CreditNoteNumber { get; init; }
    /// <summary>A payment's reference (bank transfer id, cheque number).</summary>
    public string? Reference { get; init; }
    /// <summary>Why: a void's or credit note's reason, a grant's description.</summary>
    public string? Reason { get; init; }
    /// <summary>When it happened (a payment's -PaidAt); RecordedAt is when it was written.</summary>
    public required DateTimeOffset EffectiveAt { get; init; }
    public required DateTimeOffset RecordedAt { get; init; }
    /// <summary>Who wrote it: user@host of the writing process (and the database role on PostgreSQL).</summary>
    public required string RecordedBy { get; init; }
}

public enum CreditGrantStatus
{
    /// <summary>Has credit left and has not expired.</summary>
    Active,
    /// <summary>All of it was applied to invoices.</summary>
    Spent,
    /// <summary>Its expiry has passed; what was left of it is never applied.</summary>
    Expired,
    /// <summary>Its unused rest was removed by Remove-BillingCredit.</summary>
    Removed,
}

/// <summary>Prepaid credit granted to a customer (Add-BillingCredit), with what is left of it.</summary>
public sealed class BillingCreditGrant
{
    public required long GrantId { get; init; }
    public required string CustomerId { get; init; }
    public required string Currency { get; init; }
    /// <summary>What was granted.</summary>
    public required decimal Amount { get; init; }
    /// <summary>What is left to apply: the grant less what invoices used and what was removed (0 once expired).</summary>
    public required decimal Remaining { get; init; }
    public required CreditGrantStatus Status { get; init; }
    /// <summary>From this instant it is never applied; null: it does not expire.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }
    /// <summary>Among grants expiring at the same time, a lower number is applied first.</summary>
    public required int Priority { get; init; }
    public string? Description { get; init; }
    /// <summary>The credit note it came from, when crediting a paid invoice made it.</summary>
    public string? CreditNoteNumber { get; init; }
    public required DateTimeOffset GrantedAt { get; init; }
}

/// <summary>A customer's prepaid credit in one currency (Get-BillingBalance).</summary>
public sealed class BillingBalance
{
    public required string CustomerId { get; init; }
    public required string Currency { get; init; }
    /// <summary>What the customer's active grants have left: the credit the next invoice can use.</summary>
    public required decimal Balance { get; init; }
    /// <summary>Every grant in the currency, the soonest to be applied first.</summary>
    public required IReadOnlyList<BillingCreditGrant> Grants { get; init; }
}

/// <summary>
/// A credit note (New-BillingCreditNote): a numbered document that takes part of a finalized
/// invoice back, at the invoice's tax rate. What the invoice still owed is reduced; the rest
/// becomes prepaid credit of the customer.
/// </summary>
public sealed class BillingCreditNote
{
    public required string CreditNoteId { get; init; }
    /// <summary>From the seller's gapless series of credit notes (the invoice prefix and CN-: INV-CN-000001).</summary>
    public required string CreditNoteNumber { get; init; }
    public required string InvoiceId { get; init; }
    public string? InvoiceNumber { get; init; }
    public required string CustomerId { get; init; }
    public required string Currency { get; init; }
    /// <summary>The net amount credited.</summary>
    public required decimal Subtotal { get; init; }
    /// <summary>The invoice's rate, in percent.</summary>
    public required decimal TaxRate { get; init; }
    public required decimal Tax { get; init; }
    /// <summary>What is credited in all: Subtotal plus Tax.</summary>
    public required decimal Total { get; init; }
    /// <summary>The part of Total taken off what the invoice still owed.</summary>
    public required decimal AppliedToInvoice { get; init; }
    /// <summary>The part of Total that became prepaid credit (the invoice owed less, or was paid).</summary>
    public required decimal CreditedToBalance { get; init; }
    public required string Reason { get; init; }
    public required IReadOnlyList<BillingCreditNoteLine> Lines { get; init; }
    public required DateTimeOffset IssuedAt { get; init; }
    public required string IssuedBy { get; init; }
}

/// <summary>One line of a credit note, naming the invoice line it credits (none: the invoice as a whole).</summary>
public sealed class BillingCreditNoteLine
{
    public required int LineNumber { get; init; }
    public int? InvoiceLineNumber { get; init; }
    public required string Description { get; init; }
    /// <summary>The units credited, for a credit of a quantity.</summary>
    public decimal? Quantity { get; init; }
    public string? Unit { get; init; }
    public decimal? UnitPrice { get; init; }
    /// <summary>The net amount credited.</summary>
    public required decimal Amount { get; init; }
}
