using Polly;
using Polly.CircuitBreaker;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Failover;
using Resilient.Integrations.Failover.Internal;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// In place of the single circuit breaker when failover or circuits per host are on, inside the retry (so each
/// attempt picks its endpoint afresh): runs the attempt through the circuit of its key. A request under the primary
/// base address goes to the first endpoint whose circuit admits it; an endpoint that is unavailable or times out
/// hands the same attempt to the next one at once, without a retry delay. A write that is not safe to repeat moves
/// on only when the failure proves it was not acted on (the write rules of <see cref="RepeatSafety"/>).
/// </summary>
internal sealed class KeyedCircuitStrategy(
    IntegrationRuntime runtime, ResilientIntegrationOptions options, KeyedCircuits circuits, FailoverRoutes? routes)
    : ResilienceStrategy<HttpResponseMessage>
{
    /// <summary>The key of the integration-wide circuit: calls that are neither under the primary nor keyed by host.</summary>
    public const string WholeKey = "";

    private static readonly ResiliencePropertyKey<Uri> OriginKey = new("ri.origin");

    protected override async ValueTask<Outcome<HttpResponseMessage>> ExecuteCore<TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<HttpResponseMessage>>> callback, ResilienceContext context, TState state)
    {
        var request = context.GetRequestMessage();
        if (request?.RequestUri is not { IsAbsoluteUri: true } uri)
        {
            return await circuits.Get(WholeKey, runtime.Name, CircuitRole.Whole).Pipeline.ExecuteOutcomeAsync(callback, context, state).ConfigureAwait(context.ContinueOnCapturedContext);
        }

        // Retries send the same request: each attempt starts from the address the caller gave.
        if (routes is not null && !context.Properties.TryGetValue(OriginKey, out uri))
        {
            uri = request.RequestUri;
            context.Properties.Set(OriginKey, uri);
        }

        if (routes?.PrimaryOf(uri) is not { } primary)
        {
            KeyedCircuit circuit;
            if (options.CircuitBreaker.PerHost)
            {
                string host = HostKey(uri);
                circuit = circuits.Get(host, host, CircuitRole.Host);
            }
            else
            {
                circuit = circuits.Get(WholeKey, runtime.Name, CircuitRole.Whole);
            }

            return await circuit.Pipeline.ExecuteOutcomeAsync(callback, context, state).ConfigureAwait(context.ContinueOnCapturedContext);
        }

        return await FailOverAsync(callback, context, state, request, uri, primary, routes).ConfigureAwait(context.ContinueOnCapturedContext);
    }

    /// <summary>The scheme, host and port: never user information, path or query.</summary>
    internal static string HostKey(Uri uri) => uri.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped);

    private async ValueTask<Outcome<HttpResponseMessage>> FailOverAsync<TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<HttpResponseMessage>>> callback, ResilienceContext context, TState state,
        HttpRequestMessage request, Uri origin, string primary, FailoverRoutes routes)
    {
        var call = CallState.Of(context);
        int last = routes.Secondaries;
        FailureClassification passedOver = default;
        long now = runtime.Time.GetUtcNow().UtcTicks;
        for (int i = 0; ; i++)
        {
            string key = i == 0 ? primary : routes.SecondaryBase(i - 1);
            var circuit = circuits.Get(key, key, CircuitRole.Endpoint);

            // An open circuit is passed over at once; the last endpoint runs anyway, so that an open circuit there
            // fails the attempt the way Polly fails it.
            if (i < last && circuit.IsKnownOpen(now))
            {
                passedOver = OpenCircuit;
                continue;
            }

            request.RequestUri = i == 0 ? origin : routes.Rewrite(origin, primary, i - 1);
            var outcome = await circuit.Pipeline.ExecuteOutcomeAsync(callback, context, state).ConfigureAwait(context.ContinueOnCapturedContext);
            if (context.CancellationToken.IsCancellationRequested)
            {
                request.RequestUri = origin; // alerts name, and a queued write replays to, the address the caller gave
                return outcome;
            }

            var classification = await runtime.ClassifyAsync(outcome, context).ConfigureAwait(context.ContinueOnCapturedContext);
            bool moveOn = i < last && classification.IsFailure && !classification.IsCancellation &&
                classification.Kind is FailureKind.Unavailable or FailureKind.Timeout;
            if (!moveOn)
            {
                Served(request, outcome.Result, origin, i, key, primary, passedOver, classification);
                return outcome;
            }

            if (outcome.Exception is BrokenCircuitException)
            {
                // Polly refused without sending (a half-open probe already out): nothing reached the endpoint.
                passedOver = classification;
                continue;
            }

            if (call is { Repeatable: false } && !RepeatSafety.ProvesNotActedOn(classification))
            {
                // Returned as it is: the retry layer reads the same failure and does not repeat the write either.
                Log.WriteNotFailedOver(runtime.Logger, runtime.Name, routes.SecondaryBase(i), classification.Kind, key);
                Served(request, outcome.Result, origin, i, key, primary, passedOver, classification);
                return outcome;
            }

            outcome.Result?.Dispose();
            passedOver = classification;
        }
    }

    private static readonly FailureClassification OpenCircuit = new(FailureKind.Unavailable) { Reason = "circuit open", RetryMayHelp = false };

    /// <summary>Marks a live answer of a secondary as such; the primary's answer, or a failure, carries no mark.</summary>
    private void Served(
        HttpRequestMessage request, HttpResponseMessage? response, Uri? origin, int index, string key, string primary, in FailureClassification passedOver, in FailureClassification outcome)
    {
        if (outcome.IsFailure && origin is not null)
        {
            // A failure is the primary's to report, to queue (a deferred write replays to the address the caller gave) or to serve a copy for.
            request.RequestUri = origin;
        }

        if (index == 0 || outcome.IsFailure)
        {
            ((IDictionary<string, object?>)request.Options).Remove(FailoverResponseExtensions.ServedKey.Key);
            if (index == 0 && !outcome.IsFailure)
            {
                runtime.Failover.PrimaryServed(primary);
            }

            return;
        }

        var served = new ServedEndpoint(routes!.SecondaryAddress(index - 1), routes.PrimaryAddress(primary), passedOver);
        request.Options.Set(FailoverResponseExtensions.ServedKey, served);
        response?.Headers.TryAddWithoutValidation(FailoverResponseExtensions.ServedByHeader, key);
        runtime.Failover.SecondaryServed(served, options.Failover.Alert);
    }
}
