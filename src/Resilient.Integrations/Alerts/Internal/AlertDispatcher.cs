using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Fallback.Internal;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Alerts.Internal;

/// <summary>
/// Decides, per integration and alert episode, which alerts go out (<see cref="Publish"/>), and hands those to
/// one <see cref="SinkLane"/> per sink: each sink has its own bounded queue and loop, so a slow, hanging, blocking
/// or throwing sink delays no other sink.
/// </summary>
/// <remarks>
/// An episode starts with an integration's first alert and ends when the integration has stayed Green for
/// <see cref="AlertOptions.SettleTime"/> (announced once, as "recovered") or at <see cref="ResetCooldown"/>. Within
/// it, an alert is identified by its kind and topic: a repeat within the cooldown is counted, not sent, unless it
/// is more severe; the count goes out with the next alert of that identity, or with the recovery.
/// </remarks>
internal sealed class AlertDispatcher : IAlertDispatcher, IAsyncDisposable, IDisposable
{
    private readonly SinkLane[] _lanes;
    private readonly IOptionsMonitor<AlertOptions> _options;
    private readonly ConcurrentDictionary<string, Episode> _episodes = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private AlertOptions _lastValidOptions;
    private int _disposed;
    private readonly Resilient.Integrations.Internal.SharedTier _claimsTier;

    public AlertDispatcher(
        IEnumerable<IAlertSink> sinks, IOptionsMonitor<AlertOptions> options, TimeProvider time, IntegrationMetrics metrics, ILoggerFactory loggerFactory,
        IEnumerable<IAlertClaims>? claims = null,
        RecentAlerts? recent = null)
    {
        Recent = recent ?? new RecentAlerts();
        Claims = claims?.LastOrDefault();
        _options = options;
        _lastValidOptions = options.CurrentValue;
        Time = time;
        Metrics = metrics;
        Logger = loggerFactory.CreateLogger("Resilient.Integrations.Alerts");
        var logger = Logger;
        _claimsTier = new((type, message) => Log.AlertClaimsUnavailable(logger, type, message), () => Log.AlertClaimsBack(logger));
        Stopping = _stopping.Token;

        // One sink reached through several registrations (an instance or a factory added for each integration)
        // must get each alert once, not once per registration.
        _lanes = [.. sinks.Distinct<IAlertSink>(ReferenceEqualityComparer.Instance).Select(s => new SinkLane(s, this))];
    }

    internal TimeProvider Time { get; }

    /// <summary>Gets the last alerts given to the sinks, for the status page.</summary>
    internal RecentAlerts Recent { get; }

    /// <summary>
    /// The clock a sink call's <see cref="AlertOptions.SinkTimeout"/> runs on: real time, since it bounds real I/O (on
    /// the injected clock a test moving time would time out a quick call). Tests of the timeout set a clock of their own.
    /// </summary>
    internal TimeProvider SinkTime { get; init; } = TimeProvider.System;

    internal IntegrationMetrics Metrics { get; }

    /// <summary>Gets the de-duplication shared with other instances, when one is registered.</summary>
    internal IAlertClaims? Claims { get; }

    /// <summary>Asks the shared claims; never throws and never waits past their timeout: without an answer the alert is sent, as a duplicate beats silence.</summary>
    internal async ValueTask<AlertClaim> ClaimAsync(Alert alert, string sink, CancellationToken stopping)
    {
        var request = new AlertClaimRequest(
            alert.Integration, $"{alert.Integration}\n{alert.Kind}\n{alert.Topic}", alert.Severity, sink, CurrentOptions().Cooldown, EndsEpisode: alert.Resolves is not null);
        var (answered, claim) = await _claimsTier.TryAsync(t => Claims!.ClaimAsync(request, t), Claims!.Timeout, stopping).ConfigureAwait(false);
        return answered ? claim : new AlertClaim(Send: true, SuppressedElsewhere: 0);
    }

    internal ILogger Logger { get; }

    internal CancellationToken Stopping { get; }

