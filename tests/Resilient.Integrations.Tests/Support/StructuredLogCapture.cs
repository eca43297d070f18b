using System.Collections;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Resilient.Integrations.Tests.Support;

/// <summary>
/// A logger provider that keeps what a structured sink (OpenTelemetry, Serilog, Application Insights) would
/// keep: the formatted message, every state and scope key with its value stringified all the way down
/// (enumerables included, which FakeLogger reduces to a type name), and the exception. Enabled at every level.
/// </summary>
public sealed class StructuredLogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    public IReadOnlyList<Entry> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    /// <summary>Everything recorded, one line per entry, for a search by substring.</summary>
    public string Everything() => string.Join("\n", _entries.Select(e => e.ToString()));

    /// <summary>Flattens a state or scope to key=value pairs, the way structured sinks read it.</summary>
    public static IEnumerable<(string Key, string Value)> Flatten(object? state)
    {
        if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
        {
            foreach (var (key, value) in pairs)
            {
                yield return (key, Stringify(value, 0));
            }
        }

        yield return ("(state)", Stringify(state, 0));
    }

    private static string Stringify(object? value, int depth)
    {
        switch (value)
        {
            case null:
                return string.Empty;
            case string s:
                return s;
            case IEnumerable<KeyValuePair<string, object?>> pairs when depth < 8:
                return "{" + string.Join(", ", pairs.Select(p => p.Key + "=" + Stringify(p.Value, depth + 1))) + "}";
            case IEnumerable items when depth < 8:
                var text = new StringBuilder("[");
                foreach (var item in items)
                {
                    text.Append(Stringify(item, depth + 1)).Append(", ");
                }

                return text.Append(']').Append(' ').Append(Convert.ToString(value, CultureInfo.InvariantCulture)).ToString();
            default:
                return Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty;
        }
    }

    public sealed record Entry(string Category, LogLevel Level, string Message, IReadOnlyList<(string Key, string Value)> State, string? Exception)
    {
        public override string ToString() =>
            $"{Level} {Category}: {Message} | {string.Join(" | ", State.Select(kv => kv.Key + "=" + kv.Value))} | {Exception}";
    }

    private sealed class Logger(StructuredLogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            owner._entries.Enqueue(new Entry(category, LogLevel.None, "(scope)", [.. Flatten(state)], null));
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._entries.Enqueue(new Entry(category, logLevel, formatter(state, exception), [.. Flatten(state)], exception?.ToString()));
    }
}
