using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Internal;
using Resilient.Integrations.Redaction.Internal;

namespace Resilient.Integrations.Fallback.Internal;

/// <summary>
/// One integration's last good responses in a size-bounded <see cref="MemoryCache"/>. Keys hold the request
/// (method and address, or the caller's cache key), the caller's partition and, when asked, a one-way hash of
/// the credentials: never the credentials themselves.
/// </summary>
internal sealed class LastKnownGoodStore : IDisposable
{
    private readonly MemoryCache _cache;
    private readonly TimeProvider _time;

    // When each request shape's copy was last kept (UTC ticks), by the shape's identity: a success checks this instead of
    // hashing its key. One entry per copy in the cache (removed with it), so it neither overflows nor grows past the cache.
    private readonly ConcurrentDictionary<long, long> _refreshed = new();

    public LastKnownGoodStore(long sizeLimitBytes, TimeProvider time)
    {
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = sizeLimitBytes });
        _time = time;
    }

    public static LastKnownGoodKey? KeyFor(HttpRequestMessage? request, RequestMarks? marks, FallbackPolicy policy, SecretRedactor redactor)
    {
        if (request is null || !policy.Enabled || marks is { NoCopy: true })
        {
            return null;
        }

        string? cacheKey = marks?.CacheKey;
        bool hasKey = cacheKey is not null;
        if (!hasKey && !IsCacheable(policy.CacheableMethods, request.Method.Method))
        {
            return null;
        }

        string? partition = marks?.Partition ?? policy.PartitionSelector?.Invoke(request);
        return new LastKnownGoodKey(
            hasKey ? "key:" : request.Method.Method,
            hasKey ? cacheKey : " ",
            hasKey ? null : request.RequestUri?.OriginalString,
            partition,
            policy.PartitionByCredentials ? Credentials(request, redactor) : null);
    }

    private static bool IsCacheable(IList<string> methods, string method)
    {
        // A plain loop: no enumerator for the comparer's overload on every call.
        for (int i = 0; i < methods.Count; i++)
        {
            if (string.Equals(methods[i], method, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    public StoredResponse Remember(LastKnownGoodKey key, HttpResponseMessage response, byte[] body, FallbackPolicy policy, SecretRedactor redactor)
    {
        var stored = StoredResponse.From(response, body, _time.GetUtcNow(), redactor.IsSensitiveHeader);
        long fetchedAt = stored.FetchedAt.UtcTicks;
        var entry = new MemoryCacheEntryOptions { Size = stored.Size, AbsoluteExpirationRelativeToNow = policy.MaxStaleness };
        entry.RegisterPostEvictionCallback(ForgetMark, new MarkOf(this, key.Identity, fetchedAt));
        _refreshed[key.Identity] = fetchedAt;
        _cache.Set(key.Value, stored, entry);
        // A quarter as many copies kept as there are marks, at least SweepEvery: the walk costs a copy kept at most four
        // marks' look, however many shapes there are.
        if (Interlocked.Increment(ref _sinceSweep) >= Volatile.Read(ref _sweepAfter))
        {
            Sweep(fetchedAt - policy.RefreshInterval.Ticks);
        }

        return stored;
    }

    /// <summary>Keeps a copy another instance fetched (from the shared tier), unless this one holds a newer one.</summary>
    public void Adopt(string key, StoredResponse stored, FallbackPolicy policy)
    {
        var expiresIn = stored.FetchedAt + policy.MaxStaleness - _time.GetUtcNow();
        if (expiresIn > TimeSpan.Zero && (TryGet(key, policy) is not { } mine || mine.FetchedAt < stored.FetchedAt))
        {
            _cache.Set(key, stored, new MemoryCacheEntryOptions { Size = stored.Size, AbsoluteExpirationRelativeToNow = expiresIn });
        }
    }

    /// <summary>The kept copy of a request shape, if it is not older than <see cref="FallbackPolicy.MaxStaleness"/>.</summary>
    public StoredResponse? TryGet(string key, FallbackPolicy policy) =>
        _cache.TryGetValue(key, out StoredResponse? stored) && stored is not null && _time.GetUtcNow() - stored.FetchedAt <= policy.MaxStaleness
            ? stored
            : null;

    /// <summary>Answers from a copy, with its true age and why it is served.</summary>
    public HttpResponseMessage Serve(StoredResponse stored, HttpRequestMessage request, FailureClassification failure, DegradationCause cause = DegradationCause.LiveCallFailed)
    {
        var degradation = new Degradation(stored.FetchedAt, _time.GetUtcNow(), failure, cause);
        request.Options.Set(FallbackRequestExtensions.DegradationKey, degradation);
        return stored.ToResponse(request, degradation);
    }

    /// <summary>Keeps a value returned by a delegate call (an SDK result) with its fetch time.</summary>
    public void RememberValue<T>(string key, T value, FallbackPolicy policy, long? approximateBytes = null)
    {
        // A spent stream, a disposed object or an SDK wrapper holding the raw response (and its cookies) must
        // not be served later: return the plain value from the delegate instead.
        if (value is Stream or IDisposable or IAsyncDisposable or System.ClientModel.ClientResult)
        {
            return;
        }

        long size = approximateBytes ?? value switch
        {
            string text => 64 + (2L * text.Length),
            byte[] bytes => 64 + bytes.Length,
            BinaryData data => 64 + data.ToMemory().Length,
            _ => 1024, // an estimate: object graphs have no cheap size
        };
        if (size > policy.MaxEntryBytes)
        {
            return;
        }

        // The cache's own share (its entry, the key, the holder) counts against the limit too, as for a response.
        _cache.Set(key, new StoredValue(value, _time.GetUtcNow()), new MemoryCacheEntryOptions { Size = size + ValueEntryOverhead, AbsoluteExpirationRelativeToNow = policy.MaxStaleness });
    }

    public bool TryServeValue<T>(string key, FailureClassification failure, FallbackPolicy policy, out T? value, out Degradation? degradation)
    {
        var now = _time.GetUtcNow();
        if (_cache.TryGetValue(key, out StoredValue? stored) && stored is { Value: T kept } && now - stored.FetchedAt <= policy.MaxStaleness)
        {
            value = kept;
            degradation = new Degradation(stored.FetchedAt, now, failure);
            return true;
        }

        value = default;
        degradation = null;
        return false;
    }

    public void Dispose() => _cache.Dispose();

    private const int ValueEntryOverhead = 320;

    private sealed record StoredValue(object? Value, DateTimeOffset FetchedAt);

    /// <summary>The request's credential headers in a fixed order, or <see langword="null"/> when it carries none.</summary>
    private static string? Credentials(HttpRequestMessage request, SecretRedactor redactor)
    {
        if (!Integrations.Internal.MessageHeaders.Any(request))
        {
            return null;
        }

        StringBuilder? material = null;
        foreach (var name in redactor.SensitiveHeaders)
        {
            if (request.Headers.NonValidated.TryGetValues(name, out var values))
            {
                (material ??= new StringBuilder()).Append('\n').Append(name).Append('=').Append(values.ToString());
            }
        }

        return material?.ToString();
    }

    /// <summary>Whether this second's budget of copies (<see cref="FallbackPolicy.MaxCopiesPerSecond"/>) has room, without taking from it.</summary>
    public bool MayKeep(FallbackPolicy policy) =>
        Volatile.Read(ref _copySecond) < Integrations.Internal.CoarseClock.UtcTicks(_time) / TimeSpan.TicksPerSecond ||
        Volatile.Read(ref _copiesThisSecond) < policy.MaxCopiesPerSecond;

    /// <summary>Takes a copy from this second's budget; false when it is spent.</summary>
    public bool TryTakeCopy(FallbackPolicy policy)
    {
        long second = Integrations.Internal.CoarseClock.UtcTicks(_time) / TimeSpan.TicksPerSecond;
        long counted = Volatile.Read(ref _copySecond);
        // Only forward: a reading taken just before the turn of a second (or a clock set back) never restarts the count.
        if (counted < second && Interlocked.CompareExchange(ref _copySecond, second, counted) == counted)
        {
            Volatile.Write(ref _copiesThisSecond, 0); // a race at the turn of a second may let a few more through: a bound, not a ledger
        }

        return Interlocked.Increment(ref _copiesThisSecond) <= policy.MaxCopiesPerSecond;
    }

    /// <summary>
    /// Whether a copy for the key was kept less than <see cref="FallbackPolicy.RefreshInterval"/> ago, so a new
    /// success need not replace it: one look-up of the shape's identity, without hashing its key or reading the cache,
    /// however many shapes there are. A copy that expired or was evicted is kept again at once.
    /// </summary>
    public bool IsFresh(LastKnownGoodKey key, FallbackPolicy policy) =>
        _refreshed.TryGetValue(key.Identity, out long fetchedAt) && Integrations.Internal.CoarseClock.UtcTicks(_time) - fetchedAt < policy.RefreshInterval.Ticks;

    /// <summary>How many shapes have a freshness mark (one per copy kept by <see cref="Remember"/>).</summary>
    internal int MarkCount => _refreshed.Count;

    // A copy that ends (expired, removed, evicted for room) takes its mark; a replaced one leaves the mark its replacement
    // set. A full cache is not tried on every call of every shape that does not fit: Fallback:MaxCopiesPerSecond bounds
    // the copies kept, and marks of copies that left stay no longer than the copies, so the size limit bounds them too.
    private static void ForgetMark(object key, object? value, EvictionReason reason, object? state)
    {
        if (reason is not EvictionReason.Replaced && state is MarkOf mark)
        {
            mark.Store._refreshed.TryRemove(new KeyValuePair<long, long>(mark.Identity, mark.FetchedAt));
        }
    }

    private const int SweepEvery = 4096;

    private int _sinceSweep;
    private long _copySecond;
    private int _copiesThisSecond;
    private int _sweepAfter = SweepEvery;

    /// <summary>Drops marks older than every shape's interval, which no longer say anything. Amortised: once per <see cref="SweepEvery"/> copies kept, or per a quarter as many as there are marks.</summary>
    private void Sweep(long olderThan)
    {
        Volatile.Write(ref _sinceSweep, 0);
        foreach (var (identity, fetchedAt) in _refreshed)
        {
            if (fetchedAt < olderThan)
            {
                _refreshed.TryRemove(new KeyValuePair<long, long>(identity, fetchedAt));
            }
        }

        Volatile.Write(ref _sweepAfter, Math.Max(SweepEvery, _refreshed.Count / 4));
    }

    private sealed record MarkOf(LastKnownGoodStore Store, long Identity, long FetchedAt);
}
