using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Resilient.Integrations.AI.Failover;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Health;

namespace Resilient.Integrations.AI.Internal;

/// <summary>
/// The ladder: the primary (the inner client, under its own resilience layer), then each secondary that is not Red,
/// then the last good answer of any step that keeps one, then the primary's failure. A step's resilience layer
/// leaves its copy to the ladder (<see cref="CopyDeferral"/>), so no copy is served while a secondary may answer live.
/// A stream moves on only until its first update.
/// </summary>
internal sealed class ChatFailoverClient(
    IChatClient primary, string primaryName, FailoverSecondaryClient[] secondaries, FailoverRules rules,
    IIntegrationHealthMonitor? health, ILogger logger, FailoverMetrics metrics)
    : DelegatingChatClient(primary)
{
    public override async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = messages as List<ChatMessage> ?? [.. messages]; // every step sends the same messages
        var ladder = new Ladder();
        var outcome = await RunPrimaryAsync(() => InnerClient.GetResponseAsync(list, options, cancellationToken), ladder, cancellationToken).ConfigureAwait(false);
        if (outcome is { } live)
        {
            return live;
        }

        foreach (var secondary in StepsAfter(ladder))
        {
            var answer = await RunSecondaryAsync(secondary, () => secondary.Client.GetResponseAsync(list, options, cancellationToken), ladder, cancellationToken).ConfigureAwait(false);
            if (answer is not null)
            {
                var failover = Answered(ladder, secondary.Name);
                Mark(answer.AdditionalProperties ??= [], failover);
                ladder.RefreshPrimaryCopy(answer);
                return answer;
            }
        }

        if (ladder.TryServeCopy(out var kept, out var owner))
        {
            var stale = ResilientChatClient.Stale(kept.Value, kept.Degradation!);
            Mark(stale.AdditionalProperties!, ServedCopy(ladder, owner, kept));
            return stale;
        }

        throw Failed(ladder);
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = messages as List<ChatMessage> ?? [.. messages];
        var ladder = new Ladder();
        var opened = await RunPrimaryAsync(() => OpenAsync(InnerClient, list, options, cancellationToken), ladder, cancellationToken).ConfigureAwait(false);
        ChatFailover? failover = null;
        if (opened is null)
        {
            foreach (var secondary in StepsAfter(ladder))
            {
                opened = await RunSecondaryAsync(secondary, () => OpenAsync(secondary.Client, list, options, cancellationToken), ladder, cancellationToken).ConfigureAwait(false);
                if (opened is not null)
                {
                    failover = Answered(ladder, secondary.Name);
                    break;
                }
            }
        }

        if (opened is null)
        {
            if (!ladder.TryServeCopy(out var kept, out var owner))
            {
                throw Failed(ladder);
            }

            var served = ServedCopy(ladder, owner, kept);
            foreach (var update in ResilientChatClient.StaleUpdates(kept.Value, kept.Degradation!))
            {
                Mark(update.AdditionalProperties!, served);
                yield return update;
            }

            yield break;
        }

        // From the first update on the caller holds data: whatever fails now is thrown, never moved on.
        var stream = opened.Stream;
        var received = failover is not null && ladder.KeepsPrimaryCopy ? new List<ChatResponseUpdate>() : null;
        try
        {
            var current = opened.First;
            while (current is not null)
            {
                if (failover is not null)
                {
                    Mark(current.AdditionalProperties ??= [], failover);
                }

                received?.Add(current);
                yield return current;
                current = await stream.MoveNextAsync().ConfigureAwait(false) ? stream.Current : null;
            }
        }
        finally
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }

        if (received is { Count: > 0 })
        {
            ladder.RefreshPrimaryCopy(received.ToChatResponse());
        }
    }

    /// <summary>The primary's call; <see langword="null"/> when it failed in a way that moves the call on.</summary>
    private async Task<T?> RunPrimaryAsync<T>(Func<Task<T>> call, Ladder ladder, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return await CopyDeferral.RunAsync(ladder.PrimaryCopy, call).ConfigureAwait(false);
        }
        catch (IntegrationFailureException failure) when (!cancellationToken.IsCancellationRequested)
        {
            ladder.PrimaryFailed(ExceptionDispatchInfo.Capture(failure));
            ladder.Passed.Add(new ChatFailoverPass(failure.Integration, failure.Classification, SkippedAsRed: false));
            ladder.Route = rules.RouteFor(failure.Classification);
            if (ladder.Route is null && !rules.MovesOn(failure.Classification))
            {
                // Not a failure another provider helps with (a rejected request, say): the caller gets it as it is.
                ladder.Ended = true;
            }

            return null;
        }
    }

    /// <summary>A secondary's call; <see langword="null"/> when it failed (recorded in the ladder).</summary>
    private static async Task<T?> RunSecondaryAsync<T>(FailoverSecondaryClient secondary, Func<Task<T>> call, Ladder ladder, CancellationToken cancellationToken)
        where T : class
    {
        var deferral = new CopyDeferral();
        try
        {
            return await CopyDeferral.RunAsync(deferral, call).ConfigureAwait(false);
        }
        catch (IntegrationFailureException failure) when (!cancellationToken.IsCancellationRequested)
        {
            ladder.Passed.Add(new ChatFailoverPass(secondary.Name, failure.Classification, SkippedAsRed: false));
            ladder.SecondaryFailed(deferral, failure.Classification);
            return null;
        }
    }

    /// <summary>The secondaries to try, in order: the routed one alone, or every one while each fails in a way that moves on; Red ones skipped.</summary>
    private IEnumerable<FailoverSecondaryClient> StepsAfter(Ladder ladder)
    {
        if (ladder.Ended)
        {
            yield break;
        }

        foreach (var secondary in secondaries)
        {
            if (ladder.Route is { } route && !string.Equals(route, secondary.Name, StringComparison.Ordinal))
            {
                continue;
            }

            if (health?.Get(secondary.Name) is { State: HealthState.Red } red)
            {
                ladder.Passed.Add(new ChatFailoverPass(secondary.Name, new FailureClassification(red.LastFailureKind ?? FailureKind.Unknown), SkippedAsRed: true));
                continue;
            }

            int before = ladder.Passed.Count;
            yield return secondary;

            // Here only when the secondary failed: move on only for a kind failover is for (never past a routed one).
            if (ladder.Route is not null || ladder.Passed.Count == before || !rules.MovesOn(ladder.Passed[^1].Failure))
            {
                yield break;
            }
        }
    }

    private ChatFailover Answered(Ladder ladder, string answeredBy)
    {
        var failover = new ChatFailover(ChatFailoverStep.Secondary, answeredBy, [.. ladder.Passed]);
        Report(failover);
        return failover;
    }

    private ChatFailover ServedCopy(Ladder ladder, string owner, IntegrationResult<ChatResponse> kept)
    {
        var failover = new ChatFailover(ChatFailoverStep.LastGoodAnswer, owner, [.. ladder.Passed], kept.Degradation);
        Report(failover);
        return failover;
    }

    /// <summary>Throws the primary's failure, marked with the steps it went through; returns only to please the compiler.</summary>
    private Exception Failed(Ladder ladder)
    {
        var failure = ladder.PrimaryFailure!;
        if (ladder.Ended)
        {
            failure.Throw(); // no failover ran (a rejected request, say): the failure as it came, nothing to report
        }

        var failover = new ChatFailover(ChatFailoverStep.Failure, null, [.. ladder.Passed]);
        Report(failover);
        failure.SourceException.Data[ChatFailoverExtensions.PropertyName] = failover;
        failure.Throw(); // the primary's failure, with its own stack
        return failure.SourceException;
    }

    private void Report(ChatFailover failover)
    {
        if (failover.Step == ChatFailoverStep.Failure)
        {
            FailoverLog.Failed(logger, primaryName, failover.Step, failover.Notice);
        }
        else
        {
            FailoverLog.Answered(logger, primaryName, failover.AnsweredBy, failover.Step, failover.Notice);
        }

        metrics.Outcome(primaryName, failover.Step, failover.AnsweredBy);
    }

    private static void Mark(AdditionalPropertiesDictionary properties, ChatFailover failover) =>
        properties[ChatFailoverExtensions.PropertyName] = failover;

    /// <summary>Opens a stream and waits for its first update: until then, a failure may still move on.</summary>
    private static async Task<OpenedStream> OpenAsync(IChatClient client, List<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        var stream = client.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            return new OpenedStream(stream, await stream.MoveNextAsync().ConfigureAwait(false) ? stream.Current : null);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private sealed record OpenedStream(IAsyncEnumerator<ChatResponseUpdate> Stream, ChatResponseUpdate? First);

    /// <summary>One call's way down the ladder.</summary>
    private sealed class Ladder
    {
        private readonly List<(CopyDeferral Copy, FailureClassification Failure)> _copies = [];

        public CopyDeferral PrimaryCopy { get; } = new();

        public ExceptionDispatchInfo? PrimaryFailure { get; private set; }

        public List<ChatFailoverPass> Passed { get; } = [];

        public string? Route { get; set; }

        public bool Ended { get; set; }

        public bool KeepsPrimaryCopy => PrimaryCopy.Layer is not null;

        public void PrimaryFailed(ExceptionDispatchInfo failure)
        {
            PrimaryFailure = failure;
            _copies.Add((PrimaryCopy, ((IntegrationFailureException)failure.SourceException).Classification));
        }

        public void SecondaryFailed(CopyDeferral copy, FailureClassification failure) => _copies.Add((copy, failure));

        /// <summary>A secondary's answer is the last good answer to this request: the primary keeps it, if it keeps answers.</summary>
        public void RefreshPrimaryCopy(ChatResponse answer)
        {
            if (PrimaryCopy is { Layer: { } layer, Key: { } key })
            {
                layer.Remember(key, answer);
            }
        }

        /// <summary>The first copy, in ladder order, that its layer serves for the failure its step met.</summary>
        public bool TryServeCopy(
            [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IntegrationResult<ChatResponse>? kept,
            [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? owner)
        {
            foreach (var (copy, failure) in _copies)
            {
                if (copy is { Layer: { } layer, Key: { } key } && layer.Integration.TryServeLastGood(key, failure, out kept))
                {
                    owner = layer.Integration.Name;
                    return true;
                }
            }

            kept = null;
            owner = null;
            return false;
        }
    }
}
