namespace Resilient.Integrations.Health;

/// <summary>How results turn into Green, Yellow and Red for one integration.</summary>
public sealed class HealthPolicy
{
    /// <summary>
    /// Gets or sets how many consistent results in a row a change of state needs, so a flapping API does not
    /// flap the state. Refused credentials and spent quotas need no confirmation: they turn Red at once.
    /// </summary>
    /// <value>Defaults to 2. Must be between 1 and 100.</value>
    public int ConfirmAfter { get; set; } = 2;

    /// <summary>Gets or sets after how many timeouts in a row Yellow becomes Red.</summary>
    /// <value>Defaults to 3. Must be between 1 and 100.</value>
    public int RedAfterTimeouts { get; set; } = 3;

    /// <summary>Gets or sets the latency above which a successful probe reads as Yellow.</summary>
    /// <value>Defaults to 10 seconds. Must be positive.</value>
    public TimeSpan LatencyThreshold { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how old the last result may be, in probe intervals, before the state reads as Unknown.</summary>
    /// <value>Defaults to 3. Must be between 1 and 100.</value>
    public int StaleAfterIntervals { get; set; } = 3;
}
