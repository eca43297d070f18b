using System.Runtime.CompilerServices;
using Polly;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Internal;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>What the strategies of one logical call share: its time budget, the last classification and retry counts.</summary>
/// <remarks>
/// One is made for every call, so it holds only what every call needs: a classification other than success and what
/// retries, delegate calls and kept copies need live in parts made when first set.
/// </remarks>
internal sealed class CallState
{
    // Short: it is hashed on every look-up, several per call.
    public static readonly ResiliencePropertyKey<CallState> Key = new("ri.call");

    private StrongBox<FailureClassification>? _verdict;
    private Rare? _rare;

    public CallState(long startTimestamp, TimeSpan totalTimeout, CancellationToken callerToken)
    {
        StartTimestamp = startTimestamp;
        TotalTimeout = totalTimeout;
        CallerToken = callerToken;
    }

    /// <summary>Gets or sets a value indicating whether a slow read's live call was cancelled by the library, not by its caller.</summary>
    public bool Abandoned { get; set; }

    /// <summary>The caller's own token, to tell its cancellation from a timeout's.</summary>
    public CancellationToken CallerToken { get; }

    public long StartTimestamp { get; }

    public TimeSpan TotalTimeout { get; }

    /// <summary>The response the innermost strategy classified, so outer strategies do not classify it again.</summary>
    public HttpResponseMessage? ClassifiedResponse { get; private set; }

    public FailureClassification Classification => _verdict?.Value ?? FailureClassification.Success;

    public TimeSpan PlannedDelay
    {
        get => _rare?.PlannedDelay ?? TimeSpan.Zero;
        set => RareState.PlannedDelay = value;
    }

    /// <summary>Whether the call is a health probe: one attempt, no fallback, judged by the health layer alone.</summary>
    public bool IsProbe { get; init; }

    /// <summary>Whether the call may be sent more than once (see <see cref="RepeatSafety"/>); a write that is not is retried only when the failure proves it was not acted on.</summary>
    public bool Repeatable { get; set; } = true;

    /// <summary>The running attempt's deadline, for a delegate call; lifted when the delegate sends through the integration's own client.</summary>
    public AttemptDeadline? Deadline
    {
        get => _rare?.Deadline;
        set
        {
            if (value is not null || _rare is not null)
            {
                RareState.Deadline = value;
            }
        }
    }

    /// <summary>The token a delegate call's attempt runs with: the caller's, the total timeout's and the attempt deadline's.</summary>
    public CancellationToken AttemptToken
    {
        get => _rare?.AttemptToken ?? default;
        set => RareState.AttemptToken = value;
    }

    /// <summary>Whether a good response should be read for the last-known-good copy (the request is cacheable).</summary>
    public bool KeepBody { get; init; }

    /// <summary>The body of the last good attempt, read inside its attempt timeout, for the last-known-good copy.</summary>
    public BodyPrefix? KeptBody
    {
        get => _rare?.KeptBody;
        set
        {
            if (value is not null || _rare is not null)
            {
                RareState.KeptBody = value;
            }
        }
    }

    private Rare RareState => _rare ??= new Rare();

    public static CallState? Of(ResilienceContext context) =>
        context.Properties.TryGetValue(Key, out var state) ? state : null;

    public TimeSpan Remaining(TimeProvider time) => TotalTimeout - time.GetElapsedTime(StartTimestamp);

    /// <summary>The innermost strategy's verdict on <paramref name="response"/>, if it is the response it classified.</summary>
    public FailureClassification? ClassificationOf(HttpResponseMessage response) =>
        ReferenceEquals(ClassifiedResponse, response) ? Classification : null;

    /// <summary>
    /// Whether the innermost strategy found <paramref name="response"/> a plain success: the success path's question,
    /// answered without copying the classification out (a success with more to it is left to <see cref="ClassificationOf"/>).
    /// </summary>
    public bool IsPlainSuccess(HttpResponseMessage response) => ReferenceEquals(ClassifiedResponse, response) && _verdict is null;

    public void Remember(HttpResponseMessage response, FailureClassification classification)
    {
        ClassifiedResponse = response;
        if (classification == FailureClassification.Success)
        {
            _verdict = null;
        }
        else if (_verdict is { } verdict)
        {
            verdict.Value = classification;
        }
        else
        {
            _verdict = new StrongBox<FailureClassification>(classification);
        }
    }

    public int RetriesFor(FailureKind kind) => _rare?.RetriesByKind?[(int)kind] ?? 0;

    public void CountRetry(FailureKind kind)
    {
        var counts = RareState.RetriesByKind ??= new int[Enum.GetValues<FailureKind>().Length];
        counts[(int)kind]++;
    }

    private sealed class Rare
    {
        public int[]? RetriesByKind;
        public TimeSpan PlannedDelay;
        public AttemptDeadline? Deadline;
        public CancellationToken AttemptToken;
        public BodyPrefix? KeptBody;
    }
}
