using System.Management.Automation;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Sets the seller's profile printed on every invoice: legal name, address, tax id, logo,
/// payment instructions, invoice number prefix and locale. One per store, so every host prints
/// the same seller. Parameters left out keep their value.
/// </summary>
[Cmdlet(VerbsCommon.Set, "BillingProfile", SupportsShouldProcess = true)]
[OutputType(typeof(BillingProfile))]
public sealed class SetBillingProfileCommand : BillingCmdlet
{
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString] // so the command, not parameter binding, refuses it with a stable error id
    public string? LegalName { get; set; }

    /// <summary>The postal address; lines separated by new lines (or given as an array).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyCollection, AllowEmptyString]
    public string[]? Address { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.CountryCompleter))]
    [AllowEmptyString]
    public string? Country { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    public string? TaxId { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    public string? Email { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    public string? Website { get; set; }

    /// <summary>A PNG or JPEG file, stored in the store (up to 1 MB) and printed on every invoice.</summary>
    [Parameter]
    [AllowEmptyString]
    public string? LogoPath { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyCollection, AllowEmptyString]
    public string[]? PaymentInstructions { get; set; }

    /// <summary>Invoice numbers are this prefix and a counter: ACME- gives ACME-000001. Each prefix counts on its own.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    public string? InvoicePrefix { get; set; }

    /// <summary>The language and formats of invoices whose customer has no locale.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.LocaleCompleter))]
    [AllowEmptyString]
    public string? Locale { get; set; }

    /// <summary>Reverse charge business buyers with a tax id in another country of the seller's tax union (the EU).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SwitchParameter ReverseCharge { get; set; }

    // The SMTP settings do not bind from a piped profile: a seller copied to a staging store
    // must not send through the production mail server unless told to.

    /// <summary>The SMTP server Send-BillingInvoice hands invoices to (a host name or IP address). $env:BILLING_SMTP_SERVER overrides it, with every SMTP setting.</summary>
    [Parameter]
    [AllowEmptyString]
    public string? SmtpServer { get; set; }

    /// <summary>The SMTP port; 587 when not set (465 for TLS from the start).</summary>
    [Parameter]
    [PlainWholeNumber]
    public int? SmtpPort { get; set; }

    /// <summary>The SMTP login. The password is stored apart from the profile and never shown; a login requires TLS unless -SmtpUseTls:$false.</summary>
    [Parameter]
    [Credential]
    public PSCredential? SmtpCredential { get; set; }

    /// <summary>Require TLS (-SmtpUseTls), or never use it (-SmtpUseTls:$false). Not set: STARTTLS when the server offers it, required with a login.</summary>
    [Parameter]
    public SwitchParameter SmtpUseTls { get; set; }

    /// <summary>Accept this one server certificate (its SHA-256 fingerprint) though it is self-signed or names another host: a company relay's own certificate.</summary>
    [Parameter]
    [AllowEmptyString]
    public string? SmtpCertificateSha256 { get; set; }

    /// <summary>Empties fields: Address, TaxId, Email, Website, Logo, PaymentInstructions, Locale, SmtpServer, SmtpPort, SmtpUseTls, SmtpCredential, SmtpCertificateSha256.</summary>
    [Parameter]
    [ValidateSet("Address", "TaxId", "Email", "Website", "Logo", "PaymentInstructions", "Locale",
        "SmtpServer", "SmtpPort", "SmtpUseTls", "SmtpCredential", "SmtpCertificateSha256", IgnoreCase = true)]
    public string[]? Clear { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private IReadOnlySet<string> _cleared = new HashSet<string>();

    /// <summary>-Clear against the values typed on the command line (piped values are bound later, per object).</summary>
    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        // Terminating: the command cannot know which of the two was meant, for any piped object.
        try
        {
            _cleared = PartyEdits.Cleared(Clear, ProfileChange.Clearable, MyInvocation.BoundParameters.Keys.Select(k => k == nameof(LogoPath) ? "Logo" : k));
        }
        catch (UsageException e)
        {
            ThrowTerminatingError(e.ToErrorRecord());
        }
    }

    private byte[] ReadLogo()
    {
        if (string.IsNullOrWhiteSpace(LogoPath))
            throw new UsageException(ErrorIds.InvalidPath, UsageErrorKind.InvalidArgument, "-LogoPath was given an empty path: name a PNG or JPEG file.", LogoPath);
        var path = OutputFiles.ToFileSystemPath(this, LogoPath, literal: false, "-LogoPath");
        var file = new FileInfo(path);
        if (!file.Exists)
            throw new UsageException(ErrorIds.PathNotFound, UsageErrorKind.ObjectNotFound, $"-LogoPath '{LogoPath}' is not a file.", LogoPath);
        // Checked before reading: a multi-gigabyte file named by mistake is refused, not loaded.
        if (file.Length > PartyDetails.MaximumLogoBytes)
            throw new UsageException(ErrorIds.InvalidLogo, UsageErrorKind.InvalidData,
                $"The logo '{LogoPath}' cannot be used: it is {file.Length:N0} bytes; the limit is {PartyDetails.MaximumLogoBytes:N0}.", LogoPath);
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException(ErrorIds.InvalidLogo, UsageErrorKind.ReadError, $"The logo '{LogoPath}' cannot be read: {e.Message}", LogoPath, e);
        }
    }

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var bound = MyInvocation.BoundParameters;
            var current = Store.GetProfile();
            (byte[], string)? logo = null;
            if (bound.ContainsKey(nameof(LogoPath)) && !_cleared.Contains("Logo"))
                logo = (ReadLogo(), $"'{LogoPath}'");
            // Named in -Clear, a field is emptied, whatever a piped object says of it.
            string? Kept(string? value, string field) => _cleared.Contains(field) ? null : value;
            var change = PartyEdits.Profile(LegalName, Kept(Joined(Address), "Address"), Country, Kept(TaxId, "TaxId"), Kept(Email, "Email"), Kept(Website, "Website"),
                logo, Kept(Joined(PaymentInstructions), "PaymentInstructions"),
                bound.ContainsKey(nameof(InvoicePrefix)) ? InvoicePrefix ?? "" : null, Kept(Locale, "Locale"),
                bound.ContainsKey(nameof(ReverseCharge)) ? ReverseCharge.IsPresent : null, current) with { Cleared = _cleared };
            change = PartyEdits.WithSmtp(change, Kept(SmtpServer, "SmtpServer"), _cleared.Contains("SmtpPort") ? null : SmtpPort,
                bound.ContainsKey(nameof(SmtpUseTls)) && !_cleared.Contains("SmtpUseTls") ? SmtpUseTls.IsPresent : null,
                SmtpCredential is { } login && !_cleared.Contains("SmtpCredential") ? (login.UserName, login.GetNetworkCredential().Password) : null,
                Kept(SmtpCertificateSha256, "SmtpCertificateSha256"));
            if (!ShouldProcess(Store.Location, current is null ? "Create the seller's billing profile" : "Change the seller's billing profile"))
                return;
            var saved = Store.SaveProfile(change);
            WriteVerbose($"Seller profile saved in {Store.Location}; invoice numbers are {saved.InvoicePrefix} and a counter ({InvoiceNumbering.Format(saved.InvoicePrefix, 1)} is the first of that prefix)"
                + (saved.SmtpServer is { } smtp ? $"; invoices are sent through {smtp}:{saved.SmtpPort ?? Engine.Exports.SmtpRules.DefaultPort}{(saved.SmtpUserName is { } user ? " as " + user : "")}." : "."));
            if (PassThru)
                WriteObject(saved);
        });
    }

    // An array's items are lines; a bound empty array is empty text, which the rules refuse.
    private static string? Joined(string[]? lines) => lines is null ? null : string.Join('\n', lines);
}
