using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations;
using Resilient.Integrations.AI;
using Resilient.Integrations.AI.Internal;

namespace Microsoft.Extensions.AI;

/// <summary>Adds Resilient.Integrations' policies to a chat client pipeline.</summary>
public static class ResilientChatClientBuilderExtensions
{
    private static readonly TimeSpan MaxStreamIdleTimeout = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary>
    /// Runs every request of the inner <see cref="IChatClient"/> under the policies of a registered integration
    /// (<c>services.AddResilientIntegration(name)</c>, usually with a provider profile): what the client throws is
    /// classified, retried per kind, counted by the breaker, fed to health and alerts, and (opt-in) answered with
    /// the last good answer. A stream is retried only until its first update; after that a failure is reported
    /// and thrown, never replayed.
    /// </summary>
    /// <param name="builder">The chat client builder.</param>
    /// <param name="integrationName">The integration's name, as given to <c>AddResilientIntegration</c>.</param>
    /// <param name="configure">Sets the middleware's options.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="ResilientChatClientOptions.StreamIdleTimeout"/> is zero, negative or longer than 49 days.</exception>
    /// <remarks>
    /// Put it over a client whose <see cref="HttpClient"/> is not itself the integration's resilient client, and
    /// with the SDK's own retries off, so exactly one retry layer acts.
    /// </remarks>
    public static ChatClientBuilder UseResilience(this ChatClientBuilder builder, string integrationName, Action<ResilientChatClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(integrationName);
        var options = new ResilientChatClientOptions();
        configure?.Invoke(options);
        // A timer takes at most 0xFFFFFFFE ms; beyond that every stream would fail on its second update.
        var idle = options.StreamIdleTimeout;
        if (idle != Timeout.InfiniteTimeSpan && (idle <= TimeSpan.Zero || idle > MaxStreamIdleTimeout))
        {
            throw new ArgumentOutOfRangeException(
                nameof(configure), idle, "ResilientChatClientOptions.StreamIdleTimeout must be positive and at most 49 days, or Timeout.InfiniteTimeSpan.");
        }

        return builder.Use((inner, services) =>
        {
            var integration = services.GetKeyedService<IResilientIntegration>(integrationName)
                ?? throw new InvalidOperationException(
                    $"No resilient integration named '{integrationName}' is registered; call services.AddResilientIntegration(\"{integrationName}\") first.");
            return new ResilientChatClient(inner, integration, options, services.GetService<TimeProvider>() ?? TimeProvider.System);
        });
    }
}
