using System.Text;

namespace Resilient.Integrations.Internal;

/// <summary>The first bytes of a response body, read without taking the body away from the caller.</summary>
internal readonly struct BodyPrefix
{
    private readonly byte[]? _buffer;

    public BodyPrefix(byte[] buffer, int length, bool isComplete)
    {
        _buffer = buffer;
        Length = length;
        IsComplete = isComplete;
    }

    public static BodyPrefix Empty => new(Array.Empty<byte>(), 0, isComplete: true);

    public int Length { get; }

    /// <summary>Gets a value indicating whether the prefix is the whole body.</summary>
    public bool IsComplete { get; }

    public ReadOnlySpan<byte> Span => _buffer is null ? default : _buffer.AsSpan(0, Length);

    public ReadOnlyMemory<byte> Memory => _buffer is null ? default : _buffer.AsMemory(0, Length);

    /// <summary>The bytes as an array of their own: the buffer itself when it is exactly filled (no copy), else a copy.</summary>
    public byte[] ToArray() => _buffer is not null && _buffer.Length == Length ? _buffer : Span.ToArray();

    // Invalid sequences (a prefix may end inside a character) decode to U+FFFD rather than throwing.
    public string ToText() => Length == 0 ? string.Empty : Encoding.UTF8.GetString(Span);
}
