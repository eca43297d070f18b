namespace Resilient.Integrations.Testing;

/// <summary>
/// A provider-style request quota: a bucket of <see cref="Capacity"/> tokens that refills one token every
/// <see cref="RefillEvery"/>. A request takes a token or is refused with the exact wait until the next one, as
/// real providers say in <c>retry-after-ms</c>. Thread-safe; time comes from the given clock.
/// </summary>
public sealed class TokenBucketQuota
{
    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private double _tokens;
    private long _updated;
    private long _accepted;
    private long _refused;

    /// <summary>Creates a full bucket.</summary>
    /// <param name="capacity">The most tokens the bucket holds (the burst).</param>
    /// <param name="refillEvery">How often one token comes back.</param>
    /// <param name="timeProvider">The clock. Defaults to <see cref="TimeProvider.System"/>.</param>
    public TokenBucketQuota(int capacity, TimeSpan refillEvery, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(refillEvery, TimeSpan.Zero);
        Capacity = capacity;
        RefillEvery = refillEvery;
        _time = timeProvider ?? TimeProvider.System;
        _tokens = capacity;
        _updated = _time.GetTimestamp();
    }

    /// <summary>Gets the most tokens the bucket holds.</summary>
    /// <value>Set at construction.</value>
    public int Capacity { get; }

    /// <summary>Gets how often one token comes back.</summary>
    /// <value>Set at construction.</value>
    public TimeSpan RefillEvery { get; }

    /// <summary>Gets how many requests took a token.</summary>
    /// <value>Starts at zero.</value>
    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Gets how many requests were refused (answered 429).</summary>
    /// <value>Starts at zero.</value>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Gets how many whole tokens are left now, as <c>x-ratelimit-remaining-requests</c> reports it.</summary>
    /// <value>Between zero and <see cref="Capacity"/>.</value>
    public int Remaining
    {
        get
        {
            lock (_gate)
            {
                Refill();
                return (int)Math.Floor(_tokens);
            }
        }
    }

    /// <summary>Gets how long until the bucket is full again, as <c>x-ratelimit-reset-requests</c> reports it.</summary>
    /// <value>Zero when full.</value>
    public TimeSpan UntilFull
    {
        get
        {
            lock (_gate)
            {
                Refill();
                return RefillEvery * (Capacity - _tokens);
            }
        }
    }

    /// <summary>Takes a token, or says how long until one is free.</summary>
    /// <param name="retryAfter">Zero when a token was taken; otherwise the wait until the next token.</param>
    /// <returns><see langword="true"/> when the request may proceed.</returns>
    public bool TryTake(out TimeSpan retryAfter)
    {
        lock (_gate)
        {
            Refill();
            if (_tokens >= 1)
            {
                _tokens -= 1;
                _accepted++;
                retryAfter = TimeSpan.Zero;
                return true;
            }

            _refused++;
            retryAfter = RefillEvery * (1 - _tokens);
            return false;
        }
    }

    private void Refill()
    {
        long now = _time.GetTimestamp();
        _tokens = Math.Min(Capacity, _tokens + (_time.GetElapsedTime(_updated, now) / RefillEvery));
        _updated = now;
    }
}
