using System.Globalization;
using PdfSharp.Drawing;
using PdfSharp.Pdf;

namespace NSelf.Usage.Engine.Exports;

public static partial class InvoicePdf
{
    private const double Mm = 72.0 / 25.4;

    /// <summary>One render: places the blocks top to bottom, page by page; all lengths in points, y downwards.</summary>
    private sealed class Layout
    {
        private const double Margin = 18 * Mm;
        private const double LogoMaxWidth = 45 * Mm;
        private const double LogoMaxHeight = 20 * Mm;
        private const double CellPadding = 5;
        private const double SubRowIndent = 10;
        private const double LineSpacing = 1.3; // line height as a multiple of the font size
        private const double Ascent = 0.93;     // DejaVu Sans ascender, 1901/2048 em: line top to baseline

        private readonly CustomerCopy _model;
        private readonly PdfDocument _document;
        private readonly InvoiceFontResolver _fonts;
        private readonly XImage? _logo;
        private readonly XSize _pageSize;
        private readonly double _left, _right, _width, _bottom;
        private readonly XGraphics _measure;
        private readonly List<XGraphics> _pages = [];
        private XGraphics _gfx = null!;
        private double _y;

        private readonly XFont _title, _sellerName, _buyerName, _heading, _body, _meta, _small, _smallBold, _note, _footer, _emphasis;
        private readonly XBrush _ink = new XSolidBrush(XColor.FromArgb(0x22, 0x22, 0x22));
        private readonly XBrush _muted = new XSolidBrush(XColor.FromArgb(0x5F, 0x5F, 0x5F));
        private readonly XBrush _headerFill = new XSolidBrush(XColor.FromArgb(0xEE, 0xEE, 0xEE));
        // Grey at 16 % opacity: drawn last, over the content, so no table fill hides it.
        private readonly XBrush _watermark = new XSolidBrush(XColor.FromArgb(40, 0x70, 0x70, 0x70));
        private readonly XPen _rule = new(XColor.FromArgb(0xCC, 0xCC, 0xCC), 0.5);
        private readonly XPen _strongRule = new(XColor.FromArgb(0x22, 0x22, 0x22), 0.8);

        // The lines table: column x positions and widths, the header, the rows.
        private readonly double[] _columnX = new double[4];
        private readonly double[] _columnWidth = new double[4];
        private readonly string[][] _headerCells;
        private readonly double _headerHeight;
        private readonly List<TableRow> _rows;

        private readonly List<string> _footerLines;
        private readonly double _footerHeight;
        private readonly double _continuationHeight;
        private readonly TotalsBlock _totals;

        public Layout(CustomerCopy model, PdfDocument document, InvoiceFontResolver fonts, XImage? logo)
        {
            _model = model;
            _document = document;
            _fonts = fonts;
            _logo = logo;
            _pageSize = model.PaperSize switch
            {
                InvoicePaperSize.A4 => new XSize(210 * Mm, 297 * Mm),
                InvoicePaperSize.Letter => new XSize(8.5 * 72, 11 * 72),
                _ => throw new ArgumentOutOfRangeException(nameof(model), model.PaperSize, "Unknown paper size."),
            };
            _left = Margin;
            _right = _pageSize.Width - Margin;
            _width = _right - _left;
            _measure = XGraphics.CreateMeasureContext(_pageSize, XGraphicsUnit.Point, XPageDirection.Downwards);

            _title = fonts.Create(20, bold: true);
            _sellerName = fonts.Create(11, bold: true);
            _buyerName = fonts.Create(10, bold: true);
            _heading = fonts.Create(10, bold: true);
            _body = fonts.Create(9, bold: false);
            _meta = fonts.Create(8.5, bold: false);
            _small = fonts.Create(7.5, bold: false);
            _smallBold = fonts.Create(7.5, bold: true);
            _note = fonts.Create(8, bold: false);
            _footer = fonts.Create(7, bold: false);
            _emphasis = fonts.Create(10, bold: true);

            _footerLines = TextWrap.Wrap(_measure, model.Footer, _footer, _width);
            _footerHeight = 2 * Mm + (_footerLines.Count + 1) * LineHeight(_footer);
            _bottom = _pageSize.Height - Margin - _footerHeight - 4 * Mm;
            _continuationHeight = LineHeight(_heading) + 6 * Mm;

            SizeColumns();
            var labels = model.Labels;
            _headerCells =
            [
                [.. Wrap(labels.Description, _smallBold, 0)], [.. Wrap(labels.Quantity, _smallBold, 1)],
                [.. Wrap(labels.UnitPrice, _smallBold, 2)], [.. Wrap(labels.Amount, _smallBold, 3)],
            ];
            _headerHeight = _headerCells.Max(c => Math.Max(c.Length, 1)) * LineHeight(_smallBold) + 2 * 3;
            _rows = BuildRows();
            _totals = MeasureTotals();
        }

