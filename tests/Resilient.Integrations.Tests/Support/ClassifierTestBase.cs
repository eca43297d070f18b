using Microsoft.Extensions.Time.Testing;
using Resilient.Integrations.Classification;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Resilient.Integrations.Tests.Support;

/// <summary>A loopback WireMock server, a client for it and a fake clock, for classification tests.</summary>
public abstract class ClassifierTestBase : IDisposable
{
    protected static readonly DateTimeOffset Now = new(2026, 11, 23, 6, 0, 0, TimeSpan.Zero);

    protected ClassifierTestBase()
    {
        Server = LoopbackServer.Start();
        Client = new HttpClient { BaseAddress = new Uri(Server.Url!) };
        Time = new FakeTimeProvider(Now);
    }

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected WireMockServer Server { get; }

    protected HttpClient Client { get; }

    protected FakeTimeProvider Time { get; }

    protected FailureClassifier CreateClassifier(Action<FailureClassifierOptions>? configure = null)
    {
        var options = new FailureClassifierOptions();
        configure?.Invoke(options);
        return new FailureClassifier(options, Time);
    }

    /// <summary>Makes the server answer GET /call with the given response.</summary>
    protected void Respond(int status, string? body = null, string contentType = "application/json", params (string Name, string Value)[] headers)
    {
        var response = Response.Create().WithStatusCode(status);
        if (body is not null)
        {
            response = response.WithHeader("Content-Type", contentType).WithBody(body);
        }

        foreach (var (name, value) in headers)
        {
            response = response.WithHeader(name, value);
        }

        Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(response);
    }

    protected Task<HttpResponseMessage> CallAsync(HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead) =>
        Client.GetAsync("/call", completion, Ct);

    protected async Task<FailureClassification> CallAndClassifyAsync(FailureClassifier? classifier = null)
    {
        using var response = await CallAsync();
        return await (classifier ?? CreateClassifier()).ClassifyAsync(response, Ct);
    }

    public void Dispose()
    {
        Client.Dispose();
        Server.Stop();
        Server.Dispose();
        GC.SuppressFinalize(this);
    }
}
