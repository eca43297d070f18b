using Resilient.Integrations.Classification;

namespace Resilient.Integrations.AI.Failover;

/// <summary>A step the failover passed over: the integration and why.</summary>
/// <param name="Integration">The integration's name.</param>
/// <param name="Failure">How its call failed; for a secondary skipped as Red, what its health last saw, if anything.</param>
/// <param name="SkippedAsRed">Whether it was skipped without a call, because its health was Red.</param>
public readonly record struct ChatFailoverPass(string Integration, FailureClassification Failure, bool SkippedAsRed)
{
    /// <summary>Gets the reason in a few words, e.g. <c>openai unavailable</c>, <c>claude red</c>, <c>openai context length exceeded</c>.</summary>
    /// <value>Derived from the other members.</value>
    public string Reason => Integration + " " + Words();

    private string Words()
    {
        if (SkippedAsRed)
        {
            return "red";
        }

        if (ChatRejections.IsContextLengthExceeded(Failure))
        {
            return "context length exceeded";
        }

        if (ChatRejections.IsContentFiltered(Failure))
        {
            return "content filtered";
        }

        if (ChatRejections.IsOpenCircuit(Failure))
        {
            return "circuit open";
        }

        return Failure.Kind switch
        {
            FailureKind.Unavailable => "unavailable",
            FailureKind.Timeout => "timed out",
            FailureKind.RateLimit => "rate limited",
            FailureKind.QuotaExhausted => "out of quota",
            FailureKind.Auth => "refused the credentials",
            FailureKind.BadResponse => "answered malformed data",
            FailureKind.Rejected => "rejected the request",
            _ => "failed",
        };
    }
}
