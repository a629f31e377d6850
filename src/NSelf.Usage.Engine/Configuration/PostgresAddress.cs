using System.Globalization;
using System.Text.RegularExpressions;

namespace NSelf.Usage.Engine.Configuration;

/// <summary>Recognises and normalises PostgreSQL connection strings and postgres:// URIs.</summary>
public static partial class PostgresAddress
{
    [GeneratedRegex(@"(^|;)\s*(host|server)\s*=", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HostKey();

    public static bool LooksLikePostgres(string text) =>
        text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
        || text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
        || HostKey().IsMatch(text);

    /// <summary>Turns a postgres:// URI into key=value form; key=value text is returned as is.</summary>
    public static string Normalize(string text)
    {
        if (!text.Contains("://", StringComparison.Ordinal))
            return text;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
            throw Invalid(text);
        var parts = new List<string> { "Host=" + Quote(uri.Host) };
        if (!uri.IsDefaultPort && uri.Port > 0)
            parts.Add("Port=" + uri.Port.ToString(CultureInfo.InvariantCulture));
        var database = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'));
        if (database.Length > 0)
            parts.Add("Database=" + Quote(database));
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            parts.Add("Username=" + Quote(Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon])));
            if (colon >= 0)
                parts.Add("Password=" + Quote(Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..])));
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
                continue;
            var key = Uri.UnescapeDataString(pair[..eq]);
            var value = Uri.UnescapeDataString(pair[(eq + 1)..]);
            parts.Add((key.Equals("sslmode", StringComparison.OrdinalIgnoreCase) ? "SSL Mode" : key) + "=" + Quote(value));
        }
        return string.Join(';', parts);
    }

    /// <summary>The bash library's variables: BILLING_DB_HOST, _PORT (5432), _NAME, _USER, _PASSWORD.</summary>
    public static string FromBillingVariables(string host, EnvironmentSettings environment)
    {
        var parts = new List<string> { "Host=" + Quote(host), "Port=" + Quote(environment.Get("BILLING_DB_PORT") ?? "5432") };
        if (environment.Get("BILLING_DB_NAME") is { } name)
            parts.Add("Database=" + Quote(name));
        if (environment.Get("BILLING_DB_USER") is { } user)
            parts.Add("Username=" + Quote(user));
        if (environment.Get("BILLING_DB_PASSWORD") is { } password)
            parts.Add("Password=" + Quote(password));
        return string.Join(';', parts);
    }

    /// <summary>Connect-UsageStore -Server/-Port/-Database/-Credential.</summary>
    public static string FromParts(string host, int port, string? database, string? user, string? password)
    {
        var parts = new List<string> { "Host=" + Quote(host), "Port=" + port.ToString(CultureInfo.InvariantCulture) };
        if (!string.IsNullOrEmpty(database))
            parts.Add("Database=" + Quote(database));
        if (!string.IsNullOrEmpty(user))
            parts.Add("Username=" + Quote(user));
        if (!string.IsNullOrEmpty(password))
            parts.Add("Password=" + Quote(password));
        return string.Join(';', parts);
    }

    private static string Quote(string value) =>
        value.IndexOfAny(new[] { ';', '=', '"', '\'', ' ' }) < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static UsageException Invalid(string text) =>
        new(ErrorIds.InvalidConnectionString, UsageErrorKind.InvalidArgument, "The PostgreSQL address is not a valid postgres:// URI.", "postgres://…");
}
