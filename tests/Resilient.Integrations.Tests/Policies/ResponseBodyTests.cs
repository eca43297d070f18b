using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Tests.Support;

namespace Resilient.Integrations.Tests.Policies;

/// <summary>
/// Whatever an upstream sends as a body, the caller gets a body it can read or an <see cref="IntegrationFailureException"/>
/// with a kind, through every HttpClient API: a body that outlasts the call's budget, one past the size limit, one that
/// breaks off, one that is not valid UTF-8.
/// </summary>
public sealed class ResponseBodyTests
{
    private const int SmallLimit = 1024 * 1024;
    private const string JsonHeaders = "Content-Type: application/json\r\nConnection: close";

    // 64 MiB of JSON once inflated, a few hundred KiB on the wire: built once for the class.
    private static readonly Lazy<byte[]> GzipBomb = new(() => GzipJsonArray(64 * 1024 * 1024));

    public enum Api
    {
        GetAsync,
        GetStringAsync,
        GetFromJsonAsync,
        SendAsyncThenReadAsString,
    }

    public static TheoryData<Api, bool> EveryApi
    {
        get
        {
            var data = new TheoryData<Api, bool>();
            foreach (var api in Enum.GetValues<Api>())
            {
                data.Add(api, true);
                data.Add(api, false);
            }

            return data;
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(EveryApi))]
    public async Task Read_BodyStallsAfterTheHeaders_FailsAsTimeoutWhenTheBudgetRunsOut(Api api, bool throwOnFailure)
    {
        // More than the validator and the fallback read (1 MiB each), so the pipeline returns; then nothing more.
        using var peer = RawHttpPeer.Answer(JsonHeaders, JsonArray(SmallLimit + 4096, close: false), thenStall: true);
        await using var h = IntegrationHarness.Create(o =>
        {
            o.BaseAddress = new Uri(peer.Url);
            o.ThrowOnFailure = throwOnFailure;
        });

        var call = CallAsync(h.Client, api);
        await Eventually.WaitUntilAsync(h.Clock.HasLiveDeadline); // the pipeline has returned; the body is being read
        h.Clock.Advance(IntegrationHarness.TotalTimeout);
        var (_, _, error) = await call.WaitAsync(TimeSpan.FromSeconds(30), Ct); // real time bounds a broken build only

        var failure = AssertFailure(error, FailureKind.Timeout);
        Assert.Contains("TotalTimeout", failure.Classification.Reason, StringComparison.Ordinal);
        Assert.False(h.Clock.HasLiveDeadline());
    }

