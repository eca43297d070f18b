using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Fallback.Internal;

/// <summary>
/// The shared tier of one integration's last good copies, in an <see cref="IDistributedCache"/>. It is a dependency that
/// fails too: every call is bounded by <see cref="FallbackPolicy.SharedTimeout"/>, a failure or a timeout only means the
/// copy in memory is used alone, and a Warning says so once until the tier answers again.
/// </summary>
internal sealed class SharedCopies(IDistributedCache cache, string integration, ILogger logger, IDeferredWriteProtector? protector, TimeProvider time)
{
    private readonly Resilient.Integrations.Internal.SharedTier _tier = new(
        (type, message) => Log.SharedCopiesUnavailable(logger, integration, type, message),
        () => Log.SharedCopiesBack(logger, integration));


    /// <summary>Writes a kept copy in the background: never on the success path's critical path.</summary>
    public void WriteBehind(LastKnownGoodKey key, StoredResponse stored, FallbackPolicy policy) =>
        _ = Task.Run(() => WriteAsync(Key(key.Value), stored, policy));

    /// <summary>The shared copy of a request shape, or <see langword="null"/> when there is none or the tier does not answer in time.</summary>
    public async Task<StoredResponse?> ReadAsync(string key, FallbackPolicy policy, CancellationToken cancellationToken)
    {
        byte[]? bytes;
        try
        {
            bytes = await cache.GetAsync(Key(key), cancellationToken).WaitAsync(policy.SharedTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            _tier.Failed(ex);
            return null;
        }

        _tier.Answered();
        if (bytes is null)
        {
            return null;
        }

        try
        {
            return StoredResponse.FromBytes(protector is null ? bytes : protector.Unprotect(bytes));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Written by another version, sealed with a key this instance lacks, or altered: a miss, not a failure of the call.
            Log.SharedCopyUnreadable(logger, integration, ex.GetType().Name);
            return null;
        }
    }

    private async Task WriteAsync(string key, StoredResponse stored, FallbackPolicy policy)
    {
        try
        {
            // Relative to now: the cache's clock need not agree with this instance's.
            var expiresIn = stored.FetchedAt + policy.MaxStaleness - time.GetUtcNow();
            if (expiresIn <= TimeSpan.Zero)
            {
                return;
            }

            byte[] bytes = stored.ToBytes();
            bytes = protector is null ? bytes : protector.Protect(bytes);
            var expiry = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = expiresIn };
            await cache.SetAsync(key, bytes, expiry).WaitAsync(policy.SharedTimeout).ConfigureAwait(false);
            _tier.Answered();
        }
#pragma warning disable CA1031 // A write-behind that fails costs other instances a fresher copy, never this call.
        catch (Exception ex)
        {
            _tier.Failed(ex);
        }
#pragma warning restore CA1031
    }

    private string Key(string key) => $"resilient-integrations:last-good:{integration}:{key}";
}
