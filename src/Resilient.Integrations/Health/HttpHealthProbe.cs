using Resilient.Integrations.Classification;
using Resilient.Integrations.Internal;

namespace Resilient.Integrations.Health;

/// <summary>
/// The built-in probe: one minimal request (e.g. <c>GET /v1/models</c>, which spends no tokens) through the
/// integration's own client, so its credentials and classification apply. A probe is never retried, never
/// answered from the last-known-good copy and never alerts by itself: the health layer decides.
/// </summary>
public sealed class HttpHealthProbe : IHealthProbe
{
    private readonly HttpClient _client;
    private readonly Uri _path;
    private readonly TimeProvider _time;

    /// <summary>Creates the probe.</summary>
    /// <param name="client">The integration's client (from <see cref="IHttpClientFactory"/> by the integration's name).</param>
    /// <param name="path">The address to GET, relative to the client's base address.</param>
    /// <param name="timeProvider">Measures latency. Defaults to <see cref="TimeProvider.System"/>.</param>
    public HttpHealthProbe(HttpClient client, string path, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        _client = client;
        _path = new Uri(path, UriKind.RelativeOrAbsolute);
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc/>
    public async ValueTask<HealthProbeResult> ProbeAsync(CancellationToken cancellationToken)
    {
        long started = _time.GetTimestamp();
        using var request = new HttpRequestMessage(HttpMethod.Get, _path);
        RequestMarks.Of(request).IsProbe = true;
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            var classification = response.GetFailureClassification();
            if (!classification.IsFailure && !response.IsSuccessStatusCode)
            {
                // A client without the resilient pipeline: classify the status here.
                classification = await new FailureClassifier().ClassifyAsync(response, cancellationToken).ConfigureAwait(false);
            }

            return new HealthProbeResult(classification, _time.GetElapsedTime(started));
        }
        catch (IntegrationFailureException failure)
        {
            return new HealthProbeResult(failure.Classification, _time.GetElapsedTime(started));
        }
    }
}
