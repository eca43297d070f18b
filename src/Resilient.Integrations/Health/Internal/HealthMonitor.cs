using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Fallback.Internal;
using Resilient.Integrations.Internal;
using Resilient.Integrations.Policies;

namespace Resilient.Integrations.Health.Internal;

/// <summary>
/// One state machine per integration. A change needs <see cref="HealthPolicy.ConfirmAfter"/> consistent
/// results in a row, except refused credentials, spent quotas and an open circuit, which turn Red at once.
/// Transitions raise alerts (Red Critical, Yellow Warning, back to Green an Info "recovered after …", which the
/// dispatcher announces only once the integration has stayed Green for <see cref="AlertOptions.SettleTime"/>).
/// </summary>
internal sealed class HealthMonitor(
    IOptionsMonitor<ResilientIntegrationOptions> options,
    IEnumerable<ProbeRegistration> probes,
    IAlertDispatcher alerts,
    TimeProvider time) : IIntegrationHealthMonitor
{
    private static readonly HealthProbeResult PlainSuccess = new(FailureClassification.Success, TimeSpan.Zero);

    private readonly ConcurrentDictionary<string, Tracker> _trackers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TimeSpan> _intervals = probes
        .GroupBy(p => p.Integration, StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.Min(p => p.Options.Interval), StringComparer.Ordinal);

    public event EventHandler<HealthStateChange>? StateChanged;

    public IntegrationHealth Get(string integration)
    {
        ArgumentNullException.ThrowIfNull(integration);
        if (!_trackers.TryGetValue(integration, out var tracker))
        {
            return new IntegrationHealth(integration, HealthState.Unknown, default, null, null, null);
        }

        lock (tracker)
        {
            bool stale = tracker.LastAt is not { } last || time.GetUtcNow() - last > IntervalOf(integration) * options.Get(integration).Health.StaleAfterIntervals;
            var state = stale ? HealthState.Unknown : tracker.State;

            // A backlog of undelivered writes is degradation even while calls succeed.
            // So is a secondary endpoint answering for the primary, or a host's open circuit (with circuits per host).
            state = (tracker.Backlogged || tracker.CredentialExpiring || tracker.Degraded.Count > 0) && state == HealthState.Green ? HealthState.Yellow : state;
            return new IntegrationHealth(integration, state, tracker.Since, tracker.LastAt, tracker.Last, tracker.LastFailure);
        }
    }

    public IReadOnlyList<IntegrationHealth> GetAll() => [.. _trackers.Keys.Order(StringComparer.Ordinal).Select(Get)];

    /// <summary>
    /// Reports a plain live success: while steadily Green, it only moves when the integration was last seen. The caller
    /// keeps the integration's tracker between calls (a tracker, once made, is the integration's for good): a steady
    /// Green costs no look-up by name.
    /// </summary>
    public void ReportSuccess(string integration, ref object? tracker)
    {
        if ((tracker ??= _trackers.GetValueOrDefault(integration)) is not Tracker steady || !steady.TrySeeSteadySuccess(CoarseClock.UtcTicks(time)))
        {
            Report(integration, PlainSuccess);
        }
    }

    public void Report(string integration, HealthProbeResult result)
    {
        ArgumentNullException.ThrowIfNull(integration);
        if (result.Outcome.IsCancellation)
        {
            return;
        }

        // A plain live success while steadily Green would change nothing but when the integration was last seen:
        // the last result already equals it.
        if (result == PlainSuccess && _trackers.TryGetValue(integration, out var steady) && steady.TrySeeSteadySuccess(CoarseClock.UtcTicks(time)))
        {
            return;
        }

        var policy = options.Get(integration).Health;
        var tracker = _trackers.GetOrAdd(integration, _ => new Tracker());
        lock (tracker)
        {
            var now = time.GetUtcNow();
            if (tracker.LastAt is { } previous && now - previous > IntervalOf(integration) * policy.StaleAfterIntervals)
            {
                // After a silence the old state means nothing: start again from Unknown.
                tracker.Forget();
            }

            tracker.LastAt = now;
            tracker.Last = result;
            var kind = result.Outcome.Kind;
            if (result.Outcome.IsFailure)
            {
                tracker.LastFailure = kind;
            }

            tracker.TimeoutsInRow = kind == FailureKind.Timeout ? tracker.TimeoutsInRow + 1 : 0;
            var target = Evaluate(result, policy, tracker.TimeoutsInRow);

            // A dead token or a spent quota is not flapping, N timeouts in a row are their own confirmation,
            // and a first success may simply be believed.
            bool immediate = kind is FailureKind.Auth or FailureKind.QuotaExhausted ||
                (kind == FailureKind.Timeout && tracker.TimeoutsInRow >= policy.RedAfterTimeouts) ||
                (tracker.State == HealthState.Unknown && target == HealthState.Green);

            // Announced under the lock, so listeners see changes in the order they happened.
            if (tracker.Offer(target, result.Outcome, immediate, policy.ConfirmAfter, now, integration) is { } change)
            {
                Announce(change);
            }

            tracker.SettleAfter(result, IntervalOf(integration) * policy.StaleAfterIntervals);
        }
    }

    private TimeSpan IntervalOf(string integration) => _intervals.TryGetValue(integration, out var i) ? i : TimeSpan.FromMinutes(1);

    /// <summary>Turns an integration Red at once, e.g. when its circuit opens.</summary>
    public void ForceRed(string integration, FailureClassification cause)
    {
        var tracker = _trackers.GetOrAdd(integration, _ => new Tracker());
        lock (tracker)
        {
            var now = time.GetUtcNow();
            tracker.LastAt = now;
            tracker.LastFailure = cause.Kind;
            if (tracker.Offer(HealthState.Red, cause, immediate: true, confirmAfter: 1, now, integration) is { } change)
            {
                Announce(change);
            }

            tracker.Unsettle();
        }
    }

    /// <summary>Marks whether the integration's queue of deferred writes is over its threshold.</summary>
    public void SetBacklogged(string integration, bool backlogged)
    {
        var tracker = _trackers.GetOrAdd(integration, _ => new Tracker());
        lock (tracker)
        {
            tracker.Backlogged = backlogged;
        }
    }

    /// <summary>Marks whether the integration's credential expires soon (or has expired): Green reads as Yellow meanwhile.</summary>
    public void SetCredentialExpiring(string integration, bool expiring)
    {
        var tracker = _trackers.GetOrAdd(integration, _ => new Tracker());
        lock (tracker)
        {
            tracker.CredentialExpiring = expiring;
        }
    }

    /// <summary>
    /// Adds or removes a reason the integration is degraded while its calls succeed (a secondary endpoint answers for the
    /// primary, a host's circuit is open): Green reads as Yellow while any is present.
    /// </summary>
    public void SetDegraded(string integration, string reason, bool degraded)
    {
        var tracker = _trackers.GetOrAdd(integration, _ => new Tracker());
        lock (tracker)
        {
            _ = degraded ? tracker.Degraded.Add(reason) : tracker.Degraded.Remove(reason);
        }
    }

    /// <summary>The reasons the integration is degraded while its calls succeed, in order.</summary>
    public IReadOnlyList<string> DegradedBy(string integration)
    {
        if (!_trackers.TryGetValue(integration, out var tracker))
        {
            return [];
        }

        lock (tracker)
        {
            return [.. tracker.Degraded.Order(StringComparer.Ordinal)];
        }
    }

    private static HealthState Evaluate(HealthProbeResult result, HealthPolicy policy, int timeoutsInRow) => result.Outcome.Kind switch
    {
        FailureKind.None => result.Latency > policy.LatencyThreshold ? HealthState.Yellow : HealthState.Green,
        FailureKind.Auth or FailureKind.QuotaExhausted or FailureKind.Unavailable => HealthState.Red,
        FailureKind.Timeout => timeoutsInRow >= policy.RedAfterTimeouts ? HealthState.Red : HealthState.Yellow,
        _ => HealthState.Yellow, // RateLimit, BadResponse, and a probe the service rejects or we cannot name
    };

    private void Announce(HealthStateChange change)
    {
        var (severity, message) = change.Current switch
        {
            HealthState.Red => (AlertSeverity.Critical, $"is Red: {change.Cause}"),
            HealthState.Yellow => (AlertSeverity.Warning, $"is Yellow: {change.Cause}"),
            _ => (AlertSeverity.Info, $"recovered after {HumaneAge.Span(change.PreviousFor)} ({change.Previous} since {change.At - change.PreviousFor:u})"),
        };

        // Leaving Unknown for Green is start-up, not a recovery.
        if (!(change.Previous == HealthState.Unknown && change.Current == HealthState.Green))
        {
            alerts.Publish(new Alert
            {
                Integration = change.Integration,
                Severity = severity,
                Kind = change.Current == HealthState.Green ? FailureKind.None : change.Cause.Kind,
                Message = message,
                Time = change.At,

                // A recovery ends the episode, so that the next outage alerts even within the cooldown, but only once
                // the integration has stayed Green for the settle time: the dispatcher holds it until then, and a
                // change away from Green calls it off.
                Recovery = change.Current == HealthState.Green,
                HealthChange = true,
                Details = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["health"] = $"{change.Previous} -> {change.Current}",
                },
            });
        }

        try
        {
            StateChanged?.Invoke(this, change);
        }
#pragma warning disable CA1031 // A listener's failure must never fail the call or the probe that reported.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private sealed class Tracker
    {
        private HealthState _worst;

        private FailureClassification _worstCause;
        private int _disagreeing;

        public HealthState State { get; private set; }

        public DateTimeOffset Since { get; private set; }

        // UTC ticks, 0 for never: a steady success writes it without the lock.
        private long _lastAtTicks;

        // Set under the lock while Green with nothing pending after a plain live success: the same result again then
        // changes nothing but LastAt, and can skip the lock, the options look-up and the state machine. The stale
        // threshold is the one of the last locked report; an options reload takes effect at the next one.
        private volatile bool _steady;
        private long _staleAfterTicks;

        public DateTimeOffset? LastAt
        {
            get => Volatile.Read(ref _lastAtTicks) is var ticks and not 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
            set => Volatile.Write(ref _lastAtTicks, value?.UtcTicks ?? 0);
        }

        public HealthProbeResult? Last { get; set; }

        public FailureKind? LastFailure { get; set; }

        public int TimeoutsInRow { get; set; }

        public bool Backlogged { get; set; }

        public bool CredentialExpiring { get; set; }

        public HashSet<string> Degraded { get; } = new(StringComparer.Ordinal);

        public HealthStateChange? Offer(HealthState target, FailureClassification cause, bool immediate, int confirmAfter, DateTimeOffset now, string integration)
        {
            if (target == State)
            {
                _disagreeing = 0;
                _worst = HealthState.Unknown;
                return null;
            }

            // Results that disagree with the state count together (503, timeout, 503 is an outage even though
            // each asks for a different colour); the change goes to the worst of them.
            _disagreeing++;
            if (target >= _worst) // Unknown < Green < Yellow < Red
            {
                // The change is named after the result that asked for it, not the last one counted.
                _worst = target;
                _worstCause = cause;
            }
            if (!immediate && _disagreeing < confirmAfter)
            {
                return null;
            }

            var next = immediate ? target : _worst;
            if (next == State)
            {
                _disagreeing = 0;
                _worst = HealthState.Unknown;
                return null;
            }

            var change = new HealthStateChange(integration, State, next, now, State == HealthState.Unknown ? TimeSpan.Zero : now - Since, immediate ? cause : _worstCause);
            State = next;
            Since = now;
            _disagreeing = 0;
            _worst = HealthState.Unknown;
            return change;
        }

        public bool TrySeeSteadySuccess(long nowTicks)
        {
            long last = Volatile.Read(ref _lastAtTicks);
            if (!_steady || nowTicks - last > Volatile.Read(ref _staleAfterTicks))
            {
                return false; // after a silence the locked path starts again from Unknown
            }

            if (nowTicks > last)
            {
                Volatile.Write(ref _lastAtTicks, nowTicks); // a coarse reading may lag a finer one by a tick: never back
            }

            return true;
        }

        public void SettleAfter(HealthProbeResult result, TimeSpan staleAfter)
        {
            Volatile.Write(ref _staleAfterTicks, staleAfter.Ticks);
            _steady = State == HealthState.Green && _disagreeing == 0 && TimeoutsInRow == 0 && result == PlainSuccess;
        }

        public void Unsettle() => _steady = false;

        public void Forget()
        {
            _steady = false;
            State = HealthState.Unknown;
            _disagreeing = 0;
            _worst = HealthState.Unknown;
            TimeoutsInRow = 0;
        }
    }
}
