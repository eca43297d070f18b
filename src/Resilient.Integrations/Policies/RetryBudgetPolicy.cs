namespace Resilient.Integrations.Policies;

/// <summary>
/// Caps retries to a share of recent traffic so an outage cannot multiply the load on a struggling service.
/// Past the budget, failures surface at once.
/// </summary>
public sealed class RetryBudgetPolicy
{
    /// <summary>Gets or sets a value indicating whether the budget applies.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets the largest share of recent requests that may be retries.</summary>
    /// <value>Defaults to 0.2 (20%). Must be between 0 and 1.</value>
    public double RetryRatio { get; set; } = 0.2;

    /// <summary>Gets or sets how many retries the window always allows, however little traffic there was.</summary>
    /// <value>Defaults to 10. Must not be negative.</value>
    public int MinRetries { get; set; } = 10;

    /// <summary>Gets or sets how far back "recent" reaches.</summary>
    /// <value>Defaults to 10 seconds. Must be at least 1 second.</value>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(10);
}
