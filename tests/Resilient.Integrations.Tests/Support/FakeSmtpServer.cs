using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Resilient.Integrations.Tests.Support;

/// <summary>
/// A minimal SMTP server on 127.0.0.1 that records what it is sent: EHLO/HELO, optional AUTH PLAIN or LOGIN, MAIL FROM,
/// RCPT TO, DATA (with dot-unstuffing), RSET, NOOP, QUIT. No TLS, no pipelining, no extensions beyond AUTH.
/// Shape from RFC 5321 (https://www.rfc-editor.org/rfc/rfc5321) and RFC 4954 / RFC 4616 for AUTH
/// (https://www.rfc-editor.org/rfc/rfc4954, https://www.rfc-editor.org/rfc/rfc4616).
/// </summary>
internal sealed class FakeSmtpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _accepting;
    private readonly ConcurrentQueue<Task> _sessions = new();

    /// <param name="authMechanism">The one AUTH mechanism offered (<c>PLAIN</c> or <c>LOGIN</c>), or null to offer none.</param>
    /// <param name="password">The password accepted; any other is refused with 535.</param>
    public FakeSmtpServer(string? authMechanism = null, string? password = null)
    {
        AuthMechanism = authMechanism;
        Password = password;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public string? AuthMechanism { get; }

    public string? Password { get; }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The messages accepted, in order.</summary>
    public ConcurrentQueue<SmtpEnvelope> Messages { get; } = new();

    /// <summary>Credentials tried, accepted or not, as (user, password).</summary>
    public ConcurrentQueue<(string User, string Password)> Logins { get; } = new();

    /// <summary>
    /// A port nothing listens on, for as long as the socket returned is open: bound, never listening, so a connection
    /// to it is refused and no other process can take the port meanwhile.
    /// </summary>
    public static Socket ClosedPort(out int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        return socket;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        foreach (var session in _sessions)
        {
            try
            {
                await session;
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
            }
        }

        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stopping.Token);
            _sessions.Enqueue(Task.Run(() => ServeAsync(client)));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();

        // Latin-1 maps bytes to chars one to one: DATA is kept byte for byte.
        using var reader = new StreamReader(stream, Encoding.Latin1);
        await using var writer = new StreamWriter(stream, Encoding.Latin1) { NewLine = "\r\n", AutoFlush = true };
        var token = _stopping.Token;
        string? from = null;
        var recipients = new List<string>();
        string? user = null;

        await writer.WriteLineAsync("220 fake.test ESMTP ready");
        while (await reader.ReadLineAsync(token) is { } line)
        {
            string verb = line.Split(' ', 2)[0].ToUpperInvariant();
            string argument = line.Length > verb.Length ? line[(verb.Length + 1)..] : string.Empty;
            switch (verb)
            {
                case "EHLO":
                    await writer.WriteLineAsync(AuthMechanism is null ? "250 fake.test" : $"250-fake.test\r\n250 AUTH {AuthMechanism}");
                    break;
                case "HELO":
                    await writer.WriteLineAsync("250 fake.test");
                    break;
                case "AUTH":
                    user = await AuthenticateAsync(argument, reader, writer, token);
                    break;
                case "MAIL":
                    if (Password is not null && user is null)
                    {
                        await writer.WriteLineAsync("530 5.7.0 Authentication required");
                        break;
                    }

                    from = Address(argument);
                    recipients.Clear();
                    await writer.WriteLineAsync("250 2.1.0 OK");
                    break;
                case "RCPT":
                    recipients.Add(Address(argument));
                    await writer.WriteLineAsync("250 2.1.5 OK");
                    break;
                case "DATA":
                    await writer.WriteLineAsync("354 End data with <CR><LF>.<CR><LF>");
                    var data = new StringBuilder();
                    while (await reader.ReadLineAsync(token) is { } dataLine && dataLine != ".")
                    {
                        data.Append(dataLine.StartsWith('.') ? dataLine[1..] : dataLine).Append("\r\n");
                    }

                    Messages.Enqueue(new SmtpEnvelope(from ?? string.Empty, [.. recipients], data.ToString(), user));
                    await writer.WriteLineAsync("250 2.0.0 Queued");
                    break;
                case "RSET":
                    from = null;
                    recipients.Clear();
                    await writer.WriteLineAsync("250 2.0.0 OK");
                    break;
                case "NOOP":
                    await writer.WriteLineAsync("250 2.0.0 OK");
                    break;
                case "QUIT":
                    await writer.WriteLineAsync("221 2.0.0 Bye");
                    return;
                default:
                    await writer.WriteLineAsync("502 5.5.2 Command not implemented");
                    break;
            }
        }
    }

    /// <summary>AUTH PLAIN (initial response or after 334) or LOGIN (user then password, each base64); returns the user accepted, or null.</summary>
    private async Task<string?> AuthenticateAsync(string argument, StreamReader reader, StreamWriter writer, CancellationToken token)
    {
        var parts = argument.Split(' ', 2);
        string mechanism = parts[0].ToUpperInvariant();
        string? initial = parts.Length > 1 ? parts[1] : null;
        string user;
        string password;
        if (mechanism == "PLAIN" && AuthMechanism == "PLAIN")
        {
            if (initial is null)
            {
                await writer.WriteLineAsync("334 ");
                initial = await reader.ReadLineAsync(token);
            }

            // authzid NUL authcid NUL passwd
            var fields = Decode(initial).Split('\0');
            (user, password) = fields.Length == 3 ? (fields[1], fields[2]) : (string.Empty, string.Empty);
        }
        else if (mechanism == "LOGIN" && AuthMechanism == "LOGIN")
        {
            if (initial is null)
            {
                await writer.WriteLineAsync("334 " + Convert.ToBase64String("Username:"u8));
                initial = await reader.ReadLineAsync(token);
            }

            user = Decode(initial);
            await writer.WriteLineAsync("334 " + Convert.ToBase64String("Password:"u8));
            password = Decode(await reader.ReadLineAsync(token));
        }
        else
        {
            await writer.WriteLineAsync("504 5.5.4 Unrecognized authentication type");
            return null;
        }

        Logins.Enqueue((user, password));
        if (password == Password)
        {
            await writer.WriteLineAsync("235 2.7.0 Authentication successful");
            return user;
        }

        await writer.WriteLineAsync("535 5.7.8 Authentication credentials invalid");
        return null;
    }

    private static string Decode(string? base64) => base64 is null ? string.Empty : Encoding.UTF8.GetString(Convert.FromBase64String(base64.Trim()));

    // "FROM:<a@example.com> SIZE=123" -> "a@example.com"
    private static string Address(string argument)
    {
        int open = argument.IndexOf('<', StringComparison.Ordinal);
        int close = argument.IndexOf('>', StringComparison.Ordinal);
        return open >= 0 && close > open ? argument[(open + 1)..close] : argument;
    }
}

/// <summary>One message as the server received it: the envelope and the raw message (headers and body).</summary>
internal sealed record SmtpEnvelope(string From, IReadOnlyList<string> Recipients, string Data, string? AuthenticatedUser)
{
    public MimeKit.MimeMessage Parse()
    {
        using var raw = new MemoryStream(Encoding.Latin1.GetBytes(Data));
        return MimeKit.MimeMessage.Load(raw);
    }
}
