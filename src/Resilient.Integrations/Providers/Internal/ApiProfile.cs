using Resilient.Integrations.Classification;
using Resilient.Integrations.Validation;

namespace Resilient.Integrations.Providers.Internal;

/// <summary>What one API needs from an integration: where it lives, how a credential is sent, how it fails and how to probe it.</summary>
internal sealed class ApiProfile
{
    public required string Name { get; init; }

    public Uri? DefaultEndpoint { get; init; }

    /// <summary>The probe's address relative to the endpoint; <c>{0}</c> is the account id, <c>{1}</c> the token (Meta's debug_token).</summary>
    public required string ProbePath { get; init; }

    public Func<string, ApiProfileOptions, string> KeyValue { get; init; } = (token, _) => "Bearer " + token;

    /// <summary>Headers the API requires on every request (GitHub's User-Agent), added when a request lacks them.</summary>
    public IReadOnlyList<(string Name, string Value)> RequiredHeaders { get; init; } = [];

    public IReadOnlyList<FailureRule> Rules { get; init; } = [];

    /// <summary>The API's own name for <c>x-should-retry</c>.</summary>
    public string? ShouldRetryHeader { get; init; }

    /// <summary>The response header that says when the credential expires.</summary>
    public string? ExpiryHeader { get; init; }

    /// <summary>Wraps the integration's validator of 2xx answers (Slack's <c>ok:false</c>).</summary>
    public Func<IResponseValidator?, IResponseValidator>? Validator { get; init; }

    /// <summary>Reads the credential's expiry from the probe's 2xx body (Meta's <c>debug_token</c>), in Unix seconds.</summary>
    public Func<string, (bool? Valid, DateTimeOffset? ExpiresAt)>? InspectProbe { get; init; }

    public bool NeedsAccountId { get; init; }

    public bool NeedsEndpoint => DefaultEndpoint is null;

    public string ProbeAddress(ApiProfileOptions options) =>
        options.ProbePath ?? string.Format(
            System.Globalization.CultureInfo.InvariantCulture, ProbePath, Uri.EscapeDataString(options.AccountId ?? ""), Uri.EscapeDataString(options.AccessToken ?? ""));
}
