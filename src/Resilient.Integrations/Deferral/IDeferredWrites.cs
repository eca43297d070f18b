namespace Resilient.Integrations.Deferral;

/// <summary>Sends generic writes now, or queues them durably when the integration is down.</summary>
public interface IDeferredWrites
{
    /// <summary>
    /// Delivers a payload through the named handler now; when that fails with a kind in
    /// <see cref="DeferralPolicy.DeferOn"/> (or the integration is Red), persists it for replay instead.
    /// </summary>
    /// <param name="integration">The integration whose health and policies apply.</param>
    /// <param name="handler">The <see cref="IDeferredWriteHandler.Name"/> that delivers it.</param>
    /// <param name="payload">The serialised payload.</param>
    /// <param name="idempotencyKey">The key every attempt carries; generated when <see langword="null"/>.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns><see langword="null"/> when delivered now; the deferral when queued.</returns>
    /// <exception cref="IntegrationFailureException">The write failed in a way that queueing cannot fix (e.g. Rejected).</exception>
    Task<Deferral?> SendOrQueueAsync(string integration, string handler, ReadOnlyMemory<byte> payload, string? idempotencyKey = null, CancellationToken cancellationToken = default);
}
