using Resilient.Integrations.Classification;
using Resilient.Integrations.Credentials.Internal;
using Resilient.Integrations.Health;
using Resilient.Integrations.Internal;

namespace Resilient.Integrations.Providers.Internal;

/// <summary>
/// A probe that asks the API about its own credential (Meta's <c>debug_token</c>): an answer that says the token is no
/// longer valid is Auth, and the expiry it states feeds the integration's credential-expiry watch.
/// </summary>
internal sealed class TokenInspectionProbe(
    HttpClient client, TimeProvider time, string path, Func<string, (bool? Valid, DateTimeOffset? ExpiresAt)> inspect, CredentialExpiryWatch? watch, string source)
    : IHealthProbe
{
    public async ValueTask<HealthProbeResult> ProbeAsync(CancellationToken cancellationToken)
    {
        long started = time.GetTimestamp();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        RequestMarks.Of(request).IsProbe = true;
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            var elapsed = time.GetElapsedTime(started);
            var classification = response.GetFailureClassification();
            if (classification.IsFailure || !response.IsSuccessStatusCode)
            {
                return new HealthProbeResult(classification.IsFailure ? classification : await new FailureClassifier().ClassifyAsync(response, cancellationToken).ConfigureAwait(false), elapsed);
            }

            var (valid, expiresAt) = inspect(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            if (expiresAt is { } at)
            {
                watch?.Observe(at, source);
            }

            return valid == false
                ? new HealthProbeResult(new FailureClassification(FailureKind.Auth) { StatusCode = response.StatusCode, Reason = $"{source}: the token is no longer valid" }, elapsed)
                : HealthProbeResult.Healthy(elapsed);
        }
        catch (IntegrationFailureException failure)
        {
            return new HealthProbeResult(failure.Classification, time.GetElapsedTime(started));
        }
    }
}
