using System.Text;
using Resilient.Integrations.Fallback;

namespace Resilient.Integrations.AI.Failover;

/// <summary>
/// Says which step of the failover ladder produced an answer and why the steps before it did not: "answered by
/// azure-gpt-4o: openai unavailable". Carried by an answer that did not come live from the primary, and by the
/// failure when every step failed.
/// </summary>
public sealed class ChatFailover
{
    /// <summary>Creates the description.</summary>
    /// <param name="step">The step that produced the outcome.</param>
    /// <param name="answeredBy">The integration that answered (for a last good answer, whose copy it was); <see langword="null"/> for a failure.</param>
    /// <param name="passed">The steps passed over, in the order they were tried.</param>
    /// <param name="degradation">For a last good answer, its age and the failure it stands in for.</param>
    public ChatFailover(ChatFailoverStep step, string? answeredBy, IReadOnlyList<ChatFailoverPass> passed, Degradation? degradation = null)
    {
        ArgumentNullException.ThrowIfNull(passed);
        Step = step;
        AnsweredBy = answeredBy;
        Passed = passed;
        Degradation = degradation;
    }

    /// <summary>Gets the step that produced the outcome.</summary>
    /// <value>Set by the constructor.</value>
    public ChatFailoverStep Step { get; }

    /// <summary>Gets the integration that answered; for a last good answer, the one whose copy it was; <see langword="null"/> for a failure.</summary>
    /// <value>Set by the constructor.</value>
    public string? AnsweredBy { get; }

    /// <summary>Gets the steps passed over, in the order they were tried, each with its reason.</summary>
    /// <value>Set by the constructor; the primary comes first.</value>
    public IReadOnlyList<ChatFailoverPass> Passed { get; }

    /// <summary>Gets the age of a last good answer and the failure it stands in for; <see langword="null"/> for a live answer.</summary>
    /// <value>Set by the constructor.</value>
    public Degradation? Degradation { get; }

    /// <summary>
    /// Gets the notice for people: "answered by azure-gpt-4o: openai unavailable", "last good answer of openai as of
    /// 6 hours ago: openai unavailable, azure-gpt-4o circuit open", or "no answer: openai unavailable, claude red".
    /// </summary>
    /// <value>Derived from the other members.</value>
    public string Notice
    {
        get
        {
            var text = new StringBuilder(Step switch
            {
                ChatFailoverStep.Secondary => $"answered by {AnsweredBy}",
                ChatFailoverStep.LastGoodAnswer => $"last good answer of {AnsweredBy} as of {Degradation?.HumanAge ?? "earlier"}",
                _ => "no answer",
            });
            text.Append(": ").AppendJoin(", ", Passed.Select(p => p.Reason));
            return text.ToString();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Notice;
}
