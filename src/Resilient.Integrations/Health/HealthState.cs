namespace Resilient.Integrations.Health;

/// <summary>How an integration is doing, from its probes and its live traffic.</summary>
public enum HealthState
{
    /// <summary>No recent result: never probed, or the last result is older than three probe intervals.</summary>
    Unknown = 0,

    /// <summary>Working.</summary>
    Green,

    /// <summary>Degraded: rate limited, slow, answering malformed data, or timing out now and then.</summary>
    Yellow,

    /// <summary>Down for us: credentials refused, quota spent, service unavailable, circuit open, or timing out again and again.</summary>
    Red,
}
