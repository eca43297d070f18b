namespace Resilient.Integrations.Deferral;

/// <summary>
/// Protects deferred writes at rest, e.g. by encrypting them. When one is registered, each write's body and
/// replayed headers are passed through <see cref="Protect"/> before any <see cref="IDeferredWriteStore"/> sees
/// them, and through <see cref="Unprotect"/> before replay; the store keeps only the protected bytes. Off by default.
/// </summary>
/// <remarks>
/// Register it with <c>AddDeferredWriteProtection</c>, or <c>AddDeferredWriteDataProtection</c> for ASP.NET Core
/// Data Protection. The keys must outlive the queue: a write whose key is gone cannot be unprotected and is
/// dead-lettered, still protected, with a Critical alert.
/// </remarks>
public interface IDeferredWriteProtector
{
    /// <summary>Protects bytes before they are stored.</summary>
    /// <param name="plaintext">The bytes to protect.</param>
    /// <returns>The protected bytes.</returns>
    byte[] Protect(byte[] plaintext);

    /// <summary>Restores bytes that <see cref="Protect"/> produced. Throw when they cannot be restored (a missing or changed key, tampering).</summary>
    /// <param name="protectedData">The stored bytes.</param>
    /// <returns>The original bytes.</returns>
    byte[] Unprotect(byte[] protectedData);
}