        public void Run()
        {
            AddPage();
            DrawParties();
            DrawTable();
            DrawTotals();
            DrawPaymentInstructions();
            FinishPages();
        }

        // ---- pages ---------------------------------------------------------------------------

        private void AddPage()
        {
            var page = _document.AddPage();
            page.Width = XUnit.FromPoint(_pageSize.Width);
            page.Height = XUnit.FromPoint(_pageSize.Height);
            // Kept open until FinishPages draws the footers, once the page count is known.
            _gfx = XGraphics.FromPdfPage(page);
            _pages.Add(_gfx);
            _y = Margin;
            if (_pages.Count > 1)
                DrawContinuationHeading();
        }

        private string InvoiceHeading =>
            _model.Number is { Length: > 0 } number ? $"{_model.Title} {number}" : _model.Title;

        /// <summary>Second and later pages: "Rechnung ACME-000042 – Fortsetzung", seller on the right.</summary>
        private void DrawContinuationHeading()
        {
            var heading = InvoiceHeading;
            var suffix = " – " + _model.Labels.Continued;
            Left(heading, _heading, _ink, _left, _y);
            Left(suffix, _meta, _muted, _left + Width(heading, _heading), _y + (_heading.Size - _meta.Size) * Ascent);
            var seller = TextWrap.Wrap(_measure, _model.Seller.LegalName, _meta, _width * 0.45).FirstOrDefault() ?? "";
            Right(seller, _meta, _muted, _right, _y + (_heading.Size - _meta.Size) * Ascent);
            _y += LineHeight(_heading) + 2 * Mm;
            _gfx.DrawLine(_rule, _left, _y, _right, _y);
            _y += 4 * Mm;
        }

        /// <summary>Footer text, "Page X of Y" and the draft watermark, then closes each page.</summary>
        private void FinishPages()
        {
            var count = _pages.Count;
            for (var index = 0; index < count; index++)
            {
                var gfx = _pages[index];
                _gfx = gfx;
                var y = _pageSize.Height - Margin - _footerHeight;
                gfx.DrawLine(_rule, _left, y, _right, y);
                y += 2 * Mm;
                foreach (var line in _footerLines)
                {
                    Center(line, _footer, _muted, (_left + _right) / 2, y);
                    y += LineHeight(_footer);
                }
                Left(InvoiceHeading, _footer, _muted, _left, y);
                Right(string.Format(CultureInfo.InvariantCulture, _model.Labels.PageOfPages, index + 1, count), _footer, _muted, _right, y);
                if (_model.IsDraft)
                    DrawWatermark();
                gfx.Dispose();
            }
            _measure.Dispose();
        }

        private void DrawWatermark()
        {
            var text = _model.Labels.Draft;
            if (string.IsNullOrWhiteSpace(text))
                return;
            // Along the page diagonal, 70 % of its length, at most 150 pt high.
            var diagonal = Math.Sqrt(_pageSize.Width * _pageSize.Width + _pageSize.Height * _pageSize.Height);
            var probe = Width(text, _title);
            var size = Math.Min(150, _title.Size * diagonal * 0.7 / probe);
            var font = _fonts.Create(size, bold: true);
            var center = new XPoint(_pageSize.Width / 2, _pageSize.Height / 2);
            var angle = Math.Atan2(_pageSize.Height, _pageSize.Width) * 180 / Math.PI;
            var state = _gfx.Save();
            _gfx.RotateAtTransform(-angle, center); // bottom-left to top-right
            _gfx.DrawString(text, font, _watermark, center, XStringFormats.Center);
            _gfx.Restore(state);
        }

