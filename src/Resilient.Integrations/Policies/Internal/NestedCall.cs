namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// The delegate call (<see cref="IResilientIntegration.ExecuteAsync{T}"/>) running on this async flow. An SDK inside it
/// that sends through the integration's own HttpClient meets it there: that pipeline then times and retries the
/// attempts alone, within the delegate call's budget, and the delegate call's attempt deadline is lifted.
/// </summary>
internal sealed class NestedCall(string integration, CallState call)
{
    private static readonly AsyncLocal<NestedCall?> Current = new();

    public string Integration { get; } = integration;

    public CallState Call { get; } = call;

    /// <summary>The delegate call of <paramref name="integration"/> this flow runs in, if any.</summary>
    public static CallState? Around(string integration) =>
        Current.Value is { } nested && string.Equals(nested.Integration, integration, StringComparison.Ordinal) ? nested.Call : null;

    /// <summary>Makes <paramref name="call"/> the current delegate call until the returned scope ends.</summary>
    public static Scope Enter(string integration, CallState call)
    {
        var previous = Current.Value;
        Current.Value = new NestedCall(integration, call);
        return new Scope(previous);
    }

    public readonly struct Scope(NestedCall? previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }
}
