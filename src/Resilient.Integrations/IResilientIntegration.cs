using Resilient.Integrations.Classification;

namespace Resilient.Integrations;

/// <summary>
/// Runs calls that are not plain <see cref="HttpClient"/> calls (an SDK, a database driver, an email client)
/// under an integration's policies: the same classification, per-kind retries, circuit breaker, alerts and
/// last-known-good fallback. Resolve it by the integration's name:
/// <c>provider.GetRequiredKeyedService&lt;IResilientIntegration&gt;("crm")</c>.
/// </summary>
public interface IResilientIntegration
{
    /// <summary>Gets the integration's name.</summary>
    string Name { get; }

    /// <summary>
    /// Runs <paramref name="call"/> under the integration's policies. A value is kept under <paramref name="key"/>;
    /// when a later call fails in a way the fallback serves, the kept value comes back marked as stale.
    /// </summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="key">Names the call for the fallback, e.g. <c>"weekly-summary:tenant-42"</c>; include the caller's partition.</param>
    /// <param name="call">The call; it must honour the token it is given, which carries the attempt and total timeouts.</param>
    /// <param name="cancellationToken">The caller's token; cancelling it is never a failure.</param>
    /// <returns>The value, live or stale, with its freshness.</returns>
    /// <exception cref="IntegrationFailureException">The call failed and no fresh-enough kept value exists.</exception>
    Task<IntegrationResult<T>> ExecuteAsync<T>(string key, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs <paramref name="call"/> under the integration's policies without keeping or serving a copy: for calls
    /// whose answer is not data to show later, such as a write or a chat completion the host does not want reused.
    /// </summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="call">The call; it must honour the token it is given, which carries the attempt and total timeouts.</param>
    /// <param name="cancellationToken">The caller's token; cancelling it is never a failure.</param>
    /// <returns>The live value.</returns>
    /// <exception cref="IntegrationFailureException">The call failed.</exception>
    /// <remarks>
    /// The call counts as a write: it is run again only when the integration's <c>Writes:SafeToRepeat</c> is on or the
    /// failure proves it was not acted on (no connection was made, a 429). Use the overload with <c>safeToRepeat</c> to say otherwise.
    /// </remarks>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0027", Justification = "The short form stays the common call; the overload with safeToRepeat takes its token explicitly.")]
    Task<T> ExecuteLiveAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs <paramref name="call"/> like <see cref="ExecuteLiveAsync{T}(Func{CancellationToken, Task{T}}, CancellationToken)"/>,
    /// saying whether running it more than once is harmless (a chat completion, a read through an SDK) or could
    /// duplicate something (a sent email, a created contact).
    /// </summary>
    /// <remarks>
    /// The library's own implementation honours <paramref name="safeToRepeat"/>. This default body, for other
    /// implementations of the interface such as a decorator, ignores it.
    /// </remarks>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="call">The call; it must honour the token it is given, which carries the attempt and total timeouts.</param>
    /// <param name="safeToRepeat">Whether the call may be run again after a failure that does not prove it was not acted on.</param>
    /// <param name="cancellationToken">The caller's token; cancelling it is never a failure.</param>
    /// <returns>The live value.</returns>
    /// <exception cref="IntegrationFailureException">The call failed.</exception>
    Task<T> ExecuteLiveAsync<T>(Func<CancellationToken, Task<T>> call, bool safeToRepeat, CancellationToken cancellationToken) =>
        ExecuteLiveAsync(call, cancellationToken);

    /// <summary>
    /// Classifies a failure that happened outside the policies and reports it to health, alerts and metrics, without
    /// retrying anything: for a stream that broke after its first item was handed to the caller, which must not be replayed.
    /// </summary>
    /// <param name="exception">What was thrown.</param>
    /// <param name="cancellationToken">The caller's token: a cancellation it caused is reported as nothing.</param>
    /// <returns>The classification.</returns>
    FailureClassification ReportFailure(Exception exception, CancellationToken cancellationToken = default);

    /// <summary>
    /// Keeps <paramref name="value"/> under <paramref name="key"/> as the last good answer, as a successful
    /// <see cref="ExecuteAsync{T}"/> does: for an answer put together outside it, such as a stream that completed.
    /// Does nothing while the fallback is off.
    /// </summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="key">Names the call, as for <see cref="ExecuteAsync{T}"/>.</param>
    /// <param name="value">The value; it must not hold disposables or credentials.</param>
    void RememberLastGood<T>(string key, T value);

    /// <summary>
    /// Keeps <paramref name="value"/> like <see cref="RememberLastGood{T}(string, T)"/>, counting it as
    /// <paramref name="approximateBytes"/> against <c>Fallback:MaxEntryBytes</c> and <c>Fallback:SizeLimitBytes</c>.
    /// Give the size for values whose size varies widely, such as a model's answer: without it, an object other than
    /// a string, a byte array or <see cref="BinaryData"/> counts as 1 KB.
    /// </summary>
    /// <remarks>
    /// The library's own implementation honours the size. This default body, for other implementations of the
    /// interface such as a decorator, ignores it and calls <see cref="RememberLastGood{T}(string, T)"/>.
    /// </remarks>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="key">Names the call, as for <see cref="ExecuteAsync{T}"/>.</param>
    /// <param name="value">The value; it must not hold disposables or credentials.</param>
    /// <param name="approximateBytes">The value's approximate size in memory, in bytes; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="approximateBytes"/> is less than 1.</exception>
    void RememberLastGood<T>(string key, T value, long approximateBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(approximateBytes, 1);
        RememberLastGood(key, value);
    }

    /// <summary>
    /// Gets the value kept under <paramref name="key"/> when the fallback serves <paramref name="failure"/> and the
    /// value is fresh enough, marked with its staleness; counted as a fallback served.
    /// </summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="key">Names the call, as for <see cref="ExecuteAsync{T}"/>.</param>
    /// <param name="failure">What went wrong with the live call.</param>
    /// <param name="result">The kept value with its <see cref="IntegrationResult{T}.Degradation"/>, when one is served.</param>
    /// <returns><see langword="true"/> when a kept value is served.</returns>
    bool TryServeLastGood<T>(string key, FailureClassification failure, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IntegrationResult<T>? result);
}
