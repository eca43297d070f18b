using Microsoft.Extensions.Options;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Credentials.Internal;
using Resilient.Integrations.DependencyInjection;
using Resilient.Integrations.Health;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Providers;
using Resilient.Integrations.Providers.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Profiles of the APIs apps integrate beyond AI: each brings the API's error-body rules and retry hints where the
/// generic reader would get them wrong, a health probe that spends nothing or next to nothing, its credential header
/// (kept out of logs) and, where the API tells, when the credential expires.
/// </summary>
/// <remarks>
/// The profile's base address is a default: configuration (<c>ResilientIntegrations:&lt;name&gt;</c>) and
/// <see cref="ResilientIntegrationBuilderExtensions.Configure"/> still win. The host's own rules run before the profile's.
/// </remarks>
public static class ApiProfileExtensions
{
    /// <summary>Applies the Meta Graph API profile: error codes (190 expired token, 4/17/32/613/80004 rate limits), usage-header waits, probe <c>debug_token</c> that also reads the token's expiry.</summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="configure">Sets the token, endpoint and probe.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message names the option.</exception>
    public static IResilientIntegrationBuilder ForMetaGraph(this IResilientIntegrationBuilder builder, Action<ApiProfileOptions>? configure = null) =>
        builder.ForApi(ApiProfiles.MetaGraph, configure);

    /// <summary>Applies the Slack Web API profile: a 200 with <c>ok:false</c> is classified by its error, probe <c>api/auth.test</c>.</summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="configure">Sets the token, endpoint and probe.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message names the option.</exception>
    public static IResilientIntegrationBuilder ForSlack(this IResilientIntegrationBuilder builder, Action<ApiProfileOptions>? configure = null) =>
        builder.ForApi(ApiProfiles.Slack, configure);

    /// <summary>Applies the GitHub REST API profile: secondary rate limits without <c>retry-after</c>, the required headers, probe <c>rate_limit</c>, the token-expiration header.</summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="configure">Sets the token, endpoint and probe.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message names the option.</exception>
    public static IResilientIntegrationBuilder ForGitHub(this IResilientIntegrationBuilder builder, Action<ApiProfileOptions>? configure = null) =>
        builder.ForApi(ApiProfiles.GitHub, configure);

    /// <summary>Applies the HubSpot profile: a 429 of the <c>DAILY</c> policy is QuotaExhausted, the ten-second window's wait, probe <c>account-info/v3/details</c>.</summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="configure">Sets the token, endpoint and probe.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message names the option.</exception>
    public static IResilientIntegrationBuilder ForHubSpot(this IResilientIntegrationBuilder builder, Action<ApiProfileOptions>? configure = null) =>
        builder.ForApi(ApiProfiles.HubSpot, configure);

    /// <summary>Applies the Salesforce REST API profile: <c>UNABLE_TO_LOCK_ROW</c> may be retried, probe <c>services/data/v62.0/limits</c>; <see cref="ApiProfileOptions.Endpoint"/> (your instance) is required.</summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="configure">Sets the instance address, token and probe.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message names the option.</exception>
    public static IResilientIntegrationBuilder ForSalesforce(this IResilientIntegrationBuilder builder, Action<ApiProfileOptions>? configure = null) =>
        builder.ForApi(ApiProfiles.Salesforce, configure);

    /// <summary>Applies the Microsoft Graph profile: 507 (storage quota) is QuotaExhausted, 509 is RateLimit, probe <c>v1.0/organization</c>.</summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="configure">Sets the token, endpoint and probe.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message names the option.</exception>
    public static IResilientIntegrationBuilder ForMicrosoftGraph(this IResilientIntegrationBuilder builder, Action<ApiProfileOptions>? configure = null) =>
        builder.ForApi(ApiProfiles.MicrosoftGraph, configure);

    /// <summary>Applies the SendGrid profile: a 401 "Maximum credits exceeded" is QuotaExhausted, probe <c>v3/scopes</c>.</summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="configure">Sets the key, endpoint and probe.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message names the option.</exception>
    public static IResilientIntegrationBuilder ForSendGrid(this IResilientIntegrationBuilder builder, Action<ApiProfileOptions>? configure = null) =>
        builder.ForApi(ApiProfiles.SendGrid, configure);

    /// <summary>Applies the Stripe profile: <c>Stripe-Should-Retry</c> decides whether a retry may help, probe <c>v1/balance</c>.</summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="configure">Sets the key, endpoint and probe.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message names the option.</exception>
    public static IResilientIntegrationBuilder ForStripe(this IResilientIntegrationBuilder builder, Action<ApiProfileOptions>? configure = null) =>
        builder.ForApi(ApiProfiles.Stripe, configure);

