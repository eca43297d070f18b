namespace Resilient.Integrations.Internal;

/// <summary>
/// Reads a bounded prefix of a response body so it can be classified, validated or kept, and leaves the body
/// readable from its start by the caller: buffered or seekable content is rewound, a network stream is
/// replaced by content that replays the prefix and then continues the original stream. Every read honours
/// the token, so an attempt timeout also bounds a body that stalls. A body that breaks off while it is read is
/// replaced by an empty <see cref="DiscardedContent"/>.
/// </summary>
internal static class ResponseBodyReader
{
    private const int FirstChunk = 16 * 1024;

    public static ValueTask<BodyPrefix> ReadPrefixAsync(HttpResponseMessage response, int limit, CancellationToken cancellationToken) =>
        ReadPrefixAsync(response, limit, enough: null, cancellationToken);

    /// <summary>
    /// Reads like <see cref="ReadPrefixAsync(HttpResponseMessage, int, CancellationToken)"/> but stops as soon as
    /// <paramref name="enough"/> says the bytes read so far suffice: an event stream must not wait for a full prefix.
    /// </summary>
    public static async ValueTask<BodyPrefix> ReadPrefixAsync(
        HttpResponseMessage response, int limit, Func<byte[], int, bool>? enough, CancellationToken cancellationToken)
    {
        var content = response.Content;
        long? declared = content.Headers.ContentLength;
        if (limit <= 0 || declared == 0)
        {
            return BodyPrefix.Empty;
        }

        try
        {
            return await ReadPrefixCoreAsync(response, content, declared, limit, enough, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The failed read consumed the body: every later read would throw "already consumed" or "error while
            // copying content". An empty body takes its place, so whoever reads next gets a readable response.
            response.Content = new DiscardedContent(content, ex);
            content.Dispose();
            throw;
        }
    }

#if NET9_0_OR_GREATER
    /// <summary>
    /// Buffers a body of known length inside its content (what HttpClient's <c>GetAsync</c> does with it anyway), for a
    /// reader that looks at the bytes where they are. A body that breaks off is replaced as <see cref="ReadPrefixAsync(HttpResponseMessage, int, CancellationToken)"/> says.
    /// </summary>
    public static ValueTask<HttpContent> BufferAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var content = response.Content;
        Task loading;
        try
        {
            loading = content.LoadIntoBufferAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<HttpContent>(Discard(response, content, ex));
        }

        // A body that has arrived (or was buffered before) costs no state machine.
        return loading.IsCompletedSuccessfully ? new(content) : AwaitBufferingAsync(response, content, loading);
    }

    private static async ValueTask<HttpContent> AwaitBufferingAsync(HttpResponseMessage response, HttpContent content, Task loading)
    {
        try
        {
            await loading.ConfigureAwait(false);
            return content;
        }
        catch (Exception ex)
        {
            Discard(response, content, ex);
            throw;
        }
    }

    private static Exception Discard(HttpResponseMessage response, HttpContent content, Exception ex)
    {
        response.Content = new DiscardedContent(content, ex);
        content.Dispose();
        return ex;
    }
#endif

    private static async ValueTask<BodyPrefix> ReadPrefixCoreAsync(
        HttpResponseMessage response, HttpContent content, long? declared, int limit, Func<byte[], int, bool>? enough, CancellationToken cancellationToken)
    {

#if NET9_0_OR_GREATER
        if (declared is long known && known <= limit && enough is null)
        {
            // Small and of known size: buffer inside the content itself, so nothing has to be replaced, and take
            // one copy of that buffer. (net8's LoadIntoBufferAsync takes no token: there the stream path is used.)
            await content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
            var whole = await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);

            // An in-memory content can hold more than it declares: never hand on more than the limit.
            return whole.Length <= limit ? new BodyPrefix(whole, whole.Length, isComplete: true) : new BodyPrefix(whole, limit, isComplete: false);
        }
#endif

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        long start = stream.CanSeek ? stream.Position : 0;
        int wanted = declared is long length && length < limit ? (int)length : limit;
        var (buffer, read, ended) = await ReadUpToAsync(stream, wanted, declared is null ? 0 : wanted, enough, cancellationToken).ConfigureAwait(false);
        bool complete = ended || (declared is long total && total <= read);

        if (stream.CanSeek)
        {
            stream.Position = start;
        }
        else
        {
            response.Content = Replay(content, buffer, read, complete ? null : stream);
            if (complete)
            {
                // The whole body now lives in the replacement; release the connection it came from.
                stream.Dispose();
                content.Dispose();
            }
        }

        return new BodyPrefix(buffer, read, complete);
    }

    /// <summary>Reads until <paramref name="limit"/> bytes or the end, growing the buffer as data arrives rather than allocating the limit up front.</summary>
    // known: what of the declared length is wanted (0: none declared): then one buffer of that size, not a doubling one.
    private static async ValueTask<(byte[] Buffer, int Read, bool Ended)> ReadUpToAsync(
        Stream stream, int limit, int known, Func<byte[], int, bool>? enough, CancellationToken cancellationToken)
    {
        var buffer = new byte[Math.Min(limit, enough is null ? Math.Max(FirstChunk, known) : 1024)];
        int read = 0;
        while (read < limit && (enough is null || read == 0 || !enough(buffer, read)))
        {
            if (read == buffer.Length)
            {
                Array.Resize(ref buffer, (int)Math.Min(limit, buffer.Length * 2L));
            }

            int n = await stream.ReadAsync(buffer.AsMemory(read, buffer.Length - read), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return (buffer, read, true);
            }

            read += n;
        }

        return (buffer, read, false);
    }

    private static HttpContent Replay(HttpContent original, byte[] prefix, int length, Stream? rest)
    {
        HttpContent replay = rest is null
            ? new ByteArrayContent(prefix, 0, length)
            : new StreamContent(new PrefixedReadStream(prefix, length, rest));
        foreach (var header in original.Headers.NonValidated)
        {
            replay.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return replay;
    }
}
