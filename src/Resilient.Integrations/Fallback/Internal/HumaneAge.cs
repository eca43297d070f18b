using System.Globalization;

namespace Resilient.Integrations.Fallback.Internal;

/// <summary>Ages the way people say them: whole units, rounded down, largest unit first.</summary>
internal static class HumaneAge
{
    public static string Describe(TimeSpan age) => age < TimeSpan.FromMinutes(1) ? "just now" : Span(age) + " ago";

    /// <summary>A duration in whole units: "12 minutes", "3 hours", "less than a minute".</summary>
    public static string Span(TimeSpan age)
    {
        if (age < TimeSpan.FromMinutes(1))
        {
            return "less than a minute";
        }

        var (count, unit) = age.TotalDays >= 1 ? ((int)age.TotalDays, "day")
            : age.TotalHours >= 1 ? ((int)age.TotalHours, "hour")
            : ((int)age.TotalMinutes, "minute");
        return string.Create(CultureInfo.InvariantCulture, $"{count} {unit}{(count == 1 ? string.Empty : "s")}");
    }
}
