using Resilient.Integrations.Internal;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// Allows retries up to a share of the requests seen in a sliding window (with a floor), in the manner of
/// Envoy's retry budget, so an outage cannot multiply load. Ten buckets keep the window cheap to slide.
/// </summary>
internal sealed class RetryBudget
{
    private const int Buckets = 10;

    private readonly TimeProvider _time;
    private readonly long[] _requests = new long[Buckets];
    private readonly long[] _retries = new long[Buckets];
    private readonly long[] _bucketStamp = new long[Buckets];
    private readonly object _lock = new();

    public RetryBudget(TimeProvider time) => _time = time;

    public void RecordRequest(RetryBudgetPolicy policy)
    {
        if (!policy.Enabled)
        {
            return;
        }

        // Every request counts, from every core: the current bucket is counted without the lock; only the request
        // that moves the window into a new bucket takes it.
        long stamp = StampOf(policy, out int index);
        if (Volatile.Read(ref _bucketStamp[index]) == stamp)
        {
            Interlocked.Increment(ref _requests[index]);
            return;
        }

        lock (_lock)
        {
            Interlocked.Increment(ref _requests[Current(policy)]);
        }
    }

    public bool TryAcquireRetry(RetryBudgetPolicy policy)
    {
        if (!policy.Enabled)
        {
            return true;
        }

        lock (_lock)
        {
            int current = Current(policy);
            long requests = 0, retries = 0;
            for (int i = 0; i < Buckets; i++)
            {
                requests += _requests[i];
                retries += _retries[i];
            }

            if (retries >= Math.Max(policy.MinRetries, policy.RetryRatio * requests))
            {
                return false;
            }

            _retries[current]++;
            return true;
        }
    }

    /// <summary>The window's requests and retries, and how many retries it allows now, for the status page.</summary>
    public (long Requests, long Retries, long Allowed) Snapshot(RetryBudgetPolicy policy)
    {
        lock (_lock)
        {
            _ = Current(policy); // slides the window first
            long requests = 0, retries = 0;
            for (int i = 0; i < Buckets; i++)
            {
                requests += _requests[i];
                retries += _retries[i];
            }

            return (requests, retries, (long)Math.Max(policy.MinRetries, policy.RetryRatio * requests));
        }
    }

    private long StampOf(RetryBudgetPolicy policy, out int index)
    {
        long bucketTicks = Math.Max(1, policy.Window.Ticks / Buckets);
        long stamp = CoarseClock.UtcTicks(_time) / bucketTicks; // a bucket is a tenth of the window: a tick late is nothing
        index = (int)(stamp % Buckets);
        return stamp;
    }

    private int Current(RetryBudgetPolicy policy)
    {
        long stamp = StampOf(policy, out int index);
        if (_bucketStamp[index] != stamp)
        {
            // The bucket last held an older slice of time: clear it, and any skipped over since.
            for (int i = 0; i < Buckets; i++)
            {
                if (stamp - _bucketStamp[i] >= Buckets)
                {
                    _requests[i] = 0;
                    _retries[i] = 0;
                }
            }

            _requests[index] = 0;
            _retries[index] = 0;
            Volatile.Write(ref _bucketStamp[index], stamp);
        }

        return index;
    }
}
