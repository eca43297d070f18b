using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Providers.Internal;

/// <summary>What one AI provider needs from an integration: where it lives, how a key is sent, how it fails.</summary>
internal sealed class ProviderProfile
{
    public required string Name { get; init; }

    public Uri? DefaultEndpoint { get; init; }

    /// <summary>The models list, relative to the endpoint; <c>{0}</c> is the API version.</summary>
    public required string ProbePath { get; init; }

    public string? DefaultApiVersion { get; init; }

    /// <summary>The header that carries the key, and how its value is written.</summary>
    public required string KeyHeader { get; init; }

    public Func<string, string> KeyValue { get; init; } = key => key;

    /// <summary>A header every request must carry (Anthropic's version), with its value.</summary>
    public string? VersionHeader { get; init; }

    public bool ChecksFilteredCompletions { get; init; }

    public IReadOnlyList<FailureRule> Rules { get; init; } = [];

    /// <summary>Endings of the paths of POST endpoints that create nothing, so a repeat cannot duplicate anything.</summary>
    public IReadOnlyList<string> SafeToRepeatPaths { get; init; } = [];

    public string ProbeAddress(AiProviderOptions options) =>
        options.ProbePath ?? string.Format(System.Globalization.CultureInfo.InvariantCulture, ProbePath, options.ApiVersion ?? DefaultApiVersion);
}
