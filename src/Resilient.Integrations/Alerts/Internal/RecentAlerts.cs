using Resilient.Integrations.Status;

namespace Resilient.Integrations.Alerts.Internal;

/// <summary>The last alerts given to the sinks, for the status page: a small ring, written only past the cooldown.</summary>
internal sealed class RecentAlerts
{
    public const int Capacity = 50;

    private readonly RecentAlert[] _ring = new RecentAlert[Capacity];
    private int _next;
    private int _count;

    public void Add(Alert alert)
    {
        var recent = new RecentAlert(alert.Time, alert.Integration, alert.Severity, alert.Kind, alert.Message);
        lock (_ring)
        {
            _ring[_next] = recent;
            _next = (_next + 1) % Capacity;
            _count = Math.Min(_count + 1, Capacity);
        }
    }

    /// <summary>Newest first.</summary>
    public IReadOnlyList<RecentAlert> Snapshot()
    {
        lock (_ring)
        {
            var list = new List<RecentAlert>(_count);
            for (int i = 1; i <= _count; i++)
            {
                list.Add(_ring[(_next - i + Capacity) % Capacity]);
            }

            return list;
        }
    }
}
