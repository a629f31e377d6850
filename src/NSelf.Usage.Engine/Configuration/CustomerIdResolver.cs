namespace NSelf.Usage.Engine.Configuration;

/// <summary>
/// Finds the customer a command acts for: the -CustomerId parameter, then the session's
/// Set-UsageConfiguration value, then $env:NSELF_CUSTOMER_ID, then a NSELF_CUSTOMER_ID= line in
/// ./.env (the bash library's billing_get_customer_id order).
/// </summary>
public static class CustomerIdResolver
{
    public const string VariableName = "NSELF_CUSTOMER_ID";

    /// <param name="parameter">The -CustomerId the caller gave, or null when it was not given. A
    /// given id that is empty or blank is refused, never replaced by a default: it is usually an
    /// unset variable ($typo), and billing the default customer for it is a wrong bill.</param>
    public static (string? CustomerId, string Source) Find(string? parameter, string? session, EnvironmentSettings environment, Func<string> currentDirectory)
    {
        if (parameter is not null)
        {
            if (string.IsNullOrWhiteSpace(parameter))
                throw Blank(parameter);
            return (parameter, "Parameter");
        }
        if (!string.IsNullOrWhiteSpace(session))
            return (session, "Set-UsageConfiguration");
        if (environment.Get(VariableName) is { } fromEnvironment)
            return (fromEnvironment, "$env:" + VariableName);
        var dotEnv = Path.Combine(currentDirectory(), ".env");
        if (ReadDotEnv(dotEnv, VariableName) is { } fromFile)
            return (fromFile, dotEnv);
        return (null, "none");
    }

    /// <param name="currentDirectory">Asked only when the earlier sources are empty: finding the
    /// PowerShell location costs far more than the rest of a tracking call.</param>
    public static string Resolve(string? parameter, string? session, EnvironmentSettings environment, Func<string> currentDirectory)
    {
        var (id, _) = Find(parameter, session, environment, currentDirectory);
        return id ?? throw new UsageException(ErrorIds.NoCustomerId, UsageErrorKind.InvalidArgument,
            "No customer id. Pass -CustomerId, run Set-UsageConfiguration -CustomerId cus_abc123, set $env:NSELF_CUSTOMER_ID = 'cus_abc123', or add a line NSELF_CUSTOMER_ID=cus_abc123 to ./.env.");
    }

    /// <summary>The refusal of a -CustomerId that was given but is empty, blank or $null.</summary>
    public static UsageException Blank(string? given) =>
        new(ErrorIds.InvalidCustomerId, UsageErrorKind.InvalidArgument,
            (given is null ? "-CustomerId was given as $null" : "-CustomerId was given as an empty or blank string") +
            " (an unset variable?). Name a customer such as cus_abc123, or leave -CustomerId out to use the default customer (Set-UsageConfiguration, $env:NSELF_CUSTOMER_ID, ./.env).",
            given);

    /// <summary>Reads one key from a dotenv file: KEY=value, optional 'export', quotes and trailing comments.</summary>
    public static string? ReadDotEnv(string path, string key)
    {
        if (!File.Exists(path))
            return null;
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        string? found = null;
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.StartsWith("export ", StringComparison.Ordinal))
                line = line[7..].TrimStart();
            if (line.Length == 0 || line[0] == '#')
                continue;
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || line[..eq].Trim() != key)
                continue;
            var value = line[(eq + 1)..].Trim();
            if (value.Length > 0 && (value[0] == '"' || value[0] == '\''))
            {
                // A quoted value ends at its closing quote; anything after it is a comment.
                var close = value.IndexOf(value[0], 1);
                value = close > 0 ? value[1..close] : value[1..];
            }
            else if (value.IndexOf(" #", StringComparison.Ordinal) is var hash and >= 0)
            {
                value = value[..hash].TrimEnd();
            }
            found = value.Length == 0 ? null : value; // the last assignment wins, as in a shell
        }
        return found;
    }
}
