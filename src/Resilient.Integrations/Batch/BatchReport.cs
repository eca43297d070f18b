using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Batch;

/// <summary>What a batch did with each item: done, skipped with its failure, or not attempted.</summary>
/// <typeparam name="TItem">The item type.</typeparam>
/// <typeparam name="TResult">The result type.</typeparam>
public sealed class BatchReport<TItem, TResult>
{
    internal BatchReport(List<DoneItem<TItem, TResult>> done, List<SkippedItem<TItem>> skipped, List<NotAttemptedItem<TItem>> notAttempted, FailureClassification? stoppedBy)
    {
        Done = done;
        Skipped = skipped;
        NotAttempted = notAttempted;
        StoppedBy = stoppedBy;
    }

    /// <summary>Gets the items processed, in order.</summary>
    /// <value>Never <see langword="null"/>.</value>
    public IReadOnlyList<DoneItem<TItem, TResult>> Done { get; }

    /// <summary>Gets the items whose call failed, in order, each with its failure.</summary>
    /// <value>Never <see langword="null"/>.</value>
    public IReadOnlyList<SkippedItem<TItem>> Skipped { get; }

    /// <summary>Gets the items never called because the batch stopped early.</summary>
    /// <value>Never <see langword="null"/>.</value>
    public IReadOnlyList<NotAttemptedItem<TItem>> NotAttempted { get; }

    /// <summary>Gets the failure that stopped the batch early, if it stopped.</summary>
    /// <value><see langword="null"/> when every item was attempted.</value>
    public FailureClassification? StoppedBy { get; }

    /// <summary>Summarises the report, e.g. <c>8 done, 1 skipped, 3 not attempted (stopped by Auth (HTTP 401))</c>.</summary>
    /// <returns>The summary.</returns>
    public override string ToString() =>
        $"{Done.Count} done, {Skipped.Count} skipped, {NotAttempted.Count} not attempted" +
        (StoppedBy is { } stop ? $" (stopped by {stop})" : string.Empty);
}
