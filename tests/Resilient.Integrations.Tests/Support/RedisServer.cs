using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using StackExchange.Redis;

namespace Resilient.Integrations.Tests.Support;

/// <summary>
/// Real Redis for the tests, never a mock. The shared server is <c>RESILIENT_REDIS</c> (a StackExchange.Redis
/// configuration string) when set, else a throw-away redis-server this process starts on first use, persistence off.
/// Tests share its database 0 and isolate by key: every key (and channel) a test uses starts with its own
/// <see cref="NewPrefix"/>; on an external server the keys under the prefixes handed out are deleted at the end.
/// A private server is a redis-server of its own that one test stops and starts.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private const string NotInstalled =
        "Redis is not installed, install it: apt-get install redis-server (or set RESILIENT_REDIS to host:port)";

    private static readonly Lazy<Task<(RedisServer? Server, string Reason)>> Shared = new(FindSharedAsync);

    // What the process cleans up: its redis-servers, and the keys its tests made on an external server.
    private static readonly ConcurrentDictionary<RedisServer, bool> Live = new();

    private readonly string? _external;
    private readonly string _binary = "";
    private readonly string _folder = "";
    private readonly bool _private;
    private readonly ConcurrentQueue<string> _prefixes = new();
    private Process? _process;

    // Only a fallback: the assembly fixture (RedisCleanup) stops everything before the runner returns, as xunit forces
    // the process out (exit code 1) when work left for ProcessExit takes over 10 s.
    static RedisServer() =>
        AppDomain.CurrentDomain.ProcessExit += (_, _) => ReleaseAllAsync().GetAwaiter().GetResult();

    private RedisServer(string external) => _external = external;

    private RedisServer(string binary, string folder, bool isPrivate) => (_binary, _folder, _private) = (binary, folder, isPrivate);

    /// <summary>The port of a server started here (an external server's is in its configuration).</summary>
    public int Port { get; private set; }

    /// <summary>A StackExchange.Redis configuration string: host:port.</summary>
    public string Configuration => _external ?? $"127.0.0.1:{Port}";

    /// <summary>The PID of the redis-server started here, while it runs.</summary>
    public int? ProcessId => _process is { HasExited: false } process ? process.Id : null;

    /// <summary>The shared server, started once per process; null when there is none (no binary, no variable).</summary>
    public static async Task<RedisServer?> GetAsync() => (await Shared.Value).Server;

    /// <summary>The shared server; skips the test when there is none, or fails it under CI, where a skip hides a gap.</summary>
    public static async Task<RedisServer> RequireAsync()
    {
        var (server, reason) = await Shared.Value;
        if (server is null)
        {
            LocalServers.SkipOrFail(reason);
        }

        return server;
    }

    /// <summary>A throw-away server the test owns (to stop and start) and disposes; skips or fails like <see cref="RequireAsync"/>.</summary>
    public static async Task<RedisServer> StartPrivateAsync()
    {
        var binary = FindBinary();
        if (binary is null)
        {
            LocalServers.SkipOrFail(Environment.GetEnvironmentVariable("RESILIENT_REDIS") is { Length: > 0 }
                ? "a private Redis server needs redis-server (RESILIENT_REDIS is shared), install it: apt-get install redis-server"
                : NotInstalled);
        }

        return await StartNewAsync(binary, isPrivate: true);
    }

    /// <summary>A key prefix no other test uses, e.g. <c>t-0123…:</c>; put it in front of every key and channel.</summary>
    public string NewPrefix()
    {
        var prefix = $"t-{Guid.NewGuid():N}:";
        _prefixes.Enqueue(prefix);
        return prefix;
    }

    /// <summary>Kills a private server; its port is then refused. Persistence is off: its keys are gone.</summary>
    public async Task StopAsync()
    {
        EnsurePrivate();
        await KillAsync();
    }

    /// <summary>Starts a stopped private server again, on the same port, empty.</summary>
    public async Task StartAsync()
    {
        EnsurePrivate();
        if (ProcessId is not null)
        {
            throw new InvalidOperationException($"Redis is already running on port {Port}");
        }

        if (await TryStartProcessAsync() is { } failure)
        {
            throw new InvalidOperationException($"Redis did not start again on port {Port}: {failure}");
        }
    }

    /// <summary>Stops and deletes a private server; the shared one lives until the tests are done.</summary>
    public ValueTask DisposeAsync() => _private ? new ValueTask(ReleaseAsync()) : ValueTask.CompletedTask;

    /// <summary>Every redis-server this process started stopped, every key its tests made elsewhere deleted.</summary>
    internal static Task ReleaseAllAsync() => Task.WhenAll(Live.Keys.Select(s => s.ReleaseAsync()));

    /// <summary>redis-server on PATH, else in /usr/bin or /usr/local/bin; null when there is none.</summary>
    internal static string? FindBinary() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin").Append("/usr/local/bin")
            .Select(folder => Path.Combine(folder, "redis-server"))
            .FirstOrDefault(File.Exists);

    /// <summary>
    /// The <c>process_id</c> that <c>INFO server</c> reports on 127.0.0.1:<paramref name="port"/>; null when nothing
    /// answers it (refused, closed, an error reply, no reply within 2 s). Plain RESP: a probe needs no client library.
    /// </summary>
    internal static async Task<int?> ProcessIdAsync(int port)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n"u8.ToArray(), timeout.Token);

            // The reply is one bulk string, "$LENGTH\r\nTEXT\r\n", a few KB at most.
            var buffer = new byte[64 * 1024];
            var length = 0;
            while (length < buffer.Length)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(length), timeout.Token);
                if (read == 0)
                {
                    return null;
                }

                length += read;
                var text = Encoding.ASCII.GetString(buffer, 0, length);
                var header = text.IndexOf("\r\n", StringComparison.Ordinal);
                if (header < 0)
                {
                    continue;
                }

                if (text[0] != '$' || !int.TryParse(text.AsSpan(1, header - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var size))
                {
                    return null; // an error (e.g. NOAUTH) or not Redis at all
                }

                if (length >= header + 2 + size)
                {
                    return text.Substring(header + 2, size).Split("\r\n")
                        .Where(line => line.StartsWith("process_id:", StringComparison.Ordinal))
                        .Select(line => int.TryParse(line.AsSpan("process_id:".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : (int?)null)
                        .FirstOrDefault();
                }
            }

            return null;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return null;
        }
    }

    private static async Task<(RedisServer?, string)> FindSharedAsync()
    {
        if (Environment.GetEnvironmentVariable("RESILIENT_REDIS") is { Length: > 0 } external)
        {
            var server = new RedisServer(external);
            Live[server] = true;
            return (server, "");
        }

        return FindBinary() is { } binary ? (await StartNewAsync(binary, isPrivate: false), "") : (null, NotInstalled);
    }

    private static async Task<RedisServer> StartNewAsync(string binary, bool isPrivate)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"resilient-redis-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var server = new RedisServer(binary, folder, isPrivate);
        Live[server] = true;
        try
        {
            // A port found free can be taken before the server binds it: try another.
            for (var attempt = 1; ; attempt++)
            {
                server.Port = LocalServers.FreePort();
                if (await server.TryStartProcessAsync() is not { } failure)
                {
                    return server;
                }

                if (attempt == 3)
                {
                    throw new InvalidOperationException($"Redis did not start in {folder}: {failure}");
                }
            }
        }
        catch
        {
            await server.ReleaseAsync();
            throw;
        }
    }

    /// <summary>
    /// Starts redis-server in the foreground as a child (this process reaps it and holds its PID: no PID file needed) and
    /// waits until the port answers with that PID, so a test never runs against a server that is not ours. Null when it
    /// is up, else why not.
    /// </summary>
    private async Task<string?> TryStartProcessAsync()
    {
        if (await ProcessIdAsync(Port) is { } before)
        {
            return $"port {Port} answers for another Redis (pid {before}): not ours, not used";
        }

        string[] arguments =
        [
            "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--dir", _folder, "--logfile", Path.Combine(_folder, "redis.log"),
        ];

        // Output redirected: a server that outlived a killed test host must not hold the runner's stdout open.
        var process = Process.Start(new ProcessStartInfo(_binary, arguments)
        {
            WorkingDirectory = _folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException($"{_binary} did not start");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                var exitCode = process.ExitCode;
                await KillAsync();
                return $"redis-server exited with {exitCode}{LogTail()}";
            }

            var pid = await ProcessIdAsync(Port);
            if (pid == process.Id)
            {
                return null;
            }

            if (pid is not null)
            {
                await KillAsync();
                return $"port {Port} answers for another Redis (pid {pid}, ours {process.Id}): not ours, not used";
            }

            if (waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                await KillAsync();
                return $"port {Port} did not answer within 30 s{LogTail()}";
            }

            await Task.Delay(10);
        }
    }

    /// <summary>SIGKILL by PID: nothing is kept (persistence off), so nothing is worth a graceful shutdown.</summary>
    private async Task KillAsync()
    {
        if (Interlocked.Exchange(ref _process, null) is not { } process)
        {
            return;
        }

        using (process)
        {
            try
            {
                process.Kill();
            }
            catch (InvalidOperationException)
            {
                // Already exited.
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                // Bounded: a process stuck in the kernel must not hold up the tests.
            }
        }
    }

    private void EnsurePrivate()
    {
        if (!_private)
        {
            throw new InvalidOperationException("only a private server (StartPrivateAsync) may be stopped and started: other tests share this one");
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
            await DeleteKeysAsync();
            return;
        }

        await KillAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a temp folder left behind is harmless.
        }
    }

    // An external server outlives the tests: take away the keys they made there (database 0, the one tests use).
    private async Task DeleteKeysAsync()
    {
        if (_prefixes.IsEmpty)
        {
            return;
        }

        var prefixes = _prefixes.ToHashSet(StringComparer.Ordinal);
        try
        {
            var options = ConfigurationOptions.Parse(_external!);
            options.ConnectTimeout = 2000;
            options.AbortOnConnectFail = true;
            await using var connection = await ConnectionMultiplexer.ConnectAsync(options);
            var keys = new List<RedisKey>();
            foreach (var server in connection.GetServers().Where(s => s.IsConnected && !s.IsReplica))
            {
                await foreach (var key in server.KeysAsync(0, "t-*", pageSize: 1000))
                {
                    var text = key.ToString();
                    if (text.IndexOf(':', StringComparison.Ordinal) is var end and > 0 && prefixes.Contains(text[..(end + 1)]))
                    {
                        keys.Add(key);
                    }
                }
            }

            if (keys.Count > 0)
            {
                await connection.GetDatabase(0).KeyDeleteAsync([.. keys]);
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException or InvalidOperationException or NotSupportedException)
        {
            // Best effort at the end: the server may already be gone.
        }
    }

    private string LogTail()
    {
        var log = Path.Combine(_folder, "redis.log");
        return File.Exists(log) ? "\n" + string.Join('\n', File.ReadLines(log).TakeLast(20)) : "";
    }
}
