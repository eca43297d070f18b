using Microsoft.Extensions.Hosting;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Policies.Internal;

namespace Resilient.Integrations.Health.Internal;

/// <summary>
/// Runs each probe on its own schedule: an initial delay, then one run per interval (plus jitter), each
/// bounded by the probe's timeout. A probe's runs are sequential, so two never overlap. All waits use the
/// injected <see cref="TimeProvider"/>.
/// </summary>
internal sealed class HealthProbeScheduler(
    IEnumerable<ProbeRegistration> registrations, IServiceProvider services, HealthMonitor monitor, IntegrationRegistry integrations, TimeProvider time)
    : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(registrations.Select(r => Task.Run(() => RunAsync(r, stoppingToken), CancellationToken.None)));

    private static TimeSpan Jitter(HealthProbeOptions options)
    {
        var max = options.Jitter ?? options.Interval / 10;
#pragma warning disable CA5394 // Spreading probes needs no cryptographic randomness.
        return max <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromTicks((long)(Random.Shared.NextDouble() * max.Ticks));
#pragma warning restore CA5394
    }

    private async Task RunAsync(ProbeRegistration registration, CancellationToken stoppingToken)
    {
        var probe = registration.Create(services);
        var options = registration.Options;
        try
        {
            await Task.Delay(options.InitialDelay + Jitter(options), time, stoppingToken).ConfigureAwait(false);
            while (!stoppingToken.IsCancellationRequested)
            {
                long started = time.GetTimestamp();
                if (await RunOnceAsync(registration, probe, stoppingToken).ConfigureAwait(false) is { } result)
                {
                    monitor.Report(registration.Integration, result);
                }

                var next = options.Interval - time.GetElapsedTime(started) + Jitter(options);
                await Task.Delay(next > TimeSpan.Zero ? next : TimeSpan.Zero, time, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task<HealthProbeResult?> RunOnceAsync(ProbeRegistration registration, IHealthProbe probe, CancellationToken stoppingToken)
    {
        long started = time.GetTimestamp();
        using var timeout = new CancellationTokenSource(registration.Options.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token);
        try
        {
            return await probe.ProbeAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception ex) when (timeout.IsCancellationRequested)
        {
            return new HealthProbeResult(new FailureClassification(FailureKind.Timeout) { Exception = ex, Reason = "the probe timed out" }, time.GetElapsedTime(started));
        }
        catch (Exception ex)
        {
            var classifier = integrations.Get(registration.Integration).Classifier;
            return new HealthProbeResult(classifier.Classify(ex, stoppingToken), time.GetElapsedTime(started));
        }
    }
}
