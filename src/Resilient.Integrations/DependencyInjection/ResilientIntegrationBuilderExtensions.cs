using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.DependencyInjection;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Validation;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Further configuration of a registered integration.</summary>
public static class ResilientIntegrationBuilderExtensions
{
    /// <summary>Sets the integration's options in code. Runs after configuration binding, so it wins over configuration.</summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The builder.</returns>
    public static IResilientIntegrationBuilder Configure(this IResilientIntegrationBuilder builder, Action<ResilientIntegrationOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(builder.Name, configure);
        return builder;
    }

    /// <summary>Adds a classification rule that runs before the built-in defaults.</summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="rule">The rule.</param>
    /// <returns>The builder.</returns>
    public static IResilientIntegrationBuilder AddFailureRule(this IResilientIntegrationBuilder builder, FailureRule rule)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(rule);
        return builder.ConfigureClassifier(o => o.Rules.Add(rule));
    }

    /// <summary>Configures the integration's classifier.</summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="configure">Sets the classifier options.</param>
    /// <returns>The builder.</returns>
    public static IResilientIntegrationBuilder ConfigureClassifier(this IResilientIntegrationBuilder builder, Action<FailureClassifierOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(builder.Name, configure);
        return builder;
    }

    /// <summary>Sets the validator of the integration's successful responses; <see langword="null"/> accepts every 2xx.</summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="validator">The validator.</param>
    /// <returns>The builder.</returns>
    public static IResilientIntegrationBuilder ValidateResponsesWith(this IResilientIntegrationBuilder builder, IResponseValidator? validator) =>
        builder.ConfigureClassifier(o => o.ResponseValidator = validator);

    /// <summary>
    /// Adds an alert sink, resolved from the container. Sinks are shared by all integrations: adding the same type
    /// for several integrations registers it once, and it receives each alert once.
    /// </summary>
    /// <typeparam name="TSink">The sink type.</typeparam>
    /// <param name="builder">The integration's builder.</param>
    /// <returns>The builder.</returns>
    public static IResilientIntegrationBuilder AddAlertSink<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TSink>(this IResilientIntegrationBuilder builder)
        where TSink : class, IAlertSink
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IAlertSink, TSink>());
        return builder;
    }

    /// <summary>
    /// Adds an alert sink instance. Sinks are shared by all integrations: adding the same instance for several
    /// integrations registers it once, and it receives each alert once.
    /// </summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="sink">The sink.</param>
    /// <returns>The builder.</returns>
    public static IResilientIntegrationBuilder AddAlertSink(this IResilientIntegrationBuilder builder, IAlertSink sink)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(sink);

        // By reference, not by type (as TryAddEnumerable would): two instances of one type are two sinks.
        if (!builder.Services.Any(d => d.ServiceType == typeof(IAlertSink) && !d.IsKeyedService && ReferenceEquals(d.ImplementationInstance, sink)))
        {
            builder.Services.AddSingleton(sink);
        }

        return builder;
    }

    /// <summary>Adds the <see cref="WebhookAlertSink"/> posting to a Slack incoming webhook (for Teams, see <see cref="ResilientIntegrationAlertSinkExtensions.AddTeamsAlertSink"/>).</summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="configure">Sets the webhook address and minimum severity.</param>
    /// <returns>The builder.</returns>
    public static IResilientIntegrationBuilder AddWebhookAlertSink(this IResilientIntegrationBuilder builder, Action<WebhookAlertSinkOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<WebhookAlertSinkOptions>()
            .Configure(configure)
            .Validate(o => o.Url is { IsAbsoluteUri: true } u && (u.Scheme == Uri.UriSchemeHttps || u.Scheme == Uri.UriSchemeHttp),
                "ResilientIntegrations:Alerts:Webhook:Url must be an absolute http or https address.")
            .ValidateOnStart();
        // The default HttpClient logs would print the webhook address, which is a credential.
        builder.Services.AddHttpClient(WebhookAlertSinkOptions.HttpClientName).RemoveAllLoggers();
        return builder.AddAlertSink<WebhookAlertSink>();
    }

    /// <summary>Configures the alert dispatcher shared by all integrations (cooldown, sink timeout, queue).</summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="configure">Sets the alert options.</param>
    /// <returns>The builder.</returns>
    public static IResilientIntegrationBuilder ConfigureAlerts(this IResilientIntegrationBuilder builder, Action<AlertOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        return builder;
    }
}
