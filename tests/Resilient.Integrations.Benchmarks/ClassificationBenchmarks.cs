using System.Net;
using System.Text;
using BenchmarkDotNet.Attributes;
using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Benchmarks;

/// <summary>Classification alone: a status-only result, and an OpenAI JSON error body.</summary>
[MemoryDiagnoser]
public class ClassificationBenchmarks
{
    private static readonly byte[] QuotaBody = Encoding.UTF8.GetBytes(
        """{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}""");

    private readonly FailureClassifier _classifier = new(new FailureClassifierOptions { ResponseValidator = null });
    private readonly HttpResponseMessage _unavailable = new(HttpStatusCode.ServiceUnavailable);
    private readonly HttpResponseMessage _ok = new(HttpStatusCode.OK);

    [Benchmark]
    public FailureKind StatusOnly_503() => _classifier.ClassifyAsync(_unavailable).GetAwaiter().GetResult().Kind;

    [Benchmark]
    public FailureKind StatusOnly_200() => _classifier.ClassifyAsync(_ok).GetAwaiter().GetResult().Kind;

    [Benchmark]
    public async Task<FailureKind> ProviderJsonErrorBody_429()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests) { Content = new ByteArrayContent(QuotaBody) };
        response.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return (await _classifier.ClassifyAsync(response)).Kind;
    }
}
