namespace Resilient.Integrations.Providers.Internal;

/// <summary>
/// Finds the first event of a server-sent-event stream that carries something: comments, keep-alives and
/// Anthropic's <c>ping</c> events are skipped. Reading stops there, so the caller's first token is not delayed.
/// </summary>
internal static class EventStreamHead
{
    // Called after every chunk read: no event can be complete before a blank line, so only then decode.
    public static bool Enough(byte[] buffer, int length)
    {
        var read = buffer.AsSpan(0, length);
        return (read.IndexOf("\n\n"u8) >= 0 || read.IndexOf("\n\r\n"u8) >= 0) &&
            TryFirstEvent(System.Text.Encoding.UTF8.GetString(read), out _, out _);
    }

    public static bool TryFirstEvent(string text, out string? name, out string data)
    {
        int position = 0;
        while (NextBlock(text, ref position) is { } block)
        {
            name = null;
            var payload = new System.Text.StringBuilder();
            foreach (var raw in block.Split('\n'))
            {
                string line = raw.TrimEnd('\r');
                if (line.Length == 0 || line[0] == ':')
                {
                    continue;
                }

                int colon = line.IndexOf(':', StringComparison.Ordinal);
                string field = colon < 0 ? line : line[..colon];
                string value = colon < 0 ? "" : line[(colon + 1)..];
                value = value.StartsWith(' ') ? value[1..] : value;
                if (field == "event")
                {
                    name = value;
                }
                else if (field == "data")
                {
                    payload.Append(payload.Length > 0 ? "\n" : "").Append(value);
                }
            }

            if ((name is null && payload.Length == 0) || name == "ping")
            {
                continue;
            }

            data = payload.ToString();
            return true;
        }

        name = null;
        data = "";
        return false;
    }

    private static string? NextBlock(string text, ref int position)
    {
        for (int i = position; i < text.Length - 1; i++)
        {
            int separator = text[i] == '\n' && text[i + 1] == '\n' ? 2
                : text[i] == '\n' && text[i + 1] == '\r' && i + 2 < text.Length && text[i + 2] == '\n' ? 3
                : 0;
            if (separator > 0)
            {
                string block = text[position..i];
                position = i + separator;
                return block;
            }
        }

        return null;
    }
}
