using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Policies.Internal;
using Resilient.Integrations.Redaction.Internal;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Health.Internal;

/// <summary>
/// Runs each probe on its own schedule: an initial delay, then one run per interval (plus jitter), each
/// bounded by the probe's timeout even when the probe ignores its token. A run still hanging at the next
/// tick makes that tick skip, so two runs of one probe never overlap. All waits use the injected clock.
/// </summary>
internal sealed class HealthProbeScheduler(
    IEnumerable<ProbeRegistration> registrations,
    IServiceProvider services,
    HealthMonitor monitor,
    IntegrationRegistry integrations,
    TimeProvider time,
    ILoggerFactory loggerFactory,
    IOptionsMonitor<ResilientIntegrationOptions> integrationOptions,
    IEnumerable<IProbeTurns> turns)
    : BackgroundService
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("Resilient.Integrations.Health");

    private readonly SharedProbing? _shared = turns.LastOrDefault() is { } shared
        ? new SharedProbing(shared, monitor, time, loggerFactory.CreateLogger("Resilient.Integrations.Health"), registrations)
        : null;

    private readonly IReadOnlyList<ProbeRegistration> _all = [.. registrations];

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
        var options = registration.Options;
        string? identity = _shared is null ? null : SharedProbing.IdentityOf(registration, _all);
        Task<HealthProbeResult>? inFlight = null;
        try
        {
            var probe = registration.Create(services);
            await Task.Delay(options.InitialDelay + Jitter(options), time, stoppingToken).ConfigureAwait(false);
            while (!stoppingToken.IsCancellationRequested)
            {
                long started = time.GetTimestamp();
                try
                {
                    if (inFlight is not { IsCompleted: false })
                    {
                        // Shared turns: another instance probes this interval and its result is taken in instead.
                        var turn = _shared is null ? null : await _shared.TryTakeTurnAsync(registration.Integration, identity!, options.Interval, stoppingToken).ConfigureAwait(false);
                        if (turn is { Mine: false })
                        {
                            await _shared!.TakeInLatestAsync(identity!, stoppingToken).ConfigureAwait(false);
                        }
                        else
                        {
                            var (run, result) = await RunOnceAsync(registration, probe, stoppingToken).ConfigureAwait(false);
                            inFlight = run;
                            if (result is { } r)
                            {
                                monitor.Report(registration.Integration, r);
                                if (turn is { } mine)
                                {
                                    _shared!.Publish(registration.Integration, identity!, mine.Number, r, new SecretRedactor(integrationOptions.Get(registration.Integration).SensitiveHeaders));
                                }
                            }
                        }
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    Log.ProbeFailed(_logger, registration.Integration, ex.GetType().Name, SecretRedactor.RedactExceptionMessage(ex));
                }

                var next = options.Interval - time.GetElapsedTime(started) + Jitter(options);
                await Task.Delay(next > TimeSpan.Zero ? next : TimeSpan.Zero, time, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Log.ProbeFailed(_logger, registration.Integration, ex.GetType().Name, SecretRedactor.RedactExceptionMessage(ex));
        }
    }

    private async Task<(Task<HealthProbeResult> Run, HealthProbeResult? Result)> RunOnceAsync(
        ProbeRegistration registration, IHealthProbe probe, CancellationToken stoppingToken)
    {
        long started = time.GetTimestamp();
        var timeout = new CancellationTokenSource(registration.Options.Timeout, time);
        var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token);
        var token = linked.Token;
        var run = Task.Run(() => probe.ProbeAsync(token).AsTask(), CancellationToken.None);

        HealthProbeResult TimedOut(Exception? ex) =>
            new(new FailureClassification(FailureKind.Timeout) { Exception = ex, Reason = "the probe timed out" }, time.GetElapsedTime(started));

        try
        {
            // Raced against the timer started before the probe, which also bounds a probe that ignores its token.
            if (await Task.WhenAny(run, Task.Delay(Timeout.Infinite, token)).ConfigureAwait(false) != run)
            {
                stoppingToken.ThrowIfCancellationRequested();
                throw new TimeoutException($"The probe did not finish within {registration.Options.Timeout}.");
            }

            return (run, await run.ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return (run, null);
        }
        catch (TimeoutException ex) when (!run.IsCompleted)
        {
            return (run, TimedOut(ex)); // the probe ignores its token: stop waiting for it
        }
        catch (Exception ex) when (timeout.IsCancellationRequested)
        {
            return (run, TimedOut(ex));
        }
        catch (Exception ex)
        {
            return (run, new HealthProbeResult(integrations.Get(registration.Integration).Classifier.Classify(ex, stoppingToken), time.GetElapsedTime(started)));
        }
        finally
        {
            // A run abandoned on timeout still holds the token: release the sources only once it ends.
            if (run.IsCompleted)
            {
                linked.Dispose();
                timeout.Dispose();
            }
            else
            {
                _ = run.ContinueWith(_ => { linked.Dispose(); timeout.Dispose(); }, TaskScheduler.Default);
            }
        }
    }
}
