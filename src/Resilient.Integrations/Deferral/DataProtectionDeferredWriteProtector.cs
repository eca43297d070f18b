using Microsoft.AspNetCore.DataProtection;

namespace Resilient.Integrations.Deferral;

/// <summary>Protects deferred writes with ASP.NET Core Data Protection, under the purpose <see cref="Purpose"/>.</summary>
/// <remarks>
/// Persist the key ring (e.g. <c>PersistKeysToFileSystem</c>) and share it between the instances that replay one
/// queue: with the default in-memory ring of a container, a restart loses the keys and with them the queued writes.
/// </remarks>
public sealed class DataProtectionDeferredWriteProtector : IDeferredWriteProtector
{
    /// <summary>The Data Protection purpose string; writes protected under it can only be read under it.</summary>
    public const string Purpose = "Resilient.Integrations.Deferral.DeferredWrite.v1";

    private readonly IDataProtector _protector;

    /// <summary>Creates the protector.</summary>
    /// <param name="provider">The application's Data Protection provider.</param>
    public DataProtectionDeferredWriteProtector(IDataProtectionProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        _protector = provider.CreateProtector(Purpose);
    }

    /// <inheritdoc/>
    public byte[] Protect(byte[] plaintext) => _protector.Protect(plaintext);

    /// <inheritdoc/>
    public byte[] Unprotect(byte[] protectedData) => _protector.Unprotect(protectedData);
}
