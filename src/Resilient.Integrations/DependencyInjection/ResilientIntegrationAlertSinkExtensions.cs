using Resilient.Integrations.Alerts;
using Resilient.Integrations.DependencyInjection;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the alert sinks that reach on-call people: Microsoft Teams and PagerDuty.</summary>
public static class ResilientIntegrationAlertSinkExtensions
{
    /// <summary>
    /// Adds the <see cref="TeamsAlertSink"/>, posting Adaptive Cards to a Teams Workflows webhook. Sinks are shared by
    /// all integrations: calling this for several integrations configures the one sink.
    /// </summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="configure">Sets the webhook address and minimum severity.</param>
    /// <returns>The builder.</returns>
    public static IResilientIntegrationBuilder AddTeamsAlertSink(this IResilientIntegrationBuilder builder, Action<TeamsAlertSinkOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<TeamsAlertSinkOptions>()
            .Configure(configure)
            .Validate(o => IsHttpAddress(o.Url), "ResilientIntegrations:Alerts:Teams:Url must be an absolute http or https address.")
            .ValidateOnStart();
        AddClient(builder.Services, TeamsAlertSinkOptions.HttpClientName);
        return builder.AddAlertSink<TeamsAlertSink>();
    }

    /// <summary>
    /// Adds the <see cref="PagerDutyAlertSink"/>, triggering and resolving incidents through the Events API v2. Sinks
    /// are shared by all integrations: calling this for several integrations configures the one sink.
    /// </summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="configure">Sets the routing key, endpoint, source and minimum severity.</param>
    /// <returns>The builder.</returns>
    public static IResilientIntegrationBuilder AddPagerDutyAlertSink(this IResilientIntegrationBuilder builder, Action<PagerDutyAlertSinkOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<PagerDutyAlertSinkOptions>()
            .Configure(configure)
            .Validate(o => !string.IsNullOrWhiteSpace(o.RoutingKey) && !o.RoutingKey.Any(char.IsWhiteSpace), "ResilientIntegrations:Alerts:PagerDuty:RoutingKey is required and has no spaces.")
            .Validate(o => IsHttpAddress(o.Endpoint), "ResilientIntegrations:Alerts:PagerDuty:Endpoint must be an absolute http or https address.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.Source), "ResilientIntegrations:Alerts:PagerDuty:Source is required.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.Group), "ResilientIntegrations:Alerts:PagerDuty:Group is required.")
            .ValidateOnStart();
        AddClient(builder.Services, PagerDutyAlertSinkOptions.HttpClientName);
        return builder.AddAlertSink<PagerDutyAlertSink>();
    }

    private static bool IsHttpAddress(Uri? url) =>
        url is { IsAbsoluteUri: true } u && (u.Scheme == Uri.UriSchemeHttps || u.Scheme == Uri.UriSchemeHttp);

    private static void AddClient(IServiceCollection services, string name) =>
        services.AddHttpClient(name)
            // The dispatcher's token (AlertOptions.SinkTimeout) bounds a call, not HttpClient's own 100 seconds.
            .ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan)
            // The default HttpClient logs would print the address, which may carry a signature.
            .RemoveAllLoggers();
}
