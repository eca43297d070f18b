using Microsoft.Extensions.Options;
using Resilient.Integrations;
using Resilient.Integrations.DependencyInjection;
using Resilient.Integrations.DependencyInjection.Internal;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Policies.Internal;
using Resilient.Integrations.Redaction.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Puts the resilient-integration pipeline on an existing named or typed <see cref="System.Net.Http.HttpClient"/>.</summary>
public static class ResilientIntegrationHttpClientBuilderExtensions
{
    /// <summary>
    /// Adds the resilient-integration pipeline to the client; the integration takes the client's name. The
    /// client's own <see cref="System.Net.Http.HttpClient.Timeout"/> is switched off so it cannot fight the
    /// pipeline's total and attempt timeouts. The client's loggers are replaced by ones that redact
    /// <see cref="ResilientIntegrationOptions.SensitiveHeaders"/> in message and structured state alike; a logger
    /// added to the client before this call is removed, one added after it is yours to keep free of secrets.
    /// </summary>
    /// <param name="builder">The client's builder.</param>
    /// <param name="configure">Sets options in code; configuration, when present, is applied after it.</param>
    /// <returns>A builder for classifier rules, validation and alert sinks.</returns>
    public static IResilientIntegrationBuilder AddResilientIntegration(this IHttpClientBuilder builder, Action<ResilientIntegrationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        string name = builder.Name;
        if (name.Equals("Alerts", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException("'Alerts' is reserved for the configuration section ResilientIntegrations:Alerts; choose another integration name.", nameof(builder));
        }

        var services = builder.Services;
        CoreServices.Add(services);
        services.AddSingleton(new Resilient.Integrations.Health.Internal.IntegrationName(name));

        var options = services.AddOptions<ResilientIntegrationOptions>(name);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.AddSingleton<IConfigureOptions<ResilientIntegrationOptions>>(sp => new IntegrationConfiguration(name, sp));
        services.AddSingleton<IOptionsChangeTokenSource<ResilientIntegrationOptions>>(sp => new IntegrationConfiguration(name, sp));

        builder.ConfigureHttpClient((sp, client) =>
        {
            var current = sp.GetRequiredService<IOptionsMonitor<ResilientIntegrationOptions>>().Get(name);
            if (current.BaseAddress is { } address)
            {
                client.BaseAddress = address;
            }

            client.Timeout = System.Threading.Timeout.InfiniteTimeSpan;
        });

        // The default loggers mask header values in the message but keep them raw in the structured state that
        // OpenTelemetry, Serilog or Application Insights record (RedactLoggedHeaders changes the message alone):
        // loggers of our own take their place, around the pipeline (the logical call) and next to the wire (each attempt).
        builder.RemoveAllLoggers();
        RedactingLoggingHandler.AddTo(builder, name);
        builder.AddResilienceHandler("resilient", (pipeline, context) => PipelineComposer.Compose(pipeline, context, name));
        SingleResilienceLayer.MarkOwnHandler(builder);
        services.AddKeyedSingleton<IResilientIntegration>(name, (sp, _) => new ResilientIntegration(
            name,
            sp.GetRequiredService<IntegrationRegistry>(),
            sp.GetRequiredService<IOptionsMonitor<ResilientIntegrationOptions>>(),
            sp.GetService<IOptions<Polly.Telemetry.TelemetryOptions>>()?.Value));
        return new ResilientIntegrationBuilder(builder);
    }
}
