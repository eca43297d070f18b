using Polly;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>Names the library's own strategies in Polly's telemetry.</summary>
internal sealed class StrategyOptions : ResilienceStrategyOptions
{
    public StrategyOptions(string name) => Name = name;
}
