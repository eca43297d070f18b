using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Fallback.Internal;
using Resilient.Integrations.Policies;

namespace Resilient.Integrations.Health.Internal;

/// <summary>
/// One state machine per integration. A change needs <see cref="HealthPolicy.ConfirmAfter"/> consistent
/// results in a row, except refused credentials, spent quotas and an open circuit, which turn Red at once.
/// Transitions raise alerts (Red Critical, Yellow Warning, back to Green an Info "recovered after …").
/// </summary>
internal sealed class HealthMonitor(
    IOptionsMonitor<ResilientIntegrationOptions> options,
    IEnumerable<ProbeRegistration> probes,
    IAlertDispatcher alerts,
    TimeProvider time) : IIntegrationHealthMonitor
{
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
            var interval = _intervals.TryGetValue(integration, out var i) ? i : TimeSpan.FromMinutes(1);
            bool stale = tracker.LastAt is not { } last || time.GetUtcNow() - last > interval * options.Get(integration).Health.StaleAfterIntervals;
            return new IntegrationHealth(integration, stale ? HealthState.Unknown : tracker.State, tracker.Since, tracker.LastAt, tracker.Last, tracker.LastFailure);
        }
    }

    public IReadOnlyList<IntegrationHealth> GetAll() => [.. _trackers.Keys.Order(StringComparer.Ordinal).Select(Get)];

    public void Report(string integration, HealthProbeResult result)
    {
        ArgumentNullException.ThrowIfNull(integration);
        if (result.Outcome.IsCancellation)
        {
            return;
        }

        var policy = options.Get(integration).Health;
        var tracker = _trackers.GetOrAdd(integration, _ => new Tracker());
        HealthStateChange? change;
        lock (tracker)
        {
            var now = time.GetUtcNow();
            tracker.LastAt = now;
            tracker.Last = result;
            var kind = result.Outcome.Kind;
            if (result.Outcome.IsFailure)
            {
                tracker.LastFailure = kind;
            }

            tracker.TimeoutsInRow = kind == FailureKind.Timeout ? tracker.TimeoutsInRow + 1 : 0;
            var target = Evaluate(result, policy, tracker.TimeoutsInRow);
            // A dead token or a spent quota is not flapping; and a first success may simply be believed.
            bool immediate = kind is FailureKind.Auth or FailureKind.QuotaExhausted || (tracker.State == HealthState.Unknown && target == HealthState.Green);
            change = tracker.Offer(target, result.Outcome, immediate, policy.ConfirmAfter, now, integration);
        }

        if (change is { } c)
        {
            Announce(c);
        }
    }

    /// <summary>Turns an integration Red at once, e.g. when its circuit opens.</summary>
    public void ForceRed(string integration, FailureClassification cause)
    {
        var tracker = _trackers.GetOrAdd(integration, _ => new Tracker());
        HealthStateChange? change;
        lock (tracker)
        {
            var now = time.GetUtcNow();
            tracker.LastAt = now;
            tracker.LastFailure = cause.Kind;
            change = tracker.Offer(HealthState.Red, cause, immediate: true, confirmAfter: 1, now, integration);
        }

        if (change is { } c)
        {
            Announce(c);
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
                Details = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["health"] = $"{change.Previous} -> {change.Current}",
                },
            });
        }

        StateChanged?.Invoke(this, change);
    }

    private sealed class Tracker
    {
        private HealthState? _candidate;
        private int _candidateCount;

        public HealthState State { get; private set; }

        public DateTimeOffset Since { get; private set; }

        public DateTimeOffset? LastAt { get; set; }

        public HealthProbeResult? Last { get; set; }

        public FailureKind? LastFailure { get; set; }

        public int TimeoutsInRow { get; set; }

        public HealthStateChange? Offer(HealthState target, FailureClassification cause, bool immediate, int confirmAfter, DateTimeOffset now, string integration)
        {
            if (target == State)
            {
                _candidate = null;
                _candidateCount = 0;
                return null;
            }

            _candidateCount = _candidate == target ? _candidateCount + 1 : 1;
            _candidate = target;
            if (!immediate && _candidateCount < confirmAfter)
            {
                return null;
            }

            var change = new HealthStateChange(integration, State, target, now, State == HealthState.Unknown ? TimeSpan.Zero : now - Since, cause);
            State = target;
            Since = now;
            _candidate = null;
            _candidateCount = 0;
            return change;
        }
    }
}
