using Microsoft.Extensions.Configuration;

namespace Resilient.Integrations.DependencyInjection.Internal;

/// <summary>
/// The mistakes the configuration binder lets through silently: a key that matches no option (a misspelling
/// such as <c>TotalTimout</c>) and an empty value, which the binder skips, leaving the default in force
/// (an empty <c>BaseAddress</c> would otherwise surface only at the first call, naming no key).
/// </summary>
internal static class ConfigurationChecks
{
    /// <summary>Every problem in <paramref name="section"/>, each naming the full key.</summary>
    /// <param name="section">The section bound to the options.</param>
    /// <param name="bindsStrictly">
    /// Binds a fresh options object from the configuration given with <c>ErrorOnUnknownConfiguration</c>:
    /// <see langword="false"/> when the binder found a key that is not an option.
    /// </param>
    /// <param name="lists">Keys (relative to the section) of lists, where an empty value means an empty list.</param>
    /// <param name="foreign">Keys (relative to the section) read by something else: neither they nor the keys under them are checked.</param>
    public static List<string> Find(IConfigurationSection section, Func<IConfiguration, bool> bindsStrictly, IReadOnlyCollection<string> lists, IReadOnlyCollection<string> foreign)
    {
        var keys = section.AsEnumerable(makePathsRelative: true)
            .Where(kv => !foreign.Any(f => IsAtOrUnder(kv.Key, f)))
            .OrderBy(kv => kv.Key.Count(c => c == ':'))
            .ThenBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase)
            .ToList();

        // The binder names an unknown key without its path (and only the first type's), so each key is tried
        // alone, shortest first, to report an unknown section once rather than every key under it. Values are
        // left out: only the keys are checked here, values are converted by the real bind.
        var unknown = new List<string>();
        if (keys.Count > 0 && !bindsStrictly(Probe(keys.Select(kv => kv.Key))))
        {
            foreach (var (key, _) in keys)
            {
                if (!unknown.Any(u => IsAtOrUnder(key, u)) && !bindsStrictly(Probe([key])))
                {
                    unknown.Add(key);
                }
            }
        }

        var errors = unknown.Select(key => $"{section.Path}:{key} is not a known option; check its spelling (keys are not case-sensitive).").ToList();
        foreach (var (key, value) in keys)
        {
            if (value is not null && string.IsNullOrWhiteSpace(value) && !unknown.Any(u => IsAtOrUnder(key, u)) &&
                !lists.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add($"{section.Path}:{key} is empty; give it a value or remove the key (an empty value does not mean unset).");
            }
        }

        return errors;
    }

    private static IConfigurationRoot Probe(IEnumerable<string> keys) =>
        new ConfigurationBuilder().AddInMemoryCollection(keys.Select(k => new KeyValuePair<string, string?>(k, null))).Build();

    private static bool IsAtOrUnder(string key, string section) =>
        key.Equals(section, StringComparison.OrdinalIgnoreCase) ||
        (key.Length > section.Length && key[section.Length] == ':' && key.StartsWith(section, StringComparison.OrdinalIgnoreCase));
}
