namespace NSelf.Usage.Engine.Exports;

/// <summary>Why an invoice e-mail was not handed over; the caller maps each kind to a stable error id.</summary>
public enum InvoiceMailFailure
{
    /// <summary>No SMTP session could be opened: unknown host, connection refused, no answer in time.</summary>
    Unreachable,
    /// <summary>TLS was required but not offered, or the handshake or the server's certificate failed.</summary>
    TlsFailed,
    /// <summary>The server refused the credential, offers no login, or requires one that was not given.</summary>
    AuthenticationFailed,
    /// <summary>The server refused a recipient (<see cref="InvoiceMailException.Recipient"/>); nothing was sent.</summary>
    RecipientRefused,
    /// <summary>Any other SMTP command failed (<see cref="InvoiceMailException.StatusCode"/>).</summary>
    Rejected,
    /// <summary>The server closed the connection or stopped answering after the session had opened.</summary>
    ConnectionLost,
    /// <summary>The caller's CancellationToken was cancelled.</summary>
    Cancelled,
}

public sealed class InvoiceMailException : Exception
{
    public InvoiceMailException(InvoiceMailFailure kind, string endpoint, string message, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        Endpoint = endpoint;
    }

    public InvoiceMailFailure Kind { get; }

    /// <summary>host:port of the SMTP server.</summary>
    public string Endpoint { get; }

    /// <summary>The refused recipient, for <see cref="InvoiceMailFailure.RecipientRefused"/>.</summary>
    public string? Recipient { get; init; }

    /// <summary>The server's SMTP status code, when the failure was an answer from it.</summary>
    public int? StatusCode { get; init; }

    /// <summary>
    /// The whole message had been transmitted when the failure came (cancelled or cut off while
    /// waiting for the final answer): the server may have delivered it. A retry sends the same
    /// Message-ID, so the recipient's mail system can recognise the duplicate.
    /// </summary>
    public bool DeliveryUncertain { get; init; }
}
