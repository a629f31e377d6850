using NSelf.Usage.Engine.Configuration;

namespace NSelf.Usage.Engine.Tests.Configuration;

public sealed class ConfigurationTests
{
    private static EnvironmentSettings Environment(params (string Key, string Value)[] values)
    {
        var map = values.ToDictionary(v => v.Key, v => v.Value);
        return new EnvironmentSettings(k => map.TryGetValue(k, out var v) ? v : null);
    }

    [Fact]
    public void CustomerId_FollowsParameterThenSessionThenEnvironmentThenDotEnv()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File(".env"), "# comment\nexport NSELF_CUSTOMER_ID=\"cus_file\" \nOTHER=1\n");
        var env = Environment(("NSELF_CUSTOMER_ID", "cus_env"));
        Assert.Equal(("cus_param", "Parameter"), CustomerIdResolver.Find("cus_param", "cus_session", env, () => dir.Path));
        Assert.Equal(("cus_session", "Set-UsageConfiguration"), CustomerIdResolver.Find(null, "cus_session", env, () => dir.Path));
        Assert.Equal("cus_env", CustomerIdResolver.Find(null, null, env, () => dir.Path).CustomerId);
        Assert.Equal("cus_file", CustomerIdResolver.Find(null, null, Environment(), () => dir.Path).CustomerId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t")]
    public void CustomerId_GivenButBlank_IsInvalidCustomerIdNotTheDefault(string given)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File(".env"), "NSELF_CUSTOMER_ID=cus_file\n");
        var env = Environment(("NSELF_CUSTOMER_ID", "cus_env"));
        var e = Assert.Throws<UsageException>(() => CustomerIdResolver.Resolve(given, "cus_session", env, () => dir.Path));
        Assert.Equal(ErrorIds.InvalidCustomerId, e.ErrorId);
        Assert.Equal(given, e.Target);
        Assert.Throws<UsageException>(() => CustomerIdResolver.Find(given, null, env, () => dir.Path));
    }

    [Fact]
    public void CustomerId_MissingEverywhere_IsNoCustomerIdSayingHowToSetOne()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<UsageException>(() => CustomerIdResolver.Resolve(null, null, Environment(), () => dir.Path));
        Assert.Equal(ErrorIds.NoCustomerId, e.ErrorId);
        Assert.Contains("NSELF_CUSTOMER_ID", e.Message);
        Assert.Contains("Set-UsageConfiguration", e.Message);
    }

    [Fact]
    public void DotEnv_LastAssignmentWinsAndTrailingCommentsAreDropped()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File(".env"), "NSELF_CUSTOMER_ID=cus_a\nNSELF_CUSTOMER_ID=cus_b # the real one\n");
        Assert.Equal("cus_b", CustomerIdResolver.ReadDotEnv(dir.File(".env"), "NSELF_CUSTOMER_ID"));
    }

    [Fact]
    public void Settings_HaveTheBashLibrarysDefaultsAndRefuseJunk()
    {
        var defaults = Environment();
        Assert.Equal((75m, 90m, 100m), (defaults.AlertWarning, defaults.AlertCritical, defaults.AlertExceeded));
        var custom = Environment(("USAGE_BATCH_SIZE", "500"), ("USAGE_BATCH_TIMEOUT", "2.5"), ("USAGE_ALERT_WARNING", "80"));
        Assert.Equal(500, custom.BatchSize);
        Assert.Equal(TimeSpan.FromSeconds(2.5), custom.BatchTimeout);
        Assert.Equal(80m, custom.AlertWarning);
        Assert.Equal(ErrorIds.InvalidArgument, Assert.Throws<UsageException>(() => Environment(("USAGE_BATCH_SIZE", "lots")).BatchSize).ErrorId);
        Assert.Equal(ErrorIds.InvalidArgument, Assert.Throws<UsageException>(() => Environment(("USAGE_ALERT_WARNING", "7,5")).AlertWarning).ErrorId);
    }

    [Fact]
    public void StoreTarget_ComesFromTheEnvironmentInTheDocumentedOrder()
    {
        Assert.Equal(UsageStoreBackend.Sqlite, StoreTarget.Default(Environment(("NSELF_USAGE_STORE", "/tmp/x.db"))).Backend);
        var pg = StoreTarget.Default(Environment(("NSELF_USAGE_STORE", "Host=db;Database=billing")));
        Assert.Equal((UsageStoreBackend.PostgreSql, UsageStoreSource.Environment), (pg.Backend, pg.Source));
        var bash = StoreTarget.Default(Environment(("BILLING_DB_HOST", "db"), ("BILLING_DB_NAME", "nself"), ("BILLING_DB_USER", "u"), ("BILLING_DB_PASSWORD", "p;w")));
        Assert.Equal(UsageStoreSource.BillingEnvironment, bash.Source);
        Assert.Equal("Host=db;Port=5432;Database=nself;Username=u;Password=\"p;w\"", bash.Address);
        var fallback = StoreTarget.Default(Environment(("NSELF_USAGE_HOME", "/data/usage")));
        Assert.Equal((UsageStoreBackend.Sqlite, UsageStoreSource.Default, "/data/usage/usage.db"), (fallback.Backend, fallback.Source, fallback.Address));
    }

    [Fact]
    public void PostgresUri_IsTurnedIntoKeyValueForm()
    {
        Assert.Equal("Host=db.example.com;Port=6432;Database=billing;Username=app;Password=s3cr%t;SSL Mode=require",
            PostgresAddress.Normalize("postgresql://app:s3cr%25t@db.example.com:6432/billing?sslmode=require"));
    }
}
