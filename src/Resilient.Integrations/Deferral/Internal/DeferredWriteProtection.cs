using System.Text;

namespace Resilient.Integrations.Deferral.Internal;

/// <summary>
/// Seals a write's body and replayed headers (the fields that can carry secrets or personal data) into one
/// protected blob before any store sees it, and opens it again before replay. The rest (method, address with
/// secret query values already dropped, idempotency key, times) stays readable for the store and its queries.
/// </summary>
internal static class DeferredWriteProtection
{
    // Marks a sealed write in its header list. No HTTP header can be named with a colon, so it never collides, and a
    // write stored before protection was turned on (no marker) is still replayed as it is.
    internal const string Marker = ":protected";
    private const string Version = "1";

    public static DeferredWrite Protect(DeferredWrite write, IDeferredWriteProtector? protector)
    {
        if (protector is null)
        {
            return write;
        }

        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write7BitEncodedInt(write.Headers.Count);
            foreach (var (name, value) in write.Headers)
            {
                writer.Write(name);
                writer.Write(value);
            }

            writer.Write(write.Body.Span);
        }

        byte[] sealedBytes;
        try
        {
            sealedBytes = protector.Protect(buffer.ToArray());
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new DeferredWriteProtectionException(
                write.Integration, write.Id, $"A deferred write of '{write.Integration}' could not be protected ({ex.GetType().Name}); it was not queued.", ex);
        }

        return With(write, [new(Marker, Version)], sealedBytes);
    }

    public static DeferredWrite Unprotect(DeferredWrite write, IDeferredWriteProtector? protector)
    {
        if (write.Headers is not [{ Key: Marker } marker])
        {
            return write;
        }

        string prefix = $"Deferred write {write.Id} of '{write.Integration}' was stored protected";
        if (protector is null)
        {
            throw new DeferredWriteProtectionException(
                write.Integration, write.Id, prefix + ", but no IDeferredWriteProtector is registered: register the one that protected it (AddDeferredWriteProtection).");
        }

        if (marker.Value != Version)
        {
            throw new DeferredWriteProtectionException(write.Integration, write.Id, prefix + $" in an unknown format (version '{marker.Value}').");
        }

        try
        {
            using var reader = new BinaryReader(new MemoryStream(protector.Unprotect(write.Body.ToArray())), Encoding.UTF8);
            int count = reader.Read7BitEncodedInt();
            var headers = new List<KeyValuePair<string, string>>(count);
            for (int i = 0; i < count; i++)
            {
                headers.Add(new(reader.ReadString(), reader.ReadString()));
            }

            return With(write, headers, reader.ReadBytes((int)(reader.BaseStream.Length - reader.BaseStream.Position)));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new DeferredWriteProtectionException(
                write.Integration, write.Id, prefix + $" and could not be unprotected ({ex.GetType().Name}): the key that protected it is missing or changed, or the data was altered.", ex);
        }
    }

    private static DeferredWrite With(DeferredWrite write, IReadOnlyList<KeyValuePair<string, string>> headers, byte[] body) => new()
    {
        Id = write.Id,
        Integration = write.Integration,
        Handler = write.Handler,
        Method = write.Method,
        Uri = write.Uri,
        Headers = headers,
        Body = body,
        IdempotencyKey = write.IdempotencyKey,
        Attempts = write.Attempts,
        EnqueuedAt = write.EnqueuedAt,
        NextAttemptAt = write.NextAttemptAt,
        LastFailure = write.LastFailure,
    };
}
