using Resilient.Integrations.Internal;

namespace Resilient.Integrations.Fallback;

/// <summary>Per-request fallback settings and the degradation of a served response.</summary>
public static class FallbackRequestExtensions
{
    internal static readonly HttpRequestOptionsKey<Degradation> DegradationKey = new("ri.degradation");

    /// <summary>The header a served copy carries, for consumers that only see HTTP: the failure kind and the as-of time, e.g. <c>Unavailable; as-of=…</c>, with <c>; slow</c> after them when the live call was slow rather than failed.</summary>
    public const string DegradedHeader = "X-Resilient-Degraded";

    /// <summary>Keeps this request's copy apart from other partitions (tenants, users).</summary>
    /// <param name="request">The request.</param>
    /// <param name="partition">The partition.</param>
    /// <returns>The request.</returns>
    public static HttpRequestMessage SetFallbackPartition(this HttpRequestMessage request, string partition)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(partition);
        RequestMarks.Of(request).Partition = partition;
        return request;
    }

    /// <summary>
    /// Opts a request into the fallback under a key of the caller's choosing, e.g. a POST that asks an AI for
    /// the same weekly summary. Without it, only <see cref="FallbackPolicy.CacheableMethods"/> are kept.
    /// </summary>
    /// <param name="request">The request.</param>
    /// <param name="cacheKey">The key; requests with the same key (and partition) share a copy.</param>
    /// <returns>The request.</returns>
    public static HttpRequestMessage SetFallbackCacheKey(this HttpRequestMessage request, string cacheKey)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(cacheKey);
        RequestMarks.Of(request).CacheKey = cacheKey;
        return request;
    }

    /// <summary>Keeps this request out of the fallback: it is neither kept nor served from a copy.</summary>
    /// <param name="request">The request.</param>
    /// <returns>The request.</returns>
    public static HttpRequestMessage DisableFallback(this HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestMarks.Of(request).NoCopy = true;
        return request;
    }

    /// <summary>Tells whether a response is a served copy rather than a live answer, and how old it is.</summary>
    /// <param name="response">The response.</param>
    /// <returns>The degradation, or <see langword="null"/> for a live response.</returns>
    public static Degradation? GetDegradation(this HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.RequestMessage is { } request && request.Options.TryGetValue(DegradationKey, out var degradation) ? degradation : null;
    }
}
