namespace Resilient.Integrations.Providers;

/// <summary>
/// Options of an API profile (<c>ForGitHub</c>, <c>ForSlack</c>, <c>ForMetaGraph</c>, <c>ForStripe</c> and the others).
/// They are read once, when the profile is added.
/// </summary>
public sealed class ApiProfileOptions
{
    /// <summary>Gets or sets the API's address; it becomes the integration's base address unless configuration sets one.</summary>
    /// <value>Defaults to <see langword="null"/>: the API's public endpoint. Required for Salesforce (your instance's address).</value>
    public Uri? Endpoint { get; set; }

    /// <summary>
    /// Gets or sets the access token or API key put on requests to the API that carry no credentials of their own (the
    /// health probe, raw <see cref="HttpClient"/> calls). The value is a secret: it is never logged or kept in a copy.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>. Required while <see cref="HealthProbe"/> is on.</value>
    public string? AccessToken { get; set; }

    /// <summary>Gets or sets the account the token belongs to, where the API needs one: Twilio's Account SID (the Basic user name and part of the probe's address).</summary>
    /// <value>Defaults to <see langword="null"/>. Required for Twilio.</value>
    public string? AccountId { get; set; }

    /// <summary>Gets or sets a value indicating whether to probe the API with its cheapest authenticated request (see the README's table).</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool HealthProbe { get; set; } = true;

    /// <summary>Gets or sets the probe's address relative to <see cref="Endpoint"/>.</summary>
    /// <value>Defaults to <see langword="null"/>: the profile's own (GitHub <c>rate_limit</c>, Slack <c>api/auth.test</c>, Stripe <c>v1/balance</c>, …).</value>
    public string? ProbePath { get; set; }

    /// <summary>Gets the probe's schedule.</summary>
    /// <value>Defaults to every minute.</value>
    public Health.HealthProbeOptions Probe { get; } = new();

    /// <summary>
    /// Gets or sets a value indicating whether to watch when the credential expires (a JWT's <c>exp</c>, the API's expiry
    /// header, or its token-inspection probe) and warn ahead; tune it with <c>AddCredentialExpiryWatch</c>.
    /// </summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool WatchCredentialExpiry { get; set; } = true;
}
