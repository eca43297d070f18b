namespace Resilient.Integrations.Deferral;

/// <summary>
/// A store that keeps deferred writes in memory: for tests and for writes that may be lost. It is
/// <b>not durable</b>: a process crash or restart loses every queued write.
/// </summary>
public sealed class InMemoryDeferredWriteStore : IDeferredWriteStore
{
    private readonly object _lock = new();
    private readonly SortedDictionary<long, DeferredWrite> _writes = [];
    private readonly Dictionary<string, int> _deadLetters = new(StringComparer.Ordinal);
    private long _nextId;

    /// <inheritdoc/>
    /// <value>Always <see langword="false"/>.</value>
    public bool IsDurable => false;

    /// <inheritdoc/>
    public ValueTask<long> EnqueueAsync(DeferredWrite write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        lock (_lock)
        {
            long id = ++_nextId;
            _writes[id] = Copy(write, id, write.Attempts, write.NextAttemptAt, write.LastFailure);
            return new(id);
        }
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<DeferredWrite>> GetDueAsync(string integration, DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            IReadOnlyList<DeferredWrite> due = [.. _writes.Values.Where(w => w.Integration == integration).TakeWhile(w => w.NextAttemptAt <= now).Take(max)];
            return new(due);
        }
    }

    /// <inheritdoc/>
    public ValueTask CompleteAsync(long id, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _writes.Remove(id);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask RescheduleAsync(long id, int attempts, DateTimeOffset nextAttemptAt, string? lastFailure, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_writes.TryGetValue(id, out var write))
            {
                _writes[id] = Copy(write, id, attempts, nextAttemptAt, lastFailure);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask DeadLetterAsync(long id, string reason, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_writes.Remove(id, out var write))
            {
                _deadLetters[write.Integration] = _deadLetters.GetValueOrDefault(write.Integration) + 1;
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask<DeferredQueueStats> GetStatsAsync(string integration, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var waiting = _writes.Values.Where(w => w.Integration == integration).ToList();
            return new(new DeferredQueueStats(waiting.Count, waiting.Count == 0 ? null : waiting.Min(w => w.EnqueuedAt), _deadLetters.GetValueOrDefault(integration)));
        }
    }

    private static DeferredWrite Copy(DeferredWrite write, long id, int attempts, DateTimeOffset nextAttemptAt, string? lastFailure) => new()
    {
        Id = id,
        Integration = write.Integration,
        Handler = write.Handler,
        Method = write.Method,
        Uri = write.Uri,
        Headers = write.Headers,
        Body = write.Body.ToArray(),
        IdempotencyKey = write.IdempotencyKey,
        Attempts = attempts,
        EnqueuedAt = write.EnqueuedAt,
        NextAttemptAt = nextAttemptAt,
        LastFailure = lastFailure,
    };
}
