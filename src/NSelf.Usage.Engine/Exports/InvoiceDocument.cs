using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;

namespace NSelf.Usage.Engine.Exports;

/// <summary>An invoice as a printable, self-contained HTML page or as JSON.</summary>
public static class InvoiceDocument
{
    // Enums by name ("Open", "Usage"): a JSON invoice is read by people and other systems.
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    public static void WriteJson(BillingInvoice invoice, Stream stream, Encoding? encoding = null)
    {
        using var text = TextEncoding.Open(stream, encoding ?? TextEncoding.Default);
        JsonSerializer.Serialize(text, invoice, Json);
    }

    /// <summary>A credit note with its lines, as JSON.</summary>
    public static void WriteJson(BillingCreditNote note, Stream stream, Encoding? encoding = null)
    {
        using var text = TextEncoding.Open(stream, encoding ?? TextEncoding.Default);
        JsonSerializer.Serialize(text, note, Json);
    }

    public static void WriteHtml(CustomerCopy copy, Stream stream, Encoding? encoding = null)
    {
        encoding ??= TextEncoding.Default;
        using var text = TextEncoding.Open(stream, encoding);
        using var writer = new StreamWriter(text, new UTF8Encoding(false), leaveOpen: true);
        writer.Write(TextEncoding.DeclareCharset(Html(copy), encoding));
    }

