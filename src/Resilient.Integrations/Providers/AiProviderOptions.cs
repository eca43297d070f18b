namespace Resilient.Integrations.Providers;

/// <summary>
/// Options of an AI provider profile (<c>ForOpenAI</c>, <c>ForAzureOpenAI</c>, <c>ForAnthropic</c>, <c>ForGemini</c>).
/// They are read once, when the profile is added.
/// </summary>
public sealed class AiProviderOptions
{
    /// <summary>Gets or sets the provider's address; it becomes the integration's base address unless configuration sets one.</summary>
    /// <value>Defaults to <see langword="null"/>: the provider's public endpoint. Required for Azure OpenAI (your resource's address).</value>
    public Uri? Endpoint { get; set; }

    /// <summary>
    /// Gets or sets the API key put on requests that carry no credentials of their own: the health probe, and raw
    /// <see cref="HttpClient"/> calls. An SDK's own key always wins. The key is a secret: it is never logged or kept.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>. Required while <see cref="HealthProbe"/> is on.</value>
    public string? ApiKey { get; set; }

    /// <summary>Gets or sets a value indicating whether to probe the provider with its models-list request, which spends no tokens.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool HealthProbe { get; set; } = true;

    /// <summary>Gets or sets the probe's address relative to <see cref="Endpoint"/>.</summary>
    /// <value>Defaults to <see langword="null"/>: the provider's models list (<c>v1/models</c>, <c>openai/models?api-version=…</c>, <c>v1beta/models</c>).</value>
    public string? ProbePath { get; set; }

    /// <summary>Gets or sets the API version sent where the provider needs one: Azure's <c>api-version</c>, Anthropic's <c>anthropic-version</c>.</summary>
    /// <value>Defaults to <see langword="null"/>: <c>2024-10-21</c> for Azure OpenAI, <c>2023-06-01</c> for Anthropic.</value>
    public string? ApiVersion { get; set; }

    /// <summary>Gets or sets the attempt timeout the profile starts from; configuration and <c>Configure</c> still win.</summary>
    /// <value>Defaults to 3 minutes: a long completion takes minutes, not the standard handler's 10 seconds.</value>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>Gets or sets the total timeout the profile starts from; configuration and <c>Configure</c> still win.</summary>
    /// <value>Defaults to 8 minutes: room for one retry of a slow attempt plus a rate-limit wait.</value>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromMinutes(8);

    /// <summary>Gets the probe's schedule.</summary>
    /// <value>Defaults to every minute.</value>
    public Health.HealthProbeOptions Probe { get; } = new();
}
