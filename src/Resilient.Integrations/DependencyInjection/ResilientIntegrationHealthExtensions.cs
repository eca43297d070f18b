using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Resilient.Integrations.DependencyInjection;
using Resilient.Integrations.Health;
using Resilient.Integrations.Health.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Health probes for integrations, and the bridge to ASP.NET Core / Microsoft.Extensions health checks.</summary>
public static class ResilientIntegrationHealthExtensions
{
    /// <summary>Probes the integration with a GET through its own client, e.g. <c>/v1/models</c>, on a schedule.</summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="path">The address to GET, relative to the base address. Choose one that is cheap and spends no tokens.</param>
    /// <param name="configure">Sets the schedule (default every minute).</param>
    /// <returns>The builder.</returns>
    public static IResilientIntegrationBuilder AddHttpHealthProbe(this IResilientIntegrationBuilder builder, string path, Action<HealthProbeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string name = builder.Name;
        return builder.AddHealthProbe(
            sp => new HttpHealthProbe(sp.GetRequiredService<IHttpClientFactory>().CreateClient(name), path, sp.GetRequiredService<TimeProvider>()),
            configure);
    }

    /// <summary>Probes the integration with a probe of your own on a schedule.</summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="create">Creates the probe once, from the container.</param>
    /// <param name="configure">Sets the schedule (default every minute).</param>
    /// <returns>The builder.</returns>
    public static IResilientIntegrationBuilder AddHealthProbe(
        this IResilientIntegrationBuilder builder, Func<IServiceProvider, IHealthProbe> create, Action<HealthProbeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(create);
        var options = new HealthProbeOptions();
        configure?.Invoke(options);
        Validate(builder.Name, options);
        builder.Services.AddSingleton(new ProbeRegistration(builder.Name, create, options));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, HealthProbeScheduler>());
        return builder;
    }

    /// <summary>
    /// Registers one health check per resilient integration (tag <c>resilient-integration</c>) that reports the
    /// last known state (Green Healthy, Yellow or Unknown Degraded, Red Unhealthy) without calling the API: a
    /// /health endpoint must not spend paid API calls.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddResilientIntegrations(this IHealthChecksBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<HealthCheckServiceOptions>().Configure<IEnumerable<IntegrationName>>((options, names) =>
        {
            foreach (var name in names.Select(n => n.Name).Distinct(StringComparer.Ordinal))
            {
                options.Registrations.Add(new HealthCheckRegistration(
                    "integration:" + name,
                    sp => new IntegrationHealthCheck(name, sp.GetRequiredService<IIntegrationHealthMonitor>()),
                    failureStatus: HealthStatus.Unhealthy,
                    tags: ["resilient-integration"]));
            }
        });
        return builder;
    }

    private static void Validate(string integration, HealthProbeOptions options)
    {
        string prefix = $"Health probe of '{integration}': HealthProbeOptions.";
        if (options.Interval < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Interval, prefix + "Interval must be at least 1 second.");
        }

        if (options.InitialDelay < TimeSpan.Zero || options.Jitter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), prefix + "InitialDelay and Jitter must not be negative.");
        }

        if (options.Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Timeout, prefix + "Timeout must be positive.");
        }
    }
}
