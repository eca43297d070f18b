using System.Net.Http.Headers;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Classification.Internal;
using Resilient.Integrations.Internal;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// Remembers until when an integration's rate limit is spent, from a 429's hint or from
/// <c>x-ratelimit-remaining-*</c> / <c>anthropic-ratelimit-*-remaining</c> reaching 0, so new requests wait
/// for the reset instead of running into more 429s.
/// </summary>
internal sealed class PacingGate
{
    private readonly TimeProvider _time;
    private readonly object _budgetGate = new();
    private long _resumeAtUtcTicks;

    // A client-side copy of the provider's request bucket, learned from its x-ratelimit headers: requests take
    // a slot each (going negative queues them), slots come back at the rate the provider refills.
    private double _slots = double.PositiveInfinity;
    private long _reserved;
    private double _slotsPerSecond;
    private int _limit;
    private long _slotsUpdated;

    public PacingGate(TimeProvider time) => _time = time;

    /// <summary>Gets a value indicating whether the provider reports a request budget (learned from its headers).</summary>
    public bool HasBudget => Volatile.Read(ref _limit) > 0;

    /// <summary>Holds new requests for <paramref name="hold"/> from now (a hold another instance learned).</summary>
    public void HoldFor(TimeSpan hold) => HoldUntil(_time.GetUtcNow() + hold);

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

    /// <summary>
    /// Takes a slot of the learned request budget unless the wait for it (or for a spent limit's reset, if
    /// longer) would exceed <paramref name="maxWait"/> or reach the call's time left; then nothing is taken,
    /// so the schedule of the requests already waiting stays exact. Spacing requests at the provider's own
    /// refill rate is what keeps them from being answered 429. Without a learned budget only the reset counts.
    /// </summary>
    public bool TryReserve(TimeSpan maxWait, CallState? call, out TimeSpan hold)
    {
        hold = HoldTime();
        if (Volatile.Read(ref _slotsPerSecond) <= 0)
        {
            // Most APIs report no budget: no slots to keep, so no lock on the request's path.
            return Admit(hold, maxWait, call);
        }

        lock (_budgetGate)
        {
            double slots = double.NaN;
            if (_slotsPerSecond > 0) // a new limit may have reset the rate since the read above
            {
                Refill();
                slots = _slots - 1;
                if (slots < 0 && TimeSpan.FromSeconds(-slots / _slotsPerSecond) is var slotWait && slotWait > hold)
                {
                    hold = slotWait;
                }
            }

            if (!Admit(hold, maxWait, call))
            {
                return false;
            }

            if (!double.IsNaN(slots))
            {
                _slots = slots;
            }

            return true;
        }
    }

    /// <summary>When a request is sent and how many had been admitted by then, to read its answer's budget against.</summary>
    /// <remarks>The clock is read only once the provider has reported a budget: only a budget is read against it.</remarks>
    public PacingMark Mark() => new(HasBudget ? _time.GetTimestamp() : 0, Interlocked.Read(ref _reserved)) { Marked = true };

    /// <summary>Gives back a slot a request did not use (it was cancelled while it waited).</summary>
    public void ReturnSlot()
    {
        lock (_budgetGate)
        {
            Interlocked.Decrement(ref _reserved);
            if (_slotsPerSecond > 0 && !double.IsPositiveInfinity(_slots))
            {
                _slots = Math.Min(_limit, _slots + 1);
            }
        }
    }

