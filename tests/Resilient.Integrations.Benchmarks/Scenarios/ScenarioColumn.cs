using System.Collections.Concurrent;
using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Resilient.Integrations.Benchmarks.Scenarios;

/// <summary>
/// A result column for what a scenario counts rather than times (attempts per call, goodput, share of 429s),
/// filled in by the benchmark from its last run. The in-process toolchain shares this process, so a static table works.
/// </summary>
internal sealed class ScenarioColumn(string name, string legend) : IColumn
{
    private static readonly ConcurrentDictionary<(string Method, string Column), string> Values = new();

    public string Id => "Scenario." + name;

    public string ColumnName => name;

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => legend;

    public static void Record(string method, string column, double value, string format = "0.00") =>
        Values[(method, column)] = value.ToString(format, CultureInfo.InvariantCulture);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        Values.TryGetValue((benchmarkCase.Descriptor.WorkloadMethod.Name, name), out var value) ? value : "-";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;
}
