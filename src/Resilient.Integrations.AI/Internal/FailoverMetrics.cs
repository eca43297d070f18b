using System.Diagnostics.Metrics;
using Resilient.Integrations.AI.Failover;

namespace Resilient.Integrations.AI.Internal;

/// <summary>The failover's counter, on the library's meter.</summary>
internal sealed class FailoverMetrics(IMeterFactory? meterFactory)
{
    private readonly Counter<long>? _outcomes = meterFactory?.Create("Resilient.Integrations").CreateCounter<long>(
        "resilient_integrations.failover.outcomes", "{call}",
        "Calls the primary did not answer live, by primary integration, the step that produced the outcome (secondary, last_good_answer, failure) and who answered.");

    public void Outcome(string integration, ChatFailoverStep step, string? answeredBy) =>
        _outcomes?.Add(1, new("integration", integration), new("step", StepTag(step)), new("answered_by", answeredBy ?? "none"));

    private static string StepTag(ChatFailoverStep step) => step switch
    {
        ChatFailoverStep.Secondary => "secondary",
        ChatFailoverStep.LastGoodAnswer => "last_good_answer",
        _ => "failure",
    };
}
