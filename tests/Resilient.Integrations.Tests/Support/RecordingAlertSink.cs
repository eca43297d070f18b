using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Resilient.Integrations.Alerts;

namespace Resilient.Integrations.Tests.Support;

/// <summary>Keeps every alert it receives and lets a test wait for them.</summary>
public class RecordingAlertSink : IAlertSink
{
    private readonly ConcurrentQueue<Alert> _alerts = new();
    private readonly SemaphoreSlim _arrived = new(0);

    public IReadOnlyList<Alert> Alerts => [.. _alerts];

    public ValueTask SendAsync(Alert alert, CancellationToken cancellationToken)
    {
        _alerts.Enqueue(alert);
        _arrived.Release();
        return ValueTask.CompletedTask;
    }

    /// <summary>Waits until at least <paramref name="count"/> alerts arrived; fails if they do not before <see cref="Eventually.Deadline"/>.</summary>
    public async Task<IReadOnlyList<Alert>> WaitForAsync(int count)
    {
        await WaitUntilAsync(() => _alerts.Count >= count, $"{count} alert(s)");
        return Alerts;
    }

    /// <summary>
    /// Waits for the alert an action raises, however late it comes after the action's other effects (a store
    /// update, a state change); fails if none arrives before <see cref="Eventually.Deadline"/>.
    /// </summary>
    public async Task<Alert> WaitForAsync(Func<Alert, bool> match, [CallerArgumentExpression(nameof(match))] string? what = null)
    {
        Alert? found = null;
        await WaitUntilAsync(() => (found = _alerts.FirstOrDefault(match)) is not null, $"an alert where {what}");
        return found!;
    }

    /// <summary>
    /// Every alert delivered once the dispatcher has dealt with each alert published before this call (see
    /// <see cref="IAlertDispatcher.FlushAsync"/>). Only for alerts whose producing action is known to be over
    /// (a call that returned, a state that was reached under the lock that also publishes): to assert that
    /// nothing (more) arrived. For an alert raised in the background, wait for it with <c>WaitForAsync(match)</c>.
    /// </summary>
    public async Task<IReadOnlyList<Alert>> SettleAsync(IAlertDispatcher dispatcher)
    {
        using var bounded = Eventually.Bounded();
        try
        {
            await dispatcher.FlushAsync(bounded.Token);
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            Assert.Fail($"the alert queue did not drain within {Eventually.Deadline.TotalSeconds:0} s of real time; received: {Describe()}");
        }

        return Alerts;
    }

    private async Task WaitUntilAsync(Func<bool> done, string what)
    {
        using var bounded = Eventually.Bounded();
        while (!done())
        {
            try
            {
                await _arrived.WaitAsync(bounded.Token);
            }
            catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
                Assert.Fail($"no {what} within {Eventually.Deadline.TotalSeconds:0} s of real time; received: {Describe()}");
            }
        }
    }

    private string Describe() => _alerts.IsEmpty ? "none" : string.Join("; ", _alerts);
}
