using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Npgsql;

namespace Resilient.Integrations.Tests.Support;

/// <summary>
/// Real PostgreSQL for the tests, never a mock. The shared server is <c>RESILIENT_POSTGRES</c> when set, else a
/// throw-away cluster this process starts on first use and stops at exit; tests isolate by database
/// (<see cref="CreateDatabaseAsync"/>). A private server is a cluster of its own that one test stops and starts.
/// </summary>
internal sealed class PostgreSqlServer : IAsyncDisposable
{
    private const string NotInstalled =
        "PostgreSQL is not installed, install it: apt-get install postgresql (or set RESILIENT_POSTGRES to a connection string)";

    private static readonly Lazy<Task<(PostgreSqlServer? Server, string Reason)>> Shared = new(FindSharedAsync);

    // What the process cleans up at exit: its clusters, and the databases it made on an external server.
    private static readonly ConcurrentDictionary<PostgreSqlServer, bool> Live = new();

    private readonly string? _external;
    private readonly string _bin = "";
    private readonly string _folder = "";
    private readonly bool _private;
    private readonly ConcurrentQueue<string> _databases = new();

    // Only a fallback: the assembly fixture (PostgreSqlCleanup) releases everything before the runner returns. Work left
    // for ProcessExit would run after it, and xunit forces the process out (exit code 1) when that takes over 10 s.
    static PostgreSqlServer() =>
        AppDomain.CurrentDomain.ProcessExit += (_, _) => ReleaseAllAsync().GetAwaiter().GetResult();

    private PostgreSqlServer(string external) => _external = external;

    private PostgreSqlServer(string bin, string folder, bool isPrivate) => (_bin, _folder, _private) = (bin, folder, isPrivate);

    /// <summary>The port of a cluster started here (an external server's is in its connection string).</summary>
    public int Port { get; private set; }

    /// <summary>The server's <c>postgres</c> database; tests use <see cref="CreateDatabaseAsync"/> instead.</summary>
    public string ConnectionString => _external ?? $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres";

    private string DataFolder => Path.Combine(_folder, "data");

    private string PidFile => Path.Combine(DataFolder, "postmaster.pid");

    /// <summary>The shared server, started once per process; null when there is none (no binaries, no variable).</summary>
    public static async Task<PostgreSqlServer?> GetAsync() => (await Shared.Value).Server;

    /// <summary>The shared server; skips the test when there is none, or fails it under CI, where a skip hides a gap.</summary>
    public static async Task<PostgreSqlServer> RequireAsync()
    {
        var (server, reason) = await Shared.Value;
        if (server is null)
        {
            LocalServers.SkipOrFail(reason);
        }

        return server;
    }

    /// <summary>A throw-away cluster the test owns (to stop and start) and disposes; skips or fails like <see cref="RequireAsync"/>.</summary>
    public static async Task<PostgreSqlServer> StartPrivateAsync()
    {
        var bin = FindBinaries();
        if (bin is null)
        {
            LocalServers.SkipOrFail(Environment.GetEnvironmentVariable("RESILIENT_POSTGRES") is { Length: > 0 }
                ? "a private PostgreSQL server needs the PostgreSQL binaries (RESILIENT_POSTGRES is shared), install them: apt-get install postgresql"
                : NotInstalled);
        }

        return await StartClusterAsync(bin, isPrivate: true);
    }

    /// <summary>Creates a database with a unique name and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"resilient_test_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(Unpooled(ConnectionString)))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }

        _databases.Enqueue(name);
        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Stops a private server (fast shutdown: open connections are cut); the port is then refused.</summary>
    public async Task StopAsync()
    {
        EnsurePrivate();
        await StopClusterAsync();
    }

