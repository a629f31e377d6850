namespace NSelf.Usage.Engine.Exports;

/// <summary>Where and how invoice e-mail is handed over: one SMTP server (a submission relay).</summary>
public sealed record SmtpSettings(string Host, int Port)
{
    /// <summary>
    /// true: TLS is required (implicit TLS on port 465, STARTTLS on any other port); false: plain
    /// text only; null: STARTTLS when the server offers it, plain text otherwise.
    /// </summary>
    public bool? UseTls { get; init; }

    public SmtpCredential? Credential { get; init; }

    /// <summary>
    /// Bounds the whole connect (name lookup, TCP, greeting, EHLO, TLS) and then each command's
    /// answer, so that an unreachable or stalled server ends a script instead of hanging it.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// A pinned server certificate: its SHA-256 fingerprint in hex (colons and spaces ignored, as
    /// <c>openssl x509 -fingerprint -sha256</c> prints it). When given, that one certificate is
    /// accepted even though it is self-signed or names another host; any other certificate still
    /// has to pass the normal checks. Meant for a company relay with its own certificate.
    /// </summary>
    public string? CertificateSha256 { get; init; }

    /// <summary>host:port, as failures name it ([::1]:25 for an IPv6 address).</summary>
    public string Endpoint => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>An SMTP login. The caller converts a PSCredential into this just before sending.</summary>
public sealed record SmtpCredential(string UserName, string Password)
{
    // A record prints every member; the password must not reach a log or an error record.
    public override string ToString() => $"SmtpCredential {{ UserName = {UserName} }}";
}

/// <summary>
/// The rules for SMTP settings as a seller gives them (Set-BillingProfile) or a host overrides them
/// (BILLING_SMTP_*), and which of the two a sending uses.
/// </summary>
public static class SmtpRules
{
    /// <summary>The submission port (RFC 6409), used when none is given.</summary>
    public const int DefaultPort = 587;

    /// <summary>A host name or an IP address, without a port or scheme.</summary>
    public static string Server(string value)
    {
        var host = value.Trim();
        if (host.StartsWith('[') && host.EndsWith(']'))
            host = host[1..^1];
        if (Uri.CheckHostName(host) == UriHostNameType.Unknown)
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                $"The SMTP server '{value}' is not a host name or IP address; give the name alone, such as smtp.example.com, and the port with -SmtpPort.", value);
        return host;
    }

    public static int Port(int port) => port is >= 1 and <= 65535
        ? port
        : throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
            $"The SMTP port {port} is not a port; give 1 to 65535 (587 for submission with STARTTLS, 465 for TLS from the start).", port);

    public static SmtpCredential Credential(string? userName, string? password)
    {
        if (string.IsNullOrWhiteSpace(userName))
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, "The SMTP login has no user name.", null);
        if (string.IsNullOrEmpty(password))
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, $"The SMTP login '{userName}' has no password.", userName);
        return new SmtpCredential(userName.Trim(), password);
    }

    /// <summary>A SHA-256 fingerprint as 64 hex digits, upper case; colons and spaces (as openssl prints it) are dropped.</summary>
    public static string CertificateSha256(string value)
    {
        var hex = value.Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).Trim();
        if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit))
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                $"'{value}' is not a SHA-256 certificate fingerprint: give its 64 hex digits, as openssl x509 -noout -fingerprint -sha256 prints them.", value);
        return hex.ToUpperInvariant();
    }

    /// <summary>
    /// The server a sending uses. When BILLING_SMTP_SERVER is set, every setting comes from the
    /// BILLING_SMTP_* variables and none from the profile: a host (a CI job, a staging box) sends
    /// through its own relay without mixing in the seller's login. Otherwise the profile's, with
    /// its stored password read only when it has a login. A login requires TLS unless TLS was
    /// turned off outright.
    /// </summary>
    public static SmtpSettings Resolve(BillingProfile? profile, Configuration.EnvironmentSettings environment, Func<string?> storedPassword)
    {
        if (environment.Get("BILLING_SMTP_SERVER") is { } server)
        {
            var user = environment.Get("BILLING_SMTP_USER");
            var password = environment.Get("BILLING_SMTP_PASSWORD");
            if ((user is null) != (password is null))
                throw NotConfigured($"BILLING_SMTP_{(user is null ? "PASSWORD" : "USER")} is set without BILLING_SMTP_{(user is null ? "USER" : "PASSWORD")}: set both for a login, or neither.");
            return Settings(
                Setting("BILLING_SMTP_SERVER", server, Server),
                environment.Get("BILLING_SMTP_PORT") is { } port ? Setting("BILLING_SMTP_PORT", port, EnvironmentPort) : null,
                environment.Get("BILLING_SMTP_USE_TLS") is { } tls ? Setting("BILLING_SMTP_USE_TLS", tls, EnvironmentBool) : null,
                user is null ? null : new SmtpCredential(user, password!),
                environment.Get("BILLING_SMTP_CERTIFICATE_SHA256") is { } pin ? Setting("BILLING_SMTP_CERTIFICATE_SHA256", pin, CertificateSha256) : null);
        }
        if (profile?.SmtpServer is not { } host)
            throw NotConfigured("No SMTP server is set: give one with Set-BillingProfile -SmtpServer (and -SmtpPort, -SmtpCredential), or set $env:BILLING_SMTP_SERVER.");
        SmtpCredential? credential = null;
        if (profile.SmtpUserName is { } login)
            credential = new SmtpCredential(login, storedPassword()
                ?? throw NotConfigured($"The SMTP login '{login}' has no stored password this connection can read (on PostgreSQL only the store's owner reads it): "
                    + "give it again with Set-BillingProfile -SmtpCredential, or send with $env:BILLING_SMTP_SERVER, BILLING_SMTP_USER and BILLING_SMTP_PASSWORD set."));
        return Settings(host, profile.SmtpPort, profile.SmtpUseTls, credential, profile.SmtpCertificateSha256);
    }

    private static SmtpSettings Settings(string host, int? port, bool? useTls, SmtpCredential? credential, string? pin) =>
        new(host, port ?? DefaultPort)
        {
            // A password never crosses the network in clear text unless TLS was turned off outright.
            UseTls = useTls ?? (credential is null ? null : true),
            Credential = credential,
            CertificateSha256 = pin,
        };

    private static T Setting<T>(string name, string text, Func<string, T> rule)
    {
        try
        {
            return rule(text);
        }
        catch (UsageException e)
        {
            throw NotConfigured($"${name} is '{text}': {e.Message}");
        }
    }

    private static int EnvironmentPort(string text) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
            ? Port(port)
            : throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, "it must be a whole number from 1 to 65535.", text);

    private static bool EnvironmentBool(string text) => text.ToLowerInvariant() switch
    {
        "true" or "1" or "yes" => true,
        "false" or "0" or "no" => false,
        _ => throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, "it must be true or false.", text),
    };

    private static UsageException NotConfigured(string message) =>
        new(ErrorIds.SmtpNotConfigured, UsageErrorKind.InvalidOperation, message, null);
}