    [Fact]
    public async Task Read_BodyTimesOut_ReportedOnceAsTheCallsFailure()
    {
        using var peer = RawHttpPeer.Answer(JsonHeaders, JsonArray(SmallLimit + 4096, close: false), thenStall: true);
        await using var h = IntegrationHarness.Create(o => o.BaseAddress = new Uri(peer.Url));
        using var failures = h.Metric("resilient_integrations.failures");

        var call = CallAsync(h.Client, Api.GetAsync);
        await Eventually.WaitUntilAsync(h.Clock.HasLiveDeadline);
        h.Clock.Advance(IntegrationHarness.TotalTimeout);
        await call.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        var alert = Assert.Single(await h.SettledAlertsAsync());
        Assert.Equal(FailureKind.Timeout, alert.Kind);
        Assert.Equal(AlertSeverity.Warning, alert.Severity);
        Assert.Equal(1, failures.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Fact]
    public async Task Read_StreamReadToItsEnd_DeadlineReleasedWithoutDisposal()
    {
        using var peer = RawHttpPeer.Answer(JsonHeaders, JsonArray(SmallLimit + 4096), thenStall: false);
        await using var h = IntegrationHarness.Create(o => o.BaseAddress = new Uri(peer.Url));
        using var response = await h.Client.GetAsync("/call", HttpCompletionOption.ResponseHeadersRead, Ct);

        var stream = await response.Content.ReadAsStreamAsync(Ct); // read to the end, left undisposed
        var copy = new MemoryStream();
        await stream.CopyToAsync(copy, Ct);

        Assert.Equal(SmallLimit + 4096, copy.Length);
        Assert.False(h.Clock.HasLiveDeadline());
    }

    [Fact]
    public async Task Read_EventStreamPastTheBudget_StillReadable()
    {
        using var peer = RawHttpPeer.OpenEventStream("data: {\"delta\":\"Weekly\"}\n\n");
        await using var h = IntegrationHarness.Create(o => o.BaseAddress = new Uri(peer.Url));
        using var response = await h.Client.GetAsync("/call", HttpCompletionOption.ResponseHeadersRead, Ct);

        h.Clock.Advance(IntegrationHarness.TotalTimeout * 2); // an LLM stream may outlast the budget: the caller bounds it
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Ct));
        string? line = await reader.ReadLineAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.Equal("data: {\"delta\":\"Weekly\"}", line);
    }

    [Theory]
    [MemberData(nameof(EveryApi))]
    public async Task Read_GzipBodyInflatesPastTheLimit_FailsAsBadResponseAfterBoundedReading(Api api, bool throwOnFailure)
    {
        using var peer = RawHttpPeer.Answer(
            $"Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {GzipBomb.Value.Length}", GzipBomb.Value, thenStall: false);
        var wire = new WireCount();
        await using var h = IntegrationHarness.Create(
            o =>
            {
                o.BaseAddress = new Uri(peer.Url);
                o.MaxResponseBodyBytes = SmallLimit;
                o.ThrowOnFailure = throwOnFailure;
            },
            services: s => s.AddHttpClient(IntegrationHarness.Name)
                .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.All })
                .AddHttpMessageHandler(() => new WireCounter(wire)));

        var (_, _, error) = await CallAsync(h.Client, api);

        var failure = AssertFailure(error, FailureKind.BadResponse);
        Assert.Contains("MaxResponseBodyBytes", failure.Classification.Reason, StringComparison.Ordinal);
        Assert.InRange(wire.DecodedBytes, SmallLimit, 2 * SmallLimit); // of 64 MiB: reading stopped at the limit
    }

    [Theory]
    [MemberData(nameof(EveryApi))]
    public async Task Read_EndlessFastBody_FailsAsBadResponseAtTheLimit(Api api, bool throwOnFailure)
    {
        using var peer = RawHttpPeer.Endless(JsonHeaders, "[0"u8.ToArray(), Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(",0", 8192))));
        await using var h = IntegrationHarness.Create(o =>
        {
            o.BaseAddress = new Uri(peer.Url);
            o.MaxResponseBodyBytes = SmallLimit + 4096;
            o.ThrowOnFailure = throwOnFailure;
        });

        var (_, _, error) = await CallAsync(h.Client, api).WaitAsync(TimeSpan.FromSeconds(30), Ct);

        AssertFailure(error, FailureKind.BadResponse);
    }

    [Fact]
    public async Task Read_DeclaredLengthAboveTheLimit_FailsAsBadResponseNamingIt()
    {
        using var peer = RawHttpPeer.TruncatedBody(Encoding.ASCII.GetString(JsonArray(SmallLimit + 4096, close: false)), declaredLength: 4 * SmallLimit);
        await using var h = IntegrationHarness.Create(o =>
        {
            o.BaseAddress = new Uri(peer.Url);
            o.MaxResponseBodyBytes = 2 * SmallLimit;
        });

        var (_, _, error) = await CallAsync(h.Client, Api.GetAsync);

        var failure = AssertFailure(error, FailureKind.BadResponse);
        Assert.Contains($"declares {4 * SmallLimit} bytes", failure.Classification.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(EveryApi))]
    public async Task Read_ShortBodyBrokenOff_TypedUnavailableOrClassifiedEmptyResponse(Api api, bool throwOnFailure)
    {
        // Broken off inside what the validator reads: the pipeline sees it, so the caller can get the classified response.
        using var peer = RawHttpPeer.TruncatedBody("""{"items":[1,2""", declaredLength: 400);
        await using var h = IntegrationHarness.Create(o =>
        {
            o.BaseAddress = new Uri(peer.Url);
            o.Unavailable.MaxRetries = 0;
            o.ThrowOnFailure = throwOnFailure;
        });

        var (response, body, error) = await CallAsync(h.Client, api);

        if (!throwOnFailure && api is Api.GetAsync or Api.SendAsyncThenReadAsString)
        {
            Assert.Null(error);
            Assert.NotNull(response);
            using (response)
            {
                var classification = response.GetFailureClassification();
                Assert.Equal(FailureKind.Unavailable, classification.Kind);
                Assert.Contains("discarded", classification.Reason, StringComparison.Ordinal);
                Assert.Equal(string.Empty, body);
            }
        }
        else
        {
            // GetStringAsync and GetFromJsonAsync see only the body: an empty one must not pass for the answer.
            AssertFailure(error, FailureKind.Unavailable);
        }
    }

    [Theory]
    [MemberData(nameof(EveryApi))]
    public async Task Read_LongBodyBrokenOff_TypedUnavailable(Api api, bool throwOnFailure)
    {
        // 10 MB declared, 3 MB sent: the break comes after the pipeline returned, while the caller's API reads.
        using var peer = RawHttpPeer.TruncatedBody(Encoding.ASCII.GetString(JsonArray(3_000_000, close: false)), declaredLength: 10_000_000);
        await using var h = IntegrationHarness.Create(o =>
        {
            o.BaseAddress = new Uri(peer.Url);
            o.ThrowOnFailure = throwOnFailure;
        });

        var (_, _, error) = await CallAsync(h.Client, api);

        AssertFailure(error, FailureKind.Unavailable);
    }

    [Theory]
    [MemberData(nameof(EveryApi))]
    public async Task Read_InvalidUtf8InJsonString_TypedBadResponseOrClassifiedReadableResponse(Api api, bool throwOnFailure)
    {
        byte[] body = [.. """{"name":"M"""u8, 0xC3, 0x28, .. "ller\"}"u8];
        using var peer = RawHttpPeer.Answer($"Content-Type: application/json\r\nContent-Length: {body.Length}", body, thenStall: false);
        await using var h = IntegrationHarness.Create(o =>
        {
            o.BaseAddress = new Uri(peer.Url);
            o.ThrowOnFailure = throwOnFailure;
        });

        var (response, text, error) = await CallAsync(h.Client, api);

        if (!throwOnFailure && api is Api.GetAsync or Api.SendAsyncThenReadAsString)
        {
            Assert.Null(error);
            Assert.NotNull(response);
            using (response)
            {
                Assert.Equal(FailureKind.BadResponse, response.GetFailureClassification().Kind);
                Assert.Equal(body, await response.Content.ReadAsByteArrayAsync(Ct)); // the raw body, as the server sent it
                Assert.NotNull(text);
            }
        }
        else
        {
            var failure = AssertFailure(error, FailureKind.BadResponse);
            Assert.Contains("UTF-8", failure.Classification.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Options_MaxResponseBodyBytesTooSmall_FailsAtStartNamingTheKey()
    {
        var error = Assert.Throws<OptionsValidationException>(() =>
        {
            var services = new ServiceCollection();
            services.AddResilientIntegration("crm", o => o.MaxResponseBodyBytes = 100);
            using var provider = services.BuildServiceProvider();
            _ = provider.GetRequiredService<IOptionsMonitor<ResilientIntegrationOptions>>().Get("crm");
        });

        Assert.Contains("ResilientIntegrations:crm:MaxResponseBodyBytes", error.Message, StringComparison.Ordinal);
    }

    private static IntegrationFailureException AssertFailure(Exception? error, FailureKind kind)
    {
        var failure = Assert.IsType<IntegrationFailureException>(error);
        Assert.Equal(kind, failure.Kind);
        Assert.Equal(IntegrationHarness.Name, failure.Integration);
        return failure;
    }

    /// <summary>Calls GET /call through one HttpClient API and reads the body as that API's user would.</summary>
    private static async Task<(HttpResponseMessage? Response, string? Body, Exception? Error)> CallAsync(HttpClient client, Api api)
    {
        HttpResponseMessage? response = null;
        try
        {
            switch (api)
            {
                case Api.GetAsync:
                    response = await client.GetAsync("/call", Ct);
                    return (response, await response.Content.ReadAsStringAsync(Ct), null);
                case Api.GetStringAsync:
                    return (null, await client.GetStringAsync("/call", Ct), null);
                case Api.GetFromJsonAsync:
                    return (null, (await client.GetFromJsonAsync<JsonElement>("/call", Ct)).GetRawText(), null);
                default:
                    response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/call"), HttpCompletionOption.ResponseHeadersRead, Ct);
                    return (response, await response.Content.ReadAsStringAsync(Ct), null);
            }
        }
        catch (Exception ex)
        {
            response?.Dispose();
            return (null, null, ex);
        }
    }

    /// <summary><c>[0,0,0,…</c> of the given length, closed with <c>]</c> unless <paramref name="close"/> is false.</summary>
    private static byte[] JsonArray(int length, bool close = true)
    {
        var bytes = new byte[length];
        bytes.AsSpan().Fill((byte)'0');
        bytes[0] = (byte)'[';
        for (int i = 2; i < length - 1; i += 2)
        {
            bytes[i] = (byte)',';
        }

        if (close)
        {
            bytes[^1] = (byte)']';
            if (bytes[^2] == (byte)',')
            {
                bytes[^2] = (byte)'0';
            }
        }

        return bytes;
    }

    /// <summary><c>[0,0,0,…</c> of about <paramref name="length"/> bytes, gzipped as it is written: never all in memory.</summary>
    private static byte[] GzipJsonArray(int length)
    {
        var chunk = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("0,", 32 * 1024)));
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write("["u8);
            for (int written = 0; written < length; written += chunk.Length)
            {
                gzip.Write(chunk);
            }
        }

        return output.ToArray();
    }

    private sealed class WireCount
    {
        private long _bytes;

        public long DecodedBytes => Interlocked.Read(ref _bytes);

        public void Add(int bytes) => Interlocked.Add(ref _bytes, bytes);
    }

    /// <summary>Counts the decoded bytes the pipeline pulls from the wire (it sits inside the pipeline, after decompression).</summary>
    private sealed class WireCounter(WireCount count) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            var counted = new StreamContent(new CountingStream(await response.Content.ReadAsStreamAsync(cancellationToken), count));
            foreach (var header in response.Content.Headers.NonValidated)
            {
                counted.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            response.Content = counted;
            return response;
        }

        private sealed class CountingStream(Stream inner, WireCount count) : Resilient.Integrations.Internal.ReadOnlyStream(inner)
        {
            public override int Read(Span<byte> buffer) => Counted(Inner.Read(buffer));

            public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
                Counted(await Inner.ReadAsync(buffer, cancellationToken));

            private int Counted(int read)
            {
                count.Add(read);
                return read;
            }
        }
    }
}
