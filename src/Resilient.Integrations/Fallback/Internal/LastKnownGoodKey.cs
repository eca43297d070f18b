using System.Security.Cryptography;
using System.Text;

namespace Resilient.Integrations.Fallback.Internal;

/// <summary>
/// A request's identity for its last-known-good copy, taken when the call starts (before inner handlers add
/// credentials). The material stays with the call; its SHA-256, the only form a cache ever holds, is computed
/// when a copy is kept or served, not on every call.
/// </summary>
internal sealed class LastKnownGoodKey(string material)
{
    private string? _hash;

    /// <summary>A per-process randomised 32-bit hash of the material: enough to tell request shapes apart for freshness, useless for recovering a secret.</summary>
    public int Tag { get; } = material.GetHashCode(StringComparison.Ordinal);

    /// <summary>The cache key: a hex SHA-256, because the material may carry credentials or a key in the query.</summary>
    public string Value => _hash ??= Hash(material);

    private static string Hash(string material) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(material)));
}
