namespace NSelf.Usage;

/// <summary>
/// What kind of failure a <see cref="UsageException"/> is. Cmdlets map it onto PowerShell's
/// ErrorCategory; the engine cannot name that enum because it has no PowerShell reference.
/// </summary>
public enum UsageErrorKind
{
    InvalidArgument,
    InvalidData,
    ObjectNotFound,
    ResourceExists,
    ConnectionError,
    PermissionDenied,
    WriteError,
    ReadError,
    ResourceUnavailable,
    InvalidOperation,
    NotSpecified,
}

/// <summary>
/// A failure with a stable error id. Every error the engine reports to a user is one of these;
/// the cmdlets turn it into an ErrorRecord whose ErrorId is <see cref="ErrorId"/>.
/// </summary>
public sealed class UsageException : Exception
{
    public UsageException(string errorId, UsageErrorKind kind, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
        Target = target;
    }

    /// <summary>The stable identifier scripts can match on, for example <c>InvalidService</c>.</summary>
    public string ErrorId { get; }

    public UsageErrorKind Kind { get; }

    /// <summary>The offending input, reported as the error record's TargetObject.</summary>
    public object? Target { get; }
}

/// <summary>The stable error ids. Scripts match on these, so they never change once shipped.</summary>
public static class ErrorIds
{
    public const string InvalidService = nameof(InvalidService);
    /// <summary>Finalizing an invoice with usage of a service that is not registered (so has no price).</summary>
    public const string UnpricedUsage = nameof(UnpricedUsage);
    public const string InvalidQuantity = nameof(InvalidQuantity);
    public const string InvalidPrice = nameof(InvalidPrice);
    public const string InvalidTimestamp = nameof(InvalidTimestamp);
    public const string InvalidMetadata = nameof(InvalidMetadata);
    public const string InvalidDateRange = nameof(InvalidDateRange);
    public const string InvalidCustomerId = nameof(InvalidCustomerId);
    public const string InvalidEventId = nameof(InvalidEventId);
    public const string InvalidTimeZone = nameof(InvalidTimeZone);
    public const string InvalidRecord = nameof(InvalidRecord);
    public const string InvalidArgument = nameof(InvalidArgument);
    public const string InvalidUnit = nameof(InvalidUnit);
    public const string NoCustomerId = nameof(NoCustomerId);
    public const string CustomerNotFound = nameof(CustomerNotFound);
    public const string CustomerExists = nameof(CustomerExists);
    public const string CustomerRemoved = nameof(CustomerRemoved);
    public const string ServiceExists = nameof(ServiceExists);
    public const string StoreUnavailable = nameof(StoreUnavailable);
    public const string StoreSchemaMismatch = nameof(StoreSchemaMismatch);
    public const string StoreWriteFailed = nameof(StoreWriteFailed);
    public const string AccessDenied = nameof(AccessDenied);
    public const string PlanNotFound = nameof(PlanNotFound);
    public const string SubscriptionExists = nameof(SubscriptionExists);
    public const string SubscriptionNotFound = nameof(SubscriptionNotFound);
    public const string InvoiceNotFound = nameof(InvoiceNotFound);
    public const string InvoiceFinalized = nameof(InvoiceFinalized);
    public const string FinalizationConflict = nameof(FinalizationConflict);
    public const string NoBillingPeriod = nameof(NoBillingPeriod);
    public const string InvoicePeriodOverlap = nameof(InvoicePeriodOverlap);
    /// <summary>An invoice amount beyond nself's billing columns (subtotal, tax and total numeric(10,2)).</summary>
    public const string InvoiceTooLarge = nameof(InvoiceTooLarge);
    public const string CurrencyMismatch = nameof(CurrencyMismatch);
    public const string FileExists = nameof(FileExists);
    public const string ExportFailed = nameof(ExportFailed);
    public const string ArchiveMismatch = nameof(ArchiveMismatch);
    public const string StoreReadFailed = nameof(StoreReadFailed);
    public const string InvalidConnectionString = nameof(InvalidConnectionString);
    /// <summary>Revoke-UsageCustomerAccess of a role-to-customer mapping that does not exist (a typo, most likely).</summary>
    public const string CustomerAccessNotFound = nameof(CustomerAccessNotFound);
    /// <summary>A file path given empty, naming something that is not a file-system path, or a writer's wildcard that matches several files.</summary>
    public const string InvalidPath = nameof(InvalidPath);
    /// <summary>A country that is not an ISO 3166-1 alpha-2 code.</summary>
    public const string InvalidCountry = nameof(InvalidCountry);
    /// <summary>A region that is not a subdivision code (CA, BY, 75), or one of another country (US-CA for a German buyer).</summary>
    public const string InvalidRegion = nameof(InvalidRegion);
    /// <summary>A tax rate below 0 or above 100 percent, or a tax name that cannot be printed.</summary>
    public const string InvalidTaxRate = nameof(InvalidTaxRate);
    /// <summary>A locale that is not a known culture name (de-DE, fr-FR, en-US).</summary>
    public const string InvalidLocale = nameof(InvalidLocale);
    /// <summary>A logo that is not a PNG or JPEG image (or is larger than 1 MB).</summary>
    public const string InvalidLogo = nameof(InvalidLogo);
    /// <summary>A tax id that cannot be one (3 to 50 letters and digits, with spaces, dots, slashes or dashes between).</summary>
    public const string InvalidTaxId = nameof(InvalidTaxId);
    /// <summary>A -Path of a command that reads files matches no file (a wildcard without a match, or a file that is not there).</summary>
    public const string PathNotFound = nameof(PathNotFound);
    /// <summary>Send-BillingInvoice of a draft (it has no number yet) or a void invoice.</summary>
    public const string InvoiceNotSendable = nameof(InvoiceNotSendable);
    /// <summary>Send-BillingInvoice of an invoice sent (or being sent) before, without -Force.</summary>
    public const string InvoiceAlreadySent = nameof(InvoiceAlreadySent);
    /// <summary>No -To, and the customer has no invoice e-mail or e-mail address.</summary>
    public const string NoRecipient = nameof(NoRecipient);
    /// <summary>The seller's profile has no e-mail address to send invoices from.</summary>
    public const string NoSender = nameof(NoSender);
    /// <summary>No SMTP server in the seller's profile or BILLING_SMTP_SERVER, or an SMTP setting that cannot be used.</summary>
    public const string SmtpNotConfigured = nameof(SmtpNotConfigured);
    /// <summary>The SMTP server could not be reached (unknown host, refused, no answer in time).</summary>
    public const string SmtpUnreachable = nameof(SmtpUnreachable);
    /// <summary>TLS was required and not offered, or the handshake or the server's certificate failed.</summary>
    public const string SmtpTlsFailed = nameof(SmtpTlsFailed);
    /// <summary>The SMTP server refused the login, offers none, or requires one that was not given.</summary>
    public const string SmtpAuthenticationFailed = nameof(SmtpAuthenticationFailed);
    /// <summary>The SMTP server refused a recipient; nothing was sent.</summary>
    public const string SmtpRecipientRefused = nameof(SmtpRecipientRefused);
    /// <summary>The SMTP server rejected the mail.</summary>
    public const string SmtpRejected = nameof(SmtpRejected);
    /// <summary>The connection to the SMTP server ended during the sending.</summary>
    public const string SmtpConnectionLost = nameof(SmtpConnectionLost);
    /// <summary>An amount that is not positive, or finer than its currency's minor unit (10.005 USD).</summary>
    public const string InvalidAmount = nameof(InvalidAmount);
    /// <summary>A payment of a draft (not issued yet) or of a void invoice.</summary>
    public const string InvoiceNotPayable = nameof(InvoiceNotPayable);
    /// <summary>A payment of an invoice already paid in full.</summary>
    public const string InvoiceAlreadyPaid = nameof(InvoiceAlreadyPaid);
    /// <summary>A payment larger than what the invoice still owes.</summary>
    public const string AmountExceedsDue = nameof(AmountExceedsDue);
    /// <summary>A void of a draft, of a paid or void invoice, of one with payments or credit notes, or of one whose late usage a later invoice billed.</summary>
    public const string InvoiceNotVoidable = nameof(InvoiceNotVoidable);
    /// <summary>Remove-BillingCredit of a grant that does not exist.</summary>
    public const string CreditGrantNotFound = nameof(CreditGrantNotFound);
    /// <summary>Remove-BillingCredit of a grant with nothing left to remove (spent, expired or removed).</summary>
    public const string CreditGrantNotActive = nameof(CreditGrantNotActive);
    /// <summary>New-BillingCreditNote of a draft or void invoice.</summary>
    public const string InvoiceNotCreditable = nameof(InvoiceNotCreditable);
    /// <summary>A credit note for more than the invoice (or the line) billed, less what earlier credit notes took back.</summary>
    public const string CreditExceedsInvoice = nameof(CreditExceedsInvoice);
    /// <summary>-Line names no line of the invoice.</summary>
    public const string InvoiceLineNotFound = nameof(InvoiceLineNotFound);
    /// <summary>A credit note that does not exist.</summary>
    public const string CreditNoteNotFound = nameof(CreditNoteNotFound);
    /// <summary>Register-UsageAlertAction -Webhook: not an absolute http or https URL.</summary>
    public const string InvalidWebhookUri = nameof(InvalidWebhookUri);
    /// <summary>Register-UsageAlertAction -Secret: empty, too short to sign with, or a whsec_ secret that is not base64.</summary>
    public const string InvalidSecret = nameof(InvalidSecret);
    /// <summary>An alert action of that name exists (Register-UsageAlertAction without -Force).</summary>
    public const string AlertActionExists = nameof(AlertActionExists);
    /// <summary>No alert action has that name.</summary>
    public const string AlertActionNotFound = nameof(AlertActionNotFound);
    /// <summary>No delivery has that id, or it cannot be attempted again (delivered, or its action removed).</summary>
    public const string AlertDeliveryNotFound = nameof(AlertDeliveryNotFound);
}
