using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Resilient.Integrations.Fallback.Internal;

/// <summary>
/// A request's identity for its last-known-good copy, taken when the call starts (before inner handlers add
/// credentials). Its parts stay with the call, unjoined; their SHA-256, the only form a cache ever holds, is computed
/// when a copy is kept or served, not on every call.
/// </summary>
internal sealed class LastKnownGoodKey
{
    private readonly string? _head;
    private readonly string? _name;
    private readonly string? _address;
    private readonly string? _partition;
    private readonly string? _credentials;
    private string? _hash;

#pragma warning disable CA5394 // A seed that differs per process, not a secret: the identity never leaves the process.
    private static readonly ulong Seed = (ulong)Random.Shared.NextInt64();
#pragma warning restore CA5394

    /// <summary>A key from the parts of its material, joined only if its hash is needed.</summary>
    public LastKnownGoodKey(string? head, string? name, string? address, string? partition, string? credentials)
    {
        (_head, _name, _address, _partition, _credentials) = (head, name, address, partition, credentials);

        // A per-process seeded 64-bit XxHash3 over every part with its length: 64 bits tell request shapes apart for
        // freshness (a clash among 100,000 shapes ~1 in 3.7 billion), and are useless for recovering a secret.
        ReadOnlySpan<string?> parts = [head, name, address, partition, credentials];
        int total = 0;
        foreach (var part in parts)
        {
            total += 2 + (part?.Length ?? 0);
        }

        // The parts laid end to end, each after its length, hashed at once: on the stack for most requests.
        char[]? rented = total > StackChars ? System.Buffers.ArrayPool<char>.Shared.Rent(total) : null;
        Span<char> material = rented is null ? stackalloc char[total] : rented.AsSpan(0, total);
        int at = 0;
        foreach (var part in parts)
        {
            var chars = part.AsSpan();
            material[at++] = (char)(chars.Length >> 16);
            material[at++] = (char)chars.Length;
            chars.CopyTo(material[at..]);
            at += chars.Length;
        }

        Identity = (long)XxHash3.HashToUInt64(MemoryMarshal.AsBytes(material), (long)Seed);
        if (rented is not null)
        {
            System.Buffers.ArrayPool<char>.Shared.Return(rented);
        }
    }

    private const int StackChars = 256;

    /// <summary>The shape's identity in the freshness table.</summary>
    public long Identity { get; }

    /// <summary>The cache key: a hex SHA-256, because the material may carry credentials or a key in the query.</summary>
    public string Value => _hash ??= Hash(string.Concat([_head, _name, _address, "\n", _partition, _credentials]));

    private static string Hash(string material)
    {
        // The same bytes as before (UTF-8 of the material), without an array for them when they are few.
        int most = Encoding.UTF8.GetMaxByteCount(material.Length);
        byte[]? rented = most > 1024 ? System.Buffers.ArrayPool<byte>.Shared.Rent(most) : null;
        Span<byte> utf8 = rented ?? stackalloc byte[1024];
        try
        {
            int length = Encoding.UTF8.GetBytes(material, utf8);
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(utf8[..length], hash);
            return Convert.ToHexString(hash);
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
