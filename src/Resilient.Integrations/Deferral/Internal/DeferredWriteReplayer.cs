using System.Net.Http.Headers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Health.Internal;
using Resilient.Integrations.Health;
using Resilient.Integrations.Internal;
using Resilient.Integrations.Policies.Internal;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Redaction.Internal;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Deferral.Internal;

/// <summary>
/// Delivers each integration's deferred writes, oldest first, when it is healthy: when its health turns
/// Green, or, without a probe to say so, on a trial every <see cref="DeferralPolicy.ReplayInterval"/>.
/// A write is removed only after a 2xx; Rejected dead-letters it at once; Auth pauses the replay until the
/// integration is Green again; after <see cref="DeferralPolicy.MaxAttempts"/> failures it is dead-lettered
/// with a Critical alert. Every attempt carries the write's Idempotency-Key.
/// </summary>
internal sealed class DeferredWriteReplayer(
    IEnumerable<IntegrationName> integrations,
    IEnumerable<ProbeRegistration> probes,
    IEnumerable<IDeferredWriteStore> stores,
    IntegrationRegistry registry,
    HealthMonitor health,
    IHttpClientFactory clients,
    IEnumerable<IDeferredWriteHandler> handlers,
    IOptionsMonitor<ResilientIntegrationOptions> options,
    TimeProvider time) : BackgroundService
{
    /// <summary>The clock that renews replay leases: they expire on the store's real clock, whatever clock the app injects.</summary>
    internal static TimeProvider LeaseTime { get; set; } = TimeProvider.System;

    // Unique per replayer, so a lease granted to an earlier run of the same host is not mistaken for this one's.
    private readonly string _holder = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> _deadLetterWarned = new(StringComparer.Ordinal);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (stores.LastOrDefault() is not { } store)
        {
            return Task.CompletedTask;
        }

        var probed = probes.Select(p => p.Integration).ToHashSet(StringComparer.Ordinal);
        return Task.WhenAll(integrations.Select(i => i.Name).Distinct(StringComparer.Ordinal)
            .Select(name => Task.Run(() => ReplayLoopAsync(name, store, probed.Contains(name), stoppingToken), CancellationToken.None)));
    }

    private async Task ReplayLoopAsync(string name, IDeferredWriteStore store, bool hasProbe, CancellationToken stoppingToken)
    {
        // One signal at a time, replaced after it fired: a recovery is never lost to an abandoned wait.
        var recovered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool paused = false;
        DateTimeOffset pausedAt = default;
        void OnChange(object? sender, HealthStateChange change)
        {
            if (change.Integration == name && change.Current == HealthState.Green)
            {
                Volatile.Read(ref recovered).TrySetResult();
            }
        }

        health.StateChanged += OnChange;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var policy = options.Get(name).Deferral;
                var signal = Volatile.Read(ref recovered).Task;
                await Task.WhenAny(signal, Task.Delay(policy.ReplayInterval, time, stoppingToken)).ConfigureAwait(false);
                stoppingToken.ThrowIfCancellationRequested();
                if (signal.IsCompleted)
                {
                    Volatile.Write(ref recovered, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                    paused = false; // the integration turned Green: credentials work again
                }

                try
                {
                    await ObserveQueueAsync(name, store, policy, stoppingToken).ConfigureAwait(false);
                    var state = health.Get(name).State;

                    // A pause (refused credentials) lasts until Green; without a probe to say so, a rare trial checks.
                    if (paused && (hasProbe || time.GetUtcNow() - pausedAt < policy.ReplayInterval * 10))
                    {
                        continue;
                    }

                    // With a probe, wait for it to see the service up; without one, a trial send is the only way to learn.
                    if (hasProbe && state is HealthState.Red or HealthState.Unknown)
                    {
                        continue;
                    }

                    paused = await DrainAsync(name, store, policy, stoppingToken).ConfigureAwait(false);
                    pausedAt = paused ? time.GetUtcNow() : pausedAt;
                    await ObserveQueueAsync(name, store, policy, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // A store or delivery fault (the database went away) must not end replay for good: log, count, try again next turn.
                    registry.Get(name).Metrics.StoreFailure(name, "replay");
                    Log.ReplayFailed(registry.Get(name).Logger, name, ex.GetType().Name, SecretRedactor.RedactExceptionMessage(ex));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            health.StateChanged -= OnChange;
        }
    }

    private async Task ObserveQueueAsync(string name, IDeferredWriteStore store, DeferralPolicy policy, CancellationToken stoppingToken)
    {
        var stats = await store.GetStatsAsync(name, stoppingToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var age = stats.OldestEnqueuedAt is { } oldest ? now - oldest : TimeSpan.Zero;
        var runtime = registry.Get(name);
        runtime.Metrics.QueueObserved(name, stats.Depth, age, stats.DeadLettered);
        health.SetBacklogged(name, stats.Depth > policy.BacklogYellowThreshold);

        // One reminder per oldest dead letter: a new one is due only when that one was requeued or discarded and the next is old too.
        // Not unsuppressed: instances sharing a queue (and alert claims) remind once between them.
        if (stats.OldestDeadLetteredAt is { } deadAt && now - deadAt >= policy.DeadLetterWarningAge &&
            !(_deadLetterWarned.TryGetValue(name, out var warned) && warned == deadAt))
        {
            _deadLetterWarned[name] = deadAt;
            runtime.RaiseAlert(
                AlertSeverity.Warning,
                FailureKind.Unknown,
                $"{stats.DeadLettered} dead-lettered write(s) wait for an operator, the oldest since {deadAt:u}: requeue or discard them (IDeferredWriteAdmin)",
                NoDetails,
                topic: "dead-letters");
        }
    }

    /// <summary>Delivers due writes until the queue is empty or a delivery fails. Returns whether replay must pause (Auth).</summary>
    private async Task<bool> DrainAsync(string name, IDeferredWriteStore store, DeferralPolicy policy, CancellationToken stoppingToken)
    {
        var runtime = registry.Get(name);
        var lease = await store.TryAcquireLeaseAsync(name, _holder, stoppingToken).ConfigureAwait(false);
        if (lease is null)
        {
            Log.ReplayLeaseHeldElsewhere(runtime.Logger, name);
            return false;
        }

        using var lost = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var held = new LeaseHold(lease, lost);
        var renewal = RenewAsync(held);
        try
        {
            return await DrainLeasedAsync(runtime, store, held, policy, lost.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested &&
            (ex is DeferredWriteLeaseLostException || (ex is OperationCanceledException && lost.IsCancellationRequested)))
        {
            // Another instance has the queue now: what this one delivered meanwhile is repeated there with the same key.
            Log.ReplayLeaseLost(runtime.Logger, name);
            return false;
        }
        finally
        {
            await lost.CancelAsync().ConfigureAwait(false);
            await renewal.ConfigureAwait(false);
            await ReleaseAsync(lease).ConfigureAwait(false);
        }
    }

    /// <summary>Gives the lease up; a store that cannot be reached lets it run out instead, which must not replace the drain's result.</summary>
    private static async Task ReleaseAsync(IDeferredWriteLease lease)
    {
        try
        {
            await lease.DisposeAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The lease expires on its own; the next turn logs a store that is still down.
        catch (Exception)
        {
        }
#pragma warning restore CA1031
    }

    /// <summary>Renews the lease at a third of its duration until the drain ends; a failed or slow renewal cancels the drain.</summary>
    private static async Task RenewAsync(LeaseHold held)
    {
        var lease = held.Lease;
        var lost = held.Lost;
        if (lease.Duration == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        try
        {
            while (true)
            {
                await Task.Delay(lease.Duration / 3, LeaseTime, lost.Token).ConfigureAwait(false);
                var sentAt = LeaseTime.GetUtcNow();
                using var slow = CancellationTokenSource.CreateLinkedTokenSource(lost.Token);
                slow.CancelAfter(lease.Duration / 3);
                if (!await lease.RenewAsync(slow.Token).ConfigureAwait(false))
                {
                    break;
                }

                held.Renewed(sentAt);
            }
        }
        catch (OperationCanceledException) when (lost.IsCancellationRequested)
        {
            return;
        }
#pragma warning disable CA1031 // A renewal that cannot reach the store counts as lost: the store's changes would be refused anyway.
        catch (Exception)
        {
        }
#pragma warning restore CA1031

        await lost.CancelAsync().ConfigureAwait(false);
    }

    private async Task<bool> DrainLeasedAsync(IntegrationRuntime runtime, IDeferredWriteStore store, LeaseHold held, DeferralPolicy policy, CancellationToken stoppingToken)
    {
        string name = runtime.Name;
        var lease = held.Lease;
        using var gate = new SemaphoreSlim(policy.ReplayConcurrency);
        while (true)
        {
            var due = await store.GetDueAsync(name, time.GetUtcNow(), Math.Max(16, policy.ReplayConcurrency * 4), stoppingToken).ConfigureAwait(false);
            if (due.Count == 0)
            {
                return false;
            }

            bool stop = false, pause = false;
            var deliveries = due.Select(async write =>
            {
                await gate.WaitAsync(stoppingToken).ConfigureAwait(false);
                try
                {
                    if (Volatile.Read(ref stop))
                    {
                        return;
                    }

                    DeferredWrite readable;
                    try
                    {
                        readable = DeferredWriteProtection.Unprotect(write, runtime.DeferredWriteProtector);
                    }
                    catch (DeferredWriteProtectionException ex)
                    {
                        await DeadLetterUnreadableAsync(runtime, lease, ex, stoppingToken).ConfigureAwait(false);
                        return;
                    }

                    // A holder that stalled past its lease must not send: another instance may be sending the same writes.
                    if (!held.IsValid)
                    {
                        await held.Lost.CancelAsync().ConfigureAwait(false);
                        throw new DeferredWriteLeaseLostException(name, lease.Token);
                    }

                    // Once sent, a write is seen through and settled even when the host stops meanwhile: cutting it off would
                    // leave the service acting on it while the next holder sends it again. The pipeline's TotalTimeout bounds it.
                    var failure = await DeliverAsync(name, readable, CancellationToken.None).ConfigureAwait(false);
                    var verdict = await SettleAsync(runtime, lease, policy, write, failure, CancellationToken.None).ConfigureAwait(false);
                    if (verdict != Verdict.Delivered && verdict != Verdict.DeadLettered)
                    {
                        Volatile.Write(ref stop, true); // still down: keep order, try again later
                        pause |= verdict == Verdict.Paused;
                    }
                }
                finally
                {
                    gate.Release();
                }
            }).ToList();
            await Task.WhenAll(deliveries).ConfigureAwait(false);
            if (stop)
            {
                return pause;
            }
        }
    }

    /// <summary>
    /// A write that cannot be unprotected would fail every turn and hold back the ones behind it: it goes to the
    /// dead letters as it is stored (still protected, so restoring the key makes it readable again), with a Critical alert.
    /// </summary>
    private static async Task DeadLetterUnreadableAsync(IntegrationRuntime runtime, IDeferredWriteLease lease, DeferredWriteProtectionException error, CancellationToken stoppingToken)
    {
        await lease.DeadLetterAsync(error.WriteId, error.Message, stoppingToken).ConfigureAwait(false);
        runtime.Metrics.WriteReplayed(runtime.Name, "dead_lettered");
        Log.DeferredWriteUnreadable(runtime.Logger, runtime.Name, error.WriteId, error.Message);
        runtime.RaiseAlert(AlertSeverity.Critical, FailureKind.Unknown, $"{error.Message} It was dead-lettered, still protected.", NoDetails, always: true);
    }

    private async Task<FailureClassification> DeliverAsync(string name, DeferredWrite write, CancellationToken stoppingToken)
    {
        try
        {
            return await DeliverCoreAsync(name, write, stoppingToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            // A write that cannot even be rebuilt (a bad method or address) is classified, not allowed to stop replay.
            return registry.Get(name).Classifier.Classify(ex, stoppingToken);
        }
    }

    private async Task<FailureClassification> DeliverCoreAsync(string name, DeferredWrite write, CancellationToken stoppingToken)
    {
        if (write.Handler is { } handlerName)
        {
            try
            {
                await DeferredWrites.Handler(handlers, handlerName).HandleAsync(write, stoppingToken).ConfigureAwait(false);
                return FailureClassification.Success;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                return registry.Get(name).Classifier.Classify(ex, stoppingToken);
            }
        }

        using var request = new HttpRequestMessage(new HttpMethod(write.Method ?? "POST"), write.Uri);
        var content = new ByteArrayContent(write.Body.ToArray());
        foreach (var (header, value) in write.Headers)
        {
            if (!request.Headers.TryAddWithoutValidation(header, value))
            {
                content.Headers.TryAddWithoutValidation(header, value);
            }
        }

        request.Content = content;
        request.Headers.Remove(DeferredWriteCapture.IdempotencyKeyHeader);
        request.Headers.TryAddWithoutValidation(DeferredWriteCapture.IdempotencyKeyHeader, write.IdempotencyKey);
        RequestMarks.Of(request).IsReplay = true;
        try
        {
            using var response = await clients.CreateClient(name).SendAsync(request, stoppingToken).ConfigureAwait(false);
            var classification = response.GetFailureClassification();
            return classification.IsFailure || response.IsSuccessStatusCode
                ? classification
                : new FailureClassification(FailureKind.Rejected) { StatusCode = response.StatusCode };
        }
        catch (IntegrationFailureException failure)
        {
            return failure.Classification;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            return registry.Get(name).Classifier.Classify(ex, stoppingToken);
        }
    }

    private async Task<Verdict> SettleAsync(
        IntegrationRuntime runtime, IDeferredWriteLease lease, DeferralPolicy policy, DeferredWrite write, FailureClassification failure, CancellationToken stoppingToken)
    {
        var (outcome, verdict) = await DecideAsync(runtime, lease, policy, write, failure, stoppingToken).ConfigureAwait(false);
        runtime.Metrics.WriteReplayed(runtime.Name, outcome);
        Log.DeferredWriteReplayed(runtime.Logger, runtime.Name, write.Id, outcome);
        return verdict;
    }

    private async Task<(string Outcome, Verdict Verdict)> DecideAsync(
        IntegrationRuntime runtime, IDeferredWriteLease lease, DeferralPolicy policy, DeferredWrite write, FailureClassification failure, CancellationToken stoppingToken)
    {
        if (!failure.IsFailure)
        {
            await lease.CompleteAsync(write.Id, stoppingToken).ConfigureAwait(false);
            return ("delivered", Verdict.Delivered);
        }

        string reason = SecretRedactor.Default.Redact(failure.ToString());
        if (failure.Kind is FailureKind.Rejected or FailureKind.Unknown)
        {
            // The same write will fail the same way: waiting cannot help.
            await lease.DeadLetterAsync(write.Id, reason, stoppingToken).ConfigureAwait(false);
            runtime.RaiseAlert(AlertSeverity.Warning, FailureKind.Rejected, $"deferred write {write.Id} was rejected and dead-lettered: {failure}", NoDetails, always: true);
            return ("dead_lettered", Verdict.DeadLettered);
        }

        if (failure.Kind is FailureKind.Auth or FailureKind.QuotaExhausted)
        {
            runtime.RaiseAlert(AlertSeverity.Critical, failure.Kind, $"replay of deferred writes paused: {failure}", NoDetails, always: true);
            return ("paused", Verdict.Paused);
        }

        int attempts = CountsAsAttempt(runtime.Name, failure) ? write.Attempts + 1 : write.Attempts;
        if (attempts > write.Attempts && attempts >= policy.MaxAttempts)
        {
            await lease.DeadLetterAsync(write.Id, reason, stoppingToken).ConfigureAwait(false);
            runtime.RaiseAlert(AlertSeverity.Critical, failure.Kind, $"deferred write {write.Id} dead-lettered after {policy.MaxAttempts} attempts: {failure}", NoDetails, always: true);
            return ("dead_lettered", Verdict.DeadLettered);
        }

        var wait = TimeSpan.FromTicks(Math.Min(policy.MaxRetryDelay.Ticks, policy.RetryDelay.Ticks * (1L << Math.Min(Math.Max(attempts, 1) - 1, 20))));
        await lease.RescheduleAsync(write.Id, attempts, time.GetUtcNow() + wait, reason, stoppingToken).ConfigureAwait(false);
        return ("rescheduled", Verdict.Rescheduled);
    }

    private bool CountsAsAttempt(string name, FailureClassification failure) =>
        !(failure.Kind is FailureKind.Unavailable or FailureKind.Timeout && health.Get(name).State == HealthState.Red);

    /// <summary>A lease while a drain holds it: how long it is surely still valid by this process's clock, and the drain's cancellation.</summary>
    private sealed class LeaseHold(IDeferredWriteLease lease, CancellationTokenSource lost)
    {
        // Until the first renewal: granted no earlier than now, so valid for at least its duration from now, less a margin.
        private long _validUntilTicks = lease.Duration == Timeout.InfiniteTimeSpan
            ? long.MaxValue
            : (LeaseTime.GetUtcNow() + Usable(lease.Duration)).UtcTicks;

        public IDeferredWriteLease Lease => lease;

        public CancellationTokenSource Lost => lost;

        public bool IsValid => LeaseTime.GetUtcNow().UtcTicks < Interlocked.Read(ref _validUntilTicks);

        public void Renewed(DateTimeOffset sentAt) => Interlocked.Exchange(ref _validUntilTicks, (sentAt + Usable(lease.Duration)).UtcTicks);

        // A sixth of the lease is left for the clocks' drift and the statement's own time.
        private static TimeSpan Usable(TimeSpan duration) => duration - (duration / 6);
    }

    private static readonly IReadOnlyDictionary<string, string> NoDetails = new Dictionary<string, string>();

    private enum Verdict
    {
        Delivered,
        DeadLettered,
        Rescheduled,
        Paused,
    }
}
