namespace NSelf.Usage.Engine.Ingestion;

/// <summary>
/// The bash library's record strings, 'service:quantity' or 'service:quantity:{json}'
/// (usage_batch_insert "api:1:{\"endpoint\":\"/users\"}").
/// </summary>
public static class RecordText
{
    public static (string Service, decimal Quantity, string Metadata) Parse(string text)
    {
        var first = text.IndexOf(':', StringComparison.Ordinal);
        if (first <= 0)
            throw Invalid(text);
        var second = text.IndexOf(':', first + 1);
        var quantityText = second < 0 ? text[(first + 1)..] : text[(first + 1)..second];
        var metadata = second < 0 ? Metadata.Empty : text[(second + 1)..];
        if (quantityText.Length == 0)
            throw Invalid(text);
        return (text[..first].Trim(), Quantities.Parse(quantityText, text), Metadata.Normalize(metadata, text));
    }

    private static UsageException Invalid(string text) =>
        new(ErrorIds.InvalidRecord, UsageErrorKind.InvalidArgument,
            $"'{TextRules.Shorten(text)}' is not a record string. Use 'service:quantity' or 'service:quantity:{{json}}', for example 'api:1:{{\"endpoint\":\"/users\"}}'.", text);
}
