using System.Net;
using Microsoft.Extensions.Time.Testing;
using Polly;
using Polly.CircuitBreaker;
using Polly.Telemetry;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Policies.Internal;

namespace Resilient.Integrations.Tests.Policies;

/// <summary>
/// The attempt step's own circuit stands in for Polly's advanced circuit breaker: fed the same outcomes at the same
/// times, it must let through, refuse and change state exactly as Polly's does.
/// </summary>
public sealed class CircuitTests
{
    [Theory]
    [InlineData(1, 10_000, 4)]
    [InlineData(2, 10_000, 4)]
    [InlineData(3, 10_000, 4)]
    [InlineData(4, 1_000, 2)] // the shortest sampling Polly accepts is 0.5 s
    [InlineData(5, 1_000, 2)]
    public async Task Record_RandomOutcomesOverTime_SameDecisionsAsPollysBreaker(int seed, int samplingMs, int minimumThroughput)
    {
        var policy = new CircuitBreakerPolicy
        {
            FailureRatio = 0.5,
            MinimumThroughput = minimumThroughput,
            SamplingDuration = TimeSpan.FromMilliseconds(samplingMs),
            BreakDuration = TimeSpan.FromMilliseconds(samplingMs / 2),
        };
        var pollyClock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var ourClock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var state = new CircuitBreakerStateProvider();
        var polly = PollysBreaker(policy, pollyClock, state);
        int opened = 0, closed = 0;
        var circuit = new Circuit(policy, ourClock, TelemetryForTests(), (_, _) => opened++, () => closed++);
        var random = new Random(seed);
        int refusals = 0, transitions = 0;

        for (int step = 0; step < 3_000; step++)
        {
            var advance = TimeSpan.FromTicks(random.NextInt64(policy.SamplingDuration.Ticks / 4));
            pollyClock.Advance(advance);
            ourClock.Advance(advance);
            bool failure = random.NextDouble() < (step / 300 % 2 == 0 ? 0.2 : 0.8); // healthy and failing spells
            using var response = new HttpResponseMessage(failure ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK);
            var before = state.CircuitState;

            var theirs = await polly.ExecuteOutcomeAsync((_, r) => new ValueTask<Outcome<HttpResponseMessage>>(Outcome.FromResult(r)), ResilienceContextPool.Shared.Get(TestContext.Current.CancellationToken), response);
            var context = ResilienceContextPool.Shared.Get(TestContext.Current.CancellationToken);
            var ours = circuit.Enter(context);
            if (ours is null)
            {
                circuit.Record(Outcome.FromResult(response), failure, context);
            }

            var pollyRefusal = theirs.Exception as BrokenCircuitException;
            Assert.True((pollyRefusal is null) == (ours is null), $"step {step}: Polly {(pollyRefusal is null ? "let it through" : "refused")}, ours did not");
            Assert.Equal(pollyRefusal?.RetryAfter, ours?.RetryAfter);
            Assert.Equal(state.CircuitState, circuit.State);
            refusals += ours is null ? 0 : 1;
            transitions += before == state.CircuitState ? 0 : 1;
        }

        // Both spells happened: the comparison covered opening, refusing, half-opening and closing again.
        Assert.True(refusals > 0 && transitions >= 4 && opened > 1 && closed > 0, $"refusals {refusals}, transitions {transitions}, opened {opened}, closed {closed}");
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public async Task Record_OutcomesLandingLate_SameDecisionsAsPollysBreaker(int seed)
    {
        // Attempts overlap: one let through while the circuit was closed may land after it opened or half-opened.
        var policy = new CircuitBreakerPolicy
        {
            FailureRatio = 0.5,
            MinimumThroughput = 4,
            SamplingDuration = TimeSpan.FromSeconds(10),
            BreakDuration = TimeSpan.FromSeconds(5),
        };
        var pollyClock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var ourClock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var state = new CircuitBreakerStateProvider();
        var polly = PollysBreaker(policy, pollyClock, state);
        var circuit = new Circuit(policy, ourClock, TelemetryForTests(), (_, _) => { }, () => { });
        var random = new Random(seed);
        var pending = new List<(TaskCompletionSource<Outcome<HttpResponseMessage>> Answer, ValueTask<Outcome<HttpResponseMessage>> Theirs, ResilienceContext Ours)>();
        int lateInOtherState = 0, transitions = 0;

        for (int step = 0; step < 4_000; step++)
        {
            var advance = TimeSpan.FromMilliseconds(random.Next(0, 1_500));
            pollyClock.Advance(advance);
            ourClock.Advance(advance);
            var before = state.CircuitState;
            if (pending.Count > 0 && (pending.Count >= 6 || random.Next(2) == 0))
            {
                // An attempt under way lands.
                var (answer, theirs, context) = pending[random.Next(pending.Count)];
                pending.RemoveAll(p => p.Answer == answer);
                bool failure = random.NextDouble() < (step / 400 % 2 == 0 ? 0.2 : 0.8);
                var response = new HttpResponseMessage(failure ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK);
                lateInOtherState += state.CircuitState == CircuitState.Closed ? 0 : 1;
                answer.SetResult(Outcome.FromResult(response));
                (await theirs).Result?.Dispose();
                circuit.Record(Outcome.FromResult(response), failure, context);
            }
            else
            {
                // A new attempt asks to go out.
                var answer = new TaskCompletionSource<Outcome<HttpResponseMessage>>();
                var theirs = polly.ExecuteOutcomeAsync((_, a) => new ValueTask<Outcome<HttpResponseMessage>>(a.Task), ResilienceContextPool.Shared.Get(TestContext.Current.CancellationToken), answer);
                var context = ResilienceContextPool.Shared.Get(TestContext.Current.CancellationToken);
                var ours = circuit.Enter(context);
                if (theirs.IsCompleted)
                {
                    var refusal = (await theirs).Exception as BrokenCircuitException;
                    Assert.True(refusal is not null, $"step {step}: Polly refused, ours let it through");
                    Assert.NotNull(ours);
                    Assert.Equal(refusal.RetryAfter, ours.RetryAfter);
                }
                else
                {
                    Assert.True(ours is null, $"step {step}: Polly let it through, ours refused");
                    pending.Add((answer, theirs, context));
                }
            }

            Assert.Equal(state.CircuitState, circuit.State);
            transitions += before == state.CircuitState ? 0 : 1;
        }

        // Late outcomes met an open or half-open circuit, and the circuit went round more than once.
        Assert.True(lateInOtherState > 10 && transitions >= 6, $"late outcomes in another state {lateInOtherState}, transitions {transitions}");
    }

    [Fact]
    public async Task Record_SuccessesFromManyThreadsAtOnce_NoneLost()
    {
        // The closed circuit counts a success without its lock: one lost would let the circuit open a failure early.
        // The system clock, as in production: the lock-free path reads the coarse clock, and no test clock's lock
        // serialises the threads. Nothing waits on it; the run takes far less than the 30 s window.
        int opened = 0;
        var circuit = new Circuit(
            new CircuitBreakerPolicy { MinimumThroughput = 2, FailureRatio = 0.5, SamplingDuration = TimeSpan.FromSeconds(30), BreakDuration = TimeSpan.FromSeconds(30) },
            TimeProvider.System, TelemetryForTests(), (_, _) => Interlocked.Increment(ref opened), () => { });
        using var ok = new HttpResponseMessage(HttpStatusCode.OK);
        using var failed = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        const int Threads = 4, Each = 100_000;
        using var start = new Barrier(Threads);
        await Task.WhenAll(Enumerable.Range(0, Threads).Select(_ => Task.Factory.StartNew(
            () =>
            {
                var context = ResilienceContextPool.Shared.Get(TestContext.Current.CancellationToken);
                start.SignalAndWait(TestContext.Current.CancellationToken);
                for (int i = 0; i < Each; i++)
                {
                    circuit.Record(Outcome.FromResult(ok), countsAgainst: false, context);
                }
            },
            TestContext.Current.CancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)));

        // With every success counted, the circuit opens at the failure that makes half of all outcomes failures, not before.
        var failing = ResilienceContextPool.Shared.Get(TestContext.Current.CancellationToken);
        for (int i = 1; i < Threads * Each; i++)
        {
            circuit.Record(Outcome.FromResult(failed), countsAgainst: true, failing);
            Assert.True(circuit.State == CircuitState.Closed, $"opened at failure {i} of {Threads * Each} successes");
        }

        circuit.Record(Outcome.FromResult(failed), countsAgainst: true, failing);
        Assert.Equal(CircuitState.Open, circuit.State);
        Assert.Equal(1, opened);
    }

    [Fact]
    public void Enter_HalfOpenWithProbeUnderWay_RefusesOthersUntilTheProbeLands()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var circuit = new Circuit(new CircuitBreakerPolicy { MinimumThroughput = 2, FailureRatio = 0.5, BreakDuration = TimeSpan.FromSeconds(30) }, clock, TelemetryForTests(), (_, _) => { }, () => { });
        var context = ResilienceContextPool.Shared.Get(TestContext.Current.CancellationToken);
        using var failed = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        circuit.Record(Outcome.FromResult(failed), countsAgainst: true, context);
        circuit.Record(Outcome.FromResult(failed), countsAgainst: true, context);
        Assert.Equal(CircuitState.Open, circuit.State);
        Assert.Equal(TimeSpan.FromSeconds(30), circuit.Enter(context)?.RetryAfter);

        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(circuit.Enter(context)); // the probe
        Assert.Equal(CircuitState.HalfOpen, circuit.State);
        clock.Advance(TimeSpan.FromSeconds(45)); // a probe that hangs past another break still holds the others back
        Assert.NotNull(circuit.Enter(context));

        using var ok = new HttpResponseMessage(HttpStatusCode.OK);
        circuit.Record(Outcome.FromResult(ok), countsAgainst: false, context);
        Assert.Equal(CircuitState.Closed, circuit.State);
        Assert.Null(circuit.Enter(context));
    }

