using Microsoft.Extensions.Options;
using Resilient.Integrations.DependencyInjection;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Providers;
using Resilient.Integrations.Providers.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// AI provider profiles: each brings the provider's failure rules (quota, overload, content filter, bad key),
/// classification of an error event at the head of a 200 event stream, timeouts suited to LLM calls and a health
/// probe that spends no tokens (the models list).
/// </summary>
/// <remarks>
/// The profile's timeouts and base address are defaults: configuration (<c>ResilientIntegrations:&lt;name&gt;</c>)
/// and <see cref="ResilientIntegrationBuilderExtensions.Configure"/> still win. When an SDK sits on the
/// integration's client, turn the SDK's own retries off so exactly one retry layer acts (see the README).
/// </remarks>
public static class AiProviderExtensions
{
    /// <summary>Applies the OpenAI profile (<c>https://api.openai.com/</c>, key as a bearer token, probe <c>GET v1/models</c>).</summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="configure">Sets the key, endpoint, probe and timeouts.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message names the option.</exception>
    public static IResilientIntegrationBuilder ForOpenAI(this IResilientIntegrationBuilder builder, Action<AiProviderOptions>? configure = null) =>
        builder.ForProvider(ProviderProfiles.OpenAI, configure);

    /// <summary>Applies the Azure OpenAI profile (key in <c>api-key</c>, probe <c>GET openai/models?api-version=…</c>); <see cref="AiProviderOptions.Endpoint"/> is required.</summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="configure">Sets the resource endpoint, key, probe and timeouts.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message names the option.</exception>
    public static IResilientIntegrationBuilder ForAzureOpenAI(this IResilientIntegrationBuilder builder, Action<AiProviderOptions>? configure = null) =>
        builder.ForProvider(ProviderProfiles.AzureOpenAI, configure);

    /// <summary>Applies the Anthropic profile (<c>https://api.anthropic.com/</c>, key in <c>x-api-key</c>, probe <c>GET v1/models</c>).</summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="configure">Sets the key, endpoint, probe and timeouts.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message names the option.</exception>
    public static IResilientIntegrationBuilder ForAnthropic(this IResilientIntegrationBuilder builder, Action<AiProviderOptions>? configure = null) =>
        builder.ForProvider(ProviderProfiles.Anthropic, configure);

    /// <summary>Applies the Gemini profile (<c>https://generativelanguage.googleapis.com/</c>, key in <c>x-goog-api-key</c>, probe <c>GET v1beta/models</c>).</summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="configure">Sets the key, endpoint, probe and timeouts.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message names the option.</exception>
    public static IResilientIntegrationBuilder ForGemini(this IResilientIntegrationBuilder builder, Action<AiProviderOptions>? configure = null) =>
        builder.ForProvider(ProviderProfiles.Gemini, configure);

    private static IResilientIntegrationBuilder ForProvider(this IResilientIntegrationBuilder builder, ProviderProfile profile, Action<AiProviderOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new AiProviderOptions();
        configure?.Invoke(options);
        Validate(builder.Name, profile, options);

        var endpoint = options.Endpoint ?? profile.DefaultEndpoint!;
        if (!endpoint.AbsoluteUri.EndsWith('/'))
        {
            endpoint = new Uri(endpoint.AbsoluteUri + "/");
        }

        // Profile defaults go before configuration binding and the host's own Configure, so both still win.
        ProfileDefaults.InsertFirst(builder.Services, new ConfigureNamedOptions<ResilientIntegrationOptions>(builder.Name, o =>
        {
            o.BaseAddress ??= endpoint;
            o.AttemptTimeout = options.AttemptTimeout;
            o.TotalTimeout = options.TotalTimeout;
            foreach (var path in profile.SafeToRepeatPaths)
            {
                o.Writes.SafeToRepeatPaths.Add(path);
            }
        }));

        // After every Configure, whatever the call order: the host's own rules run first, the profile's next, the
        // built-in defaults last; the profile's checks wrap whichever validator the host chose.
        builder.Services.PostConfigure<Resilient.Integrations.Classification.FailureClassifierOptions>(builder.Name, o =>
        {
            foreach (var rule in profile.Rules)
            {
                o.Rules.Add(rule);
            }

            o.ResponseValidator = new ProviderResponseValidator(o.ResponseValidator, profile.ChecksFilteredCompletions);
        });

        string? apiVersion = options.ApiVersion ?? profile.DefaultApiVersion;
        if (options.ApiKey is { } key)
        {
            string name = builder.Name;
            builder.HttpClientBuilder.AddHttpMessageHandler(sp => new ProviderKeyHandler(
                profile, key, apiVersion, endpoint, name, sp.GetRequiredService<IOptionsMonitor<ResilientIntegrationOptions>>()));
        }

        if (options.HealthProbe)
        {
            string path = profile.ProbeAddress(options);
            var schedule = options.Probe;
            builder.AddHttpHealthProbe(path, o =>
            {
                o.Interval = schedule.Interval;
                o.InitialDelay = schedule.InitialDelay;
                o.Jitter = schedule.Jitter;
                o.Timeout = schedule.Timeout;
            });
        }

        return builder;
    }

    private static void Validate(string name, ProviderProfile profile, AiProviderOptions options)
    {
        string prefix = $"{profile.Name} profile of integration '{name}': AiProviderOptions.";
        if (options.Endpoint is null && profile.DefaultEndpoint is null)
        {
            throw new ArgumentException(prefix + "Endpoint is required (your resource's address, e.g. https://my-resource.openai.azure.com/).", nameof(options));
        }

        if (options.Endpoint is { IsAbsoluteUri: false } || (options.Endpoint is { } e && e.Scheme != Uri.UriSchemeHttps && e.Scheme != Uri.UriSchemeHttp))
        {
            throw new ArgumentException(prefix + "Endpoint must be an absolute http or https address.", nameof(options));
        }

        if (options.HealthProbe && string.IsNullOrWhiteSpace(options.ApiKey))
        {
            throw new ArgumentException(prefix + "ApiKey is required for the default models-list health probe; set it, or set HealthProbe = false and add a probe of your own.", nameof(options));
        }

        if (options.AttemptTimeout <= TimeSpan.Zero || options.TotalTimeout < options.AttemptTimeout)
        {
            throw new ArgumentException(prefix + "AttemptTimeout must be positive and TotalTimeout at least AttemptTimeout.", nameof(options));
        }
    }
}
