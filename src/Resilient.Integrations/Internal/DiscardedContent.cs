using System.Net;

namespace Resilient.Integrations.Internal;

/// <summary>
/// What stands in for a body that broke off while the library read it: an empty body, under the original content
/// headers but for its length. The failed read consumed the original, whose every later read would throw a framework
/// exception ("the stream was already consumed", "error while copying content").
/// </summary>
internal sealed class DiscardedContent : HttpContent
{
    public DiscardedContent(HttpContent original, Exception cause)
    {
        Cause = cause;
        foreach (var header in original.Headers.NonValidated)
        {
            if (!header.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }
    }

    /// <summary>Gets why the body was discarded.</summary>
    public Exception Cause { get; }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => Task.CompletedTask;

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) => Task.CompletedTask;

    protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
    }

    protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult<Stream>(new MemoryStream([], writable: false));

    protected override Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) => CreateContentReadStreamAsync();

    protected override Stream CreateContentReadStream(CancellationToken cancellationToken) => new MemoryStream([], writable: false);

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return true;
    }
}
