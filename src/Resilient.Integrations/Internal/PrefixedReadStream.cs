namespace Resilient.Integrations.Internal;

/// <summary>A read-only stream that yields bytes already read from a stream, then the rest of that stream.</summary>
internal sealed class PrefixedReadStream(byte[] prefix, int prefixLength, Stream rest) : ReadOnlyStream(rest)
{
    private readonly byte[] _prefix = prefix;
    private readonly int _prefixLength = prefixLength;
    private int _position;

    public override int Read(Span<byte> buffer)
    {
        if (TryReadPrefix(buffer, out int copied))
        {
            return copied;
        }

        return Inner.Read(buffer);
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (TryReadPrefix(buffer.Span, out int copied))
        {
            return new ValueTask<int>(copied);
        }

        return Inner.ReadAsync(buffer, cancellationToken);
    }

    private bool TryReadPrefix(Span<byte> destination, out int copied)
    {
        int left = _prefixLength - _position;
        if (left <= 0 || destination.IsEmpty)
        {
            copied = 0;
            return false;
        }

        copied = Math.Min(left, destination.Length);
        _prefix.AsSpan(_position, copied).CopyTo(destination);
        _position += copied;
        return true;
    }
}
