namespace Resilient.Integrations.Internal;

/// <summary>
/// Reads a bounded prefix of a response body so it can be classified or validated, and leaves the body
/// readable from its start by the caller: buffered or seekable content is rewound, a network stream is
/// replaced by content that replays the prefix and then continues the original stream.
/// </summary>
internal static class ResponseBodyReader
{
    public static async ValueTask<BodyPrefix> ReadPrefixAsync(HttpResponseMessage response, int limit, CancellationToken cancellationToken)
    {
        var content = response.Content;
        long? declared = content.Headers.ContentLength;
        if (limit <= 0 || declared == 0)
        {
            return BodyPrefix.Empty;
        }

        if (declared is long known && known <= limit)
        {
            // Small and of known size: buffer inside the content itself, so nothing has to be replaced.
#if NET9_0_OR_GREATER
            await content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
#else
            await content.LoadIntoBufferAsync().ConfigureAwait(false);
#endif
        }

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        int size = declared is long length && length < limit ? (int)length : limit;
        var buffer = new byte[size];
        long start = stream.CanSeek ? stream.Position : 0;
        int read = await stream.ReadAtLeastAsync(buffer, size, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        bool complete = read < size || (declared is long total && total <= read);

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
