using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Engine.Exports;

namespace NSelf.Usage.Engine.Tests.Mail;

/// <summary>Which SMTP settings a sending uses (the profile's, or all of BILLING_SMTP_*), and what a seller may give.</summary>
public sealed class SmtpRulesTests
{
    private static readonly BillingProfile Profile = new()
    {
        InvoicePrefix = "INV-", ReverseCharge = false, SmtpServer = "smtp.seller.example", SmtpUserName = "seller", SmtpPasswordSet = true,
    };

    private static EnvironmentSettings Environment(params (string Name, string Value)[] values) =>
        new(name => values.FirstOrDefault(v => v.Name == name).Value);

    private static UsageException Refused(Action action) => Assert.Throws<UsageException>(action);

    [Fact]
    public void TheProfile_WithALogin_RequiresTls_OnTheSubmissionPort()
    {
        var settings = SmtpRules.Resolve(Profile, Environment(), () => "pw");
        Assert.Equal(("smtp.seller.example", 587, (bool?)true, "seller", "pw"), (settings.Host, settings.Port, settings.UseTls, settings.Credential!.UserName, settings.Credential.Password));
        Assert.DoesNotContain("pw", settings.Credential.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void TlsTurnedOffOutright_StaysOff_EvenWithALogin()
    {
        Assert.False(SmtpRules.Resolve(new BillingProfile { InvoicePrefix = "INV-", ReverseCharge = false, SmtpServer = "relay", SmtpUseTls = false, SmtpUserName = "u" },
            Environment(), () => "pw").UseTls);
    }

    [Fact]
    public void WithoutALogin_TlsIsUsedWhenOffered_AndNoPasswordIsRead()
    {
        var settings = SmtpRules.Resolve(new BillingProfile { InvoicePrefix = "INV-", ReverseCharge = false, SmtpServer = "relay", SmtpPort = 25 },
            Environment(), () => throw new InvalidOperationException("the password must not be read"));
        Assert.Equal((25, (bool?)null, (SmtpCredential?)null), (settings.Port, settings.UseTls, settings.Credential));
    }

    [Fact]
    public void TheEnvironmentsServer_BringsEverySetting_AndNoneOfTheProfile()
    {
        var settings = SmtpRules.Resolve(Profile, Environment(("BILLING_SMTP_SERVER", "ci-relay"), ("BILLING_SMTP_PORT", "2525"), ("BILLING_SMTP_USE_TLS", "false")),
            () => throw new InvalidOperationException("the stored password must not be read"));
        Assert.Equal(("ci-relay", 2525, (bool?)false, (SmtpCredential?)null), (settings.Host, settings.Port, settings.UseTls, settings.Credential));
        var login = SmtpRules.Resolve(null, Environment(("BILLING_SMTP_SERVER", "ci-relay"), ("BILLING_SMTP_USER", "ci"), ("BILLING_SMTP_PASSWORD", "x"),
            ("BILLING_SMTP_CERTIFICATE_SHA256", new string('a', 64))), () => null);
        Assert.Equal(("ci", (bool?)true, new string('A', 64)), (login.Credential!.UserName, login.UseTls, login.CertificateSha256));
    }

    [Theory]
    [InlineData("BILLING_SMTP_PORT", "0")]
    [InlineData("BILLING_SMTP_PORT", "65536")]
    [InlineData("BILLING_SMTP_PORT", "2,525")]
    [InlineData("BILLING_SMTP_PORT", "587.0")]
    [InlineData("BILLING_SMTP_USE_TLS", "maybe")]
    [InlineData("BILLING_SMTP_USER", "only-a-user")]
    [InlineData("BILLING_SMTP_PASSWORD", "only-a-password")]
    [InlineData("BILLING_SMTP_CERTIFICATE_SHA256", "ABCD")]
    public void AnEnvironmentValueThatCannotBeUsed_IsNamed(string name, string value)
    {
        var refused = Refused(() => SmtpRules.Resolve(null, Environment(("BILLING_SMTP_SERVER", "relay"), (name, value)), () => null));
        Assert.Equal(ErrorIds.SmtpNotConfigured, refused.ErrorId);
        Assert.Contains("BILLING_SMTP_", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoServerAnywhere_OrALoginWithoutItsPassword_IsNotConfigured()
    {
        Assert.Equal(ErrorIds.SmtpNotConfigured, Refused(() => SmtpRules.Resolve(null, Environment(), () => null)).ErrorId);
        var noPassword = Refused(() => SmtpRules.Resolve(Profile, Environment(), () => null));
        Assert.Equal(ErrorIds.SmtpNotConfigured, noPassword.ErrorId);
        Assert.Contains("-SmtpCredential", noPassword.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("smtp.example.com", "smtp.example.com")]
    [InlineData(" 192.0.2.7 ", "192.0.2.7")]
    [InlineData("[2001:db8::1]", "2001:db8::1")]
    public void AServer_IsAHostNameOrAnAddress(string given, string kept) => Assert.Equal(kept, SmtpRules.Server(given));

    [Theory]
    [InlineData("smtp.example.com:587")]
    [InlineData("smtp://smtp.example.com")]
    [InlineData("smtp example")]
    public void AServerWithAPortOrScheme_IsRefused(string given) => Assert.Equal(ErrorIds.InvalidArgument, Refused(() => SmtpRules.Server(given)).ErrorId);

    [Theory]
    [InlineData(0)]
    [InlineData(-25)]
    [InlineData(65536)]
    public void APortOutsideItsRange_IsRefused(int port) => Assert.Equal(ErrorIds.InvalidArgument, Refused(() => SmtpRules.Port(port)).ErrorId);

    [Theory]
    [InlineData(1)]
    [InlineData(65535)]
    public void ThePortsAtTheEnds_AreKept(int port) => Assert.Equal(port, SmtpRules.Port(port));

    [Fact]
    public void AFingerprint_AsOpensslPrintsIt_IsKeptAsItsHexDigits()
    {
        var printed = string.Join(':', Enumerable.Repeat("ab", 32));
        Assert.Equal(new string('A', 0) + string.Concat(Enumerable.Repeat("AB", 32)), SmtpRules.CertificateSha256(printed));
        Assert.Equal(ErrorIds.InvalidArgument, Refused(() => SmtpRules.CertificateSha256(new string('g', 64))).ErrorId);
        Assert.Equal(ErrorIds.InvalidArgument, Refused(() => SmtpRules.CertificateSha256(new string('a', 63))).ErrorId);
    }

    [Fact]
    public void ALogin_NeedsANameAndAPassword()
    {
        Assert.Equal(ErrorIds.InvalidArgument, Refused(() => SmtpRules.Credential(" ", "pw")).ErrorId);
        Assert.Equal(ErrorIds.InvalidArgument, Refused(() => SmtpRules.Credential("user", "")).ErrorId);
        Assert.Equal("user", SmtpRules.Credential(" user ", "pw").UserName);
    }

    [Theory]
    [InlineData("ann@buyer.example")]
    [InlineData("Ann Buyer <ann@buyer.example>")]
    public void Recipients_AsAddressesOrNamedAddresses_AreKept(string given) =>
        Assert.Equal([given], InvoiceSending.Addresses([given], "-To"));

    [Theory]
    [InlineData("")]
    [InlineData("not-an-address")]
    [InlineData("@buyer.example")]
    [InlineData("ann@")]
    [InlineData("ann@buyer.example\nBcc: eve@evil.example")]
    public void ARecipientThatIsNoAddress_IsRefused(string given) =>
        Assert.Equal(ErrorIds.InvalidArgument, Refused(() => InvoiceSending.Addresses([given], "-To")).ErrorId);

    [Fact]
    public void AnEmptyRecipientList_IsRefused_NotTakenAsTheDefault() =>
        Assert.Equal(ErrorIds.InvalidArgument, Refused(() => InvoiceSending.Addresses([], "-Cc")).ErrorId);

    [Fact]
    public void ASecondSending_IsRefusedWithWhatHappenedBefore_UnlessForced()
    {
        var invoice = new BillingInvoice
        {
            InvoiceId = "inv_1", InvoiceNumber = "ACME-000001", CustomerId = "c", PeriodStart = default, PeriodEnd = default, Status = InvoiceStatus.Open,
            Currency = "EUR", Subtotal = 0, TaxRate = 0, Tax = 0, Total = 0, Lines = [], CreatedAt = default,
        };
        var at = new DateTimeOffset(2026, 12, 7, 8, 30, 0, TimeSpan.Zero);
        DeliveryRules.CheckNotSent(invoice, [], force: false);
        DeliveryRules.CheckNotSent(invoice, [new EarlierDelivery("sent", ["a@b.example"], at, at)], force: true);
        var sent = Refused(() => DeliveryRules.CheckNotSent(invoice, [new EarlierDelivery("sent", ["a@b.example"], at, at)], force: false));
        Assert.Equal((ErrorIds.InvoiceAlreadySent, "Invoice ACME-000001 was sent to a@b.example at 2026-12-07 08:30:00 UTC. Add -Force to send it again."), (sent.ErrorId, sent.Message));
        Assert.Contains("may have arrived", Refused(() => DeliveryRules.CheckNotSent(invoice, [new EarlierDelivery("uncertain", ["a@b.example"], at, null)], false)).Message, StringComparison.Ordinal);
        Assert.Contains("is being sent", Refused(() => DeliveryRules.CheckNotSent(invoice, [new EarlierDelivery("sending", ["a@b.example"], at, null)], false)).Message, StringComparison.Ordinal);
        // A draft has no number; a void invoice is not owed.
        Assert.Equal(ErrorIds.InvoiceNotSendable, Refused(() => DeliveryRules.CheckSendable(invoice with { Status = InvoiceStatus.Draft, InvoiceNumber = null })).ErrorId);
        Assert.Equal(ErrorIds.InvoiceNotSendable, Refused(() => DeliveryRules.CheckSendable(invoice with { Status = InvoiceStatus.Void })).ErrorId);
        DeliveryRules.CheckSendable(invoice with { Status = InvoiceStatus.Paid });
    }
}
