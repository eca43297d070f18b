using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Health.Internal;

namespace Resilient.Integrations.Credentials.Internal;

/// <summary>Marks an integration whose credential expiry is watched.</summary>
internal sealed record CredentialExpiryRegistration(string Integration);

/// <summary>
/// The watches of every integration that has one. Started with the host, so a credential known at start-up (a JWT
/// in the options, a date) is judged at once, with no call needed; the others learn from traffic and probes.
/// </summary>
internal sealed class CredentialExpiryWatches(
    IEnumerable<CredentialExpiryRegistration> registrations,
    IOptionsMonitor<CredentialExpiryOptions> options,
    TimeProvider time,
    IAlertDispatcher alerts,
    HealthMonitor health,
    ILoggerFactory loggerFactory) : IHostedService, IDisposable
{
    private readonly ConcurrentDictionary<string, CredentialExpiryWatch> _watches = new(StringComparer.Ordinal);

    public CredentialExpiryWatch Get(string integration) => _watches.GetOrAdd(integration, name => new CredentialExpiryWatch(
        name, options.Get(name), time, alerts, health, loggerFactory.CreateLogger("Resilient.Integrations.Credentials")));

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var name in registrations.Select(r => r.Integration).Distinct(StringComparer.Ordinal))
        {
            var watch = Get(name);
            var o = watch.Options;
            if (o.ExpiresAt is { } at)
            {
                watch.Observe(at, "the configured expiry date");
            }

            if (o.Token is { } token && JwtExpiry.TryRead(token, out var exp, out var iat))
            {
                watch.Observe(exp, "the JWT's exp claim", iat);
            }
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        foreach (var watch in _watches.Values)
        {
            watch.Dispose();
        }
    }
}
