using System.Globalization;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Exports;

/// <summary>
/// The customer's copy of an invoice: the seller and buyer blocks, the number and dates, the lines,
/// net, tax and gross, the notes the law expects and how to pay, worded in the buyer's language and
/// with numbers and dates in the buyer's locale. What the customer does not need (event counts,
/// hashes of event ids, seals) stays out: it is in the JSON export.
/// </summary>
public static class InvoiceCopies
{
    /// <summary>The locale an invoice is printed in: the buyer's, else the seller's, else en-US.</summary>
    public static CultureInfo Culture(BillingInvoice invoice, BillingProfile? profile)
    {
        var name = invoice.Buyer?.Locale ?? invoice.Seller?.Locale ?? profile?.Locale ?? "en-US";
        return CultureInfo.GetCultureInfo(name);
    }

    /// <summary>US and Canadian readers print on Letter paper; everyone else on A4.</summary>
    public static InvoicePaperSize PaperFor(CultureInfo culture) =>
        culture.Name is "en-US" or "en-CA" or "fr-CA" or "es-US" or "es-MX" ? InvoicePaperSize.Letter : InvoicePaperSize.A4;

    /// <summary>The copy of an invoice of the store, its dates in the customer's time zone (its subscription's, else <paramref name="defaultZone"/>).</summary>
    public static CustomerCopy Of(Accounts.Subscriptions book, BillingInvoice invoice, TimeZoneInfo defaultZone, InvoicePaperSize? paper = null) =>
        Of(book, invoice, book.Store.GetProfile(), defaultZone, paper);

    /// <summary>As <see cref="Of(Accounts.Subscriptions, BillingInvoice, TimeZoneInfo, InvoicePaperSize?)"/>, with the seller's profile the caller read already.</summary>
    public static CustomerCopy Of(Accounts.Subscriptions book, BillingInvoice invoice, BillingProfile? profile, TimeZoneInfo defaultZone, InvoicePaperSize? paper) =>
        Build(invoice, profile, book.TermsOver(invoice.CustomerId, invoice.PeriodStart, invoice.PeriodEnd, defaultZone).Zone, paper);

