using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Redaction.Internal;

/// <summary>
/// Logs an integration's HTTP calls in place of IHttpClientFactory's default loggers. Those mask header values
/// in the message only: their structured state keeps the raw values, and a sink that records state
/// (OpenTelemetry, Serilog, Application Insights) stores the credential; <c>RedactLoggedHeaders</c> changes the
/// message alone. Here every argument is a string already redacted, so message and state hold the same text.
/// </summary>
internal sealed class RedactingHttpClientLogger(ILogger logger, string integration, IOptionsMonitor<ResilientIntegrationOptions> options) : IHttpClientLogger
{
    /// <summary>One for the logical call (around the pipeline) or one per attempt (next to the wire), named like the defaults.</summary>
    public static RedactingHttpClientLogger Create(IServiceProvider services, string integration, bool logical) => new(
        services.GetRequiredService<ILoggerFactory>().CreateLogger($"System.Net.Http.HttpClient.{integration}.{(logical ? "LogicalHandler" : "ClientHandler")}"),
        integration,
        services.GetRequiredService<IOptionsMonitor<ResilientIntegrationOptions>>());

    /// <summary>Gets a value indicating whether the category writes any line (every line is Information or finer).</summary>
    public bool IsEnabled => logger.IsEnabled(LogLevel.Information);

    public void LogRequestStart(HttpRequestMessage request)
    {
        // Checked first: the redacted address is built per request, and this category is often above Information.
        if (logger.IsEnabled(LogLevel.Information))
        {
            Log.HttpRequestStart(logger, request.Method.Method, Address(request.RequestUri));
        }

        if (logger.IsEnabled(LogLevel.Trace))
        {
            Log.HttpRequestHeaders(logger, Headers(request.Headers, request.Content?.Headers, request));
        }
    }

    public void LogRequestStop(HttpRequestMessage request, HttpResponseMessage response, TimeSpan elapsed)
    {
        Log.HttpRequestEnd(logger, elapsed.TotalMilliseconds, (int)response.StatusCode);
        if (logger.IsEnabled(LogLevel.Trace))
        {
            Log.HttpResponseHeaders(logger, Headers(response.Headers, response.Content?.Headers, request));
        }
    }

    public void LogRequestFailed(HttpRequestMessage request, Exception exception, TimeSpan elapsed)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            Log.HttpRequestFailed(logger, request.Method.Method, Address(request.RequestUri), elapsed.TotalMilliseconds, exception);
        }
    }

    // Where the factory's own logging handler carries these loggers (RedactingLoggingHandler.AddTo's fallback).
    object? IHttpClientLogger.LogRequestStart(HttpRequestMessage request)
    {
        LogRequestStart(request);
        return null;
    }

    void IHttpClientLogger.LogRequestStop(object? context, HttpRequestMessage request, HttpResponseMessage response, TimeSpan elapsed) =>
        LogRequestStop(request, response, elapsed);

    void IHttpClientLogger.LogRequestFailed(object? context, HttpRequestMessage request, HttpResponseMessage? response, Exception exception, TimeSpan elapsed) =>
        LogRequestFailed(request, exception, elapsed);

    /// <summary>Scheme, host and port, then the path and query with secret values masked; never user info.</summary>
    private static string Address(Uri? uri) =>
        uri is { IsAbsoluteUri: true } ? uri.GetLeftPart(UriPartial.Scheme) + uri.Authority + SecretRedactor.RedactPathAndQuery(uri) : SecretRedactor.RedactPathAndQuery(uri);

    private string Headers(HttpHeaders headers, HttpHeaders? contentHeaders, HttpRequestMessage request)
    {
        // Built per call from the current options (the list can change on reload); only Trace pays for it.
        var redactor = new SecretRedactor(options.Get(integration).SensitiveHeaders);
        var text = new StringBuilder();
        HttpHeaders[] sources = contentHeaders is null ? [headers] : [headers, contentHeaders];
        foreach (var source in sources)
        {
            foreach (var (name, values) in source.NonValidated)
            {
                foreach (var value in values)
                {
                    // A sensitive header is masked whole; any other value may still quote a credential or carry a known shape.
                    text.Append(name).Append(": ").Append(redactor.IsSensitiveHeader(name) ? SecretRedactor.Mask : redactor.Redact(value, request)).Append("\r\n");
                }
            }
        }

        return text.ToString();
    }
}
