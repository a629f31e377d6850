using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Storage.Sql;

public abstract partial class SqlStore
{
    // nself's columns allow NULL times; ours never write one.
    private string CustomerColumns => "customer_id, project_name, name, email, company, stripe_customer_id, " +
        $"{Dialect.JsonText("metadata")}, coalesce(created_at, updated_at, {Dialect.NowSql}), coalesce(updated_at, created_at, {Dialect.NowSql}), deleted_at, " +
        "address, country, region, tax_id, tax_exempt, locale, invoice_email";

    private static BillingCustomer ReadCustomer(SqlRow r) => new()
    {
        CustomerId = r.Text(0),
        ProjectName = r.Text(1),
        Name = r.TextOrNull(2),
        Email = r.TextOrNull(3),
        Company = r.TextOrNull(4),
        StripeCustomerId = r.TextOrNull(5),
        Metadata = Metadata.FromStore(r.Text(6)),
        CreatedAt = r.Time(7),
        UpdatedAt = r.Time(8),
        DeletedAt = r.TimeOrNull(9),
        Address = r.TextOrNull(10),
        Country = r.TextOrNull(11),
        Region = r.TextOrNull(12),
        TaxId = r.TextOrNull(13),
        TaxExempt = r.Bool(14),
        Locale = r.TextOrNull(15),
        InvoiceEmail = r.TextOrNull(16),
    };

    private BillingCustomer? FindCustomer(SqlSession session, string customerId, bool includeRemoved) =>
        session.Query($"SELECT {CustomerColumns} FROM billing_customers WHERE customer_id = @id" + (includeRemoved ? "" : " AND deleted_at IS NULL"),
            ReadCustomer, ("id", customerId)).FirstOrDefault();

    public BillingCustomer? GetCustomer(string customerId, bool includeRemoved = false) =>
        InReadSession(session => FindCustomer(session, customerId, includeRemoved));

    public IReadOnlyList<BillingCustomer> GetCustomers(bool includeRemoved = false) => InReadSession(session =>
        session.Query($"SELECT {CustomerColumns} FROM billing_customers" + (includeRemoved ? "" : " WHERE deleted_at IS NULL") + " ORDER BY customer_id", ReadCustomer));

    public IReadOnlyList<string> FindCustomerIds(string prefix, int maximum) => InReadSession(session =>
        session.Query("SELECT customer_id FROM billing_customers WHERE deleted_at IS NULL AND substr(customer_id, 1, length(@prefix)) = @prefix ORDER BY customer_id LIMIT @maximum",
            r => r.Text(0), ("prefix", prefix), ("maximum", maximum)));

    public IReadOnlyList<string> FindMetadataKeys(string? customerId, string prefix, int recentRecords, int maximum) => InReadSession(session =>
        session.Query($"""
            SELECT DISTINCT k.key
            FROM (SELECT metadata FROM billing_usage_records
                  WHERE {(customerId is null ? "" : "customer_id = @customer AND ")}{Dialect.IsJsonObject("metadata")}
                  ORDER BY {Dialect.RecentFirst} LIMIT @recent) r,
                 {Dialect.MetadataKeys("r.metadata", "k")}
            WHERE lower(substr(k.key, 1, length(@prefix))) = lower(@prefix)
            ORDER BY k.key LIMIT @maximum
            """, r => r.Text(0), [.. CustomerParameter(customerId), ("prefix", prefix), ("recent", recentRecords), ("maximum", maximum)]));

    // The @customer parameter only when the SQL names it (a null of no type confuses PostgreSQL).
    private static (string Name, object? Value)[] CustomerParameter(string? customerId) =>
        customerId is null ? [] : [("customer", customerId)];

    public BillingCustomer AddCustomer(string customerId, CustomerChange fields) => InWriteTransaction(session =>
    {
        if (FindCustomer(session, customerId, includeRemoved: true) is { } existing)
            throw new UsageException(ErrorIds.CustomerExists, UsageErrorKind.ResourceExists,
                existing.DeletedAt is null ? $"Customer '{customerId}' already exists." : $"Customer '{customerId}' exists and was removed on {existing.DeletedAt:yyyy-MM-dd}; removed ids are not reused.", customerId);
        WriteCustomer(session, fields, $"""
            INSERT INTO billing_customers (customer_id, project_name, name, email, company, stripe_customer_id, metadata, created_at, updated_at,
                address, country, region, tax_id, tax_exempt, locale, invoice_email)
            VALUES (@id, @project, @name, @email, @company, @stripe, {Dialect.Json("metadata")}, @now, @now,
                @address, @country, @region, @taxId, @taxExempt, @locale, @invoiceEmail)
            """, ("id", customerId), ("project", fields.ProjectName ?? customerId), ("metadata", fields.Metadata ?? Metadata.Empty), ("taxExempt", fields.TaxExempt ?? false));
        return FindCustomer(session, customerId, includeRemoved: true)!;
    });