    /// <summary>Applies the Twilio profile: Basic credentials from the Account SID and token, a full sender queue (21611) is RateLimit, probe the account resource; <see cref="ApiProfileOptions.AccountId"/> is required.</summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="configure">Sets the Account SID, token, endpoint and probe.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message names the option.</exception>
    public static IResilientIntegrationBuilder ForTwilio(this IResilientIntegrationBuilder builder, Action<ApiProfileOptions>? configure = null) =>
        builder.ForApi(ApiProfiles.Twilio, configure);

    private static IResilientIntegrationBuilder ForApi(this IResilientIntegrationBuilder builder, ApiProfile profile, Action<ApiProfileOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new ApiProfileOptions();
        configure?.Invoke(options);
        Validate(builder.Name, profile, options);

        var endpoint = options.Endpoint ?? profile.DefaultEndpoint!;
        if (!endpoint.AbsoluteUri.EndsWith('/'))
        {
            endpoint = new Uri(endpoint.AbsoluteUri + "/");
        }

        string name = builder.Name;

        // Defaults go before configuration binding and the host's own Configure, so both still win.
        // Every profile's credential goes in Authorization, which is redacted by default.
        ProfileDefaults.InsertFirst(builder.Services, new ConfigureNamedOptions<ResilientIntegrationOptions>(name, o => o.BaseAddress ??= endpoint));

        // After every Configure: the host's rules first, the profile's next, the built-in defaults last.
        builder.Services.PostConfigure<FailureClassifierOptions>(name, o =>
        {
            foreach (var rule in profile.Rules)
            {
                o.Rules.Add(rule);
            }

            if (profile.ShouldRetryHeader is { } header)
            {
                o.ShouldRetryHeaders.Add(header);
            }

            if (profile.Validator is { } wrap)
            {
                o.ResponseValidator = wrap(o.ResponseValidator);
            }
        });

        // Only a credential or a required header has anything to add to a request.
        if (options.AccessToken is not null || profile.RequiredHeaders.Count > 0)
        {
            builder.HttpClientBuilder.AddHttpMessageHandler(sp => new ApiCredentialHandler(
                profile, options, endpoint, name, sp.GetRequiredService<IOptionsMonitor<ResilientIntegrationOptions>>()));
        }

        // After the credential handler, so the watch sees the token the profile puts on.
        if (options.WatchCredentialExpiry)
        {
            builder.AddCredentialExpiryWatch(o => o.ExpiryHeader ??= profile.ExpiryHeader);
        }

        if (options.HealthProbe)
        {
            AddProbe(builder, profile, options);
        }

        return builder;
    }

    private static void AddProbe(IResilientIntegrationBuilder builder, ApiProfile profile, ApiProfileOptions options)
    {
        string name = builder.Name;
        string path = profile.ProbeAddress(options);
        var schedule = options.Probe;
        void Schedule(HealthProbeOptions o)
        {
            o.Interval = schedule.Interval;
            o.InitialDelay = schedule.InitialDelay;
            o.Jitter = schedule.Jitter;
            o.Timeout = schedule.Timeout;
        }

        if (profile.InspectProbe is { } inspect && options.ProbePath is null)
        {
            bool watch = options.WatchCredentialExpiry;
            builder.AddHealthProbe(
                sp => new TokenInspectionProbe(
                    sp.GetRequiredService<IHttpClientFactory>().CreateClient(name), sp.GetRequiredService<TimeProvider>(), path, inspect,
                    watch ? sp.GetRequiredService<CredentialExpiryWatches>().Get(name) : null, profile.Name + " token inspection"),
                Schedule);
        }
        else
        {
            builder.AddHttpHealthProbe(path, Schedule);
        }
    }

    private static void Validate(string name, ApiProfile profile, ApiProfileOptions options)
    {
        string prefix = $"{profile.Name} profile of integration '{name}': ApiProfileOptions.";
        if (options.Endpoint is null && profile.NeedsEndpoint)
        {
            throw new ArgumentException(prefix + "Endpoint is required (your instance's address, e.g. https://mycompany.my.salesforce.com/).", nameof(options));
        }

        if (options.Endpoint is { IsAbsoluteUri: false } || (options.Endpoint is { } e && e.Scheme != Uri.UriSchemeHttps && e.Scheme != Uri.UriSchemeHttp))
        {
            throw new ArgumentException(prefix + "Endpoint must be an absolute http or https address.", nameof(options));
        }

        if (profile.NeedsAccountId && string.IsNullOrWhiteSpace(options.AccountId))
        {
            throw new ArgumentException(prefix + "AccountId is required (the Account SID the token belongs to).", nameof(options));
        }

        if (options.HealthProbe && string.IsNullOrWhiteSpace(options.AccessToken))
        {
            throw new ArgumentException(prefix + "AccessToken is required for the default health probe; set it, or set HealthProbe = false and add a probe of your own.", nameof(options));
        }
    }
}
