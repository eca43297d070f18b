namespace Resilient.Integrations.Testing;

/// <summary>What one drill scenario showed.</summary>
/// <param name="Scenario">The fault injected.</param>
/// <param name="Evidence">What was observed, in order.</param>
/// <param name="Failures">What the scenario expected and did not see; empty when it passed.</param>
public sealed record DrillResult(FaultScenario Scenario, IReadOnlyList<string> Evidence, IReadOnlyList<string> Failures)
{
    /// <summary>Gets a value indicating whether every expectation held.</summary>
    public bool Passed => Failures.Count == 0;

    /// <inheritdoc/>
    public override string ToString() =>
        $"{(Passed ? "PASS" : "FAIL")} {Scenario}: " + string.Join("; ", Passed ? Evidence : Failures);
}

/// <summary>The results of a drill run.</summary>
/// <param name="Integration">The integration drilled.</param>
/// <param name="Results">One result per scenario.</param>
public sealed record DrillReport(string Integration, IReadOnlyList<DrillResult> Results)
{
    /// <summary>Gets a value indicating whether every scenario passed.</summary>
    public bool Passed => Results.All(r => r.Passed);

    /// <summary>Gets the scenarios that failed.</summary>
    public IEnumerable<DrillResult> Failed => Results.Where(r => !r.Passed);

    /// <inheritdoc/>
    public override string ToString() => $"Drill of '{Integration}':\n" + string.Join('\n', Results);
}
