using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;

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
    /// Puts the two loggers on an integration's client where IHttpClientFactory puts the loggers of <c>AddLogger</c>, and
    /// as its loggers: the logical one first, around every handler of the client; the attempt one last, next to the
    /// wire. A later <c>RemoveAllLoggers</c> (or extended HTTP logging, which calls it) removes them, as it removes any
    /// logger. Only the factory can add to its loggers (the list is internal): when this runtime's factory lacks it, the
    /// factory's own logging handler carries the same loggers, which then time every request, logged or not.
    /// </summary>
    public static void AddTo(IHttpClientBuilder builder, string integration)
    {
        if (!IsAvailable)
        {
            builder
                .AddLogger(sp => RedactingHttpClientLogger.Create(sp, integration, logical: true), wrapHandlersPipeline: true)
                .AddLogger(sp => RedactingHttpClientLogger.Create(sp, integration, logical: false));
            return;
        }

        builder.Services.Configure<HttpClientFactoryOptions>(builder.Name, options =>
        {
            var loggers = LoggingBuilderActions(options);
            loggers.Add(b => b.AdditionalHandlers.Insert(0, new RedactingLoggingHandler(RedactingHttpClientLogger.Create(b.Services, integration, logical: true))));
            loggers.Add(b => b.AdditionalHandlers.Add(new RedactingLoggingHandler(RedactingHttpClientLogger.Create(b.Services, integration, logical: false))));
        });
    }

    /// <summary>Gets a value indicating whether this runtime's IHttpClientFactory lets its loggers be added to here.</summary>
    internal static bool IsAvailable { get; } = Probe();

    private static bool Probe()
    {
        try
        {
            return LoggingBuilderActions(new HttpClientFactoryOptions()) is not null;
        }
        catch (MissingMethodException)
        {
            return false;
        }
    }

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_LoggingBuilderActions")]
    private static extern List<Action<HttpMessageHandlerBuilder>> LoggingBuilderActions(HttpClientFactoryOptions options);
}
