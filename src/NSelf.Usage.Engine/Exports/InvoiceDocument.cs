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

    public static void WriteHtml(BillingInvoice invoice, BillingCustomer? customer, Stream stream, Encoding? encoding = null)
    {
        encoding ??= TextEncoding.Default;
        using var text = TextEncoding.Open(stream, encoding);
        using var writer = new StreamWriter(text, new UTF8Encoding(false), leaveOpen: true);
        writer.Write(TextEncoding.DeclareCharset(Html(invoice, customer), encoding));
    }

    public static string Html(BillingInvoice invoice, BillingCustomer? customer)
    {
        static string E(string? text) => WebUtility.HtmlEncode(text ?? "");
        var digits = Money.MinorUnitDigits(invoice.Currency);
        string M(decimal amount) => amount.ToString("N" + digits, CultureInfo.InvariantCulture);
        static string Q(decimal quantity) => Ingestion.Quantities.Format(quantity);
        static string D(DateTimeOffset at) => at.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $$"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Invoice {{E(invoice.InvoiceId)}}</title>
            <style>
              body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2933; margin: 0; background: #f5f7fa; }
              .page { max-width: 860px; margin: 24px auto; background: #fff; padding: 40px; box-shadow: 0 1px 4px rgba(0,0,0,.08); }
              header { display: flex; justify-content: space-between; align-items: flex-start; gap: 24px; flex-wrap: wrap; }
              h1 { font-size: 28px; margin: 0 0 4px; letter-spacing: .02em; }
              .muted { color: #616e7c; }
              .status { display: inline-block; padding: 2px 10px; border-radius: 12px; font-size: 12px; text-transform: uppercase; background: #e4e7eb; }
              .status.open { background: #fff3c4; } .status.paid { background: #c6f7e2; } .status.draft { background: #e4e7eb; }
              table { width: 100%; border-collapse: collapse; margin-top: 28px; }
              th { text-align: left; font-size: 12px; text-transform: uppercase; color: #616e7c; border-bottom: 2px solid #cbd2d9; padding: 8px 6px; }
              td { border-bottom: 1px solid #e4e7eb; padding: 8px 6px; vertical-align: top; }
              td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
              .tiers { font-size: 12px; color: #616e7c; }
              .evidence { font-size: 11px; color: #9aa5b1; word-break: break-all; }
              .totals { margin-left: auto; margin-top: 16px; width: 300px; }
              .totals td { border: 0; padding: 4px 6px; }
              .totals tr.total td { border-top: 2px solid #1f2933; font-weight: 700; font-size: 16px; }
              @media print { body { background: #fff; } .page { box-shadow: none; margin: 0; max-width: none; padding: 0; } }
              @media (max-width: 600px) { .page { padding: 16px; margin: 0; } .hide-small { display: none; } }
            </style>
            </head>
            <body><div class="page">
            <header>
              <div>
                <h1>Invoice</h1>
                <div class="muted">{{E(invoice.InvoiceId)}}</div>
                <div><span class="status {{invoice.Status.ToString().ToLowerInvariant()}}">{{invoice.Status}}</span></div>
              </div>
              <div>
                <div><strong>{{E(customer?.Company ?? customer?.Name ?? invoice.CustomerId)}}</strong></div>
                {{(customer?.Name is { } name && customer.Company is not null ? $"<div>{E(name)}</div>" : "")}}
                {{(customer?.Email is { } email ? $"<div>{E(email)}</div>" : "")}}
                <div class="muted">Customer {{E(invoice.CustomerId)}}</div>
              </div>
              <div>
                <div>Period <strong>{{D(invoice.PeriodStart)}}</strong> to <strong>{{D(invoice.PeriodEnd)}}</strong> <span class="muted">(end exclusive, UTC)</span></div>
                <div>Plan <strong>{{E(invoice.Plan ?? "none")}}</strong></div>
                <div>Issued {{D(invoice.FinalizedAt ?? invoice.CreatedAt)}}{{(invoice.DueDate is { } due ? $", due {D(due)}" : "")}}</div>
              </div>
            </header>
            <table>
              <thead><tr><th>#</th><th>Description</th><th class="n">Quantity</th><th class="n hide-small">Included</th><th class="n">Billable</th><th class="n hide-small">Unit price</th><th class="n">Amount ({{E(invoice.Currency)}})</th></tr></thead>
              <tbody>
            """);
        foreach (var line in invoice.Lines)
        {
            html.Append(CultureInfo.InvariantCulture, $"""
                <tr><td>{line.LineNumber}</td><td>{E(line.Description)}{(line.Kind == InvoiceLineKind.Adjustment ? " <span class=\"muted\">(adjustment)</span>" : "")}
                """);
            if (line.Tiers.Count > 0)
                html.Append("<div class=\"tiers\">").Append(string.Join("; ", line.Tiers.Select(t =>
                    $"{Q(t.Quantity)} × {t.UnitPrice.ToString(CultureInfo.InvariantCulture)}{(t.FlatFee == 0 ? "" : " + " + M(t.FlatFee))} {(t.UpTo is { } up ? "(up to " + Q(up) + ")" : "(above)")}"))).Append("</div>");
            if (line.EventsHash is not null)
                html.Append(CultureInfo.InvariantCulture, $"<div class=\"evidence\">{line.Events:N0} events · sha256 {line.EventsHash}</div>");
            html.Append(CultureInfo.InvariantCulture, $"""
                </td><td class="n">{Q(line.Quantity)} {E(line.Unit)}</td><td class="n hide-small">{Q(line.Included)}</td><td class="n">{Q(line.Billable)}</td><td class="n hide-small">{(line.UnitPrice is { } p ? p.ToString(CultureInfo.InvariantCulture) : "")}</td><td class="n">{M(line.Amount)}</td></tr>

                """);
        }
        html.Append(CultureInfo.InvariantCulture, $"""
              </tbody>
            </table>
            <table class="totals">
              <tr><td>Subtotal</td><td class="n">{M(invoice.Subtotal)}</td></tr>
              <tr><td>Tax ({invoice.TaxRate.ToString(CultureInfo.InvariantCulture)}%)</td><td class="n">{M(invoice.Tax)}</td></tr>
              <tr class="total"><td>Total {E(invoice.Currency)}</td><td class="n">{M(invoice.Total)}</td></tr>
            </table>
            <p class="muted">Each usage line names the events it bills (their number and a SHA-256 of their sorted ids). Usage that arrives after an invoice is finalized is billed once, on a later invoice, as an adjustment naming its period.</p>
            </div></body>
            </html>
            """);
        return html.ToString();
    }
}
