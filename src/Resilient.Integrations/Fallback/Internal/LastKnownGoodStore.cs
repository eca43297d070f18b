using System.Text;
using Microsoft.Extensions.Caching.Memory;
using Resilient.Integrations.Classification;
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

    // When each request shape's copy was last kept, by tag: a success checks this instead of hashing its key.
    private readonly RefreshMark?[] _refreshed = new RefreshMark?[1024];

    public LastKnownGoodStore(long sizeLimitBytes, TimeProvider time)
    {
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = sizeLimitBytes });
        _time = time;
    }

    public static LastKnownGoodKey? KeyFor(HttpRequestMessage? request, FallbackPolicy policy, SecretRedactor redactor)
    {
        if (request is null || !policy.Enabled ||
            (request.Options.TryGetValue(FallbackRequestExtensions.DisabledKey, out bool disabled) && disabled))
        {
            return null;
        }

        bool hasKey = request.Options.TryGetValue(FallbackRequestExtensions.CacheKeyKey, out string? cacheKey);
        if (!hasKey && !policy.CacheableMethods.Contains(request.Method.Method, StringComparer.OrdinalIgnoreCase))
        {
            return null;
        }

        string? partition = request.Options.TryGetValue(FallbackRequestExtensions.PartitionKey, out string? p) ? p : policy.PartitionSelector?.Invoke(request);
        string material = string.Concat(
        [
            hasKey ? "key:" : request.Method.Method,
            hasKey ? cacheKey : " ",
            hasKey ? null : request.RequestUri?.OriginalString,
            "\n",
            partition,
            policy.PartitionByCredentials ? Credentials(request, redactor) : null,
        ]);

        return new LastKnownGoodKey(material);
    }

    public StoredResponse Remember(LastKnownGoodKey key, HttpResponseMessage response, byte[] body, FallbackPolicy policy, SecretRedactor redactor)
    {
        var stored = StoredResponse.From(response, body, _time.GetUtcNow(), redactor.IsSensitiveHeader);
        _cache.Set(key.Value, stored, new MemoryCacheEntryOptions { Size = stored.Size, AbsoluteExpirationRelativeToNow = policy.MaxStaleness });
        Volatile.Write(ref SlotOf(key), new RefreshMark(key.Tag, stored.FetchedAt));
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

        _cache.Set(key, new StoredValue(value, _time.GetUtcNow()), new MemoryCacheEntryOptions { Size = size, AbsoluteExpirationRelativeToNow = policy.MaxStaleness });
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

    private sealed record StoredValue(object? Value, DateTimeOffset FetchedAt);

    /// <summary>The request's credential headers in a fixed order, or <see langword="null"/> when it carries none.</summary>
    private static string? Credentials(HttpRequestMessage request, SecretRedactor redactor)
    {
        if (request.Headers.NonValidated.Count == 0)
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

    /// <summary>
    /// Whether a copy for the key was kept less than <see cref="FallbackPolicy.RefreshInterval"/> ago, so a new
    /// success need not replace it. A hot request shape is judged by its slot's mark, without hashing or a cache
    /// look-up; a shape whose slot another holds is judged by its copy in the cache, as it always was. A copy
    /// evicted meanwhile is kept again once the interval has passed.
    /// </summary>
    public bool IsFresh(LastKnownGoodKey key, FallbackPolicy policy)
    {
        ref var slot = ref SlotOf(key);
        if (Volatile.Read(ref slot) is not { } mark || mark.Tag != key.Tag)
        {
            if (!_cache.TryGetValue(key.Value, out StoredResponse? stored) || stored is null)
            {
                return false;
            }

            mark = new RefreshMark(key.Tag, stored.FetchedAt);
            Volatile.Write(ref slot, mark);
        }

        return _time.GetUtcNow() - mark.FetchedAt < policy.RefreshInterval;
    }

    private ref RefreshMark? SlotOf(LastKnownGoodKey key) => ref _refreshed[key.Tag & (_refreshed.Length - 1)];

    private sealed record RefreshMark(int Tag, DateTimeOffset FetchedAt);
}
