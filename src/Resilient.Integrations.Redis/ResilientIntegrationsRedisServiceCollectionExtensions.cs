using Microsoft.Extensions.DependencyInjection.Extensions;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Health;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Redis;
using Resilient.Integrations.Redis.Internal;
using StackExchange.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the coordination of instances through Redis.</summary>
public static class ResilientIntegrationsRedisServiceCollectionExtensions
{
    /// <summary>
    /// Makes the app's instances act as one through Redis: one rate budget per integration (<see cref="ISharedRateBudget"/>:
    /// a 429 seen by one holds all, and together they stay inside the provider's quota), one alert per integration, kind
    /// and sink per cooldown (<see cref="IAlertClaims"/>: escalations always sent, repeats counted for all), and one probe
    /// per integration and interval (<see cref="IProbeTurns"/>: every instance takes in the result). When Redis does not
    /// answer within <see cref="ResilientIntegrationsRedisOptions.Timeout"/>, each instance goes on alone.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the Redis configuration (or leave it unset to use the <c>IConnectionMultiplexer</c> in DI) and the key prefix.</param>
    /// <returns>The services.</returns>
    /// <exception cref="ArgumentException">An option is missing or invalid; the message names it.</exception>
    public static IServiceCollection AddResilientIntegrationsRedis(this IServiceCollection services, Action<ResilientIntegrationsRedisOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new ResilientIntegrationsRedisOptions();
        configure(options);
        if (string.IsNullOrWhiteSpace(options.KeyPrefix))
        {
            throw new ArgumentException("ResilientIntegrationsRedisOptions.KeyPrefix must not be empty.", nameof(configure));
        }

        if (options.Timeout < TimeSpan.FromMilliseconds(1) || options.Timeout > TimeSpan.FromSeconds(10))
        {
            throw new ArgumentException($"ResilientIntegrationsRedisOptions.Timeout ({options.Timeout}) must be between 1 millisecond and 10 seconds.", nameof(configure));
        }

        if (options.Configuration is not null)
        {
            try
            {
                _ = ConfigurationOptions.Parse(options.Configuration);
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"ResilientIntegrationsRedisOptions.Configuration is not a valid StackExchange.Redis configuration: {ex.Message}", nameof(configure), ex);
            }
        }

        services.TryAddSingleton(sp => new RedisConnection(
            options,
            options.Configuration is null
                ? sp.GetService<IConnectionMultiplexer>() ?? throw new InvalidOperationException(
                    "ResilientIntegrationsRedisOptions.Configuration is not set and no IConnectionMultiplexer is registered: set one of the two.")
                : null));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAlertClaims, RedisAlertClaims>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISharedRateBudget, RedisRateBudget>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProbeTurns, RedisProbeTurns>());
        return services;
    }
}
