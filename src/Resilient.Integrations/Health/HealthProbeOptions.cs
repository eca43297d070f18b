namespace Resilient.Integrations.Health;

/// <summary>When and how long a probe runs.</summary>
public sealed class HealthProbeOptions
{
    /// <summary>Gets or sets the time between the starts of two runs.</summary>
    /// <value>Defaults to 1 minute. Must be at least 1 second.</value>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets the wait before the first run after start-up.</summary>
    /// <value>Defaults to 5 seconds. Must not be negative.</value>
    public TimeSpan InitialDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the largest random extra wait added to each run, so many instances do not probe in lockstep.</summary>
    /// <value>Defaults to 10% of <see cref="Interval"/> when <see langword="null"/>. Must not be negative.</value>
    public TimeSpan? Jitter { get; set; }

    /// <summary>Gets or sets how long one run may take before it counts as a timeout.</summary>
    /// <value>Defaults to 30 seconds. Must be positive.</value>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}