        // ---- seller, title, meta, buyer (first page) -----------------------------------------

        private void DrawParties()
        {
            var seller = _model.Seller;
            var top = _y;
            var gap = 8 * Mm;
            var leftWidth = (_width - gap) * 0.48;
            var rightX = _left + leftWidth + gap;
            var rightWidth = _right - rightX;

            var leftY = top;
            if (_logo is not null)
            {
                // Scaled by pixel aspect ratio to fit the box, never enlarged past it.
                var scale = Math.Min(LogoMaxWidth / _logo.PixelWidth, LogoMaxHeight / _logo.PixelHeight);
                var w = _logo.PixelWidth * scale;
                var h = _logo.PixelHeight * scale;
                _gfx.DrawImage(_logo, _left, leftY, w, h);
                leftY += h + 4 * Mm;
            }
            leftY = Paragraph(seller.LegalName, _sellerName, _ink, _left, leftY, leftWidth) + 1;
            foreach (var line in seller.AddressLines.Append(seller.Country))
                leftY = Paragraph(line, _meta, _ink, _left, leftY, leftWidth);
            leftY += 1.5 * Mm;
            foreach (var line in new[] { seller.TaxId, seller.Email, seller.Website })
                leftY = Paragraph(line, _meta, _muted, _left, leftY, leftWidth);

            // Title and the meta rows, right-aligned in the right column.
            var rightY = top;
            foreach (var line in TextWrap.Wrap(_measure, _model.Title, _title, rightWidth))
            {
                Right(line, _title, _ink, _right, rightY);
                rightY += LineHeight(_title);
            }
            rightY += 3 * Mm;
            if (_model.Meta.Count > 0)
            {
                var labelWidth = Math.Min(_model.Meta.Max(f => Width(f.Label, _meta)), rightWidth * 0.55);
                var valueWidth = rightWidth - labelWidth - 3 * Mm;
                foreach (var field in _model.Meta)
                {
                    var labels = TextWrap.Wrap(_measure, field.Label, _meta, labelWidth);
                    var values = TextWrap.Wrap(_measure, field.Value, _meta, valueWidth);
                    for (var k = 0; k < labels.Count; k++)
                        Left(labels[k], _meta, _muted, rightX, rightY + k * LineHeight(_meta));
                    for (var k = 0; k < values.Count; k++)
                        Right(values[k], _meta, _ink, _right, rightY + k * LineHeight(_meta));
                    rightY += Math.Max(1, Math.Max(labels.Count, values.Count)) * LineHeight(_meta) + 1;
                }
            }

            // Bill to, under whichever column ends lower.
            var buyer = _model.Buyer;
            _y = Math.Max(leftY, rightY) + 8 * Mm;
            _y = Paragraph(_model.Labels.BillTo, _smallBold, _muted, _left, _y, leftWidth) + 1;
            _y = Paragraph(buyer.Name, _buyerName, _ink, _left, _y, leftWidth) + 1;
            foreach (var line in new[] { buyer.Contact }.Concat(buyer.AddressLines).Append(buyer.Country))
                _y = Paragraph(line, _body, _ink, _left, _y, leftWidth);
            if (buyer.TaxId is not null || buyer.Email is not null)
                _y += 1.5 * Mm;
            foreach (var line in new[] { buyer.TaxId, buyer.Email })
                _y = Paragraph(line, _meta, _muted, _left, _y, leftWidth);
            _y += 8 * Mm;
        }

        // ---- the lines table -----------------------------------------------------------------

