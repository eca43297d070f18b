using System.Globalization;
using System.Net;
using System.Text;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Internal;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Policies.Internal;
using Resilient.Integrations.Redaction.Internal;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Deferral.Internal;

/// <summary>Decides whether a write is deferrable and turns it into a persisted write and a 202 answer.</summary>
internal static class DeferredWriteQueue
{
    public static bool IsDeferrable(HttpRequestMessage? request, RequestMarks? marks, DeferralPolicy policy, IntegrationRuntime runtime)
    {
        if (request is null || runtime.DeferredWrites is null || marks is { IsReplay: true })
        {
            return false;
        }

        return marks?.Defer ?? (policy.DeferWrites && !Policies.Internal.RepeatSafety.IsSafeMethod(request.Method));
    }

    /// <summary>Persists the write, then answers 202 Accepted: the caller is told "queued" only once it is on disk.</summary>
    public static async Task<HttpResponseMessage> QueueAsync(
        HttpRequestMessage request, FailureClassification failure, IntegrationRuntime runtime, ResilientIntegrationOptions options, CancellationToken cancellationToken)
    {
        var write = await DeferredWriteCapture.FromRequestAsync(runtime.Name, request, runtime.Time.GetUtcNow(), options.SensitiveHeaders, cancellationToken).ConfigureAwait(false);
        long id = await EnqueueAsync(runtime, write, failure, cancellationToken).ConfigureAwait(false);
        var deferral = new Deferral(id, write.IdempotencyKey, runtime.Name, failure);
        request.Options.Set(DeferralRequestExtensions.DeferralKey, deferral);
        runtime.Metrics.WriteDeferred(runtime.Name);
        Log.WriteDeferred(runtime.Logger, runtime.Name, request.Method.Method, SecretRedactor.RedactPathAndQuery(request.RequestUri), id,
            failure.IsFailure ? failure.ToString() : "the integration is Red");

        var response = new HttpResponseMessage(HttpStatusCode.Accepted)
        {
            RequestMessage = request,
            Content = new StringContent(
                string.Create(CultureInfo.InvariantCulture, $$"""{"queued":true,"id":{{id}},"notice":"{{deferral.Notice}}"}"""),
                Encoding.UTF8,
                "application/json"),
        };
        response.Headers.TryAddWithoutValidation(DeferralRequestExtensions.DeferredHeader, id.ToString(CultureInfo.InvariantCulture));
        return response;
    }

    /// <summary>
    /// Persists a write. A store that is down or refuses it fails the caller with the call's own failure kind (Unavailable
    /// when nothing was sent because the integration is Red): never a 202 for a write that is not stored.
    /// </summary>
    public static async Task<long> EnqueueAsync(IntegrationRuntime runtime, DeferredWrite write, FailureClassification failure, CancellationToken cancellationToken)
    {
        var sealedWrite = DeferredWriteProtection.Protect(write, runtime.DeferredWriteProtector);
        try
        {
            return await runtime.DeferredWrites!.EnqueueAsync(sealedWrite, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            runtime.Metrics.StoreFailure(runtime.Name, "enqueue");
            Log.EnqueueFailed(runtime.Logger, runtime.Name, ex.GetType().Name, SecretRedactor.RedactExceptionMessage(ex));
            var cause = failure.IsFailure ? failure : new FailureClassification(FailureKind.Unavailable) { Reason = "the integration is Red; nothing was sent" };
            string reason = (cause.Reason is { } earlier ? earlier + "; " : null) + $"the write could not be queued ({ex.GetType().Name}): it is not confirmed as stored (a store that failed after taking it may still deliver it, with the same key)";
            throw new IntegrationFailureException(runtime.Name, cause with { Reason = reason }, ex);
        }
    }
}
