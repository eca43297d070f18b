namespace Resilient.Integrations.Deferral;

/// <summary>
/// A store that keeps deferred writes in memory: for tests and for writes that may be lost. It is
/// <b>not durable</b>: a process crash or restart loses every queued write.
/// </summary>
public sealed class InMemoryDeferredWriteStore : IDeferredWriteStore
{
    private readonly object _lock = new();
    private readonly SortedDictionary<long, DeferredWrite> _writes = [];
    private readonly SortedDictionary<long, DeferredWriteEntry> _deadLetters = [];
    private readonly TimeProvider _time;
    private readonly Dictionary<long, DeferredWrite> _bodies = [];
    private long _nextId;

    /// <summary>Creates a store that stamps dead letters with the system clock.</summary>
    public InMemoryDeferredWriteStore()
        : this(TimeProvider.System)
    {
    }

    /// <summary>Creates a store.</summary>
    /// <param name="time">The clock that stamps dead letters.</param>
    public InMemoryDeferredWriteStore(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
    }

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
                _deadLetters[id] = Entry(write, DeferredWriteState.DeadLettered) with { DeadLetteredAt = _time.GetUtcNow(), Reason = reason };
                _bodies[id] = write;
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
            var dead = _deadLetters.Values.Where(e => e.Integration == integration && e.State == DeferredWriteState.DeadLettered).ToList();
            return new(new DeferredQueueStats(waiting.Count, waiting.Count == 0 ? null : waiting.Min(w => w.EnqueuedAt), dead.Count)
            {
                OldestDeadLetteredAt = dead.Count == 0 ? null : dead.Min(e => e.DeadLetteredAt),
            });
        }
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<DeferredWriteEntry>> ListAsync(string integration, DeferredWriteState state, long afterId, int max, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            IReadOnlyList<DeferredWriteEntry> entries = state == DeferredWriteState.Queued
                ? [.. _writes.Values.Where(w => w.Integration == integration && w.Id > afterId).Take(max).Select(w => Entry(w, state))]
                : [.. _deadLetters.Values.Where(e => e.Integration == integration && e.State == state && e.Id > afterId).Take(max)];
            return new(entries);
        }
    }

    /// <inheritdoc/>
    public ValueTask<long?> RequeueAsync(string integration, long id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_deadLetters.TryGetValue(id, out var entry) || entry.Integration != integration || entry.State != DeferredWriteState.DeadLettered)
            {
                return new((long?)null);
            }

            _deadLetters.Remove(id);
            _bodies.Remove(id, out var write);
            long newId = ++_nextId;
            _writes[newId] = Copy(write!, newId, 0, now, write!.LastFailure);
            return new(newId);
        }
    }

    /// <inheritdoc/>
    public ValueTask<bool> DiscardAsync(string integration, long id, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_deadLetters.TryGetValue(id, out var entry) || entry.Integration != integration || entry.State != DeferredWriteState.DeadLettered)
            {
                return new(false);
            }

            _deadLetters[id] = entry with { State = DeferredWriteState.Discarded, Reason = reason, DiscardedAt = now };
            _bodies.Remove(id);
            return new(true);
        }
    }

    private static DeferredWriteEntry Entry(DeferredWrite write, DeferredWriteState state) => new()
    {
        Id = write.Id,
        Integration = write.Integration,
        State = state,
        Method = write.Method,
        Address = write.Uri?.OriginalString,
        Handler = write.Handler,
        IdempotencyKey = write.IdempotencyKey,
        Attempts = write.Attempts,
        LastFailure = write.LastFailure,
        EnqueuedAt = write.EnqueuedAt,
    };

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
