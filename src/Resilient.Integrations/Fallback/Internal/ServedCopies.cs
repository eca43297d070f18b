namespace Resilient.Integrations.Fallback.Internal;

/// <summary>What the status page says of the copies an integration served: how many, when last, and how old the oldest recent one was.</summary>
internal sealed class ServedCopies(TimeProvider time)
{
    private static readonly TimeSpan Recent = TimeSpan.FromMinutes(15);

    private readonly object _gate = new();
    private long _count;
    private DateTimeOffset? _lastServedAt;
    private DateTimeOffset? _oldestAsOf;
    private DateTimeOffset _oldestServedAt;

    public void Record(Degradation served)
    {
        var servedAt = served.AsOf + served.Age;
        lock (_gate)
        {
            _count++;
            _lastServedAt = servedAt;

            // The oldest copy served lately: an older one from long ago no longer describes what people see.
            if (_oldestAsOf is not { } oldest || served.AsOf <= oldest || servedAt - _oldestServedAt > Recent)
            {
                _oldestAsOf = served.AsOf;
                _oldestServedAt = servedAt;
            }
        }
    }

    public (long Count, DateTimeOffset? LastServedAt, TimeSpan? OldestAge) Snapshot()
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            TimeSpan? age = _oldestAsOf is { } asOf && now - _oldestServedAt <= Recent ? now - asOf : null;
            return (_count, _lastServedAt, age);
        }
    }
}