        /// <summary>A table row: the main line (body font) or a tier sub-row (small, indented).</summary>
        private sealed record TableRow(string[][] Cells, XFont Font, XBrush Brush, double Indent, double PadTop, double PadBottom, bool IsSubRow, bool EndsLine)
        {
            public int LineCount => Math.Max(1, Cells.Max(c => c.Length));
            public double LineHeight => Font.Size * LineSpacing;
            public double Height => PadTop + LineCount * LineHeight + PadBottom;
        }

        /// <summary>Number columns as wide as their widest text (within limits); the description takes the rest.</summary>
        private void SizeColumns()
        {
            var labels = _model.Labels;
            var lines = _model.Lines;
            var subRows = lines.SelectMany(l => l.SubRows).ToList();
            double Need(string header, Func<CopyLine, string> main, Func<CopySubRow, string> sub) =>
                new[] { Width(header, _smallBold) }
                    .Concat(lines.Select(l => Width(main(l), _body)))
                    .Concat(subRows.Select(s => Width(sub(s), _small)))
                    .Max() + 2 * CellPadding;
            double Clamp(double width) => Math.Clamp(width, 16 * Mm, _width * 0.22);

            _columnWidth[1] = Clamp(Need(labels.Quantity, l => l.Quantity, s => s.Quantity));
            _columnWidth[2] = Clamp(Need(labels.UnitPrice, l => l.UnitPrice, s => s.UnitPrice));
            _columnWidth[3] = Clamp(Need(labels.Amount, l => l.Amount, s => s.Amount));
            _columnWidth[0] = _width - _columnWidth[1] - _columnWidth[2] - _columnWidth[3];
            _columnX[0] = _left;
            for (var c = 1; c < 4; c++)
                _columnX[c] = _columnX[c - 1] + _columnWidth[c - 1];
        }

        private List<string> Wrap(string? text, XFont font, int column, double indent = 0) =>
            TextWrap.Wrap(_measure, text, font, _columnWidth[column] - 2 * CellPadding - indent);

        private List<TableRow> BuildRows()
        {
            var rows = new List<TableRow>();
            foreach (var line in _model.Lines)
            {
                var subRows = line.SubRows;
                rows.Add(new TableRow(
                    [[.. Wrap(line.Description, _body, 0)], [.. Wrap(line.Quantity, _body, 1)], [.. Wrap(line.UnitPrice, _body, 2)], [.. Wrap(line.Amount, _body, 3)]],
                    _body, _ink, 0, PadTop: 4, PadBottom: subRows.Count > 0 ? 1 : 4, IsSubRow: false, EndsLine: subRows.Count == 0));
                for (var k = 0; k < subRows.Count; k++)
                {
                    var sub = subRows[k];
                    var last = k == subRows.Count - 1;
                    rows.Add(new TableRow(
                        [[.. Wrap(sub.Description, _small, 0, SubRowIndent)], [.. Wrap(sub.Quantity, _small, 1)], [.. Wrap(sub.UnitPrice, _small, 2)], [.. Wrap(sub.Amount, _small, 3)]],
                        _small, _muted, SubRowIndent, PadTop: 0.5, PadBottom: last ? 4 : 0.5, IsSubRow: true, EndsLine: last));
                }
            }
            return rows;
        }

        private void DrawTableHeader()
        {
            _gfx.DrawRectangle(_headerFill, _left, _y, _width, _headerHeight);
            var top = _y + 3;
            for (var c = 0; c < 4; c++)
            {
                for (var k = 0; k < _headerCells[c].Length; k++)
                {
                    var lineTop = top + k * LineHeight(_smallBold);
                    if (c == 0)
                        Left(_headerCells[c][k], _smallBold, _ink, _columnX[c] + CellPadding, lineTop);
                    else
                        Right(_headerCells[c][k], _smallBold, _ink, _columnX[c] + _columnWidth[c] - CellPadding, lineTop);
                }
            }
            _y += _headerHeight;
        }

