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

/// <summary>The words of each SMTP rule's refusal, and the edges a mutant would move (Stryker found them unpinned).</summary>
public sealed class SmtpRuleWordsTests
{
    private static UsageException Refused(Action action) => Assert.Throws<UsageException>(action);

    private static EnvironmentSettings Environment(params (string Name, string Value)[] values) =>
        new(name => values.FirstOrDefault(v => v.Name == name).Value);

    [Theory]
    [InlineData("smtp.example.com", 587, "smtp.example.com:587")]
    [InlineData("2001:db8::1", 25, "[2001:db8::1]:25")]
    public void TheEndpoint_BracketsAnIPv6Address(string host, int port, string endpoint) => Assert.Equal(endpoint, new SmtpSettings(host, port).Endpoint);

    [Fact]
    public void ACredential_PrintsItsUserAlone() =>
        Assert.Equal("SmtpCredential { UserName = seller }", new SmtpCredential("seller", "pw").ToString());

    [Theory]
    [InlineData("[smtp.example.com")]
    [InlineData("smtp.example.com]")]
    public void AHalfBracketedServer_IsRefused(string given) => Assert.Equal(ErrorIds.InvalidArgument, Refused(() => SmtpRules.Server(given)).ErrorId);

    [Fact]
    public void EachRefusal_SaysWhatToGive()
    {
        Assert.Equal("The SMTP server 'a b' is not a host name or IP address; give the name alone, such as smtp.example.com, and the port with -SmtpPort.",
            Refused(() => SmtpRules.Server("a b")).Message);
        Assert.Equal("The SMTP port 0 is not a port; give 1 to 65535 (587 for submission with STARTTLS, 465 for TLS from the start).", Refused(() => SmtpRules.Port(0)).Message);
        Assert.Equal("The SMTP login has no user name.", Refused(() => SmtpRules.Credential(null, "pw")).Message);
        Assert.Equal("The SMTP login 'u' has no password.", Refused(() => SmtpRules.Credential("u", null)).Message);
        Assert.Equal("'AB' is not a SHA-256 certificate fingerprint: give its 64 hex digits, as openssl x509 -noout -fingerprint -sha256 prints them.",
            Refused(() => SmtpRules.CertificateSha256("AB")).Message);
        Assert.Equal("No SMTP server is set: give one with Set-BillingProfile -SmtpServer (and -SmtpPort, -SmtpCredential), or set $env:BILLING_SMTP_SERVER.",
            Refused(() => SmtpRules.Resolve(null, Environment(), () => null)).Message);
    }

    [Fact]
    public void AFingerprint_WithSpacesOrOneNonHexDigit()
    {
        Assert.Equal(string.Concat(Enumerable.Repeat("AB", 32)), SmtpRules.CertificateSha256(string.Join(' ', Enumerable.Repeat("ab", 32))));
        Assert.Equal(ErrorIds.InvalidArgument, Refused(() => SmtpRules.CertificateSha256(new string('a', 63) + "g")).ErrorId);
    }

    [Theory]
    [InlineData("BILLING_SMTP_USER", "u", "BILLING_SMTP_USER is set without BILLING_SMTP_PASSWORD: set both for a login, or neither.")]
    [InlineData("BILLING_SMTP_PASSWORD", "p", "BILLING_SMTP_PASSWORD is set without BILLING_SMTP_USER: set both for a login, or neither.")]
    [InlineData("BILLING_SMTP_PORT", "x", "$BILLING_SMTP_PORT is 'x': it must be a whole number from 1 to 65535.")]
    [InlineData("BILLING_SMTP_USE_TLS", "maybe", "$BILLING_SMTP_USE_TLS is 'maybe': it must be true or false.")]
    public void AnEnvironmentRefusal_NamesTheVariable(string name, string value, string message)
    {
        var refused = Refused(() => SmtpRules.Resolve(null, Environment(("BILLING_SMTP_SERVER", "relay"), (name, value)), () => null));
        Assert.Equal((ErrorIds.SmtpNotConfigured, message), (refused.ErrorId, refused.Message));
    }

