using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Options;
using Polly;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Health;
using Resilient.Integrations.Redaction.Internal;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// <see cref="IResilientIntegration"/> for one integration: the delegate pipeline (rebuilt when options
/// reload), then the same reporting and last-known-good fallback the HTTP pipeline's outcome strategy does.
/// </summary>
internal sealed class ResilientIntegration : IResilientIntegration, IDisposable
{
    private readonly IntegrationRegistry _registry;
    private readonly IOptionsMonitor<ResilientIntegrationOptions> _options;
    private readonly IDisposable? _reload;
    private Built? _current;
    private int _version;

    public ResilientIntegration(string name, IntegrationRegistry registry, IOptionsMonitor<ResilientIntegrationOptions> options)
    {
        Name = name;
        _registry = registry;
        _options = options;
        _reload = options.OnChange((_, changed) =>
        {
            if (changed == name)
            {
                Interlocked.Increment(ref _version);
                Volatile.Write(ref _current, null);
            }
        });
    }

    public string Name { get; }

    public Task<IntegrationResult<T>> ExecuteAsync<T>(string key, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken = default) =>
        ExecuteAsync(key, call, useFallback: true, cancellationToken, safeToRepeat: true);

    public async Task<T> ExecuteLiveAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken = default) =>
        (await ExecuteAsync("call", call, useFallback: false, cancellationToken, safeToRepeat: null).ConfigureAwait(false)).Value;

    public async Task<T> ExecuteLiveAsync<T>(Func<CancellationToken, Task<T>> call, bool safeToRepeat, CancellationToken cancellationToken) =>
        (await ExecuteAsync("call", call, useFallback: false, cancellationToken, safeToRepeat).ConfigureAwait(false)).Value;

    public FailureClassification ReportFailure(Exception exception, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var runtime = _registry.Get(Name);
        var (options, _, redactor) = Current(runtime);
        var classification = runtime.Classifier.Classify(exception, cancellationToken);
        if (!classification.IsCancellation)
        {
            Report(runtime, classification, "call", options, redactor);
        }

        return classification;
    }

    public void RememberLastGood<T>(string key, T value) => Remember(key, value, approximateBytes: null);

    public void RememberLastGood<T>(string key, T value, long approximateBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(approximateBytes, 1);
        Remember(key, value, approximateBytes);
    }

    private void Remember<T>(string key, T value, long? approximateBytes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        var runtime = _registry.Get(Name);
        Remember(runtime, Current(runtime).Options, key, value, approximateBytes);
    }

    public bool TryServeLastGood<T>(string key, FailureClassification failure, [NotNullWhen(true)] out IntegrationResult<T>? result)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        var runtime = _registry.Get(Name);
        return TryServe(runtime, Current(runtime).Options, key, failure, out result);
    }

    private static void Remember<T>(IntegrationRuntime runtime, ResilientIntegrationOptions options, string key, T value, long? approximateBytes)
    {
        if (options.Fallback.Enabled)
        {
            runtime.LastKnownGood.RememberValue(FallbackKey(key), value, options.Fallback, approximateBytes);
        }
    }

    private bool TryServe<T>(IntegrationRuntime runtime, ResilientIntegrationOptions options, string key, FailureClassification failure, [NotNullWhen(true)] out IntegrationResult<T>? result)
    {
        if (options.Fallback.Enabled && options.Fallback.ServeOn.Contains(failure.Kind) &&
            runtime.LastKnownGood.TryServeValue(FallbackKey(key), failure, options.Fallback, out T? kept, out var degradation))
        {
            runtime.CopyServed(degradation!);
            result = new IntegrationResult<T>(kept!, degradation);
            return true;
        }

        result = null;
        return false;
    }

    /// <summary>Runs a call whose result is not data to keep or serve later, such as a write.</summary>
    // safeToRepeat: whether the call may run more than once (null: as the integration's Writes:SafeToRepeat says); when
    // not, only a failure that proves it was not acted on is retried.
    internal async Task<IntegrationResult<T>> ExecuteAsync<T>(string key, Func<CancellationToken, Task<T>> call, bool useFallback, CancellationToken cancellationToken, bool? safeToRepeat)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        ArgumentNullException.ThrowIfNull(call);
        var runtime = _registry.Get(Name);
        var (options, pipeline, redactor) = Current(runtime);
        bool repeatable = safeToRepeat ?? options.Writes.SafeToRepeat;

        var context = ResilienceContextPool.Shared.Get(key, cancellationToken);
        long started = runtime.Time.GetTimestamp();
        try
        {
            var state = new CallState(started, options.TotalTimeout, cancellationToken) { Repeatable = repeatable };
            context.Properties.Set(CallState.Key, state);
            runtime.Budget.RecordRequest(options.RetryBudget);
            using var nested = NestedCall.Enter(Name, state);
            var outcome = await pipeline.ExecuteOutcomeAsync(
                static async (ctx, state) =>
                {
                    try
                    {
                        // The attempt's token, which AttemptDeadlineStrategy sets for every attempt (Polly's cannot be replaced).
                        var token = CallState.Of(ctx)!.AttemptToken;
                        return Outcome.FromResult<object?>(await state(token).ConfigureAwait(false));
                    }
                    catch (Exception ex)
                    {
                        return Outcome.FromException<object?>(ex);
                    }
                },
                context,
                call).ConfigureAwait(false);

            if (outcome.Exception is null)
            {
                var value = (T)outcome.Result!;
                runtime.Health.Report(Name, HealthProbeResult.Healthy(TimeSpan.Zero)); // latency is judged on probes only
                if (useFallback)
                {
                    Remember(runtime, options, key, value, approximateBytes: null);
                }

                return new IntegrationResult<T>(value, null);
            }

            var classification = runtime.Classifier.Classify(outcome.Exception, cancellationToken);
            if (classification.IsCancellation)
            {
                outcome.ThrowIfException();
            }

            classification = RepeatSafety.Annotate(classification, repeatable);
            Report(runtime, classification, key, options, redactor);

            if (useFallback && TryServe(runtime, options, key, classification, out IntegrationResult<T>? kept))
            {
                return kept;
            }

            throw new IntegrationFailureException(Name, classification, outcome.Exception);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    public void Dispose() => _reload?.Dispose();

    private static string FallbackKey(string key) => "call:" + key;

    private bool ReportedByOwnClient(Exception? exception) =>
        exception is not null && IntegrationFailureException.Find(exception, Name) is not null;

    private void Report(IntegrationRuntime runtime, FailureClassification classification, string key, ResilientIntegrationOptions options, SecretRedactor redactor)
    {
        if (ReportedByOwnClient(classification.Exception))
        {
            // An SDK on this integration's own HttpClient: that pipeline already counted, alerted and fed health.
            return;
        }

        runtime.ReportFailure(classification, "CALL", redactor.Redact(key), null, options, redactor);
        if (classification.Kind is not (FailureKind.Rejected or FailureKind.Unknown))
        {
            runtime.Health.Report(Name, new HealthProbeResult(classification, TimeSpan.Zero));
        }
    }

    private Built Current(IntegrationRuntime runtime)
    {
        if (Volatile.Read(ref _current) is { } built)
        {
            return built;
        }

        // Build from the options of this version; publish only if no reload happened meanwhile.
        int version = Volatile.Read(ref _version);
        var options = _options.Get(Name);
        built = new Built(options, PipelineComposer.ComposeForDelegates(runtime, options), new SecretRedactor(options.SensitiveHeaders));
        if (Volatile.Read(ref _version) == version)
        {
            Interlocked.CompareExchange(ref _current, built, null);
        }

        return built;
    }

    private sealed record Built(ResilientIntegrationOptions Options, ResiliencePipeline<object?> Pipeline, SecretRedactor Redactor);
}