        private void DrawTable()
        {
            if (_rows.Count == 0)
                return;
            // Room for the header and the first line (with its first tier row), or start a page.
            if (_y + _headerHeight + KeepTogetherHeight(0) > _bottom)
                AddPage();
            DrawTableHeader();
            var rowsOnPage = 0;
            for (var i = 0; i < _rows.Count; i++)
            {
                if (rowsOnPage > 0 && _y + KeepTogetherHeight(i) > _bottom)
                {
                    AddPage();
                    DrawTableHeader();
                    rowsOnPage = 0;
                }
                DrawRow(_rows[i]);
                rowsOnPage++;
                if (_rows[i].EndsLine)
                    _gfx.DrawLine(_rule, _left, _y, _right, _y);
            }
        }

        /// <summary>
        /// The height that must fit below row <paramref name="i"/> before it is drawn on this page:
        /// a line keeps its tier rows (all of them when they take less than a quarter page, else
        /// the first), and the last row keeps the totals, so that a totals block never starts a
        /// page alone; each only as long as it still fits on an empty page.
        /// </summary>
        private double KeepTogetherHeight(int i)
        {
            var emptyPage = _bottom - Margin - _continuationHeight - _headerHeight;
            var row = _rows[i];
            var height = row.Height;
            if (!row.IsSubRow)
            {
                var end = i + 1;
                while (end < _rows.Count && _rows[end].IsSubRow)
                    end++;
                var unit = _rows.Skip(i).Take(end - i).Sum(r => r.Height);
                if (end > i + 1)
                    height = unit <= emptyPage / 4 ? unit : height + _rows[i + 1].Height;
                if (end == _rows.Count && unit + _totals.KeepHeight <= emptyPage)
                    height = unit + _totals.KeepHeight;
            }
            else if (i == _rows.Count - 1 && height + _totals.KeepHeight <= emptyPage)
            {
                height += _totals.KeepHeight;
            }
            return height;
        }

        /// <summary>Draws a row, continuing its lines on the next page when a long description does not fit.</summary>
        private void DrawRow(TableRow row)
        {
            var from = 0;
            var freshPage = false;
            while (true)
            {
                var fits = (int)Math.Floor((_bottom - _y - row.PadTop - row.PadBottom) / row.LineHeight);
                if (fits > 0)
                {
                    var to = Math.Min(row.LineCount, from + fits);
                    DrawRowLines(row, from, to);
                    _y += row.PadTop + (to - from) * row.LineHeight + row.PadBottom;
                    from = to;
                    if (from >= row.LineCount)
                        return;
                }
                else if (freshPage)
                {
                    throw new InvalidOperationException("Not one line of the invoice table fits on an empty page.");
                }
                AddPage();
                DrawTableHeader();
                freshPage = true;
            }
        }

        private void DrawRowLines(TableRow row, int from, int to)
        {
            var top = _y + row.PadTop;
            for (var c = 0; c < 4; c++)
            {
                var cell = row.Cells[c];
                for (var k = from; k < Math.Min(to, cell.Length); k++)
                {
                    var lineTop = top + (k - from) * row.LineHeight;
                    if (c == 0)
                        Left(cell[k], row.Font, row.Brush, _columnX[0] + CellPadding + row.Indent, lineTop);
                    else
                        Right(cell[k], row.Font, row.Brush, _columnX[c] + _columnWidth[c] - CellPadding, lineTop);
                }
            }
        }

        // ---- totals, tax notes, payment instructions ------------------------------------------

        private sealed record TotalsRow(List<string> Label, List<string> Value, XFont Font, bool Emphasis, double Height);

        private sealed record TotalsBlock(double X, List<TotalsRow> Rows, List<string> Notes, double RowsHeight, double NotesHeight, double KeepHeight);

        private const double TotalsGap = 4 * Mm;
        private const double NotesGap = 3 * Mm;

