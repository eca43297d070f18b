using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Fallback;

/// <summary>
/// Last-known-good fallback of an integration: successful reads are kept with their fetch time, and when a
/// later call fails in a way waiting cannot fix quickly, the kept copy is served with an honest notice.
/// </summary>
public sealed class FallbackPolicy
{
    /// <summary>Gets or sets a value indicating whether responses are kept and served on failure.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets the oldest copy that may be served; an older one is not served and the failure surfaces.</summary>
    /// <value>Defaults to 24 hours. Must be positive.</value>
    public TimeSpan MaxStaleness { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Gets or sets how old a kept copy must be before a new success replaces it. A hot endpoint then costs
    /// one copy per interval, not one per request; the as-of time lags by at most this much.
    /// </summary>
    /// <value>Defaults to 1 second. Must not be negative and must be below <see cref="MaxStaleness"/>; zero keeps every success.</value>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how many copies the integration may keep per second, of new request shapes and refreshes together.
    /// Past it, a success is passed on without replacing its copy, which ages (up to <see cref="MaxStaleness"/>) until the
    /// next second. It bounds the work and the memory churn of an API called with very many distinct requests (ids,
    /// search terms), each of which would otherwise cost a copy every <see cref="RefreshInterval"/>.
    /// </summary>
    /// <value>Defaults to 1,000. Must be positive.</value>
    public int MaxCopiesPerSecond { get; set; } = 1000;

    /// <summary>
    /// Gets or sets a value indicating whether copies of HTTP responses are also kept in the registered
    /// <c>IDistributedCache</c> (e.g. Redis through <c>AddStackExchangeRedisCache</c>), so every instance can serve a copy any
    /// of them fetched, one started after the outage began included. Written in the background after a success, at most
    /// once per <see cref="RefreshInterval"/> per request shape; read only when a call fails; the newer of the two copies is
    /// served, with its true age. Copies then leave the process: an <c>IDeferredWriteProtector</c>, when registered, seals them too.
    /// </summary>
    /// <value>Defaults to <see langword="false"/>. When <see langword="true"/>, an <c>IDistributedCache</c> must be registered.</value>
    public bool Shared { get; set; }

    /// <summary>Gets or sets how long a read or write of the shared tier may take; past it the call goes on with the copy in memory alone.</summary>
    /// <value>Defaults to 250 milliseconds. Must be between 1 millisecond and 10 seconds.</value>
    public TimeSpan SharedTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Gets or sets the largest body kept; a larger response is passed on but not kept.</summary>
    /// <value>Defaults to 1 MiB (1,048,576). Must be between 1 and 64 MiB.</value>
    public int MaxEntryBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Gets or sets the most memory the integration's kept copies may take; the least recently used go first. A copy
    /// counts what it holds on the heap: its body, its headers as the runtime lays them out, and the cache's own share.
    /// </summary>
    /// <value>Defaults to 32 MiB (33,554,432). Must be at least <see cref="MaxEntryBytes"/>.</value>
    public long SizeLimitBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>
    /// Gets or sets a value indicating whether callers with different credentials get separate copies. The
    /// credentials themselves are never kept: only a one-way hash separates the copies. Turn it off when the
    /// token rotates (OAuth refresh) and set a partition per tenant instead.
    /// </summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool PartitionByCredentials { get; set; } = true;

    /// <summary>
    /// Gets the HTTP methods whose successful responses are kept. Other requests are kept only with an explicit
    /// cache key. A list in configuration replaces the defaults.
    /// </summary>
    /// <value>Defaults to GET and HEAD.</value>
    public IList<string> CacheableMethods { get; } = ["GET", "HEAD"];

    /// <summary>
    /// Gets the failure kinds a kept copy is served for. <see cref="FailureKind.Rejected"/> never is: the request
    /// itself is wrong. A list in configuration replaces the defaults.
    /// </summary>
    /// <value>Defaults to Auth, QuotaExhausted, Unavailable, Timeout, RateLimit and BadResponse.</value>
    public IList<FailureKind> ServeOn { get; } =
    [
        FailureKind.Auth, FailureKind.QuotaExhausted, FailureKind.Unavailable, FailureKind.Timeout, FailureKind.RateLimit, FailureKind.BadResponse,
    ];

    /// <summary>
    /// Gets or sets how long a read waits for its live answer (headers and the body kept for the copy) while a kept copy
    /// of it is at hand; past it, the caller gets the copy at once, marked as served because live data is slow
    /// (<see cref="DegradationCause.LiveCallSlow"/>), and the live call goes on in the background within the total timeout,
    /// refreshing the copy when it lands. Applies to GET, HEAD and other safe requests without a body that have a copy in
    /// this instance's memory; never to probes, writes or calls inside a delegate call.
    /// </summary>
    /// <value>Defaults to <see langword="null"/> (off): a read waits for its live answer. When set, must be positive and below <c>TotalTimeout</c>.</value>
    public TimeSpan? SoftTimeout { get; set; }

    /// <summary>
    /// Gets or sets how many live calls past their <see cref="SoftTimeout"/> may run on in the background at once. A slow read
    /// beyond it is still answered from the copy at its soft timeout, but its live call is cancelled (no failure is counted):
    /// a slow upstream gets no more than this many calls piling up. A read of a request whose live call already runs on in
    /// the background is answered from the copy at once, without a second call upstream.
    /// </summary>
    /// <value>Defaults to 4. Must be between 1 and 1000.</value>
    public int MaxBackgroundRefreshes { get; set; } = 4;

    /// <summary>Gets or sets a function that names the caller's partition (tenant, user) for a request, so partitions never see each other's copies.</summary>
    /// <value>Defaults to <see langword="null"/>: the partition set on the request with <see cref="FallbackRequestExtensions.SetFallbackPartition"/>, if any.</value>
    public Func<HttpRequestMessage, string?>? PartitionSelector { get; set; }
}
