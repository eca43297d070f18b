namespace Resilient.Integrations.Classification;

/// <summary>Turns any outcome of an external call into a <see cref="FailureClassification"/>.</summary>
public interface IFailureClassifier
{
    /// <summary>Classifies an exception thrown by a call.</summary>
    /// <param name="exception">The exception.</param>
    /// <param name="cancellationToken">
    /// The caller's token for the call. When it is cancelled, a cancellation exception is classified as the
    /// caller's cancellation (not a failure) rather than a timeout.
    /// </param>
    /// <returns>The classification.</returns>
    FailureClassification Classify(Exception exception, CancellationToken cancellationToken = default);

    /// <summary>
    /// Classifies an HTTP response: its status, headers and, for errors and validation, a bounded prefix of
    /// its body. The body stays readable by the caller afterwards.
    /// </summary>
    /// <param name="response">The response.</param>
    /// <param name="cancellationToken">The caller's token; cancelling it cancels reading the body.</param>
    /// <returns>The classification.</returns>
    ValueTask<FailureClassification> ClassifyAsync(HttpResponseMessage response, CancellationToken cancellationToken = default);
}
