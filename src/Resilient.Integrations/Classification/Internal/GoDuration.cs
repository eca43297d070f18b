using System.Globalization;

namespace Resilient.Integrations.Classification.Internal;

/// <summary>
/// Parses durations written the way Go prints them (<c>"20ms"</c>, <c>"1s"</c>, <c>"6m0s"</c>, <c>"51.189s"</c>),
/// which OpenAI uses in its reset headers and Gemini in <c>retryDelay</c>. Negative values are refused.
/// </summary>
internal static class GoDuration
{
    public static bool TryParse(ReadOnlySpan<char> text, out TimeSpan duration)
    {
        duration = default;
        text = text.Trim();
        if (text.IsEmpty || text[0] == '-')
        {
            return false;
        }

        if (text[0] == '+')
        {
            text = text[1..];
        }

        if (text is "0")
        {
            return true;
        }

        double totalMs = 0;
        while (!text.IsEmpty)
        {
            int numberEnd = 0;
            while (numberEnd < text.Length && (char.IsAsciiDigit(text[numberEnd]) || text[numberEnd] == '.'))
            {
                numberEnd++;
            }

            int unitEnd = numberEnd;
            while (unitEnd < text.Length && !char.IsAsciiDigit(text[unitEnd]) && text[unitEnd] != '.')
            {
                unitEnd++;
            }

            if (numberEnd == 0 || unitEnd == numberEnd ||
                !double.TryParse(text[..numberEnd], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value))
            {
                return false;
            }

            double scale = text[numberEnd..unitEnd] switch
            {
                "h" => 3_600_000,
                "m" => 60_000,
                "s" => 1_000,
                "ms" => 1,
                "us" or "\u00b5s" or "\u03bcs" => 0.001,
                "ns" => 0.000_001,
                _ => double.NaN,
            };
            if (double.IsNaN(scale))
            {
                return false;
            }

            totalMs += value * scale;
            text = text[unitEnd..];
        }

        return RetryHintParser.TryFromMilliseconds(totalMs, out duration);
    }
}
