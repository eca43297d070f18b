using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Batch;

/// <summary>
/// Runs a call per item and keeps going past items that fail: "skip this item, continue processing". A
/// failure whose kind makes every further call pointless (an expired token, a spent quota) stops the batch.
/// </summary>
public static class IntegrationBatch
{
    private static readonly FailureClassifier DefaultClassifier = new();

    /// <summary>Calls <paramref name="call"/> for each item in order and reports what became of each.</summary>
    /// <typeparam name="TItem">The item type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="items">The items.</param>
    /// <param name="call">The call for one item, typically through a resilient integration's client.</param>
    /// <param name="options">The options; defaults stop on Auth and QuotaExhausted.</param>
    /// <param name="cancellationToken">The caller's token; cancelling it stops the batch by throwing, not by reporting a failure.</param>
    /// <returns>The report.</returns>
    public static async Task<BatchReport<TItem, TResult>> RunAsync<TItem, TResult>(
        IEnumerable<TItem> items,
        Func<TItem, CancellationToken, Task<TResult>> call,
        BatchOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(call);
        options ??= new BatchOptions();
        var classifier = options.Classifier ?? DefaultClassifier;
        var done = new List<DoneItem<TItem, TResult>>();
        var skipped = new List<SkippedItem<TItem>>();
        var notAttempted = new List<NotAttemptedItem<TItem>>();
        FailureClassification? stoppedBy = null;
        string? stopReason = null;

        foreach (var item in items)
        {
            if (stopReason is not null)
            {
                notAttempted.Add(new(item, stopReason));
                continue;
            }

            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                done.Add(new(item, await call(item, cancellationToken).ConfigureAwait(false)));
            }
            catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                var failure = ex is IntegrationFailureException typed ? typed.Classification : classifier.Classify(ex, cancellationToken);
                skipped.Add(new(item, failure));
                if (options.StopOn.Contains(failure.Kind))
                {
                    stoppedBy = failure;
                    stopReason = $"stopped after a {failure.Kind} failure: {failure}";
                }
            }
        }

        return new BatchReport<TItem, TResult>(done, skipped, notAttempted, stoppedBy);
    }
}
