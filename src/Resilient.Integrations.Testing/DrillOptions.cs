namespace Resilient.Integrations.Testing;

/// <summary>What a drill exercises.</summary>
public sealed class DrillOptions
{
    /// <summary>Gets or sets the GET path the app relies on, relative to the integration's base address.</summary>
    /// <value>Defaults to <c>/</c>.</value>
    public string ReadPath { get; set; } = "/";

    /// <summary>Gets the scenarios to run, in order.</summary>
    /// <value>Defaults to every <see cref="FaultScenario"/>.</value>
    public IList<FaultScenario> Scenarios { get; } = [.. Enum.GetValues<FaultScenario>()];

    /// <summary>Gets or sets how long to wait for an alert to reach the <see cref="DrillAlertRecorder"/> (alerts are delivered in the background).</summary>
    /// <value>Defaults to 3 seconds.</value>
    public TimeSpan AlertWait { get; set; } = TimeSpan.FromSeconds(3);
}