        private TotalsBlock MeasureTotals()
        {
            var totals = _model.Totals;
            XFont FontOf(CopyTotal t) => t.Emphasis ? _emphasis : _body;
            var valueWidth = totals.Count == 0 ? 0 : Math.Min(totals.Max(t => Width(t.Value, FontOf(t))), _width * 0.3);
            var labelWidth = totals.Count == 0 ? 0 : totals.Max(t => Width(t.Label, FontOf(t)));
            var blockWidth = Math.Clamp(labelWidth + valueWidth + 8 * Mm, _width * 0.45, _width);
            var x = _right - blockWidth;
            var rows = new List<TotalsRow>();
            foreach (var total in totals)
            {
                var font = FontOf(total);
                var label = TextWrap.Wrap(_measure, total.Label, font, blockWidth - valueWidth - 4 * Mm);
                var value = TextWrap.Wrap(_measure, total.Value, font, valueWidth);
                var height = Math.Max(1, Math.Max(label.Count, value.Count)) * LineHeight(font) + (total.Emphasis ? 6 : 3);
                rows.Add(new TotalsRow(label, value, font, total.Emphasis, height));
            }
            var notes = _model.TaxNotes.SelectMany(n => TextWrap.Wrap(_measure, n, _note, _width)).ToList();
            var rowsHeight = rows.Sum(r => r.Height);
            var notesHeight = notes.Count == 0 ? 0 : NotesGap + notes.Count * LineHeight(_note);
            // Keep the tax notes with the totals when the two fit on one page together.
            var page = _bottom - Margin - _continuationHeight;
            var keep = TotalsGap + rowsHeight + (rowsHeight + notesHeight <= page * 0.5 ? notesHeight : 0);
            return new TotalsBlock(x, rows, notes, rowsHeight, notesHeight, keep);
        }

        private void DrawTotals()
        {
            var totals = _totals;
            if (totals.Rows.Count > 0)
            {
                _y += TotalsGap;
                if (_y + totals.KeepHeight - TotalsGap > _bottom)
                    AddPage();
                foreach (var row in totals.Rows)
                {
                    var top = _y + (row.Emphasis ? 3 : 1.5);
                    if (row.Emphasis)
                        _gfx.DrawLine(_strongRule, totals.X, _y + 1, _right, _y + 1);
                    for (var k = 0; k < row.Label.Count; k++)
                        Left(row.Label[k], row.Font, _ink, totals.X, top + k * LineHeight(row.Font));
                    for (var k = 0; k < row.Value.Count; k++)
                        Right(row.Value[k], row.Font, _ink, _right, top + k * LineHeight(row.Font));
                    _y += row.Height;
                }
            }
            if (totals.Notes.Count > 0)
            {
                _y += NotesGap;
                foreach (var line in totals.Notes)
                    FlowLine(line, _note, _muted);
            }
        }

        private void DrawPaymentInstructions()
        {
            var lines = _model.PaymentInstructions.SelectMany(p => TextWrap.Wrap(_measure, p, _meta, _width)).ToList();
            if (lines.Count == 0)
                return;
            _y += 6 * Mm;
            foreach (var line in lines)
                FlowLine(line, _meta, _ink);
        }

        /// <summary>One line of running text, on a new page when this one is full.</summary>
        private void FlowLine(string line, XFont font, XBrush brush)
        {
            if (_y + LineHeight(font) > _bottom)
                AddPage();
            Left(line, font, brush, _left, _y);
            _y += LineHeight(font);
        }

        // ---- text primitives -----------------------------------------------------------------

        private static double LineHeight(XFont font) => font.Size * LineSpacing;

        private double Width(string text, XFont font) => TextWrap.Width(_measure, text, font);

        /// <summary>Wrapped, left-aligned text from <paramref name="top"/>; returns the y below it.</summary>
        private double Paragraph(string? text, XFont font, XBrush brush, double x, double top, double width)
        {
            foreach (var line in TextWrap.Wrap(_measure, text, font, width))
            {
                Left(line, font, brush, x, top);
                top += LineHeight(font);
            }
            return top;
        }

        private void Left(string text, XFont font, XBrush brush, double x, double top)
        {
            if (text.Length > 0)
                _gfx.DrawString(text, font, brush, x, top + font.Size * Ascent);
        }

        private void Right(string text, XFont font, XBrush brush, double right, double top) =>
            Left(text, font, brush, right - Width(text, font), top);

        private void Center(string text, XFont font, XBrush brush, double center, double top) =>
            Left(text, font, brush, center - Width(text, font) / 2, top);
    }
}
