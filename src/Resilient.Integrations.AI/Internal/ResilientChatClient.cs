using Resilient.Integrations.Fallback;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Resilient.Integrations.AI.Internal;

/// <summary>
/// The middleware: each request runs under the integration's policies. A stream counts as a call until its
/// first update; from then on the caller holds data, so a failure is reported and thrown but never replayed.
/// </summary>
internal sealed class ResilientChatClient(IChatClient inner, IResilientIntegration integration, ResilientChatClientOptions settings, TimeProvider time)
    : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        // Materialised once: a retry must send the same messages, and a lazy sequence may not enumerate twice.
        var list = Materialize(messages);
        string? key = settings.ServeLastGoodAnswer ? KeyFor(list, options) : null;
        try
        {
            var live = await integration.ExecuteLiveAsync(ct => base.GetResponseAsync(list, options, ct), safeToRepeat: true, cancellationToken).ConfigureAwait(false);
            if (key is not null)
            {
                Remember(key, live);
            }

            return live;
        }
        catch (IntegrationFailureException failure) when (key is not null && TryServe(key, failure, out var kept))
        {
            return Stale(kept.Value, kept.Degradation!);
        }
    }

    /// <summary>Gets the integration whose policies this layer applies.</summary>
    public IResilientIntegration Integration => integration;

    /// <summary>
    /// Serves the last good answer, unless a failover runs this call: then the copy is left for the failover to
    /// serve once every secondary has failed, and the failure goes up.
    /// </summary>
    private bool TryServe(string key, IntegrationFailureException failure, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IntegrationResult<ChatResponse>? kept)
    {
        if (CopyDeferral.Current is { } deferral)
        {
            deferral.Leave(this, key);
            kept = null;
            return false;
        }

        return integration.TryServeLastGood(key, failure.Classification, out kept);
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = Materialize(messages);
        string? key = settings.ServeLastGoodAnswer ? KeyFor(list, options) : null;

        var opened = await OpenAsync(list, options, key, cancellationToken).ConfigureAwait(false);
        if (opened.Stale is { } stale)
        {
            foreach (var update in stale)
            {
                yield return update;
            }

            yield break;
        }

        var stream = opened.Stream!;
        var received = key is null ? null : new List<ChatResponseUpdate>();
        var idle = new IdleWatch(opened.Cancellation!, settings.StreamIdleTimeout, time);
        try
        {
            var current = opened.First;
            while (current is not null)
            {
                received?.Add(current);
                yield return current;
                current = await NextAsync(stream, idle, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            try
            {
                await idle.DisposeAsync().ConfigureAwait(false); // waits for a callback under way, before the token goes
                await stream.DisposeAsync().ConfigureAwait(false);
            }
            finally
            {
                opened.Cancellation?.Dispose();
            }
        }

        if (key is not null && received is { Count: > 0 })
        {
            Remember(key, received.ToChatResponse());
        }
    }

    internal void Remember(string key, ChatResponse live)
    {
        var kept = Keepable(live);
        integration.RememberLastGood(key, kept, ApproximateBytes(kept));
    }

    /// <summary>Roughly what a kept answer holds: its text (UTF-16), reasoning and data, and a fixed share per message and content.</summary>
    private static long ApproximateBytes(ChatResponse kept)
    {
        long bytes = 512;
        foreach (var message in kept.Messages)
        {
            bytes += 256;
            foreach (var content in message.Contents)
            {
                bytes += content switch
                {
                    TextContent text => 64 + (2L * (text.Text?.Length ?? 0)),
                    TextReasoningContent reasoning => 64 + (2L * (reasoning.Text?.Length ?? 0)),
                    DataContent data => 128 + data.Data.Length,
                    _ => 1024, // a tool call or result: small as a rule
                };
            }
        }

        return bytes;
    }

    private static List<ChatMessage> Materialize(IEnumerable<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return messages as List<ChatMessage> ?? [.. messages];
    }

    /// <summary>
    /// A copy without the SDK's raw objects, which can hold buffers and must not live on in the cache, and with
    /// lists and dictionaries of its own, so that nothing a caller changes reaches the kept answer (or back).
    /// </summary>
    private static ChatResponse Keepable(ChatResponse live) => new([.. live.Messages.Select(Copy)])
    {
        ResponseId = live.ResponseId,
        ModelId = live.ModelId,
        CreatedAt = live.CreatedAt,
        FinishReason = live.FinishReason,
        Usage = live.Usage,
    };

    private static ChatMessage Copy(ChatMessage message) => new(message.Role, [.. message.Contents.Select(Copy)])
    {
        AuthorName = message.AuthorName,
        MessageId = message.MessageId,
        CreatedAt = message.CreatedAt,
        AdditionalProperties = message.AdditionalProperties is { } properties ? new(properties) : null,
    };

    // Text is most of an answer and carries the SDK's raw part; other contents (tool calls) are kept as they are.
    private static AIContent Copy(AIContent content) => content is TextContent text ? new TextContent(text.Text) : content;

    internal static ChatResponse Stale(ChatResponse kept, Degradation degradation)
    {
        var copy = Keepable(kept);
        copy.AdditionalProperties = new() { [ChatResponseDegradationExtensions.PropertyName] = degradation };
        return copy;
    }

    internal static ChatResponseUpdate[] StaleUpdates(ChatResponse kept, Degradation degradation)
    {
        // Keepable made this copy's dictionaries for this answer alone: marking them in place touches nothing kept.
        var updates = Keepable(kept).ToChatResponseUpdates();
        foreach (var update in updates)
        {
            (update.AdditionalProperties ??= [])[ChatResponseDegradationExtensions.PropertyName] = degradation;
        }

        return updates;
    }

    private string KeyFor(List<ChatMessage> messages, ChatOptions? chatOptions) =>
        settings.RequestKey?.Invoke(messages, chatOptions) is { Length: > 0 } custom
            ? "chat:" + custom
            : "chat:" + AIJsonUtilities.HashDataToString([messages, chatOptions], AIJsonUtilities.DefaultOptions);

    private async Task<Opened> OpenAsync(List<ChatMessage> messages, ChatOptions? chatOptions, string? key, CancellationToken cancellationToken)
    {
        try
        {
            return await integration.ExecuteLiveAsync(ct => OpenAttemptAsync(messages, chatOptions, ct, cancellationToken), safeToRepeat: true, cancellationToken).ConfigureAwait(false);
        }
        catch (IntegrationFailureException failure) when (key is not null && TryServe(key, failure, out var kept))
        {
            return new Opened(null, null, null, StaleUpdates(kept.Value, kept.Degradation!));
        }
    }

    /// <summary>
    /// One attempt: open the stream and wait for its first update. The stream gets its own token, tied to the
    /// attempt's deadline only until the first update; the attempt's token is pooled by Polly and must not
    /// reach a stream that outlives the attempt.
    /// </summary>
    private async Task<Opened> OpenAttemptAsync(List<ChatMessage> messages, ChatOptions? chatOptions, CancellationToken attempt, CancellationToken caller)
    {
        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(caller);
        IAsyncEnumerator<ChatResponseUpdate>? stream = null;
        bool handedOver = false;
        try
        {
            bool any;
            using (attempt.Register(static s => ((CancellationTokenSource)s!).Cancel(), cancellation))
            {
                stream = base.GetStreamingResponseAsync(messages, chatOptions, cancellation.Token).GetAsyncEnumerator(cancellation.Token);
                any = await stream.MoveNextAsync().ConfigureAwait(false);
            }

            // The attempt's deadline may have fired between the first update and the end of the registration:
            // then the stream's token is spent, so this attempt failed as a timeout and is retried whole.
            if (cancellation.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellation.Token);
            }

            if (!any)
            {
                return new Opened(null, null, null, []);
            }

            handedOver = true;
            return new Opened(stream, stream.Current, cancellation, null);
        }
        finally
        {
            if (!handedOver)
            {
                try
                {
                    if (stream is not null)
                    {
                        await stream.DisposeAsync().ConfigureAwait(false);
                    }
                }
                finally
                {
                    cancellation.Dispose();
                }
            }
        }
    }

    private async ValueTask<ChatResponseUpdate?> NextAsync(IAsyncEnumerator<ChatResponseUpdate> stream, IdleWatch idle, CancellationToken cancellationToken)
    {
        idle.Start();
        try
        {
            return await stream.MoveNextAsync().ConfigureAwait(false) ? stream.Current : null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (idle.Fired)
            {
                ex = new TimeoutException($"The stream sent no update for {idle.Timeout}.", ex);
            }

            // The caller already has part of the answer: replaying would duplicate it. Report, type it and stop.
            var classification = integration.ReportFailure(ex, cancellationToken);
            if (classification.IsCancellation)
            {
                throw; // the caller's own cancellation, wrapped by the SDK: never a failure
            }

            throw new IntegrationFailureException(integration.Name, classification, ex);
        }
        finally
        {
            idle.Stop(); // the caller's time with an update is not the stream's silence
        }
    }

    /// <summary>Cancels the stream's own token when the upstream stays silent too long between updates.</summary>
    private sealed class IdleWatch : IAsyncDisposable
    {
        private readonly ITimer? _timer;
        private volatile bool _fired;

        public IdleWatch(CancellationTokenSource stream, TimeSpan timeout, TimeProvider time)
        {
            Timeout = timeout;
            if (timeout != System.Threading.Timeout.InfiniteTimeSpan)
            {
                _timer = time.CreateTimer(
                    static state =>
                    {
                        var (watch, source) = ((IdleWatch, CancellationTokenSource))state!;
                        watch._fired = true;
                        try
                        {
                            source.Cancel();
                        }
                        catch (ObjectDisposedException)
                        {
                            // The stream ended and released its token while this callback was starting: nothing to stop.
                        }
                        catch (AggregateException)
                        {
                            // A registration of the SDK's failed while cancelling; the reader meets the cancellation
                            // anyway, and a throw here would end the process from a timer thread.
                        }
                    },
                    (this, stream),
                    System.Threading.Timeout.InfiniteTimeSpan,
                    System.Threading.Timeout.InfiniteTimeSpan);
            }
        }

        public TimeSpan Timeout { get; }

        public bool Fired => _fired;

        public void Start() => _timer?.Change(Timeout, System.Threading.Timeout.InfiniteTimeSpan);

        public void Stop() => _timer?.Change(System.Threading.Timeout.InfiniteTimeSpan, System.Threading.Timeout.InfiniteTimeSpan);

        public ValueTask DisposeAsync() => _timer?.DisposeAsync() ?? default;
    }

    private sealed record Opened(
        IAsyncEnumerator<ChatResponseUpdate>? Stream, ChatResponseUpdate? First, CancellationTokenSource? Cancellation, ChatResponseUpdate[]? Stale);
}
