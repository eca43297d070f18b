using Polly;
using Polly.Telemetry;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Policies.Internal;

namespace Resilient.Integrations.Telemetry.Internal;

/// <summary>
/// Puts the failure kind in OpenTelemetry's <c>error.type</c> on Polly's metrics of this library's pipelines
/// (<c>{integration}-resilient</c> for HTTP, <c>{integration}-delegates</c> for SDK calls), so dashboards group
/// failures by what they mean (RateLimit, Auth, …) rather than by status code or exception type. Registered after
/// every other enricher (post-configured) so the kind is the one <c>error.type</c> left.
/// </summary>
internal sealed class FailureKindEnricher(IntegrationRegistry registry) : MeteringEnricher
{
    // Pipeline name → integration name, so an event (one per attempt, successes included) allocates nothing.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string?> _names = new(StringComparer.Ordinal);

    public override void Enrich<TResult, TArgs>(in EnrichmentContext<TResult, TArgs> context)
    {
        var telemetry = context.TelemetryEvent;
        if (telemetry.Outcome is not { } outcome || telemetry.Source.PipelineName is not { } pipeline ||
            _names.GetOrAdd(pipeline, Integration) is not { } name || registry.Find(name) is not { } runtime)
        {
            return;
        }

        var kind = outcome.Exception is { } exception ? KindOf(exception, runtime, telemetry.Context)
            : outcome.Result is HttpResponseMessage response ? CallState.Of(telemetry.Context)?.ClassificationOf(response)?.Kind
            : null;
        if (kind is { } k && k != FailureKind.None)
        {
            // Microsoft.Extensions.Http.Resilience's own enricher puts the status code there; one key, one value.
            var tags = context.Tags;
            for (int i = tags.Count - 1; i >= 0; i--)
            {
                if (tags[i].Key == "error.type")
                {
                    tags.RemoveAt(i);
                }
            }

            tags.Add(new KeyValuePair<string, object?>("error.type", k.ToString()));
        }
    }

    private static string? Integration(string pipeline) => pipeline switch
    {
        _ when pipeline.EndsWith("-resilient", StringComparison.Ordinal) => pipeline[..^"-resilient".Length],
        _ when pipeline.EndsWith("-delegates", StringComparison.Ordinal) => pipeline[..^"-delegates".Length],
        _ => null,
    };

    private static FailureKind KindOf(Exception exception, IntegrationRuntime runtime, ResilienceContext context) => exception switch
    {
        IntegrationFailureException failure => failure.Kind,
        _ when context.CancellationToken.IsCancellationRequested => FailureKind.None, // the caller's cancellation is not a failure
        _ => Classify(exception, runtime, context),
    };

    // A user's rule that throws must not break Polly's telemetry: the event keeps Polly's own tags.
    private static FailureKind Classify(Exception exception, IntegrationRuntime runtime, ResilienceContext context)
    {
        try
        {
            return runtime.Classifier.Classify(exception, context.CancellationToken).Kind;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return FailureKind.None;
        }
    }
}
