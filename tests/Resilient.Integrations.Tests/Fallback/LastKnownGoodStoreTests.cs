using System.Net;
using Microsoft.Extensions.Time.Testing;
using Resilient.Integrations.Fallback;
using Resilient.Integrations.Fallback.Internal;
using Resilient.Integrations.Redaction.Internal;

namespace Resilient.Integrations.Tests.Fallback;

/// <summary>The freshness check that spares a hot request shape its key's hash and the cache look-up.</summary>
public sealed class LastKnownGoodStoreTests
{
    private static readonly SecretRedactor Redactor = new(["Authorization"]);
    private static readonly FallbackPolicy Policy = new();

    /// <summary>Two request shapes whose tags differ but fall in the same freshness slot.</summary>
    private static (LastKnownGoodKey A, LastKnownGoodKey B) SharingASlot()
    {
        var first = new LastKnownGoodKey("GET https://crm.example/deals/0\n");
        for (int i = 1; ; i++)
        {
            var other = new LastKnownGoodKey($"GET https://crm.example/deals/{i}\n");
            if (other.Tag != first.Tag && ((other.Tag ^ first.Tag) & 1023) == 0)
            {
                return (first, other);
            }
        }
    }

    private static void Remember(LastKnownGoodStore store, LastKnownGoodKey key)
    {
        using var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{}") };
        store.Remember(key, response, "{}"u8.ToArray(), Policy, Redactor);
    }

    [Fact]
    public void IsFresh_SlotTakenByAnotherShape_JudgedByTheCopyInTheCache()
    {
        var clock = new FakeTimeProvider();
        using var store = new LastKnownGoodStore(1024 * 1024, clock);
        var (a, b) = SharingASlot();
        Remember(store, a);
        Assert.False(store.IsFresh(b, Policy)); // no copy of its own yet: keep one

        Remember(store, b); // b now holds the slot

        Assert.True(store.IsFresh(a, Policy)); // a's copy is still younger than the interval
        clock.Advance(Policy.RefreshInterval);
        Assert.False(store.IsFresh(a, Policy));
        Assert.False(store.IsFresh(b, Policy));
    }

    [Fact]
    public void IsFresh_JudgedFromTheCache_CountsTheCopysAgeNotTheLookUp()
    {
        var clock = new FakeTimeProvider();
        using var store = new LastKnownGoodStore(1024 * 1024, clock);
        var (a, b) = SharingASlot();
        var half = Policy.RefreshInterval / 2;
        Remember(store, a);
        clock.Advance(half);
        Remember(store, b); // b holds the slot

        Assert.True(store.IsFresh(a, Policy)); // half an interval old, read from the cache; a holds the slot again
        clock.Advance(half);

        Assert.False(store.IsFresh(a, Policy)); // a whole interval since a's copy was kept, though only half since the look-up
        Assert.True(store.IsFresh(b, Policy));
    }

    [Fact]
    public void IsFresh_RefreshIntervalZero_NeverFresh()
    {
        using var store = new LastKnownGoodStore(1024 * 1024, new FakeTimeProvider());
        var key = new LastKnownGoodKey("GET https://crm.example/deals/1\n");
        Remember(store, key);

        Assert.False(store.IsFresh(key, new FallbackPolicy { RefreshInterval = TimeSpan.Zero }));
    }
}
