using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Health;

/// <summary>
/// Shares probing between the instances of an app (e.g. through Redis): each probe interval one instance probes and
/// publishes the result, and every instance's health monitor takes it in, so twenty instances cost one probe per
/// interval, not twenty. When it cannot answer within <see cref="Timeout"/>, each instance probes on its own.
/// </summary>
public interface IProbeTurns
{
    /// <summary>Gets how long one call may take before the instance probes on its own.</summary>
    TimeSpan Timeout { get; }

    /// <summary>Claims this interval's probe of an integration.</summary>
    /// <param name="request">The integration and its probe interval.</param>
    /// <param name="cancellationToken">Cancelled when <see cref="Timeout"/> passes or the app stops.</param>
    /// <returns>Whether this instance probes, and the turn's number.</returns>
    ValueTask<ProbeTurn> TakeTurnAsync(ProbeTurnRequest request, CancellationToken cancellationToken);

    /// <summary>Stores a turn's result and tells the other instances.</summary>
    /// <param name="result">The result, with nothing secret in it.</param>
    /// <param name="cancellationToken">Cancelled when <see cref="Timeout"/> passes or the app stops.</param>
    /// <returns>A task that completes when the result is stored.</returns>
    ValueTask PublishAsync(SharedProbeResult result, CancellationToken cancellationToken);

    /// <summary>Reads the newest stored result of a probe (a published message may have been missed).</summary>
    /// <param name="probe">The probe's identity (<see cref="ProbeTurnRequest.Probe"/>).</param>
    /// <param name="cancellationToken">Cancelled when <see cref="Timeout"/> passes or the app stops.</param>
    /// <returns>The newest result, or <see langword="null"/> if none is stored.</returns>
    ValueTask<SharedProbeResult?> ReadLatestAsync(string probe, CancellationToken cancellationToken);

    /// <summary>Registers what to do with a result another instance published.</summary>
    /// <param name="onResult">Called with each published result; must not throw or block.</param>
    void OnResult(Action<SharedProbeResult> onResult);
}

/// <summary>An instance asking for a probe turn.</summary>
/// <param name="Integration">The integration.</param>
/// <param name="Probe">
/// The probe's identity: the integration, the probe's place among its probes and its interval. Instances running the same
/// probe on the same interval share its turns; a probe added or an interval changed by a rolling deploy gets turns of its own.
/// </param>
/// <param name="Interval">The probe interval: one turn per interval.</param>
/// <param name="Now">The app's clock when it is not the system clock (tests, simulations); <see langword="null"/>: the store's own clock, which instances share.</param>
public readonly record struct ProbeTurnRequest(string Integration, string Probe, TimeSpan Interval, DateTimeOffset? Now);

/// <summary>The answer to a <see cref="ProbeTurnRequest"/>.</summary>
/// <param name="Mine">Whether this instance probes this turn.</param>
/// <param name="Number">The turn's number; results of older turns are not taken in again.</param>
public readonly record struct ProbeTurn(bool Mine, long Number);

/// <summary>A probe result shared between instances: the classification's facts, without exceptions or secrets.</summary>
/// <param name="Integration">The integration.</param>
/// <param name="Probe">The probe's identity (<see cref="ProbeTurnRequest.Probe"/>).</param>
/// <param name="Turn">The turn it answers.</param>
/// <param name="Kind">The failure kind; <see cref="FailureKind.None"/> for a healthy answer.</param>
/// <param name="StatusCode">The HTTP status, if any.</param>
/// <param name="ProviderCode">The provider's error code, redacted.</param>
/// <param name="Reason">Why, redacted.</param>
/// <param name="Latency">How long the probe took.</param>
public readonly record struct SharedProbeResult(
    string Integration, string Probe, long Turn, FailureKind Kind, int? StatusCode, string? ProviderCode, string? Reason, TimeSpan Latency);
