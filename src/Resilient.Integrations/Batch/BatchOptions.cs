using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Batch;

/// <summary>Options of <see cref="IntegrationBatch.RunAsync{TItem, TResult}"/>.</summary>
public sealed class BatchOptions
{
    /// <summary>Gets or sets the classifier for exceptions other than <see cref="IntegrationFailureException"/>.</summary>
    /// <value>Defaults to a <see cref="FailureClassifier"/> with default options.</value>
    public IFailureClassifier? Classifier { get; set; }

    /// <summary>Gets the failure kinds that stop the batch: continuing would only fail the same way for every item.</summary>
    /// <value>Defaults to <see cref="FailureKind.Auth"/> and <see cref="FailureKind.QuotaExhausted"/>.</value>
    public ISet<FailureKind> StopOn { get; } = new HashSet<FailureKind> { FailureKind.Auth, FailureKind.QuotaExhausted };
}