    /// <summary>Starts a stopped private server again, on the same port, with its data.</summary>
    public async Task StartAsync()
    {
        EnsurePrivate();
        var (exitCode, output) = await PgCtlStartAsync();
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"PostgreSQL did not start again on port {Port}: {output}{LogTail()}");
        }
    }

    /// <summary>Stops and deletes a private server; the shared one lives until the process exits.</summary>
    public ValueTask DisposeAsync() => _private ? new ValueTask(ReleaseAsync()) : ValueTask.CompletedTask;

    private static async Task<(PostgreSqlServer?, string)> FindSharedAsync()
    {
        if (Environment.GetEnvironmentVariable("RESILIENT_POSTGRES") is { Length: > 0 } external)
        {
            var server = new PostgreSqlServer(external);
            Live[server] = true;
            return (server, "");
        }

        return FindBinaries() is { } bin ? (await StartClusterAsync(bin, isPrivate: false), "") : (null, NotInstalled);
    }

    /// <summary>A folder with initdb and pg_ctl: on PATH, else the newest /usr/lib/postgresql/VERSION/bin.</summary>
    private static string? FindBinaries()
    {
        static bool Has(string folder) => File.Exists(Path.Combine(folder, "initdb")) && File.Exists(Path.Combine(folder, "pg_ctl"));

        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(Has);
        if (onPath is not null || !Directory.Exists("/usr/lib/postgresql"))
        {
            return onPath;
        }

        return Directory.GetDirectories("/usr/lib/postgresql")
            .Select(d => (Bin: Path.Combine(d, "bin"), Ok: decimal.TryParse(Path.GetFileName(d), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var version), Version: version))
            .Where(v => v.Ok && Has(v.Bin))
            .OrderByDescending(v => v.Version)
            .Select(v => v.Bin)
            .FirstOrDefault();
    }

    private static async Task<PostgreSqlServer> StartClusterAsync(string bin, bool isPrivate)
    {
        // Short: the Unix socket's path (FOLDER/.s.PGSQL.PORT) must stay under 108 bytes.
        var folder = Path.Combine(Path.GetTempPath(), $"resilient-pg-{Guid.NewGuid():N}");
        if (Environment.IsPrivilegedProcess)
        {
            // initdb and postgres refuse to run as root: the cluster belongs to the postgres user.
            await RunAsync(Path.GetTempPath(), "install", ["-d", "-o", "postgres", "-m", "700", folder], check: true);
        }
        else
        {
            Directory.CreateDirectory(folder);
        }

        var server = new PostgreSqlServer(bin, folder, isPrivate);
        Live[server] = true;
        try
        {
            await server.RunPostgresToolAsync("initdb", ["-D", server.DataFolder, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C"], check: true);

            // A port found free can be taken before the server binds it: try another.
            for (var attempt = 1; ; attempt++)
            {
                server.Port = LocalServers.FreePort();
                var (exitCode, output) = await server.PgCtlStartAsync();
                if (exitCode == 0)
                {
                    return server;
                }

                if (attempt == 3)
                {
                    throw new InvalidOperationException($"PostgreSQL did not start in {folder}: {output}{server.LogTail()}");
                }
            }
        }
        catch
        {
            await server.ReleaseAsync();
            throw;
        }
    }

    private static string Unpooled(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;

    // fsync stays on: the tests measure how durable an enqueue is.
    private Task<(int ExitCode, string Output)> PgCtlStartAsync() =>
        RunPostgresToolAsync("pg_ctl",
        [
            "-D", DataFolder, "-w", "-t", "60", "-l", Path.Combine(_folder, "postgres.log"),
            "-o", $"-k '{_folder}' -p {Port} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on",
            "start",
        ], check: false);

    private Task<(int ExitCode, string Output)> RunPostgresToolAsync(string tool, string[] arguments, bool check) =>
        Environment.IsPrivilegedProcess
            ? RunAsync(_folder, "runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. arguments], check)
            : RunAsync(_folder, Path.Combine(_bin, tool), arguments, check);

    private static async Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, string fileName, string[] arguments, bool check)
    {
        var start = new ProcessStartInfo(fileName, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish within 2 minutes");
        }

        var text = await output + await error;
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} exited with {process.ExitCode}: {text}");
        }

        return (process.ExitCode, text);
    }

    private void EnsurePrivate()
    {
        if (!_private)
        {
            throw new InvalidOperationException("only a private server (StartPrivateAsync) may be stopped and started: other tests share this one");
        }
    }

    /// <summary>Every cluster this process started stopped and deleted, every database it made elsewhere dropped.</summary>
    internal static Task ReleaseAllAsync() => Task.WhenAll(Live.Keys.Select(s => s.ReleaseAsync()));

    /// <summary>
    /// Shutdown by the postmaster's PID; done when it has removed its PID file (after closing its sockets). Fast shutdown
    /// (SIGINT) writes a checkpoint, as a restarted server expects; immediate (SIGQUIT) skips it, for a cluster about to be deleted.
    /// </summary>
    private async Task StopClusterAsync(bool immediate = false)
    {
        if (ReadPid() is not { } pid)
        {
            return;
        }

        const int SigInt = 2, SigQuit = 3, SigKill = 9;
        _ = Kill(pid, immediate ? SigQuit : SigInt);
        var waited = Stopwatch.StartNew();
        while (File.Exists(PidFile))
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                // A shutdown that hangs must not outlive the tests.
                _ = Kill(pid, SigKill);
                return;
            }

            await Task.Delay(20);
        }
    }

    private int? ReadPid()
    {
        try
        {
            return int.TryParse(File.ReadLines(PidFile).FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null; // no PID file: not running
        }
    }

    private async Task ReleaseAsync()
    {
        if (!Live.TryRemove(this, out _))
        {
            return;
        }

        if (_external is not null)
        {
            await DropDatabasesAsync();
            return;
        }

        await StopClusterAsync(immediate: true);
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a temp folder left behind is harmless.
        }
    }

    // An external server outlives the tests: take away what they made there.
    private async Task DropDatabasesAsync()
    {
        if (_databases.IsEmpty)
        {
            return;
        }

        try
        {
            await using var connection = new NpgsqlConnection(Unpooled(ConnectionString));
            await connection.OpenAsync();
            foreach (var name in _databases)
            {
                await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
                await command.ExecuteNonQueryAsync();
            }
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // Best effort at exit: the server may already be gone.
        }
    }

    private string LogTail()
    {
        var log = Path.Combine(_folder, "postgres.log");
        return File.Exists(log) ? "\n" + string.Join('\n', File.ReadLines(log).TakeLast(20)) : "";
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