    [Fact]
    public void Record_ProbeFails_ReopensForAFullBreakAndKeepsTheCause()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        int opened = 0;
        var circuit = new Circuit(new CircuitBreakerPolicy { MinimumThroughput = 2, FailureRatio = 0.5, BreakDuration = TimeSpan.FromSeconds(30) }, clock, TelemetryForTests(), (_, _) => opened++, () => { });
        var context = ResilienceContextPool.Shared.Get(TestContext.Current.CancellationToken);
        var cause = new HttpRequestException("connection refused");
        circuit.Record(Outcome.FromException<HttpResponseMessage>(cause), countsAgainst: true, context);
        circuit.Record(Outcome.FromException<HttpResponseMessage>(cause), countsAgainst: true, context);
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(circuit.Enter(context));

        clock.Advance(TimeSpan.FromSeconds(2));
        circuit.Record(Outcome.FromException<HttpResponseMessage>(cause), countsAgainst: true, context);

        Assert.Equal(CircuitState.Open, circuit.State);
        Assert.Equal(2, opened);
        var refused = circuit.Enter(context);
        Assert.Equal(TimeSpan.FromSeconds(30), refused?.RetryAfter);
        Assert.Same(cause, refused?.InnerException);
    }

    /// <summary>Polly's advanced circuit breaker with the same settings, counting a 503 as a failure.</summary>
    private static ResiliencePipeline<HttpResponseMessage> PollysBreaker(CircuitBreakerPolicy policy, TimeProvider clock, CircuitBreakerStateProvider state) =>
        new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = clock }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                FailureRatio = policy.FailureRatio,
                MinimumThroughput = policy.MinimumThroughput,
                SamplingDuration = policy.SamplingDuration,
                BreakDuration = policy.BreakDuration,
                StateProvider = state,
                ShouldHandle = args => new(args.Outcome.Result?.StatusCode == HttpStatusCode.ServiceUnavailable),
            })
            .Build();

    /// <summary>A telemetry handle as Polly gives a strategy: the circuit reports its transitions through it.</summary>
    private static ResilienceStrategyTelemetry TelemetryForTests()
    {
        ResilienceStrategyTelemetry? telemetry = null;
        _ = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddStrategy(
                c =>
                {
                    telemetry = c.Telemetry;
                    return new PassThrough();
                },
                new StrategyOptions("CircuitTests"))
            .Build();
        return telemetry!;
    }

    private sealed class PassThrough : ResilienceStrategy<HttpResponseMessage>
    {
        protected override ValueTask<Outcome<HttpResponseMessage>> ExecuteCore<TState>(
            Func<ResilienceContext, TState, ValueTask<Outcome<HttpResponseMessage>>> callback, ResilienceContext context, TState state) => callback(context, state);
    }
}
