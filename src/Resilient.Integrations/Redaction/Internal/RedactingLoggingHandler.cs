using System.Diagnostics;
using Microsoft.Extensions.Http;
using Resilient.Integrations.Health.Internal;

namespace Resilient.Integrations.Redaction.Internal;

/// <summary>
/// Writes an integration's HTTP log lines through <see cref="RedactingHttpClientLogger"/>, around the pipeline (the
/// logical call) or next to the wire (each attempt). A category above Information costs a call one level check: no
/// clock read and no state machine, where IHttpClientFactory's logging handlers time every request whether or not
/// anything is written.
/// </summary>
internal sealed class RedactingLoggingHandler(RedactingHttpClientLogger log) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        log.IsEnabled ? SendLoggedAsync(request, cancellationToken) : base.SendAsync(request, cancellationToken);

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!log.IsEnabled)
        {
            return base.Send(request, cancellationToken);
        }

        long started = Stopwatch.GetTimestamp();
        log.LogRequestStart(request);
        try
        {
            var response = base.Send(request, cancellationToken);
            log.LogRequestStop(request, response, Stopwatch.GetElapsedTime(started));
            return response;
        }
        catch (Exception ex)
        {
            log.LogRequestFailed(request, ex, Stopwatch.GetElapsedTime(started));
            throw;
        }
    }

    private async Task<HttpResponseMessage> SendLoggedAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        log.LogRequestStart(request);
        try
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            log.LogRequestStop(request, response, Stopwatch.GetElapsedTime(started));
            return response;
        }
        catch (Exception ex)
        {
            log.LogRequestFailed(request, ex, Stopwatch.GetElapsedTime(started));
            throw;
        }
    }

    /// <summary>
    /// Puts the two loggers on every integration's client once all its handlers are in: the logical one first, around
    /// the whole pipeline, and the attempt one last, next to the primary handler (where IHttpClientFactory puts its own).
    /// </summary>
    internal sealed class Filter(IEnumerable<IntegrationName> integrations) : IHttpMessageHandlerBuilderFilter
    {
        private readonly HashSet<string> _names = integrations.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);

        public Action<HttpMessageHandlerBuilder> Configure(Action<HttpMessageHandlerBuilder> next) => builder =>
        {
            next(builder);
            if (builder.Name is { } name && _names.Contains(name))
            {
                builder.AdditionalHandlers.Insert(0, new RedactingLoggingHandler(RedactingHttpClientLogger.Create(builder.Services, name, logical: true)));
                builder.AdditionalHandlers.Add(new RedactingLoggingHandler(RedactingHttpClientLogger.Create(builder.Services, name, logical: false)));
            }
        };
    }
}
