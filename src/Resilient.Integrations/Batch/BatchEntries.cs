using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Batch;

/// <summary>An item the batch processed.</summary>
/// <typeparam name="TItem">The item type.</typeparam>
/// <typeparam name="TResult">The result type.</typeparam>
/// <param name="Item">The item.</param>
/// <param name="Result">What the call returned.</param>
public readonly record struct DoneItem<TItem, TResult>(TItem Item, TResult Result);

/// <summary>An item whose call failed; the batch skipped it and went on (or stopped, if its kind stops the batch).</summary>
/// <typeparam name="TItem">The item type.</typeparam>
/// <param name="Item">The item.</param>
/// <param name="Failure">What failed.</param>
public readonly record struct SkippedItem<TItem>(TItem Item, FailureClassification Failure);

/// <summary>An item the batch never called because it stopped early.</summary>
/// <typeparam name="TItem">The item type.</typeparam>
/// <param name="Item">The item.</param>
/// <param name="Reason">Why the batch stopped.</param>
public readonly record struct NotAttemptedItem<TItem>(TItem Item, string Reason);
