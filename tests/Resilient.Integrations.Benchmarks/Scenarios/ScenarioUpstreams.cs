using System.Globalization;
using System.Net;
using System.Text;
using Resilient.Integrations.Testing;

namespace Resilient.Integrations.Benchmarks.Scenarios;

/// <summary>An upstream that is 100% down: every attempt is answered 503 at once, and counted.</summary>
internal sealed class DownUpstream : HttpMessageHandler
{
    private int _attempts;

    public int Attempts => Volatile.Read(ref _attempts);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _attempts);
        return Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
        {
            Content = new StringContent("""{"error":{"code":"service_unavailable"}}""", Encoding.UTF8, "application/json"),
            RequestMessage = request,
        });
    }
}

/// <summary>An OpenAI-style upstream behind a token-bucket quota: 200 with x-ratelimit-* headers, or 429 with the exact retry-after-ms.</summary>
internal sealed class QuotaUpstream(TokenBucketQuota quota) : HttpMessageHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        if (quota.TryTake(out var wait))
        {
            response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("""{"data":[{"id":1}]}""", Encoding.UTF8, "application/json") };
            response.Headers.Add("x-ratelimit-limit-requests", quota.Capacity.ToString(CultureInfo.InvariantCulture));
            response.Headers.Add("x-ratelimit-remaining-requests", quota.Remaining.ToString(CultureInfo.InvariantCulture));
            response.Headers.Add("x-ratelimit-reset-requests", Math.Ceiling(quota.UntilFull.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms");
        }
        else
        {
            response = new HttpResponseMessage(HttpStatusCode.TooManyRequests)
            {
                Content = new StringContent("""{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}""", Encoding.UTF8, "application/json"),
            };
            response.Headers.Add("retry-after-ms", Math.Ceiling(wait.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));
            response.Headers.Add("Retry-After", Math.Ceiling(wait.TotalSeconds).ToString(CultureInfo.InvariantCulture));
        }

        response.RequestMessage = request;
        return Task.FromResult(response);
    }
}

/// <summary>An upstream that answers every request 200, but only after <paramref name="delay"/> on the (virtual) clock; counts requests.</summary>
internal sealed class SlowUpstream(TimeProvider clock, TimeSpan delay) : HttpMessageHandler
{
    private int _requests;

    public int Requests => Volatile.Read(ref _requests);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        await Task.Delay(delay, clock, cancellationToken).ConfigureAwait(false);
        return new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StringContent("""{"data":[{"id":1}]}""", Encoding.UTF8, "application/json"),
            RequestMessage = request,
        };
    }
}