    public bool Publish(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (Volatile.Read(ref _disposed) != 0)
        {
            return false;
        }

        var options = CurrentOptions();
        if (alert.Unsuppressed)
        {
            Fan(alert, options);
            return true;
        }

        _episodes.GetOrAdd(alert.Integration, static (name, self) => new Episode(name, self), this).Offer(alert, options);
        return true;
    }

    public void ResetCooldown(string integration)
    {
        ArgumentNullException.ThrowIfNull(integration);
        if (_episodes.TryGetValue(integration, out var episode))
        {
            episode.End();
        }
    }

    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return; // nothing more will be delivered
        }

        // Every sink's loop reaches its marker only after what was queued before it: delivered, failed, timed out
        // or, for a sink backed off or stuck, given up on at once and kept for its summary.
        var flushed = new Task[_lanes.Length];
        for (int i = 0; i < _lanes.Length; i++)
        {
            flushed[i] = _lanes[i].FlushAsync();
        }

        await Task.WhenAll(flushed).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        // The container may dispose the instance twice: once as itself, once as IAlertDispatcher.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_lanes.Select(l => l.Loop)).ConfigureAwait(false);
        DisposeTimers();
        _stopping.Dispose();
    }

    public void Dispose()
    {
        // Synchronous disposal stops delivery without waiting for sinks in flight.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _stopping.Cancel();
        DisposeTimers();
    }

    /// <summary>The current options, or the last valid ones while a reload is invalid: alerting must not stop.</summary>
    internal AlertOptions CurrentOptions()
    {
        try
        {
            return _lastValidOptions = _options.CurrentValue;
        }
        catch (OptionsValidationException)
        {
            return _lastValidOptions;
        }
    }

    private void DisposeTimers()
    {
        foreach (var episode in _episodes.Values)
        {
            episode.Dispose();
        }

        foreach (var lane in _lanes)
        {
            lane.Dispose();
        }
    }

    private void Fan(Alert alert, AlertOptions options)
    {
        Recent.Add(alert); // what the sinks were given: past the cooldown, a recovery only once it settled
        foreach (var lane in _lanes)
        {
            lane.Enqueue(alert, options.QueueCapacity);
        }
    }

    /// <summary>One integration's alert episode: its cooldowns, suppressed counts and a recovery settling.</summary>
    private sealed class Episode : IDisposable
    {
        private readonly string _integration;
        private readonly AlertDispatcher _owner;
        private readonly object _gate = new();
        private readonly Dictionary<(FailureKind Kind, string? Topic), Slot> _slots = [];
        private DateTimeOffset? _start;
        private Alert? _recovery;
        private DateTimeOffset _greenSince;
        private DateTimeOffset _settlesAt;
        private ITimer? _settleTimer;

        public Episode(string integration, AlertDispatcher owner)
        {
            _integration = integration;
            _owner = owner;
        }

        public void Offer(Alert alert, AlertOptions options)
        {
            lock (_gate)
            {
                var now = _owner.Time.GetUtcNow();
                if (alert.Recovery)
                {
                    Settle(alert, options, now);
                    return;
                }

                // Leaving Green again calls off a recovery still settling: the episode, and its cooldowns, go on.
                if (alert.HealthChange)
                {
                    CallOffRecovery();
                }

                _start ??= now;
                var key = (alert.Kind, alert.Topic);
                if (!_slots.TryGetValue(key, out var slot))
                {
                    _slots[key] = slot = new Slot();
                }

                // A repeat within the cooldown is counted, not sent; a more severe alert is never held back.
                if (slot.LastSent is { } last && now - last < options.Cooldown && alert.Severity <= slot.LastSeverity)
                {
                    slot.Suppressed++;
                    _owner.Metrics.AlertSuppressed(alert.Integration, alert.Severity);
                    return;
                }

                var toSend = alert.WithSuppressedCount(slot.Suppressed);
                slot.Suppressed = 0;
                slot.LastSent = now;
                slot.LastSeverity = alert.Severity;

                // Queued under the lock, so each sink sees an integration's alerts in the order they were decided.
                _owner.Fan(toSend, options);
            }
        }

        /// <summary>Ends the episode unannounced: cooldowns, counts and a recovery settling are forgotten.</summary>
        public void End()
        {
            lock (_gate)
            {
                EndLocked();
            }
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _settleTimer?.Dispose();
                _settleTimer = null;
            }
        }

        private void Settle(Alert recovery, AlertOptions options, DateTimeOffset now)
        {
            if (_start is null)
            {
                return; // nothing was alerted (or the episode was reset since): there is nothing to announce
            }

            _recovery = recovery;
            _greenSince = now;
            _settlesAt = now + options.SettleTime;
            if (options.SettleTime <= TimeSpan.Zero)
            {
                AnnounceRecovery(now, options);
                return;
            }

            // A timer rather than a check at the next alert: a recovery with no traffic after it must still be announced.
            // One timer per integration, created unarmed and armed for each recovery.
            _settleTimer ??= _owner.Time.CreateTimer(static s => ((Episode)s!).Settled(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _settleTimer.Change(options.SettleTime, Timeout.InfiniteTimeSpan);
        }

        private void Settled()
        {
            lock (_gate)
            {
                var now = _owner.Time.GetUtcNow();

                // A timer that fired as the recovery was called off finds nothing due.
                if (_recovery is null || Volatile.Read(ref _owner._disposed) != 0)
                {
                    return;
                }

                // Fired early (a system timer counts coarser than the clock it is compared with), or re-armed for a
                // later recovery: wait out the rest instead of losing the announcement.
                if (now < _settlesAt)
                {
                    _settleTimer?.Change(_settlesAt - now, Timeout.InfiniteTimeSpan);
                    return;
                }

                AnnounceRecovery(now, _owner.CurrentOptions());
            }
        }

        /// <summary>Announces the recovery once, with the repeats no later alert reported, and ends the episode.</summary>
        private void AnnounceRecovery(DateTimeOffset now, AlertOptions options)
        {
            var recovery = _recovery!;
            var start = _start ?? _greenSince;
            int suppressed = 0;
            var counts = new List<string>();
            foreach (var ((kind, topic), slot) in _slots.OrderBy(s => s.Key.Kind).ThenBy(s => s.Key.Topic, StringComparer.Ordinal))
            {
                if (slot.Suppressed > 0)
                {
                    suppressed += slot.Suppressed;
                    counts.Add(string.Create(CultureInfo.InvariantCulture, $"{kind}{(topic is null ? string.Empty : $" ({topic})")} {slot.Suppressed}"));
                }
            }

            var details = new Dictionary<string, string>(recovery.Details, StringComparer.Ordinal)
            {
                ["episode_started"] = start.ToString("u", CultureInfo.InvariantCulture),
                ["green_since"] = _greenSince.ToString("u", CultureInfo.InvariantCulture),
            };
            if (counts.Count > 0)
            {
                details["suppressed"] = string.Join(", ", counts);
            }

            var announced = new Alert
            {
                Integration = _integration,
                Severity = AlertSeverity.Info,
                Kind = FailureKind.None,
                Message = string.Create(
                    CultureInfo.InvariantCulture,
                    $"recovered after {HumaneAge.Span(_greenSince - start)} (alerting since {start:u}; Green since {_greenSince:u})"),
                Time = now,
                SuppressedCount = suppressed,
                Details = details,
                Resolves = [.. _slots.Keys.OrderBy(k => k.Kind).ThenBy(k => k.Topic, StringComparer.Ordinal)],
            };
            EndLocked();
            _owner.Fan(announced, options);
        }

        private void CallOffRecovery()
        {
            _recovery = null;
            _settleTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        private void EndLocked()
        {
            _slots.Clear();
            _start = null;
            CallOffRecovery();
        }
    }

    private sealed class Slot
    {
        public DateTimeOffset? LastSent { get; set; }

        public AlertSeverity LastSeverity { get; set; }

        public int Suppressed { get; set; }
    }
}