    [Fact]
    public void AnUnusableEnvironmentServer_IsNamed()
    {
        var refused = Refused(() => SmtpRules.Resolve(null, Environment(("BILLING_SMTP_SERVER", "relay:25")), () => null));
        Assert.Equal(ErrorIds.SmtpNotConfigured, refused.ErrorId);
        Assert.StartsWith("$BILLING_SMTP_SERVER is 'relay:25': The SMTP server 'relay:25' is not a host name", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("TRUE", true)]
    [InlineData("1", true)]
    [InlineData("yes", true)]
    [InlineData("false", false)]
    [InlineData("0", false)]
    [InlineData("no", false)]
    public void TheEnvironmentsTls_ReadsTrueAndFalse(string text, bool tls) =>
        Assert.Equal(tls, SmtpRules.Resolve(null, Environment(("BILLING_SMTP_SERVER", "relay"), ("BILLING_SMTP_USE_TLS", text)), () => null).UseTls);

    [Fact]
    public void AStoredLoginWithoutItsPassword_SaysWhoMayReadIt() =>
        Assert.Equal("The SMTP login 'seller' has no stored password this connection can read (on PostgreSQL only the store's owner reads it): "
            + "give it again with Set-BillingProfile -SmtpCredential, or send with $env:BILLING_SMTP_SERVER, BILLING_SMTP_USER and BILLING_SMTP_PASSWORD set.",
            Refused(() => SmtpRules.Resolve(new BillingProfile { InvoicePrefix = "INV-", ReverseCharge = false, SmtpServer = "s", SmtpUserName = "seller" }, Environment(), () => null)).Message);

    [Fact]
    public void AProfileChange_ChecksEachSmtpSetting_AndRefusesAnEmptyOne()
    {
        var change = PartyEdits.WithSmtp(new ProfileChange(), " smtp.example.com ", 465, true, ("user", "pw"), new string('b', 64));
        Assert.Equal(("smtp.example.com", (int?)465, (bool?)true, "user", "pw", new string('B', 64)),
            (change.SmtpServer, change.SmtpPort, change.SmtpUseTls, change.SmtpCredential!.UserName, change.SmtpCredential.Password, change.SmtpCertificateSha256));
        var none = PartyEdits.WithSmtp(new ProfileChange(), null, null, null, null, null);
        Assert.Equal(((string?)null, (int?)null, (bool?)null, (SmtpCredential?)null, (string?)null), (none.SmtpServer, none.SmtpPort, none.SmtpUseTls, none.SmtpCredential, none.SmtpCertificateSha256));
        Assert.Equal("The SMTP server is empty: give a value, or leave the parameter out.", Refused(() => PartyEdits.WithSmtp(new ProfileChange(), " ", null, null, null, null)).Message);
        Assert.Equal("The SMTP certificate fingerprint is empty: give a value, or leave the parameter out.", Refused(() => PartyEdits.WithSmtp(new ProfileChange(), null, null, null, null, "")).Message);
        Assert.Equal(ErrorIds.InvalidArgument, Refused(() => PartyEdits.WithSmtp(new ProfileChange(), null, 70000, null, null, null)).ErrorId);
    }

    [Fact]
    public void TheSendingRules_SayWhatHappenedAndWhatToDo()
    {
        var invoice = new BillingInvoice
        {
            InvoiceId = "inv_1", InvoiceNumber = "ACME-000001", CustomerId = "c", PeriodStart = default, PeriodEnd = default, Status = InvoiceStatus.Open,
            Currency = "EUR", Subtotal = 0, TaxRate = 0, Tax = 0, Total = 0, Lines = [], CreatedAt = default,
        };
        Assert.Equal("Invoice 'inv_1' is a draft: finalize it with Complete-BillingInvoice (which gives it its number), then send it.",
            Refused(() => DeliveryRules.CheckSendable(invoice with { Status = InvoiceStatus.Draft })).Message);
        var numberless = Refused(() => DeliveryRules.CheckSendable(invoice with { InvoiceNumber = null }));
        Assert.Equal((ErrorIds.InvoiceNotSendable, "Invoice 'inv_1' has no invoice number (it was not finalized by Complete-BillingInvoice), so it cannot be sent as a customer's invoice."),
            (numberless.ErrorId, numberless.Message));
        Assert.Equal("Invoice ACME-000001 is void: it is not owed, so it is not sent.", Refused(() => DeliveryRules.CheckSendable(invoice with { Status = InvoiceStatus.Void })).Message);
        var started = new DateTimeOffset(2026, 12, 7, 8, 30, 0, TimeSpan.Zero);
        var sent = Refused(() => DeliveryRules.CheckNotSent(invoice, [new EarlierDelivery("sent", ["a@b.example", "c@d.example"], started, started.AddSeconds(3))], false));
        Assert.Equal("Invoice ACME-000001 was sent to a@b.example, c@d.example at 2026-12-07 08:30:03 UTC. Add -Force to send it again.", sent.Message);
        Assert.Equal("Invoice ACME-000001 is being sent to a@b.example since 2026-12-07 08:30:00 UTC (if no host is sending it now, that sending stopped mid-way). Add -Force to send it again.",
            Refused(() => DeliveryRules.CheckNotSent(invoice, [new EarlierDelivery("sending", ["a@b.example"], started, null)], false)).Message);
    }
}