    /// <summary>
    /// The copy of <paramref name="invoice"/>. The seller and buyer are the invoice's own (as issued);
    /// the logo, and for an invoice made before those were kept, the seller, come from the profile now.
    /// Dates are shown in <paramref name="zone"/>, the buyer's (its subscription's) time zone.
    /// </summary>
    public static CustomerCopy Build(BillingInvoice invoice, BillingProfile? profile, TimeZoneInfo zone, InvoicePaperSize? paper = null)
    {
        var culture = Culture(invoice, profile);
        var words = InvoiceWords.For(culture);
        var money = new MoneyText(invoice.Currency, culture);
        var seller = invoice.Seller ?? Accounts.InvoiceParties.SellerOf(profile);
        var buyer = invoice.Buyer;
        string Date(DateTimeOffset at) => TimeZoneInfo.ConvertTime(at, zone).ToString("d", culture);

        var meta = new List<CopyField>();
        if (invoice.InvoiceNumber is { } number)
            meta.Add(new CopyField(words.Number, number));
        meta.Add(new CopyField(words.IssueDate, Date(invoice.FinalizedAt ?? invoice.CreatedAt)));
        if (invoice.DueDate is { } due)
            meta.Add(new CopyField(words.DueDate, Date(due)));
        meta.Add(new CopyField(words.ServicePeriod, Period(invoice.PeriodStart, invoice.PeriodEnd, zone, culture)));
        meta.Add(new CopyField(words.CustomerNumber, invoice.CustomerId));

        var totals = new List<CopyTotal> { new(words.Net, money.Amount(invoice.Subtotal)) };
        totals.Add(new CopyTotal($"{invoice.TaxName} {Percent(invoice.TaxRate, culture)}", money.Amount(invoice.Tax)));
        // Prepaid credit pays part of the invoice: a means of payment, after the tax (the total
        // and its tax stay what was supplied), as Lago and Stripe print it.
        if (invoice.CreditsApplied > 0)
        {
            totals.Add(new CopyTotal(words.Gross, money.Amount(invoice.Total)));
            totals.Add(new CopyTotal(words.CreditsApplied, money.Amount(-invoice.CreditsApplied)));
            totals.Add(new CopyTotal(words.AmountDue, money.Amount(invoice.Total - invoice.CreditsApplied), Emphasis: true));
        }
        else
            totals.Add(new CopyTotal(words.Gross, money.Amount(invoice.Total), Emphasis: true));

        var notes = new List<string>();
        if (words.TaxNote(invoice.TaxTreatment, invoice.TaxName) is { } note)
            notes.Add(note);

        var instructions = seller?.PaymentInstructions ?? profile?.PaymentInstructions;
        return new CustomerCopy
        {
            Title = words.Title,
            Number = invoice.InvoiceNumber,
            Timestamp = invoice.FinalizedAt ?? invoice.CreatedAt,
            Language = culture.Name,
            PaperSize = paper ?? PaperFor(culture),
            IsDraft = invoice.Status == InvoiceStatus.Draft,
            Labels = words.Labels,
            Seller = new CopySeller
            {
                LegalName = seller?.Name ?? "",
                AddressLines = Lines(seller?.Address),
                Country = CountryName(seller?.Country),
                TaxId = seller?.TaxId is { } sellerTaxId ? $"{words.TaxId}: {sellerTaxId}" : null,
                Email = seller?.Email,
                Website = seller?.Website,
                Logo = profile?.Logo,
            },
            Buyer = new CopyBuyer
            {
                Name = buyer?.Name ?? invoice.CustomerId,
                Contact = buyer?.Attention is { } attention ? $"{words.Attention} {attention}" : null,
                AddressLines = [.. Lines(buyer?.Address), .. buyer?.Region is { } region ? [region] : Array.Empty<string>()],
                Country = CountryName(buyer?.Country),
                TaxId = buyer?.TaxId is { } buyerTaxId ? $"{words.TaxId}: {buyerTaxId}" : null,
                Email = buyer?.Email,
            },
            Meta = meta,
            Lines = invoice.Lines.Select(l => Line(l, words, money, culture, zone)).ToList(),
            Totals = totals,
            TaxNotes = notes,
            PaymentInstructions = Lines(instructions),
            Footer = seller?.Name is { Length: > 0 } name ? string.Join(" · ", new[] { name, seller.Website, seller.Email }.Where(p => !string.IsNullOrEmpty(p))) : null,
        };
    }

    /// <summary>
    /// A line's description in the reader's language and locale: a usage line is described again
    /// here (the stored description writes its numbers invariant: "api: 123456 requests").
    /// </summary>
    public static string Describe(BillingInvoiceLine line, InvoiceWords words, CultureInfo culture, TimeZoneInfo zone)
    {
        var unit = line.Unit is { Length: > 0 } u ? " " + u : "";
        var description = line.Kind == InvoiceLineKind.Usage && line.Service is { } service && line.Unit is not null
            ? $"{service}: {Quantity(line.Quantity, culture)}{unit}"
            : line.Description;
        if (line.Kind == InvoiceLineKind.Adjustment)
            description += $" ({words.Adjustment}, {Period(line.PeriodStart, line.PeriodEnd, zone, culture)})";
        if (line.Kind == InvoiceLineKind.Usage && line.Included > 0)
            description += $"; {Quantity(line.Included, culture)} {words.Included}";
        return description;
    }

    private static CopyLine Line(BillingInvoiceLine line, InvoiceWords words, MoneyText money, CultureInfo culture, TimeZoneInfo zone)
    {
        var unit = line.Unit is { Length: > 0 } u ? " " + u : "";
        var description = Describe(line, words, culture, zone);
        var subRows = new List<CopySubRow>();
        decimal? from = 0;
        foreach (var tier in line.Tiers)
        {
            // The tier's range as the customer reads it: from the end of the last one to its own end.
            var range = tier.UpTo is { } upTo ? $"{Quantity(from ?? 0, culture)} – {Quantity(upTo, culture)}" : $"> {Quantity(from ?? 0, culture)}";
            var price = money.Price(tier.UnitPrice) + (tier.FlatFee != 0 ? $" + {money.Amount(tier.FlatFee)}" : "");
            subRows.Add(new CopySubRow(range, Quantity(tier.Quantity, culture), price, money.Amount(tier.Amount)));
            from = tier.UpTo;
        }
        return new CopyLine(description, Quantity(line.Billable, culture) + unit, line.UnitPrice is { } p ? money.Price(p) : "", money.Amount(line.Amount))
        {
            SubRows = subRows,
        };
    }