    /// <summary>Learns a reset from a response. A hold never exceeds <paramref name="maxHold"/>, so one absurd hint cannot lock the integration out.</summary>
    /// <returns>What was learned, for a budget shared with other instances.</returns>
    public PacingLesson Observe(HttpResponseHeaders headers, FailureClassification classification, TimeSpan maxHold, PacingMark sent = default)
    {
        var lesson = default(PacingLesson);
        // Most answers of most APIs carry no rate-limit header: one pass over the names, and nothing is looked up.
        var families = headers.NonValidated.Count == 0 ? RateLimitFamilies.None : RateLimitFields.Present(headers);
        bool bare = families == RateLimitFamilies.None;
        TimeSpan? wait = classification.Kind == FailureKind.RateLimit
            ? classification.RetryAfter
            : bare ? null : RetryHintParser.SpentLimitReset(headers, families, _time);
        if (wait is { } w && w > TimeSpan.Zero)
        {
            var hold = w < maxHold ? ServerHint.Wait(w) : maxHold;
            HoldUntil(_time.GetUtcNow() + hold);
            lesson = lesson with { Hold = hold };
        }

        if (!bare && RetryHintParser.TryRequestBudget(headers, families, _time, out int limit, out int remaining, out var untilFull))
        {
            LearnBudget(limit, remaining, untilFull, sent);
            lesson = lesson with { Limit = limit, Remaining = remaining, UntilFull = untilFull };
        }
        else if (classification.Kind == FailureKind.RateLimit)
        {
            lesson = lesson with { Spent = true };
            lock (_budgetGate)
            {
                // The provider says the budget is spent right now; if we were pacing, we paced too fast.
                _slots = Math.Min(_slots, 0);
                _slotsPerSecond *= 0.9;
            }
        }

        return lesson;
    }

    private bool Admit(TimeSpan hold, TimeSpan maxWait, CallState? call)
    {
        // The call's time left is read only when there is a hold to weigh it against.
        if (hold > TimeSpan.Zero && (hold > maxWait || hold >= (call?.Remaining(_time) ?? TimeSpan.MaxValue)))
        {
            return false;
        }

        Interlocked.Increment(ref _reserved);
        return true;
    }

    private void LearnBudget(int limit, int remaining, TimeSpan untilFull, PacingMark sent)
    {
        lock (_budgetGate)
        {
            Refill();

            // Remaining is rounded down, so (limit - remaining - 1) / untilFull never overstates the refill rate and
            // the largest such bound seen is the closest; a new limit (another tier) starts the estimate afresh.
            if (limit != _limit)
            {
                _slotsPerSecond = 0;
            }

            _limit = limit;
            if (limit - remaining > 1 && untilFull > TimeSpan.Zero)
            {
                _slotsPerSecond = Math.Max(_slotsPerSecond, (limit - remaining - 1) / untilFull.TotalSeconds);
            }

            // The budget is as of when the request was admitted: an LLM answer can arrive minutes later. Bring it up
            // to now (refill since, minus what was admitted since) and never believe more than we counted ourselves.
            double asOfNow = remaining;
            if (sent.Marked)
            {
                asOfNow -= Interlocked.Read(ref _reserved) - sent.Reserved;
            }

            if (sent.Timestamp != 0)
            {
                asOfNow += _time.GetElapsedTime(sent.Timestamp).TotalSeconds * _slotsPerSecond;
            }

            _slots = Math.Min(double.IsPositiveInfinity(_slots) ? limit : _slots, Math.Min(limit, asOfNow));
        }
    }

    private void Refill()
    {
        long now = _time.GetTimestamp();
        if (_slotsPerSecond > 0 && !double.IsPositiveInfinity(_slots))
        {
            _slots = Math.Min(_limit, _slots + (_time.GetElapsedTime(_slotsUpdated, now).TotalSeconds * _slotsPerSecond));
        }

        _slotsUpdated = now;
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

/// <summary>What one response taught the gate: a hold, the provider's budget, or a 429 that says the budget is spent.</summary>
internal readonly record struct PacingLesson(TimeSpan Hold, int Limit, int Remaining, TimeSpan UntilFull, bool Spent)
{
    public bool IsEmpty => Hold == TimeSpan.Zero && Limit == 0 && !Spent;
}

/// <summary>When a request was sent, and how many requests the gate had admitted by then.</summary>
internal readonly record struct PacingMark(long Timestamp, long Reserved)
{
    /// <summary>Gets a value indicating whether the mark was taken (the timestamp is 0 until a provider reports a budget).</summary>
    public bool Marked { get; init; }
}
