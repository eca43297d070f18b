using Resilient.Integrations.Classification;
using Resilient.Integrations.Fallback.Internal;

namespace Resilient.Integrations.Fallback;

/// <summary>
/// Says that a result is not live: it is the last good copy, served because the live call failed or was slow. Carries
/// what people need to read ("data as of 6 hours ago") and what code needs to decide.
/// </summary>
public sealed class Degradation
{
    /// <summary>Creates the description of a served copy.</summary>
    /// <param name="asOf">When the copy was fetched live.</param>
    /// <param name="servedAt">When it was served instead of a live answer.</param>
    /// <param name="failure">The failure that made the live answer unavailable.</param>
    public Degradation(DateTimeOffset asOf, DateTimeOffset servedAt, FailureClassification failure)
    {
        AsOf = asOf;
        Age = servedAt > asOf ? servedAt - asOf : TimeSpan.Zero;
        Failure = failure;
    }

    /// <summary>Creates the description of a served copy, saying why it was served.</summary>
    /// <param name="asOf">When the copy was fetched live.</param>
    /// <param name="servedAt">When it was served instead of a live answer.</param>
    /// <param name="failure">The failure that made the live answer unavailable; for a slow one, a <see cref="FailureKind.Timeout"/> saying so.</param>
    /// <param name="cause">Whether the live call failed or was merely slow.</param>
    public Degradation(DateTimeOffset asOf, DateTimeOffset servedAt, FailureClassification failure, DegradationCause cause)
        : this(asOf, servedAt, failure)
    {
        Cause = cause;
    }

    /// <summary>Gets why the copy was served: the live call failed, or it was slow and goes on in the background.</summary>
    /// <value>Set by the constructor; defaults to <see cref="DegradationCause.LiveCallFailed"/>.</value>
    public DegradationCause Cause { get; }

    /// <summary>Gets when the served copy was fetched live.</summary>
    /// <value>Set by the constructor.</value>
    public DateTimeOffset AsOf { get; }

    /// <summary>Gets how old the copy was when served.</summary>
    /// <value>Set by the constructor; never negative.</value>
    public TimeSpan Age { get; }

    /// <summary>Gets the failure behind the fallback.</summary>
    /// <value>Set by the constructor.</value>
    public FailureClassification Failure { get; }

    /// <summary>Gets the failure kind behind the fallback; shorthand for <c>Failure.Kind</c>.</summary>
    /// <value>Set by the constructor.</value>
    public FailureKind Kind => Failure.Kind;

    /// <summary>Gets the age for people: "just now", "5 minutes ago", "6 hours ago", "2 days ago".</summary>
    /// <value>Derived from <see cref="Age"/>.</value>
    public string HumanAge => HumaneAge.Describe(Age);

    /// <summary>Gets the notice for people, e.g. "Data as of 6 hours ago (live data temporarily unavailable)", or "Data as of 6 minutes ago (live data slow)".</summary>
    /// <value>Derived from <see cref="Age"/>.</value>
    public string Notice => NoticeFor("Data");

    /// <summary>Words the notice for what the data is used in.</summary>
    /// <param name="subject">How the sentence starts, e.g. "Report generated with data".</param>
    /// <returns>E.g. "Report generated with data as of 6 hours ago (live data temporarily unavailable)".</returns>
    public string NoticeFor(string subject)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subject);
        return $"{subject} as of {HumanAge} ({(Cause == DegradationCause.LiveCallSlow ? "live data slow" : "live data temporarily unavailable")})";
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Notice}; live call {(Cause == DegradationCause.LiveCallSlow ? "slow" : "failed")}: {Failure}";
}
