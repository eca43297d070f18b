using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Alerts;

/// <summary>A notice to people that an integration needs attention. Never carries credentials.</summary>
public sealed class Alert
{
    private static readonly IReadOnlyDictionary<string, string> NoDetails = new Dictionary<string, string>();

    /// <summary>Gets the integration the alert is about, e.g. <c>crm</c>.</summary>
    /// <value>Required.</value>
    public required string Integration { get; init; }

    /// <summary>Gets how urgent the alert is.</summary>
    /// <value>Required.</value>
    public required AlertSeverity Severity { get; init; }

    /// <summary>Gets the failure kind behind the alert; <see cref="FailureKind.None"/> for notices such as a recovery.</summary>
    /// <value>Defaults to <see cref="FailureKind.None"/>.</value>
    public FailureKind Kind { get; init; }

    /// <summary>Gets the message for people.</summary>
    /// <value>Required.</value>
    public required string Message { get; init; }

    /// <summary>Gets when the alert was raised, from the injected <see cref="TimeProvider"/>.</summary>
    /// <value>Defaults to <see langword="default"/>; the library always sets it.</value>
    public DateTimeOffset Time { get; init; }

    /// <summary>
    /// Gets how many repeats of this alert were suppressed within the cooldown before this one was sent; on a
    /// "recovered" notice, the repeats of the whole episode that no later alert reported.
    /// </summary>
    /// <value>Defaults to 0.</value>
    public int SuppressedCount { get; init; }

    /// <summary>Gets facts about the failure (status, provider code, request path), already redacted.</summary>
    /// <value>Defaults to empty.</value>
    public IReadOnlyDictionary<string, string> Details { get; init; } = NoDetails;

    /// <summary>Renders the alert in one line, e.g. <c>[Critical] crm: … (3 repeats suppressed)</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() =>
        SuppressedCount > 0
            ? $"[{Severity}] {Integration}: {Message} ({SuppressedCount} repeats suppressed)"
            : $"[{Severity}] {Integration}: {Message}";

    /// <summary>
    /// Gets a value indicating whether this alert reports a return to Green. The dispatcher holds it until the
    /// integration has stayed Green for <see cref="AlertOptions.SettleTime"/>, then announces the recovery once
    /// and ends the integration's alert episode.
    /// </summary>
    internal bool Recovery { get; init; }

    /// <summary>Gets a value indicating whether this alert reports a change of health: one away from Green calls off a recovery still settling.</summary>
    internal bool HealthChange { get; init; }

    /// <summary>Gets a value indicating whether this alert is never held back as a repeat (a write dropped, a replay paused): it says something a repeat cannot.</summary>
    internal bool Unsuppressed { get; init; }

    /// <summary>
    /// Gets what, besides the integration and the kind, tells this alert apart from others for de-duplication, e.g.
    /// <c>circuit</c> for "circuit opened", which must not be taken for the health layer's "is Red" of the same kind.
    /// </summary>
    internal string? Topic { get; init; }

    /// <summary>
    /// Gets, on the "recovered" notice that ends an episode, the identities (kind and topic) of the alerts the episode
    /// raised, so that a sink that opens incidents (PagerDuty) can resolve each; <see langword="null"/> on any other alert.
    /// </summary>
    internal IReadOnlyList<(FailureKind Kind, string? Topic)>? Resolves { get; init; }

    /// <summary>
    /// Gets, on a summary of alerts a sink missed, the "recovered" notices among them that no later alert of their
    /// integration contradicts, so that the sink can still resolve what they end; <see langword="null"/> on any other alert.
    /// </summary>
    internal IReadOnlyList<Alert>? Recoveries { get; init; }

    /// <summary>Gets a value indicating whether this summary's every integration has recovered since: nothing it reports is still open.</summary>
    internal bool AllRecovered { get; init; }

    internal Alert WithSuppressedCount(int count) => new()
    {
        Recovery = Recovery,
        HealthChange = HealthChange,
        Unsuppressed = Unsuppressed,
        Topic = Topic,
        Resolves = Resolves,
        Recoveries = Recoveries,
        AllRecovered = AllRecovered,
        Integration = Integration,
        Severity = Severity,
        Kind = Kind,
        Message = Message,
        Time = Time,
        SuppressedCount = count,
        Details = Details,
    };
}