    public BillingCustomer UpdateCustomer(string customerId, CustomerChange fields) => InWriteTransaction(session =>
    {
        if (FindCustomer(session, customerId, includeRemoved: false) is null)
            throw CustomerNotFound(customerId);
        // A buyer's field named in Cleared is emptied; one left null keeps its value.
        string Buyer(string column, string parameter, string field) =>
            fields.Cleared.Contains(field) ? $"{column} = NULL" : $"{column} = coalesce(@{parameter}, {column})";
        var changed = WriteCustomer(session, fields, $"""
            UPDATE billing_customers SET
                project_name = coalesce(@project, project_name), name = coalesce(@name, name), email = coalesce(@email, email),
                company = coalesce(@company, company), stripe_customer_id = coalesce(@stripe, stripe_customer_id),
                metadata = coalesce({Dialect.Json("metadata")}, metadata), updated_at = @now,
                {Buyer("address", "address", "Address")}, {Buyer("country", "country", "Country")}, {Buyer("region", "region", "Region")},
                {Buyer("tax_id", "taxId", "TaxId")}, tax_exempt = coalesce(@taxExempt, tax_exempt), {Buyer("locale", "locale", "Locale")},
                {Buyer("invoice_email", "invoiceEmail", "InvoiceEmail")}
            WHERE customer_id = @id
            """, ("id", customerId), ("project", fields.ProjectName), ("metadata", fields.Metadata), ("taxExempt", fields.TaxExempt));
        if (changed == 0)
            throw RowSecurityRefused(customerId);
        return FindCustomer(session, customerId, includeRemoved: false)!;
    });

    private int WriteCustomer(SqlSession session, CustomerChange fields, string sql, params (string Name, object? Value)[] parameters)
    {
        try
        {
            return session.Execute(sql, [.. parameters, ("name", fields.Name), ("email", fields.Email), ("company", fields.Company),
                ("stripe", fields.StripeCustomerId), ("now", Now()),
                ("address", fields.Address), ("country", fields.Country), ("region", fields.Region), ("taxId", fields.TaxId),
                ("locale", fields.Locale), ("invoiceEmail", fields.InvoiceEmail)]);
        }
        catch (Exception e) when (Dialect.IsUniqueViolation(e, "stripe_customer_id"))
        {
            throw new UsageException(ErrorIds.CustomerExists, UsageErrorKind.ResourceExists,
                $"Stripe customer '{fields.StripeCustomerId}' already belongs to another customer.", fields.StripeCustomerId, e);
        }
    }

    public BillingCustomer RemoveCustomer(string customerId) => InWriteTransaction(session =>
    {
        if (FindCustomer(session, customerId, includeRemoved: false) is null)
            throw CustomerNotFound(customerId);
        if (session.Execute("UPDATE billing_customers SET deleted_at = @now, updated_at = @now WHERE customer_id = @id", ("id", customerId), ("now", Now())) == 0)
            throw RowSecurityRefused(customerId);
        return FindCustomer(session, customerId, includeRemoved: true)!;
    });

    // Row-level security hides rows from UPDATE instead of failing: a customer the session can
    // read but not change is reported, not silently left as it was.
    private UsageException RowSecurityRefused(string customerId) =>
        new(ErrorIds.AccessDenied, UsageErrorKind.PermissionDenied,
            $"The store at {Location} did not let this session change customer '{customerId}' (row-level security{(CustomerScope is null ? "" : $": the session is scoped to {CustomerScope}")}).", customerId);

    private protected static UsageException CustomerNotFound(string customerId) =>
        new(ErrorIds.CustomerNotFound, UsageErrorKind.ObjectNotFound, $"Customer '{customerId}' does not exist (or was removed).", customerId);
}