    /// <summary>
    /// The customer's copy as one self-contained page (the logo inlined): readable on a phone
    /// (390 px: each line becomes a block, amounts never wrap or cut) and printed on A4 or Letter.
    /// </summary>
    /// <param name="logoSource">
    /// Where the logo's img points instead of a data: URI; an e-mail names its attached logo
    /// (cid:...), as mail readers block inline data images.
    /// </param>
    public static string Html(CustomerCopy copy, string? logoSource = null)
    {
        static string E(string? text) => WebUtility.HtmlEncode(text ?? "");
        static string Block(IEnumerable<string?> lines) => string.Join("", lines.Where(l => !string.IsNullOrEmpty(l)).Select(l => $"<div>{E(l)}</div>"));
        var s = copy.Seller;
        var b = copy.Buyer;
        var logo = s.Logo is { } image && InvoicePdf.IsSupportedImage(image, out var format)
            ? $"<img class=\"logo\" alt=\"{E(s.LegalName)}\" src=\"{E(logoSource ?? $"data:image/{format};base64,{Convert.ToBase64String(image)}")}\">"
            : "";
        var page = copy.PaperSize == InvoicePaperSize.Letter ? "letter" : "A4";
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $$"""
            <!DOCTYPE html>
            <html lang="{{E(copy.Language ?? "en")}}">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{E(copy.Title)}}{{(copy.Number is { } n ? " " + E(n) : "")}}</title>
            <style>
              body { font: 14px/1.45 "DejaVu Sans", system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 0; background: #f3f4f6; }
              .page { position: relative; max-width: 820px; margin: 24px auto; background: #fff; padding: 40px; box-shadow: 0 1px 4px rgba(0,0,0,.08); overflow: hidden; }
              header { display: flex; justify-content: space-between; gap: 24px; flex-wrap: wrap; }
              .logo { max-width: 170px; max-height: 76px; display: block; margin-bottom: 10px; }
              .seller strong, .buyer strong { font-size: 16px; }
              .muted { color: #5f5f5f; }
              h1 { font-size: 28px; margin: 0 0 8px; text-align: right; }
              table.meta { border-collapse: collapse; margin-left: auto; }
              table.meta td { padding: 1px 0 1px 16px; white-space: nowrap; }
              table.meta td:first-child { color: #5f5f5f; padding-left: 0; }
              table.meta td:last-child { text-align: right; }
              .buyer { margin-top: 28px; }
              .label { font-size: 11px; font-weight: 700; color: #5f5f5f; text-transform: uppercase; letter-spacing: .04em; margin-bottom: 2px; }
              table.lines { width: 100%; border-collapse: collapse; margin-top: 28px; }
              table.lines th { background: #eee; font-size: 12px; text-align: left; padding: 7px 8px; }
              table.lines td { border-bottom: 1px solid #ddd; padding: 7px 8px; vertical-align: top; }
              table.lines .n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
              table.lines tr.tier td { border: 0; padding-top: 0; font-size: 12px; color: #5f5f5f; }
              table.lines tr.tier td:first-child { padding-left: 22px; }
              table.lines tr.last td { border-bottom: 1px solid #ddd; }
              table.totals { margin: 16px 0 0 auto; border-collapse: collapse; min-width: 300px; }
              table.totals td { padding: 4px 8px; }
              table.totals td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
              table.totals tr.strong td { border-top: 2px solid #222; font-weight: 700; font-size: 16px; }
              .notes { margin-top: 20px; color: #5f5f5f; font-size: 13px; }
              .payment { margin-top: 16px; }
              footer { margin-top: 36px; border-top: 1px solid #ddd; padding-top: 8px; font-size: 11px; color: #5f5f5f; text-align: center; }
              .watermark { position: absolute; top: 38%; left: 0; right: 0; text-align: center; font-size: 120px; font-weight: 700; color: rgba(112,112,112,.16); transform: rotate(-35deg); pointer-events: none; user-select: none; }
              @page { size: {{page}}; margin: 18mm; }
              @media print { body { background: #fff; } .page { box-shadow: none; margin: 0; max-width: none; padding: 0; } }
              @media (max-width: 600px) {
                .page { margin: 0; padding: 16px; }
                h1 { text-align: left; }
                table.meta { margin-left: 0; }
                table.lines thead { display: none; }
                table.lines, table.lines tbody, table.lines tr, table.lines td { display: block; width: auto; }
                table.lines tr.line { border-top: 1px solid #ddd; padding: 8px 0; }
                table.lines tr.line td { border: 0; padding: 2px 0; }
                table.lines tr.line td.qty, table.lines tr.line td.price { display: inline-block; padding-right: 4px; }
                table.lines tr.line td.amount { text-align: right; font-weight: 700; }
                table.lines td.qty:not(:empty)::after { content: " ×"; }
                table.lines tr.tier td { display: inline; padding: 0 6px 0 0; }
                table.lines tr.tier { padding: 0 0 2px 12px; font-size: 12px; }
                table.totals { min-width: 0; width: 100%; }
                .watermark { font-size: 64px; }
              }
            </style>
            </head>
            <body><div class="page">
            {{(copy.IsDraft ? $"<div class=\"watermark\" aria-hidden=\"true\">{E(copy.Labels.Draft)}</div>" : "")}}
            <header>
              <div class="seller">
                {{logo}}
                <strong>{{E(s.LegalName)}}</strong>
                {{Block([.. s.AddressLines, s.Country])}}
                <div class="muted">{{Block([s.TaxId, s.Email, s.Website])}}</div>
              </div>
              <div>
                <h1>{{E(copy.Title)}}</h1>
                <table class="meta">{{string.Join("", copy.Meta.Select(f => $"<tr><td>{E(f.Label)}</td><td>{E(f.Value)}</td></tr>"))}}</table>
              </div>
            </header>
            <div class="buyer">
              <div class="label">{{E(copy.Labels.BillTo)}}</div>
              <strong>{{E(b.Name)}}</strong>
              {{Block([b.Contact, .. b.AddressLines, b.Country])}}
              <div class="muted">{{Block([b.TaxId, b.Email])}}</div>
            </div>
            <table class="lines">
              <thead><tr><th>{{E(copy.Labels.Description)}}</th><th class="n">{{E(copy.Labels.Quantity)}}</th><th class="n">{{E(copy.Labels.UnitPrice)}}</th><th class="n">{{E(copy.Labels.Amount)}}</th></tr></thead>
              <tbody>

            """);
        foreach (var line in copy.Lines)
        {
            var last = line.SubRows.Count == 0 ? " last" : "";
            // The quantity cell shows "× unit price" after it on a phone only when there is a price.
            html.Append(CultureInfo.InvariantCulture, $"""
                <tr class="line{last}"><td>{E(line.Description)}</td><td class="n{(line.UnitPrice.Length > 0 ? " qty" : "")}">{E(line.Quantity)}</td><td class="n price">{E(line.UnitPrice)}</td><td class="n amount">{E(line.Amount)}</td></tr>

                """);
            for (var i = 0; i < line.SubRows.Count; i++)
            {
                var row = line.SubRows[i];
                html.Append(CultureInfo.InvariantCulture, $"""
                    <tr class="tier{(i == line.SubRows.Count - 1 ? " last" : "")}"><td>{E(row.Description)}</td><td class="n">{E(row.Quantity)}</td><td class="n">{E(row.UnitPrice)}</td><td class="n">{E(row.Amount)}</td></tr>

                    """);
            }
        }
        html.Append("  </tbody>\n</table>\n<table class=\"totals\">\n");
        foreach (var total in copy.Totals)
            html.Append(CultureInfo.InvariantCulture, $"  <tr{(total.Emphasis ? " class=\"strong\"" : "")}><td>{E(total.Label)}</td><td class=\"n\">{E(total.Value)}</td></tr>\n");
        html.Append("</table>\n");
        if (copy.TaxNotes.Count > 0)
            html.Append("<div class=\"notes\">").Append(Block(copy.TaxNotes)).Append("</div>\n");
        if (copy.PaymentInstructions.Count > 0)
            html.Append("<div class=\"payment\">").Append(Block(copy.PaymentInstructions)).Append("</div>\n");
        if (copy.Footer is { } footer)
            html.Append(CultureInfo.InvariantCulture, $"<footer>{E(footer)}</footer>\n");
        html.Append("</div></body>\n</html>\n");
        return html.ToString();
    }
}
