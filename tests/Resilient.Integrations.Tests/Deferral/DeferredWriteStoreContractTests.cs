using Resilient.Integrations.Deferral;

namespace Resilient.Integrations.Tests.Deferral;

/// <summary>What every <see cref="IDeferredWriteStore"/> must do; run against each implementation.</summary>
public abstract class DeferredWriteStoreContractTests : IAsyncDisposable
{
    protected static readonly DateTimeOffset Now = new(2026, 11, 23, 6, 0, 0, TimeSpan.Zero);

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected abstract IDeferredWriteStore Store { get; }

    protected static DeferredWrite Write(string integration = "crm", int n = 0, DateTimeOffset? next = null) => new()
    {
        Integration = integration,
        Method = "POST",
        Uri = new Uri($"/contacts/{n}", UriKind.Relative),
        Headers = [new("Content-Type", "application/json"), new("X-Tenant", "t-1")],
        Body = System.Text.Encoding.UTF8.GetBytes($$"""{"n":{{n}}}"""),
        IdempotencyKey = $"key-{n}",
        EnqueuedAt = Now.AddSeconds(n),
        NextAttemptAt = next ?? Now,
    };

    [Fact]
    public async Task EnqueueAsync_Writes_ComeBackDueInOrderWithEveryField()
    {
        long first = await Store.EnqueueAsync(Write(n: 1), Ct);
        long second = await Store.EnqueueAsync(Write(n: 2), Ct);
        await Store.EnqueueAsync(Write("email", n: 3), Ct);

        var due = await Store.GetDueAsync("crm", Now, 10, Ct);

        Assert.True(second > first);
        Assert.Equal([first, second], due.Select(w => w.Id));
        var w = due[0];
        Assert.Equal(("crm", "POST", "/contacts/1", "key-1", """{"n":1}"""), (w.Integration, w.Method, w.Uri!.OriginalString, w.IdempotencyKey, System.Text.Encoding.UTF8.GetString(w.Body.Span)));
        Assert.Equal([new("Content-Type", "application/json"), new KeyValuePair<string, string>("X-Tenant", "t-1")], w.Headers);
        Assert.Equal(Now.AddSeconds(1), w.EnqueuedAt);
    }

    [Fact]
    public async Task GetDueAsync_Max_Respected()
    {
        for (int i = 1; i < 6; i++)
        {
            await Store.EnqueueAsync(Write(n: i), Ct);
        }

        var due = await Store.GetDueAsync("crm", Now, 3, Ct);

        Assert.Equal(["key-1", "key-2", "key-3"], due.Select(w => w.IdempotencyKey));
    }

    [Fact]
    public async Task GetDueAsync_WriteWaitingOutBackoff_HoldsBackLaterWritesToKeepOrder()
    {
        await Store.EnqueueAsync(Write(n: 1), Ct);
        await Store.EnqueueAsync(Write(n: 2, next: Now.AddMinutes(5)), Ct);
        await Store.EnqueueAsync(Write(n: 3), Ct);

        Assert.Equal(["key-1"], (await Store.GetDueAsync("crm", Now, 10, Ct)).Select(w => w.IdempotencyKey));
        Assert.Equal(["key-1", "key-2", "key-3"], (await Store.GetDueAsync("crm", Now.AddMinutes(5), 10, Ct)).Select(w => w.IdempotencyKey));
    }

    [Fact]
    public async Task CompleteAsync_RemovesOnlyThatWrite()
    {
        long id = await Store.EnqueueAsync(Write(n: 1), Ct);
        await Store.EnqueueAsync(Write(n: 2), Ct);

        await Store.CompleteAsync(id, Ct);

        Assert.Equal(["key-2"], (await Store.GetDueAsync("crm", Now, 10, Ct)).Select(w => w.IdempotencyKey));
    }

    [Fact]
    public async Task RescheduleAsync_MovesNextAttemptAndKeepsFailure()
    {
        long id = await Store.EnqueueAsync(Write(n: 1), Ct);

        await Store.RescheduleAsync(id, 3, Now.AddMinutes(2), "Unavailable (HTTP 503)", Ct);

        Assert.Empty(await Store.GetDueAsync("crm", Now, 10, Ct));
        var later = Assert.Single(await Store.GetDueAsync("crm", Now.AddMinutes(2), 10, Ct));
        Assert.Equal((3, "Unavailable (HTTP 503)"), (later.Attempts, later.LastFailure));
    }

    [Fact]
    public async Task DeadLetterAsync_LeavesQueueAndIsCounted()
    {
        long id = await Store.EnqueueAsync(Write(n: 1), Ct);
        await Store.EnqueueAsync(Write(n: 2), Ct);

        await Store.DeadLetterAsync(id, "Rejected (HTTP 422)", Ct);
        var stats = await Store.GetStatsAsync("crm", Ct);

        Assert.Equal(new DeferredQueueStats(1, Now.AddSeconds(2), 1), stats);
    }

    [Fact]
    public async Task GetStatsAsync_EmptyQueue_HasNoOldest()
    {
        Assert.Equal(new DeferredQueueStats(0, null, 0), await Store.GetStatsAsync("crm", Ct));
    }

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}

public sealed class InMemoryDeferredWriteStoreTests : DeferredWriteStoreContractTests
{
    protected override IDeferredWriteStore Store { get; } = new InMemoryDeferredWriteStore();

    [Fact]
    public void IsDurable_InMemory_False()
    {
        Assert.False(Store.IsDurable);
    }
}
