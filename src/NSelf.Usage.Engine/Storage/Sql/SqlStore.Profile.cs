using NSelf.Usage.Engine.Billing;

namespace NSelf.Usage.Engine.Storage.Sql;

/// <summary>The seller's profile (one row) and the tax rates by place.</summary>
public abstract partial class SqlStore
{
    private const string ProfileColumns = "legal_name, address, country, tax_id, email, website, logo, logo_type, payment_instructions, invoice_prefix, locale, reverse_charge, updated_at, "
        + "smtp_server, smtp_port, smtp_use_tls, smtp_user, smtp_certificate_sha256, smtp_password_set";

    private static BillingProfile ReadProfile(SqlRow r) => new()
    {
        LegalName = r.TextOrNull(0),
        Address = r.TextOrNull(1),
        Country = r.TextOrNull(2),
        TaxId = r.TextOrNull(3),
        Email = r.TextOrNull(4),
        Website = r.TextOrNull(5),
        Logo = r.IsNull(6) ? null : r.Value<byte[]>(6),
        LogoType = r.TextOrNull(7),
        PaymentInstructions = r.TextOrNull(8),
        InvoicePrefix = r.Text(9),
        Locale = r.TextOrNull(10),
        ReverseCharge = r.Bool(11),
        UpdatedAt = r.Time(12),
        SmtpServer = r.TextOrNull(13),
        SmtpPort = r.IsNull(14) ? null : r.Int(14),
        SmtpUseTls = r.IsNull(15) ? null : r.Bool(15),
        SmtpUserName = r.TextOrNull(16),
        SmtpCertificateSha256 = r.TextOrNull(17),
        SmtpPasswordSet = r.Bool(18),
    };

    private static BillingProfile? FindProfile(SqlSession session) =>
        session.Query($"SELECT {ProfileColumns} FROM billing_profile WHERE profile_id = 1", ReadProfile).SingleOrDefault();

    // On PostgreSQL the row is the owner's alone (row-level security without a policy): another role reads none.
    public string? GetSmtpPassword() => InReadSession(session =>
        session.Query("SELECT password FROM billing_smtp_secret WHERE profile_id = 1", r => r.Text(0)).SingleOrDefault());

    public BillingProfile? GetProfile() => InReadSession(FindProfile);