    /// <summary>
    /// A billing period as its days: [start, end) with end at a midnight shows the day before as
    /// the last day ("01.11.2026 – 30.11.2026"); a period that does not end at a midnight shows its times.
    /// </summary>
    public static string Period(DateTimeOffset start, DateTimeOffset end, TimeZoneInfo zone, CultureInfo culture)
    {
        var (from, to) = (TimeZoneInfo.ConvertTime(start, zone), TimeZoneInfo.ConvertTime(end, zone));
        string Day(DateTimeOffset at) => at.ToString("d", culture);
        string Moment(DateTimeOffset at) => at.ToString("g", culture);
        var first = from.TimeOfDay == TimeSpan.Zero ? Day(from) : Moment(from);
        var last = to.TimeOfDay == TimeSpan.Zero ? Day(to.AddDays(-1)) : Moment(to);
        return $"{first} – {last}";
    }

    /// <summary>A quantity with every digit it has, grouped as the culture groups them.</summary>
    public static string Quantity(decimal quantity, CultureInfo culture)
    {
        var value = Quantities.Normalize(quantity);
        return value.ToString("N" + value.Scale, culture);
    }

    /// <summary>A rate in percent as the culture writes one ("19 %", "19%", "7,25 %").</summary>
    public static string Percent(decimal rate, CultureInfo culture)
    {
        var value = Quantities.Normalize(rate);
        // The culture's percent pattern, with the rate's own digits (P multiplies by 100 itself).
        return (value / 100m).ToString("P" + value.Scale, culture);
    }

    private static IReadOnlyList<string> Lines(string? text) =>
        string.IsNullOrEmpty(text) ? [] : text.Split('\n');

    /// <summary>
    /// The country's name as its own people write it (Deutschland, France, United States), as a
    /// postal address ends; the code when .NET knows no name. (.NET on Linux names regions only in
    /// their own language, so a name in the reader's language would differ between machines.)
    /// </summary>
    public static string? CountryName(string? code)
    {
        if (code is null)
            return null;
        try
        {
            return new RegionInfo(code).NativeName;
        }
        catch (ArgumentException)
        {
            return code;
        }
    }
}

/// <summary>Amounts and prices of one currency as a culture writes them: "1.234,56 €", "$1,234.56", "¥1,235".</summary>
public sealed class MoneyText
{
    // The symbols readers know; any other currency is written with its ISO code ("1.234,56 CHF").
    private static readonly IReadOnlyDictionary<string, string> Symbols = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["EUR"] = "€", ["USD"] = "$", ["GBP"] = "£", ["JPY"] = "¥", ["INR"] = "₹", ["KRW"] = "₩",
    };

    private readonly NumberFormatInfo _format;
    private readonly int _digits;

    public MoneyText(string currency, CultureInfo culture)
    {
        _digits = Money.MinorUnitDigits(currency);
        _format = (NumberFormatInfo)culture.NumberFormat.Clone();
        _format.CurrencySymbol = Symbols.TryGetValue(currency, out var symbol) ? symbol : currency;
        // A symbol or code never parts from its amount at a line end.
        _format.CurrencyGroupSeparator = _format.CurrencyGroupSeparator.Replace(' ', '\u00A0');
    }

    /// <summary>An amount to the currency's minor unit.</summary>
    public string Amount(decimal amount) => NoBreak(amount.ToString("C" + _digits.ToString(CultureInfo.InvariantCulture), _format));

    /// <summary>A unit price with at least the minor unit and every digit it has (0,0013 € stays 0,0013 €).</summary>
    public string Price(decimal price)
    {
        var value = Quantities.Normalize(price);
        var scale = Math.Max(_digits, value.Scale);
        return NoBreak(value.ToString("C" + scale.ToString(CultureInfo.InvariantCulture), _format));
    }

    private static string NoBreak(string text) => text.Replace(' ', '\u00A0');
}
