using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Polly;
using Polly.Simmy;
using Polly.Simmy.Outcomes;
using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Chaos.Internal;

/// <summary>Answers that look like each failure kind, injected in place of the send by Polly's outcome chaos strategy.</summary>
internal static class ChaosFaults
{
    public const string Header = "X-Resilient-Chaos";

    public static bool IsActive(ChaosPolicy policy, IServiceProvider services)
    {
        if (!policy.Enabled || string.IsNullOrWhiteSpace(policy.Environment))
        {
            return false;
        }

        string current = services.GetService<IHostEnvironment>()?.EnvironmentName
            ?? System.Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT")
            ?? System.Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT")
            ?? Environments.Production;
        return string.Equals(current, policy.Environment, StringComparison.OrdinalIgnoreCase);
    }

    public static ChaosOutcomeStrategyOptions<HttpResponseMessage> Options(ChaosPolicy policy) => new()
    {
        Name = "Chaos",
        InjectionRate = policy.InjectionRate,
        OutcomeGenerator = args => new ValueTask<Outcome<HttpResponseMessage>?>(Outcome.FromResult(Create(policy.Kind, args.Context.GetRequestMessage()))),
    };

    public static HttpResponseMessage Create(FailureKind kind, HttpRequestMessage? request)
    {
        var (status, type, body) = kind switch
        {
            FailureKind.Timeout => (HttpStatusCode.GatewayTimeout, "application/json", """{"error":{"code":"chaos_timeout"}}"""),
            FailureKind.Auth => (HttpStatusCode.Unauthorized, "application/json", """{"error":{"code":"chaos_invalid_api_key"}}"""),
            FailureKind.RateLimit => (HttpStatusCode.TooManyRequests, "application/json", """{"error":{"code":"rate_limit_exceeded"}}"""),
            FailureKind.QuotaExhausted => (HttpStatusCode.TooManyRequests, "application/json", """{"error":{"code":"insufficient_quota"}}"""),
            FailureKind.BadResponse => (HttpStatusCode.OK, "text/html", "<html><body>chaos: not the JSON you expected</body></html>"),
            FailureKind.Rejected => (HttpStatusCode.BadRequest, "application/json", """{"error":{"code":"chaos_rejected"}}"""),
            _ => (HttpStatusCode.ServiceUnavailable, "application/json", """{"error":{"code":"chaos_unavailable"}}"""),
        };
        var response = new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, type), RequestMessage = request };
        response.Headers.TryAddWithoutValidation(Header, kind.ToString());
        if (kind == FailureKind.RateLimit)
        {
            response.Headers.TryAddWithoutValidation("retry-after-ms", "1000");
        }

        return response;
    }
}
