using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.AspNetCore;
using Resilient.Integrations.AspNetCore.Internal;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the operator's view of the app's integrations.</summary>
public static class ResilientIntegrationsEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps a status page for people at <paramref name="pattern"/> (each integration's state since when, last result,
    /// circuit, pacing hold, retry budget, copies served and the oldest one's age, queued writes, dead letters and the
    /// recent alerts; it reloads itself and needs no script), the same as JSON at <c>{pattern}/status.json</c>, and
    /// dead-letter actions (requeue, discard) that change state only through POST with an antiforgery token.
    /// </summary>
    /// <param name="endpoints">The app's endpoints.</param>
    /// <param name="pattern">Where the page lives.</param>
    /// <param name="configure">Names the authorization policy (required unless anonymous access is explicitly allowed).</param>
    /// <returns>The endpoints' group, for further conventions.</returns>
    /// <exception cref="InvalidOperationException">No policy is named and anonymous access is not allowed, an option is invalid, or antiforgery is not registered.</exception>
    public static RouteGroupBuilder MapResilientIntegrations(
        this IEndpointRouteBuilder endpoints, string pattern = "/resilience", Action<ResilienceStatusPageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        var options = new ResilienceStatusPageOptions();
        configure?.Invoke(options);
        Validate(options);
        if (endpoints.ServiceProvider.GetService<IAntiforgery>() is null)
        {
            throw new InvalidOperationException(
                "The status page's dead-letter actions are protected by antiforgery tokens: call builder.Services.AddAntiforgery() before mapping it.");
        }

        var group = endpoints.MapGroup(pattern);
        group = options.AllowAnonymous && options.AuthorizationPolicy is null
            ? group.AllowAnonymous()
            : group.RequireAuthorization(options.AuthorizationPolicy!);
        StatusEndpoints.Map(group, options);
        return group;
    }

    private static void Validate(ResilienceStatusPageOptions options)
    {
        if (options.AuthorizationPolicy is null && !options.AllowAnonymous)
        {
            throw new InvalidOperationException(
                "ResilienceStatusPageOptions.AuthorizationPolicy is not set: name the policy that may see the status page and act on dead letters, " +
                "or set ResilienceStatusPageOptions.AllowAnonymous = true to open it to anyone on purpose.");
        }

        if (options.AuthorizationPolicy is { } policy && string.IsNullOrWhiteSpace(policy))
        {
            throw new InvalidOperationException("ResilienceStatusPageOptions.AuthorizationPolicy must not be empty.");
        }

        if (options.RefreshInterval < TimeSpan.FromSeconds(1) || options.RefreshInterval > TimeSpan.FromHours(1))
        {
            throw new InvalidOperationException($"ResilienceStatusPageOptions.RefreshInterval ({options.RefreshInterval}) must be between 1 second and 1 hour.");
        }

        if (string.IsNullOrWhiteSpace(options.Title))
        {
            throw new InvalidOperationException("ResilienceStatusPageOptions.Title must not be empty.");
        }
    }
}
