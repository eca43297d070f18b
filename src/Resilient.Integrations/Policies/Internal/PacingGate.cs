using System.Net.Http.Headers;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Classification.Internal;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// Remembers until when an integration's rate limit is spent, from a 429's hint or from
/// <c>x-ratelimit-remaining-*</c> / <c>anthropic-ratelimit-*-remaining</c> reaching 0, so new requests wait
/// for the reset instead of running into more 429s.
/// </summary>
internal sealed class PacingGate
{
    private readonly TimeProvider _time;
    private long _resumeAtUtcTicks;

    public PacingGate(TimeProvider time) => _time = time;

    public TimeSpan HoldTime()
    {
        long resumeAt = Volatile.Read(ref _resumeAtUtcTicks);
        if (resumeAt == 0)
        {
            return TimeSpan.Zero;
        }

        var wait = new DateTimeOffset(resumeAt, TimeSpan.Zero) - _time.GetUtcNow();
        return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
    }

    /// <summary>Learns a reset from a response. A hold never exceeds <paramref name="maxHold"/>, so one absurd hint cannot lock the integration out.</summary>
    public void Observe(HttpResponseHeaders headers, FailureClassification classification, TimeSpan maxHold)
    {
        TimeSpan? wait = classification.Kind == FailureKind.RateLimit
            ? classification.RetryAfter
            : RetryHintParser.SpentLimitReset(headers, _time);
        if (wait is { } w && w > TimeSpan.Zero)
        {
            HoldUntil(_time.GetUtcNow() + (w < maxHold ? w : maxHold));
        }
    }

    private void HoldUntil(DateTimeOffset resumeAt)
    {
        long ticks = resumeAt.UtcTicks;
        long current;
        do
        {
            current = Volatile.Read(ref _resumeAtUtcTicks);
            if (current >= ticks)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _resumeAtUtcTicks, ticks, current) != current);
    }
}
