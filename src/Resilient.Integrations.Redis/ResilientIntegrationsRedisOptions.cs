namespace Resilient.Integrations.Redis;

/// <summary>Options of the Redis coordination between instances.</summary>
public sealed class ResilientIntegrationsRedisOptions
{
    /// <summary>Gets or sets the StackExchange.Redis configuration string (e.g. <c>redis:6379,password=…</c>).</summary>
    /// <value>
    /// Defaults to <see langword="null"/>: the <c>IConnectionMultiplexer</c> registered in DI is used. One of the two is required.
    /// <c>abortConnect=false</c> is added, so an app starts while Redis is down.
    /// </value>
    public string? Configuration { get; set; }

    /// <summary>
    /// Gets or sets how long a call to Redis may take before the instance goes on alone: sends the alert itself, paces
    /// by its own budget, probes on its own schedule. No request waits longer than this because of Redis.
    /// </summary>
    /// <value>Defaults to 500 milliseconds. Must be between 1 millisecond and 10 seconds.</value>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Gets or sets the prefix of every key, so several apps can share one Redis.</summary>
    /// <value>Defaults to <c>resilient-integrations:</c>. Must not be empty.</value>
    public string KeyPrefix { get; set; } = "resilient-integrations:";
}
