using Microsoft.Extensions.Time.Testing;
using Resilient.Integrations.Deferral;

namespace Resilient.Integrations.Tests.Deferral;

/// <summary>What every <see cref="IDeferredWriteStore"/> must do; run against each implementation.</summary>
public abstract class DeferredWriteStoreContractTests : IAsyncDisposable
{
    protected static readonly DateTimeOffset Now = new(2026, 11, 23, 6, 0, 0, TimeSpan.Zero);

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Stamps dead letters: an hour after <see cref="Now"/>.</summary>
    protected FakeTimeProvider Clock { get; } = new(Now.AddHours(1));

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

        Assert.Equal(new DeferredQueueStats(1, Now.AddSeconds(2), 1) { OldestDeadLetteredAt = Clock.GetUtcNow() }, stats);
    }

    [Fact]
    public async Task GetStatsAsync_EmptyQueue_HasNoOldest()
    {
        Assert.Equal(new DeferredQueueStats(0, null, 0), await Store.GetStatsAsync("crm", Ct));
    }

    [Fact]
    public async Task ListAsync_DeadLetter_ShowsWhatAnOperatorNeedsWithoutTheBody()
    {
        long id = await Store.EnqueueAsync(Write(n: 1), Ct);
        await Store.RescheduleAsync(id, 4, Now, "Unavailable (HTTP 503)", Ct);
        await Store.DeadLetterAsync(id, "Rejected (HTTP 422)", Ct);

        var entry = Assert.Single(await Store.ListAsync("crm", DeferredWriteState.DeadLettered, 0, 10, Ct));

        Assert.Equal(
            new DeferredWriteEntry
            {
                Id = id, Integration = "crm", State = DeferredWriteState.DeadLettered, Method = "POST", Address = "/contacts/1", IdempotencyKey = "key-1",
                Attempts = 4, LastFailure = "Unavailable (HTTP 503)", EnqueuedAt = Now.AddSeconds(1), DeadLetteredAt = Clock.GetUtcNow(), Reason = "Rejected (HTTP 422)",
            },
            entry);
        Assert.Empty(await Store.ListAsync("crm", DeferredWriteState.Queued, 0, 10, Ct));
        Assert.Empty(await Store.ListAsync("email", DeferredWriteState.DeadLettered, 0, 10, Ct));
    }

    [Fact]
    public async Task ListAsync_Queued_PagesInOrderByAfterId()
    {
        var ids = new List<long>();
        for (int i = 1; i < 6; i++)
        {
            ids.Add(await Store.EnqueueAsync(Write(n: i), Ct));
        }

        var first = await Store.ListAsync("crm", DeferredWriteState.Queued, 0, 2, Ct);
        var second = await Store.ListAsync("crm", DeferredWriteState.Queued, first[^1].Id, 2, Ct);
        var last = await Store.ListAsync("crm", DeferredWriteState.Queued, second[^1].Id, 2, Ct);

        Assert.Equal(ids, first.Concat(second).Concat(last).Select(e => e.Id));
        Assert.All(first, e => Assert.Equal((DeferredWriteState.Queued, (DateTimeOffset?)null), (e.State, e.DeadLetteredAt)));
    }

    [Fact]
    public async Task RequeueAsync_DeadLetter_JoinsTheEndOfTheQueueWithSameKeyAndBody()
    {
        long dead = await Store.EnqueueAsync(Write(n: 1), Ct);
        await Store.RescheduleAsync(dead, 9, Now.AddHours(1), "Timeout", Ct);
        await Store.DeadLetterAsync(dead, "out of attempts", Ct);
        long waiting = await Store.EnqueueAsync(Write(n: 2), Ct);

        long? requeued = await Store.RequeueAsync("crm", dead, Now.AddMinutes(1), Ct);

        Assert.True(requeued > waiting);
        var due = await Store.GetDueAsync("crm", Now.AddMinutes(1), 10, Ct);
        Assert.Equal([waiting, requeued!.Value], due.Select(w => w.Id));
        Assert.Equal(("key-1", 0, """{"n":1}""", "POST"), (due[1].IdempotencyKey, due[1].Attempts, System.Text.Encoding.UTF8.GetString(due[1].Body.Span), due[1].Method));
        Assert.Equal([new("Content-Type", "application/json"), new KeyValuePair<string, string>("X-Tenant", "t-1")], due[1].Headers);
        Assert.Empty(await Store.ListAsync("crm", DeferredWriteState.DeadLettered, 0, 10, Ct));
        Assert.Equal(0, (await Store.GetStatsAsync("crm", Ct)).DeadLettered);
        Assert.Null(await Store.RequeueAsync("crm", dead, Now, Ct));
    }

    [Fact]
    public async Task RequeueAsync_OtherIntegrationOrQueuedWrite_Null()
    {
        long dead = await Store.EnqueueAsync(Write(n: 1), Ct);
        await Store.DeadLetterAsync(dead, "Rejected", Ct);
        long queued = await Store.EnqueueAsync(Write(n: 2), Ct);

        Assert.Null(await Store.RequeueAsync("email", dead, Now, Ct));
        Assert.Null(await Store.RequeueAsync("crm", queued, Now, Ct));
        Assert.Single(await Store.ListAsync("crm", DeferredWriteState.DeadLettered, 0, 10, Ct));
    }

    [Fact]
    public async Task DiscardAsync_DeadLetter_KeepsARecordNotCountedAndNotRequeueable()
    {
        long dead = await Store.EnqueueAsync(Write(n: 1), Ct);
        await Store.DeadLetterAsync(dead, "Rejected (HTTP 422)", Ct);

        Assert.False(await Store.DiscardAsync("email", dead, "wrong integration", Clock.GetUtcNow(), Ct));
        Assert.True(await Store.DiscardAsync("crm", dead, "sent by hand", Clock.GetUtcNow().AddMinutes(5), Ct));

        var record = Assert.Single(await Store.ListAsync("crm", DeferredWriteState.Discarded, 0, 10, Ct));
        Assert.Equal((dead, "sent by hand", Clock.GetUtcNow().AddMinutes(5), "key-1"), (record.Id, record.Reason, record.DiscardedAt, record.IdempotencyKey));
        Assert.Empty(await Store.ListAsync("crm", DeferredWriteState.DeadLettered, 0, 10, Ct));
        Assert.Equal(new DeferredQueueStats(0, null, 0), await Store.GetStatsAsync("crm", Ct));
        Assert.Null(await Store.RequeueAsync("crm", dead, Now, Ct));
        Assert.False(await Store.DiscardAsync("crm", dead, "again", Now, Ct));
    }

    [Fact]
    public async Task TryAcquireLeaseAsync_Granted_ChangesGoThroughIt()
    {
        long a = await Store.EnqueueAsync(Write(n: 1), Ct);
        long b = await Store.EnqueueAsync(Write(n: 2), Ct);
        long c = await Store.EnqueueAsync(Write(n: 3), Ct);

        var lease = await Store.TryAcquireLeaseAsync("crm", "test-host", Ct);
        Assert.NotNull(lease);
        await using (lease)
        {
            Assert.True(await lease.RenewAsync(Ct));
            await lease.CompleteAsync(a, Ct);
            await lease.RescheduleAsync(b, 1, Now, "Timeout", Ct);
            await lease.DeadLetterAsync(c, "Rejected", Ct);
        }

        var due = Assert.Single(await Store.GetDueAsync("crm", Now, 10, Ct));
        Assert.Equal((b, 1, "Timeout"), (due.Id, due.Attempts, due.LastFailure));
        Assert.Equal(c, Assert.Single(await Store.ListAsync("crm", DeferredWriteState.DeadLettered, 0, 10, Ct)).Id);
    }

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}

public sealed class InMemoryDeferredWriteStoreTests : DeferredWriteStoreContractTests
{
    public InMemoryDeferredWriteStoreTests() => Store = new InMemoryDeferredWriteStore(Clock);

    protected override IDeferredWriteStore Store { get; }

    [Fact]
    public void IsDurable_InMemory_False()
    {
        Assert.False(Store.IsDurable);
    }
}
