using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Resilient.Integrations.Classification.Internal;

/// <summary>Finds members by name anywhere in a JSON text that may be cut off (a bounded body prefix, a header's JSON).</summary>
internal static class JsonMembers
{
    /// <summary>The largest wait among the members named <paramref name="name"/>: numbers in <paramref name="unit"/>s, or duration strings.</summary>
    public static TimeSpan? LargestDuration(string json, string name, TimeSpan unit)
    {
        TimeSpan? largest = null;
        foreach (var (number, text) in Values(json, name))
        {
            TimeSpan wait = default;
            bool ok = number is double n
                ? RetryHintParser.TryFromMilliseconds(n * unit.TotalMilliseconds, out wait)
                : text is not null && (double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double d)
                    ? RetryHintParser.TryFromMilliseconds(d * unit.TotalMilliseconds, out wait)
                    : GoDuration.TryParse(text, out wait));
            if (ok)
            {
                largest = RetryHintParser.Max(largest, wait);
            }
        }

        return largest;
    }

    /// <summary>The first number of a member named <paramref name="name"/> (or a string holding one).</summary>
    public static double? FirstNumber(string json, string name)
    {
        foreach (var (number, text) in Values(json, name))
        {
            if (number is double n)
            {
                return n;
            }

            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed))
            {
                return parsed;
            }
        }

        return null;
    }

    /// <summary>The first string of a member named <paramref name="name"/>.</summary>
    public static string? FirstString(string json, string name)
    {
        foreach (var (_, text) in Values(json, name))
        {
            if (text is not null)
            {
                return text;
            }
        }

        return null;
    }

    private static List<(double? Number, string? Text)> Values(string json, string name)
    {
        var found = new List<(double?, string?)>();
        var bytes = Encoding.UTF8.GetBytes(json);
        if (bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(name)) < 0)
        {
            return found; // one scan instead of a JSON pass for the answers that do not mention it
        }

        try
        {
            var reader = new Utf8JsonReader(ErrorEnvelope.SkipBom(bytes), isFinalBlock: false, default);
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName || !reader.ValueTextEquals(name) || !reader.Read())
                {
                    continue;
                }

                if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out double number))
                {
                    found.Add((number, null));
                }
                else if (reader.TokenType == JsonTokenType.String)
                {
                    found.Add((null, reader.GetString()));
                }
            }
        }
        catch (JsonException)
        {
            // A prefix cut mid-token (or text that is not JSON) ends the search with what was found.
        }

        return found;
    }
}
