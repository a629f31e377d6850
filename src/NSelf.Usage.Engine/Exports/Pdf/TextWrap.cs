using System.Globalization;
using PdfSharp.Drawing;

namespace NSelf.Usage.Engine.Exports;

/// <summary>Greedy word wrap measured with the PDF font.</summary>
internal static class TextWrap
{
    // Only ASCII space and tab are break opportunities: U+00A0 and U+202F (the group separators
    // of fr-FR and others, and the space before "€") must keep "1 234,56 €" on one line.
    private static readonly char[] BreakSpaces = [' ', '\t'];

    /// <summary>
    /// Splits <paramref name="text"/> into lines no wider than <paramref name="width"/>. '\n' starts a
    /// new line (a blank one is kept); a word wider than the column is cut between characters.
    /// </summary>
    public static List<string> Wrap(XGraphics gfx, string? text, XFont font, double width)
    {
        var lines = new List<string>();
        if (string.IsNullOrEmpty(text))
            return lines;
        foreach (var paragraph in text.ReplaceLineEndings("\n").Split('\n'))
        {
            var words = paragraph.Split(BreakSpaces, StringSplitOptions.RemoveEmptyEntries);
            var current = "";
            foreach (var word in words)
            {
                var candidate = current.Length == 0 ? word : current + " " + word;
                if (Width(gfx, candidate, font) <= width)
                {
                    current = candidate;
                    continue;
                }
                if (current.Length > 0)
                    lines.Add(current);
                current = word;
                while (Width(gfx, current, font) > width)
                {
                    var cut = FittingPrefix(gfx, current, font, width);
                    lines.Add(current[..cut]);
                    current = current[cut..];
                }
            }
            if (current.Length > 0 || words.Length == 0)
                lines.Add(current); // an empty paragraph stays as a blank line
        }
        return lines;
    }

    public static double Width(XGraphics gfx, string text, XFont font) =>
        text.Length == 0 ? 0 : gfx.MeasureString(text, font).Width;

    /// <summary>Length of the longest prefix that fits, cut between text elements, never empty.</summary>
    private static int FittingPrefix(XGraphics gfx, string word, XFont font, double width)
    {
        // Cut between text elements so that a surrogate pair or a combining accent stays whole.
        var starts = StringInfo.ParseCombiningCharacters(word);
        int low = 1, high = starts.Length - 1; // a prefix ending before element `high` (the whole word does not fit)
        var best = starts.Length > 1 ? starts[1] : word.Length;
        while (low <= high)
        {
            var middle = low + (high - low) / 2;
            if (Width(gfx, word[..starts[middle]], font) <= width)
            {
                best = starts[middle];
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }
        // Prefer to cut an identifier or a path after a separator in the second half of the line.
        var separator = word.AsSpan(0, best).LastIndexOfAny(CutAfter);
        return separator >= best / 2 && Array.BinarySearch(starts, separator + 1) >= 0 ? separator + 1 : best;
    }

    private static readonly System.Buffers.SearchValues<char> CutAfter = System.Buffers.SearchValues.Create("-/_.:");
}
