using System.Net;
using Microsoft.Extensions.Time.Testing;
using Resilient.Integrations.Fallback;
using Resilient.Integrations.Fallback.Internal;
using Resilient.Integrations.Redaction.Internal;

namespace Resilient.Integrations.Tests.Fallback;

/// <summary>The freshness check that spares a request shape its key's hash and the cache look-up, and the copy's counted size.</summary>
public sealed class LastKnownGoodStoreTests
{
    private static readonly SecretRedactor Redactor = new(["Authorization"]);
    private static readonly FallbackPolicy Policy = new();

    private static LastKnownGoodKey Shape(int i) => new("GET", " ", $"https://crm.example/deals/{i}", null, null);

    private static void Remember(LastKnownGoodStore store, LastKnownGoodKey key)
    {
        using var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{}") };
        store.Remember(key, response, "{}"u8.ToArray(), Policy, Redactor);
    }

    [Fact]
    public void IsFresh_MoreShapesThanTheOldTable_EachJudgedByItsOwnCopy()
    {
        var clock = new FakeTimeProvider();
        using var store = new LastKnownGoodStore(64 * 1024 * 1024, clock);
        for (int i = 0; i < 5_000; i++)
        {
            Remember(store, Shape(i));
        }

        Assert.All(Enumerable.Range(0, 5_000), i => Assert.True(store.IsFresh(Shape(i), Policy)));
        Assert.False(store.IsFresh(Shape(5_000), Policy)); // never kept: keep one
        clock.Advance(Policy.RefreshInterval);
        Assert.All(Enumerable.Range(0, 5_000), i => Assert.False(store.IsFresh(Shape(i), Policy)));
    }

    [Fact]
    public void IsFresh_KeptAgain_CountsTheNewCopysAge()
    {
        var clock = new FakeTimeProvider();
        using var store = new LastKnownGoodStore(1024 * 1024, clock);
        var half = Policy.RefreshInterval / 2;
        Remember(store, Shape(1));
        clock.Advance(Policy.RefreshInterval);
        Remember(store, Shape(1));
        clock.Advance(half);

        Assert.True(store.IsFresh(Shape(1), Policy));
        clock.Advance(half);
        Assert.False(store.IsFresh(Shape(1), Policy));
    }

    [Fact]
    public void Key_FromParts_HashesTheSameMaterialAsBefore()
    {
        // Copies in a shared tier are keyed by this hash: the parts must join to the material earlier versions hashed.
        var parts = new LastKnownGoodKey("GET", " ", "https://crm.example/deals/1", "tenant-a", null);
        // The hex SHA-256 of the material as earlier versions joined it.
        string whole = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("GET https://crm.example/deals/1\ntenant-a")));

        Assert.Equal(whole, parts.Value);
        Assert.NotEqual(parts.Identity, new LastKnownGoodKey("GET", " ", "https://crm.example/deals/1", "tenant-b", null).Identity);
        Assert.Equal(parts.Identity, new LastKnownGoodKey("GET", " ", "https://crm.example/deals/1", "tenant-a", null).Identity);
    }

    [Theory]
    [InlineData(30)]
    [InlineData(400)] // past the parts laid end to end on the stack: hashed part by part
    public void Identity_PartsMovedBetweenFields_TellsTheShapesApart(int pathLength)
    {
        string path = "https://crm.example/" + new string('p', pathLength);
        var key = new LastKnownGoodKey("GET", " ", path, "ab", null);

        Assert.Equal(key.Identity, new LastKnownGoodKey("GET", " ", path, "ab", null).Identity);
        Assert.NotEqual(key.Identity, new LastKnownGoodKey("GET", " ", path + "a", "b", null).Identity);
        Assert.NotEqual(key.Identity, new LastKnownGoodKey("GET", " ", path, null, "ab").Identity);
        Assert.NotEqual(key.Identity, new LastKnownGoodKey("key:", path, null, "ab", null).Identity);
    }

    [Fact]
    public void Size_CountsHeapLayoutAndTheCachesShare()
    {
        using var small = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{}") };
        using var tagged = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{}") };
        tagged.Headers.TryAddWithoutValidation("X-Trace", new string('t', 100));
        var body = new byte[1000];

        var plain = StoredResponse.From(small, body, DateTimeOffset.UnixEpoch, _ => false);
        var withHeader = StoredResponse.From(tagged, body, DateTimeOffset.UnixEpoch, _ => false);

        Assert.True(plain.Size >= StoredResponse.EntryOverhead + 1000 + 24, $"{plain.Size}");
        Assert.True(withHeader.Size - plain.Size >= 200 + 14 + 24, $"{withHeader.Size - plain.Size}"); // 100 UTF-16 chars, the name, an array
    }

    [Fact]
    public void IsFresh_RefreshIntervalZero_NeverFresh()
    {
        using var store = new LastKnownGoodStore(1024 * 1024, new FakeTimeProvider());
        var key = Shape(1);
        Remember(store, key);

        Assert.False(store.IsFresh(key, new FallbackPolicy { RefreshInterval = TimeSpan.Zero }));
    }
}
