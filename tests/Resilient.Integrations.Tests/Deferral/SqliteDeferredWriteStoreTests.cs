using System.Net.Http.Headers;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.Sqlite;

namespace Resilient.Integrations.Tests.Deferral;

public sealed class SqliteDeferredWriteStoreTests : DeferredWriteStoreContractTests
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "ri-sqlite-" + Guid.NewGuid().ToString("N"));
    private SqliteDeferredWriteStore _store;

    public SqliteDeferredWriteStoreTests() => _store = Open();

    protected override IDeferredWriteStore Store => _store;

    private string DbPath => Path.Combine(_folder, "deferred.db");

    [Fact]
    public async Task EnqueueAsync_StoreReopened_WritesSurvive()
    {
        await _store.EnqueueAsync(Write(n: 1), Ct);
        await _store.EnqueueAsync(Write(n: 2), Ct);

        await _store.DisposeAsync();
        _store = Open();

        Assert.Equal(["key-1", "key-2"], (await _store.GetDueAsync("crm", Now, 10, Ct)).Select(w => w.IdempotencyKey));
        Assert.True(_store.IsDurable);
    }

    [Fact]
    public async Task EnqueueAsync_EightConcurrentWritersThousandEach_NothingLostNoBusyErrors()
    {
        var writers = Enumerable.Range(0, 8).Select(writer => Task.Run(async () =>
        {
            for (int i = 0; i < 1_000; i++)
            {
                await _store.EnqueueAsync(Write($"w{writer}", n: i), Ct);
            }
        }, Ct));

        await Task.WhenAll(writers);

        for (int writer = 0; writer < 8; writer++)
        {
            var stats = await _store.GetStatsAsync($"w{writer}", Ct);
            Assert.Equal(1_000, stats.Depth);
            var due = await _store.GetDueAsync($"w{writer}", Now.AddHours(1), 2_000, Ct);
            Assert.Equal(Enumerable.Range(0, 1_000).Select(i => $"key-{i}"), due.Select(w => w.IdempotencyKey)); // per writer, in order
        }
    }

    [Fact]
    public async Task Open_UsesWalAndFullSync()
    {
        using var connection = new SqliteConnection($"Data Source={DbPath}");
        await connection.OpenAsync(Ct);
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";

        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync(Ct));

        // synchronous is per connection: check the ones the store itself opens.
        using var own = _store.Open();
        using var sync = own.CreateCommand();
        sync.CommandText = "PRAGMA synchronous;";
        Assert.Equal(2L, (long)(await sync.ExecuteScalarAsync(Ct))!); // 2 = FULL
    }

    [Fact]
    public async Task FromRequestAsync_CapturedAndStored_NoCredentialBytesInDatabaseFiles()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "https://crm.example.com/v1/contacts?api_key=QUERYSECRET123&tenant=t-1")
        {
            Content = new StringContent("""{"name":"Ada"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sk-live-SECRET");
        request.Headers.Add("api-key", "AZUREKEY0123456789");
        request.Headers.Add("Cookie", "session=COOKIESECRET42");
        request.Headers.Add("X-Custom-Token", "CUSTOMSECRET77");
        request.Headers.Add("Idempotency-Key", "caller-key-1");

        var write = await DeferredWriteCapture.FromRequestAsync("crm", request, Now, ["X-Custom-Token"], Ct);
        await _store.EnqueueAsync(write, Ct);
        await _store.DisposeAsync();
        _store = Open();

        var stored = Assert.Single(await _store.GetDueAsync("crm", Now, 10, Ct));
        Assert.Equal("caller-key-1", stored.IdempotencyKey);
        Assert.Equal("https://crm.example.com/v1/contacts?tenant=t-1", stored.Uri!.OriginalString);
        Assert.Equal("""{"name":"Ada"}""", Encoding.UTF8.GetString(stored.Body.Span));
        var bytes = Encoding.Latin1.GetString(Directory.GetFiles(_folder).SelectMany(File.ReadAllBytes).ToArray());
        Assert.Contains("Ada", bytes, StringComparison.Ordinal); // the files were read
        foreach (var secret in new[] { "sk-live-SECRET", "AZUREKEY0123456789", "COOKIESECRET42", "CUSTOMSECRET77", "QUERYSECRET123" })
        {
            Assert.DoesNotContain(secret, bytes, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Constructor_MissingPath_ThrowsNamingTheOption()
    {
        var ex = Assert.Throws<ArgumentException>(() => new SqliteDeferredWriteStore(new SqliteDeferredWriteStoreOptions()));

        Assert.Contains("Path", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_PathIsADirectory_ThrowsNamingTheOptionAndPath()
    {
        var ex = Assert.Throws<ArgumentException>(() => new SqliteDeferredWriteStore(new SqliteDeferredWriteStoreOptions { Path = _folder }));

        Assert.Contains($"SqliteDeferredWriteStoreOptions.Path '{_folder}' is a directory", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("deferred.db")]
    [InlineData("queue/deferred.db")]
    public void Constructor_PathUnderARegularFile_ThrowsNamingTheOptionAndTheFile(string rest)
    {
        string file = Path.Combine(_folder, "not-a-folder");
        File.WriteAllText(file, "");
        string path = Path.Combine(file, rest);

        var ex = Assert.Throws<ArgumentException>(() => new SqliteDeferredWriteStore(new SqliteDeferredWriteStoreOptions { Path = path }));

        Assert.Contains($"SqliteDeferredWriteStoreOptions.Path '{path}' lies under '{file}', which is a file", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_FolderNotWritable_ThrowsNamingTheOptionAndPath()
    {
        string path = Path.Combine(NotWritableFolder(), "deferred.db");

        var ex = Assert.Throws<UnauthorizedAccessException>(() => new SqliteDeferredWriteStore(new SqliteDeferredWriteStoreOptions { Path = path }));

        Assert.Contains($"SqliteDeferredWriteStoreOptions.Path '{path}' is not writable", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>A folder this process cannot create files in: read-only by permission, or sysfs when running as root.</summary>
    private string NotWritableFolder()
    {
        string folder = Path.Combine(_folder, "read-only");
        if (OperatingSystem.IsWindows())
        {
            Assert.Skip("the read-only folder is made with Unix permissions");
        }
        else
        {
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }

        if (CanCreateFileIn(folder))
        {
            folder = "/sys/kernel"; // root ignores permissions; sysfs refuses new files to everyone
            Assert.SkipUnless(Directory.Exists(folder) && !CanCreateFileIn(folder), "no folder this process cannot write to");
        }

        return folder;
    }

    private static bool CanCreateFileIn(string folder)
    {
        try
        {
            using (File.Create(Path.Combine(folder, Guid.NewGuid().ToString("N")), 1, FileOptions.DeleteOnClose))
            {
            }

            return true;
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            return false;
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }

        await base.DisposeAsync();
    }

    private SqliteDeferredWriteStore Open() => new(new SqliteDeferredWriteStoreOptions { Path = DbPath }, Clock);
}

public sealed class SqliteDeferredWriteStoreRegistrationTests
{
    [Fact]
    public async Task AddSqliteDeferredWriteStore_ResolvesDurableStoreAtPath()
    {
        string path = Path.Combine(Path.GetTempPath(), "ri-sqlite-" + Guid.NewGuid().ToString("N"), "q.db");
        var services = new ServiceCollection();
        services.AddSqliteDeferredWriteStore(o => o.Path = path);
        await using (var provider = services.BuildServiceProvider())
        {
            var store = provider.GetRequiredService<IDeferredWriteStore>();
            Assert.True(store.IsDurable);
            Assert.True(File.Exists(path));
        }

        SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    [Fact]
    public async Task AddSqliteDeferredWriteStore_PathIsADirectory_FailsAtHostStartNamingTheOptionAndPath()
    {
        string folder = Directory.CreateTempSubdirectory("ri-sqlite-").FullName;
        try
        {
            var services = new ServiceCollection();
            services.AddResilientIntegration("crm");
            services.AddSqliteDeferredWriteStore(o => o.Path = folder);
            await using var provider = services.BuildServiceProvider();

            // The host resolves its hosted services, the replay of deferred writes among them, as it starts.
            var ex = Assert.Throws<ArgumentException>(() => provider.GetServices<Microsoft.Extensions.Hosting.IHostedService>().ToList());

            Assert.Contains($"SqliteDeferredWriteStoreOptions.Path '{folder}' is a directory", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
