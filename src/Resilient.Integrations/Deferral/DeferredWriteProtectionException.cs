namespace Resilient.Integrations.Deferral;

/// <summary>
/// A deferred write could not be protected before it was stored, or unprotected before replay (the key that
/// protected it is missing or changed, the data was altered, or it was stored protected and no
/// <see cref="IDeferredWriteProtector"/> is registered). Replay dead-letters such a write, still protected, with a
/// Critical alert, so it is neither lost nor retried forever.
/// </summary>
public sealed class DeferredWriteProtectionException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="integration">The integration the write belongs to.</param>
    /// <param name="writeId">The write's identifier; 0 when it was not stored yet.</param>
    /// <param name="message">What failed and what to do about it. It must hold no part of the write.</param>
    /// <param name="innerException">The protector's own exception, if any.</param>
    public DeferredWriteProtectionException(string integration, long writeId, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Integration = integration;
        WriteId = writeId;
    }

    /// <summary>Gets the integration the write belongs to.</summary>
    /// <value>Set by the constructor.</value>
    public string Integration { get; }

    /// <summary>Gets the write's identifier.</summary>
    /// <value>Set by the constructor; 0 when the write was not stored yet.</value>
    public long WriteId { get; }
}
