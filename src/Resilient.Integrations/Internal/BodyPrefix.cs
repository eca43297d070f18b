using System.Text;

namespace Resilient.Integrations.Internal;

/// <summary>The first bytes of a response body, read without taking the body away from the caller.</summary>
internal readonly struct BodyPrefix
{
    private readonly byte[]? _buffer;

    private readonly bool _borrowed;

    /// <param name="buffer">The bytes, from the first.</param>
    /// <param name="length">How many of them are the body's.</param>
    /// <param name="isComplete">Whether they are the whole body.</param>
    /// <param name="borrowed">Whether the buffer is the content's own (pooled, freed with it): then <see cref="ToArray"/> always copies.</param>
    public BodyPrefix(byte[] buffer, int length, bool isComplete, bool borrowed = false)
    {
        _buffer = buffer;
        Length = length;
        IsComplete = isComplete;
        _borrowed = borrowed;
    }

    public static BodyPrefix Empty => new(Array.Empty<byte>(), 0, isComplete: true);

    public int Length { get; }

    /// <summary>Gets a value indicating whether the prefix is the whole body.</summary>
    public bool IsComplete { get; }

    public ReadOnlySpan<byte> Span => _buffer is null ? default : _buffer.AsSpan(0, Length);

    public ReadOnlyMemory<byte> Memory => _buffer is null ? default : _buffer.AsMemory(0, Length);

    /// <summary>The bytes as an array of their own: the buffer itself when it is ours and exactly filled (no copy), else a copy.</summary>
    public byte[] ToArray() => _buffer is not null && !_borrowed && _buffer.Length == Length ? _buffer : Span.ToArray();

    // Invalid sequences (a prefix may end inside a character) decode to U+FFFD rather than throwing.
    public string ToText() => Length == 0 ? string.Empty : Encoding.UTF8.GetString(Span);
}
