using System.Globalization;
using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Alerts.Internal;

/// <summary>
/// The alerts one sink did not get one by one (it was failing, backed off or stuck, or its queue overflowed),
/// counted so that it gets them afterwards as one summary alert rather than as a replay.
/// </summary>
internal sealed class MissedAlerts
{
    private readonly Dictionary<(AlertSeverity Severity, FailureKind Kind), int> _counts = [];
    private readonly SortedSet<string> _integrations = new(StringComparer.Ordinal);

    // Per integration, its latest "recovered" notice, while no later alert of the integration was missed.
    private readonly Dictionary<string, Alert> _recoveries = new(StringComparer.Ordinal);
    private Alert? _worst;
    private DateTimeOffset _first;
    private DateTimeOffset _last;
    private int _suppressed;

    /// <summary>Gets how many alerts were missed.</summary>
    public int Count { get; private set; }

    public void Add(Alert alert, DateTimeOffset at)
    {
        Count++;
        _counts[(alert.Severity, alert.Kind)] = _counts.GetValueOrDefault((alert.Severity, alert.Kind)) + 1;
        _integrations.Add(alert.Integration);
        if (alert.Resolves is not null)
        {
            _recoveries[alert.Integration] = alert;
        }
        else
        {
            _recoveries.Remove(alert.Integration);
        }

        _suppressed += alert.SuppressedCount;
        _first = Count == 1 || at < _first ? at : _first;
        _last = at > _last ? at : _last;

        // The most severe, and of those the latest, is the one worth quoting.
        if (_worst is null || alert.Severity >= _worst.Severity)
        {
            _worst = alert;
        }
    }

    /// <summary>Puts back what a summary that failed to go out was about.</summary>
    public void Merge(MissedAlerts other)
    {
        if (other.Count == 0)
        {
            return;
        }

        foreach (var (key, count) in other._counts)
        {
            _counts[key] = _counts.GetValueOrDefault(key) + count;
        }

        // What is put back is older than what was counted since: a recovery of it holds only for integrations not heard of since.
        foreach (var (integration, recovery) in other._recoveries)
        {
            if (!_integrations.Contains(integration))
            {
                _recoveries[integration] = recovery;
            }
        }

        _integrations.UnionWith(other._integrations);
        _suppressed += other._suppressed;
        _first = Count == 0 || other._first < _first ? other._first : _first;
        _last = Count == 0 || other._last > _last ? other._last : _last;
        if (_worst is null || other._worst!.Severity > _worst.Severity)
        {
            _worst = other._worst;
        }

        Count += other.Count;
    }

    /// <summary>Moves everything counted so far into a new instance and starts again from nothing.</summary>
    public MissedAlerts Take()
    {
        var taken = new MissedAlerts();
        taken.Merge(this);
        _counts.Clear();
        _integrations.Clear();
        _recoveries.Clear();
        _worst = null;
        _suppressed = 0;
        Count = 0;
        return taken;
    }

    /// <summary>The summary: "missed 3 alerts …: Auth/Critical 1, BadResponse/Warning 2", as severe as the worst one missed.</summary>
    public Alert ToAlert(DateTimeOffset now)
    {
        var byKind = string.Join(", ", _counts
            .OrderByDescending(c => c.Key.Severity)
            .ThenBy(c => c.Key.Kind)
            .Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Key.Kind}/{c.Key.Severity} {c.Value}")));
        var kinds = _counts.Keys.Select(k => k.Kind).Distinct().ToList();
        string span = _first == _last
            ? _first.ToString("u", CultureInfo.InvariantCulture)
            : string.Create(CultureInfo.InvariantCulture, $"{_first:u} to {_last:u}");
        return new Alert
        {
            Integration = string.Join(", ", _integrations),
            Severity = _worst!.Severity,
            Kind = kinds.Count == 1 ? kinds[0] : FailureKind.None,
            Message = string.Create(
                CultureInfo.InvariantCulture,
                $"this sink missed {Count} alert{(Count == 1 ? string.Empty : "s")} while it was failing or behind ({span}): {byKind}"),
            Time = now,
            SuppressedCount = _suppressed,
            Recoveries = _recoveries.Count == 0 ? null : [.. _recoveries.Values],
            AllRecovered = _recoveries.Count == _integrations.Count,
            Details = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["missed"] = Count.ToString(CultureInfo.InvariantCulture),
                ["missed_by_kind"] = byKind,
                ["first_missed"] = _first.ToString("u", CultureInfo.InvariantCulture),
                ["last_missed"] = _last.ToString("u", CultureInfo.InvariantCulture),
                ["most_severe"] = _worst.ToString(),
            },
        };
    }
}