    public BillingProfile SaveProfile(ProfileChange change) => InWriteTransaction(session =>
    {
        var current = FindProfile(session);
        // A field named in Cleared is emptied; one left null keeps its value.
        T? Keep<T>(T? given, T? stored, string field) where T : class => change.Cleared.Contains(field) ? null : given ?? stored;
        T? KeepValue<T>(T? given, T? stored, string field) where T : struct => change.Cleared.Contains(field) ? null : given ?? stored;
        // Merged here rather than with coalesce in SQL: a first save fills the defaults, later ones
        // keep what they do not name.
        session.Execute($"""
            INSERT INTO billing_profile (profile_id, {ProfileColumns})
            VALUES (1, @legalName, @address, @country, @taxId, @email, @website, @logo, @logoType, @payment, @prefix, @locale, @reverseCharge, @now,
                @smtpServer, @smtpPort, @smtpUseTls, @smtpUser, @smtpPin, @passwordSet)
            ON CONFLICT (profile_id) DO UPDATE SET
                legal_name = excluded.legal_name, address = excluded.address, country = excluded.country, tax_id = excluded.tax_id,
                email = excluded.email, website = excluded.website, logo = excluded.logo, logo_type = excluded.logo_type,
                payment_instructions = excluded.payment_instructions, invoice_prefix = excluded.invoice_prefix, locale = excluded.locale,
                reverse_charge = excluded.reverse_charge, updated_at = excluded.updated_at,
                smtp_server = excluded.smtp_server, smtp_port = excluded.smtp_port, smtp_use_tls = excluded.smtp_use_tls,
                smtp_user = excluded.smtp_user, smtp_certificate_sha256 = excluded.smtp_certificate_sha256, smtp_password_set = excluded.smtp_password_set
            """,
            ("legalName", change.LegalName ?? current?.LegalName), ("address", Keep(change.Address, current?.Address, "Address")),
            ("country", change.Country ?? current?.Country), ("taxId", Keep(change.TaxId, current?.TaxId, "TaxId")),
            ("email", Keep(change.Email, current?.Email, "Email")), ("website", Keep(change.Website, current?.Website, "Website")),
            ("logo", Keep(change.Logo, current?.Logo, "Logo")), ("logoType", Keep(change.Logo is null ? current?.LogoType : change.LogoType, null, "Logo")),
            ("payment", Keep(change.PaymentInstructions, current?.PaymentInstructions, "PaymentInstructions")),
            ("prefix", change.InvoicePrefix ?? current?.InvoicePrefix ?? InvoiceNumbering.DefaultPrefix),
            ("locale", Keep(change.Locale, current?.Locale, "Locale")), ("reverseCharge", change.ReverseCharge ?? current?.ReverseCharge ?? false),
            ("now", Now()),
            ("smtpServer", Keep(change.SmtpServer, current?.SmtpServer, "SmtpServer")), ("smtpPort", KeepValue(change.SmtpPort, current?.SmtpPort, "SmtpPort")),
            ("smtpUseTls", KeepValue(change.SmtpUseTls, current?.SmtpUseTls, "SmtpUseTls")),
            ("smtpUser", Keep(change.SmtpCredential?.UserName, current?.SmtpUserName, "SmtpCredential")),
            ("smtpPin", Keep(change.SmtpCertificateSha256, current?.SmtpCertificateSha256, "SmtpCertificateSha256")),
            ("passwordSet", change.SmtpCredential is not null || (!change.Cleared.Contains("SmtpCredential") && current?.SmtpPasswordSet == true)));
        // The password goes with its login, into the table only the owner reads.
        if (change.SmtpCredential is { } credential)
            session.Execute("""
                INSERT INTO billing_smtp_secret (profile_id, password, updated_at) VALUES (1, @password, @now)
                ON CONFLICT (profile_id) DO UPDATE SET password = excluded.password, updated_at = excluded.updated_at
                """, ("password", credential.Password), ("now", Now()));
        else if (change.Cleared.Contains("SmtpCredential"))
            session.Execute("DELETE FROM billing_smtp_secret WHERE profile_id = 1");
        return FindProfile(session)!;
    });

    private static BillingTaxRate ReadTaxRate(SqlRow r) => new()
    {
        Country = r.Text(0),
        Region = r.Text(1) is { Length: > 0 } region ? region : null,
        Name = r.Text(2),
        Rate = r.Money(3),
        UpdatedAt = r.Time(4),
    };

    private const string TaxRateColumns = "country, region, tax_name, rate, updated_at";

    public IReadOnlyList<BillingTaxRate> GetTaxRates() => InReadSession(session =>
        session.Query($"SELECT {TaxRateColumns} FROM billing_tax_rates ORDER BY country, region", ReadTaxRate));

    public BillingTaxRate SaveTaxRate(string country, string? region, string name, decimal rate) => InWriteTransaction(session =>
    {
        session.Execute($"""
            INSERT INTO billing_tax_rates ({TaxRateColumns}) VALUES (@country, @region, @name, @rate, @now)
            ON CONFLICT (country, region) DO UPDATE SET tax_name = excluded.tax_name, rate = excluded.rate, updated_at = excluded.updated_at
            """, ("country", country), ("region", region ?? ""), ("name", name), ("rate", new MoneyValue(rate)), ("now", Now()));
        return session.Query($"SELECT {TaxRateColumns} FROM billing_tax_rates WHERE country = @country AND region = @region", ReadTaxRate,
            ("country", country), ("region", region ?? "")).Single();
    });
}
