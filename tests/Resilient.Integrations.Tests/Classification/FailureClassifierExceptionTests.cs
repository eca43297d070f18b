using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Polly;
using Polly.Timeout;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Testing;
using Resilient.Integrations.Tests.Support;

namespace Resilient.Integrations.Tests.Classification;

public sealed class FailureClassifierExceptionTests : ClassifierTestBase
{
    [Fact]
    public async Task Classify_ConnectionRefused_IsUnavailable()
    {
        using var refused = RefusedPort.Hold();
        using var client = new HttpClient();
        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(refused.Url, Ct));

        var result = CreateClassifier().Classify(ex, Ct);

        Assert.Equal(FailureKind.Unavailable, result.Kind);
        Assert.True(result.RetryMayHelp);
        Assert.Same(ex, result.Exception);
        Assert.Equal(nameof(HttpRequestError.ConnectionError), result.Reason);
    }

    [Fact]
    public async Task Classify_ConnectionResetBeforeResponse_IsUnavailable()
    {
        using var peer = RawHttpPeer.Reset();
        using var client = new HttpClient();

        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(peer.Url, Ct));
        var result = CreateClassifier().Classify(ex, Ct);

        Assert.Equal(FailureKind.Unavailable, result.Kind);
        Assert.True(result.RetryMayHelp);
    }

    [Fact]
    public async Task ClassifyAsync_BodyBrokenOffMidway_IsUnavailable()
    {
        using var peer = RawHttpPeer.TruncatedBody("""{"items":[1,2""", declaredLength: 400);
        using var client = new HttpClient();
        using var response = await client.GetAsync(peer.Url, HttpCompletionOption.ResponseHeadersRead, Ct);

        var result = await CreateClassifier().ClassifyAsync(response, Ct);

        Assert.Equal(FailureKind.Unavailable, result.Kind);
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        Assert.NotNull(result.Exception);
    }

    [Fact]
    public void Classify_NameResolutionFailure_IsUnavailable()
    {
        var ex = new HttpRequestException(HttpRequestError.NameResolutionError, "No such host is known.", new SocketException((int)SocketError.HostNotFound));

        var result = CreateClassifier().Classify(ex, Ct);

        Assert.Equal(FailureKind.Unavailable, result.Kind);
        Assert.Equal(nameof(HttpRequestError.NameResolutionError), result.Reason);
    }

    [Fact]
    public async Task Classify_CallerCancelled_IsNotAFailure()
    {
        using var peer = RawHttpPeer.Hang();
        using var client = new HttpClient();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var call = client.GetAsync(peer.Url, cts.Token);
        await Eventually.WaitUntilAsync(() => peer.Requests > 0);
        await cts.CancelAsync();

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        var result = CreateClassifier().Classify(ex, cts.Token);

        Assert.False(result.IsFailure);
        Assert.True(result.IsCancellation);
        Assert.Equal(FailureKind.None, result.Kind);
        Assert.False(result.RetryMayHelp);
    }

    [Fact]
    public async Task Classify_HttpClientTimeout_IsTimeout()
    {
        // HttpClient.Timeout has no TimeProvider: a short real deadline against a peer that never answers.
        using var peer = RawHttpPeer.Hang();
        using var client = new HttpClient { Timeout = TimeSpan.FromMilliseconds(200) };

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync(peer.Url, Ct));
        var result = CreateClassifier().Classify(ex, Ct);

        Assert.Equal(FailureKind.Timeout, result.Kind);
        Assert.True(result.RetryMayHelp);
    }

    [Fact]
    public async Task Classify_PollyAttemptTimeout_IsTimeout()
    {
        using var peer = RawHttpPeer.Hang();
        using var client = new HttpClient();
        var pipeline = new ResiliencePipelineBuilder { TimeProvider = Time }
            .AddTimeout(TimeSpan.FromSeconds(10))
            .Build();

        var call = pipeline.ExecuteAsync(async ct => await client.GetAsync(peer.Url, ct), Ct).AsTask();
        await Eventually.WaitUntilAsync(() => peer.Requests > 0);
        Time.Advance(TimeSpan.FromSeconds(10));

        var ex = await Assert.ThrowsAsync<TimeoutRejectedException>(() => call.WaitAsync(Eventually.Deadline, Ct));
        Assert.Equal(FailureKind.Timeout, CreateClassifier().Classify(ex, Ct).Kind);
    }

    [Fact]
    public void Classify_CancellationNotFromCaller_IsTimeout()
    {
        var result = CreateClassifier().Classify(new TaskCanceledException("deadline"), CancellationToken.None);

        Assert.Equal(FailureKind.Timeout, result.Kind);
    }

    [Fact]
    public void Classify_StatusCarriedByHttpRequestException_UsesStatusMapping()
    {
        var ex = new HttpRequestException("Response status code does not indicate success: 401", null, HttpStatusCode.Unauthorized);

        var result = CreateClassifier().Classify(ex, Ct);

        Assert.Equal(FailureKind.Auth, result.Kind);
        Assert.Equal(HttpStatusCode.Unauthorized, result.StatusCode);
    }

    [Fact]
    public void Classify_JsonException_IsBadResponse()
    {
        Assert.Equal(FailureKind.BadResponse, CreateClassifier().Classify(new JsonException("bad"), Ct).Kind);
    }

    [Fact]
    public void Classify_SingleInnerAggregate_ClassifiesInner()
    {
        var result = CreateClassifier().Classify(new AggregateException(new TimeoutRejectedException()), Ct);

        Assert.Equal(FailureKind.Timeout, result.Kind);
        Assert.IsType<AggregateException>(result.Exception);
    }

    [Fact]
    public void Classify_UnrecognisedException_IsUnknownAndNotRetried()
    {
        var result = CreateClassifier().Classify(new InvalidOperationException("bug"), Ct);

        Assert.Equal(FailureKind.Unknown, result.Kind);
        Assert.False(result.RetryMayHelp);
    }

    [Fact]
    public void Classify_SdkWrapperAroundAConnectionError_ClassifiedByWhatItWraps()
    {
        var classifier = new FailureClassifier();

        var wrapped = classifier.Classify(new InvalidOperationException("SDK I/O error", new HttpRequestException(HttpRequestError.ConnectionError, "refused")), TestContext.Current.CancellationToken);
        var appBug = classifier.Classify(new InvalidOperationException("bad config", new FileNotFoundException("appsettings.json")), TestContext.Current.CancellationToken);

        Assert.Equal(FailureKind.Unavailable, wrapped.Kind);
        Assert.Equal(FailureKind.Unknown, appBug.Kind);
    }
}
