namespace Resilient.Integrations.Testing;

/// <summary>What a drill exercises.</summary>
public sealed class DrillOptions
{
    /// <summary>Gets or sets the GET path the app relies on, relative to the integration's base address.</summary>
    /// <value>Defaults to <c>/</c>.</value>
    public string ReadPath { get; set; } = "/";

    /// <summary>
    /// Gets or sets the path a deferrable write is POSTed to for <see cref="FaultScenario.WriteWhileDown"/>; the
    /// integration needs a deferred-write store and its replay service running (a started host).
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: the write scenario reports itself skipped.</value>
    public string? WritePath { get; set; }

    /// <summary>
    /// Gets or sets the WireMock.Net server standing in for the secondary endpoint, for <see cref="FaultScenario.FailoverPrimaryDown"/>
    /// and <see cref="FaultScenario.FailoverAllDown"/>: the integration's <c>Failover:Endpoints</c> must list its address.
    /// The other scenarios leave it as it is: with failover configured, drill them with the secondary down too, or apart.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: the failover scenarios report themselves skipped.</value>
    public WireMock.Server.WireMockServer? Secondary { get; set; }

    /// <summary>Gets or sets how long to wait for a queued write to be replayed after the service is back.</summary>
    /// <value>Defaults to 60 seconds; keep <c>Deferral:ReplayInterval</c> short in drills.</value>
    public TimeSpan ReplayWait { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Gets the scenarios to run, in order.</summary>
    /// <value>Defaults to every <see cref="FaultScenario"/>.</value>
    public IList<FaultScenario> Scenarios { get; } = [.. Enum.GetValues<FaultScenario>()];

    /// <summary>
    /// Gets or sets how long to wait for the alerts queued so far to reach the <see cref="DrillAlertRecorder"/>
    /// (they are delivered in the background); a sink slower than this is judged by what has arrived. The wait ends as
    /// soon as they are delivered, so a generous bound costs nothing; it only keeps a loaded test machine from
    /// judging a late alert as missing.
    /// </summary>
    /// <value>Defaults to 30 seconds.</value>
    public TimeSpan AlertWait { get; set; } = TimeSpan.FromSeconds(30);
}
