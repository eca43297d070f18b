using System.Text;
using System.Text.Json;
using Resilient.Integrations.Classification.Internal;

namespace Resilient.Integrations.Providers.Internal;

/// <summary>
/// Judges the head of a server-sent-event stream: the events up to the first one that carries content. A provider
/// may open with a preamble and only then report an error (Anthropic sends <c>message_start</c>, then
/// <c>event: error</c> with <c>overloaded_error</c>), so an error anywhere before the first content event decides
/// the head. Comments, keep-alives, <c>ping</c>, Anthropic's <c>message_start</c> and an OpenAI-style chunk with
/// empty <c>choices</c> (Azure's prompt-filter results) are preamble; any other event is content, and reading
/// stops there, so the caller's first token is not delayed. What comes after content is not the head's business.
/// </summary>
internal static class EventStreamHead
{
    // Called after every chunk read: no event can be complete before a blank line, so only then decode.
    public static bool Enough(byte[] buffer, int length)
    {
        var read = buffer.AsSpan(0, length);
        return (read.IndexOf("\n\n"u8) >= 0 || read.IndexOf("\n\r\n"u8) >= 0) &&
            TryDecide(Encoding.UTF8.GetString(read), out _, out _, out _);
    }

    /// <summary>
    /// Reads the complete events of <paramref name="text"/> up to the first that decides the head: an error
    /// (<paramref name="isError"/>, with the error's <paramref name="code"/> and the event's <paramref name="data"/>)
    /// or content. <see langword="false"/> while the events read so far are all preamble.
    /// </summary>
    public static bool TryDecide(string text, out bool isError, out string? code, out string data)
    {
        int position = 0;
        while (NextEvent(text, ref position) is var (name, payload))
        {
            if ((name is null && payload.Length == 0) || name == "ping")
            {
                continue;
            }

            var json = Encoding.UTF8.GetBytes(payload);
            bool hasError = ErrorEnvelope.TryRead(json, isComplete: true, out bool errorMember, out code) && errorMember;
            if (name == "error" || hasError)
            {
                isError = true;
                data = payload;
                return true;
            }

            if (name == "message_start" || HasEmptyChoices(json))
            {
                continue;
            }

            isError = false;
            code = null;
            data = payload;
            return true;
        }

        isError = false;
        code = null;
        data = "";
        return false;
    }

    /// <summary>The next complete event (terminated by a blank line): its name and its data lines joined.</summary>
    private static (string? Name, string Data)? NextEvent(string text, ref int position)
    {
        if (NextBlock(text, ref position) is not { } block)
        {
            return null;
        }

        string? name = null;
        var payload = new StringBuilder();
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

        return (name, payload.ToString());
    }

    /// <summary>Whether the data is a JSON object whose top-level <c>choices</c> is an empty array: a chunk before any choice.</summary>
    private static bool HasEmptyChoices(ReadOnlySpan<byte> json)
    {
        if (json.IndexOf("\"choices\""u8) < 0)
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(ErrorEnvelope.SkipBom(json));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isChoices = reader.ValueTextEquals("choices"u8);
                if (!reader.Read())
                {
                    return false;
                }

                if (isChoices)
                {
                    return reader.TokenType == JsonTokenType.StartArray && reader.Read() && reader.TokenType == JsonTokenType.EndArray;
                }

                if (!reader.TrySkip())
                {
                    return false;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (e.g. "[DONE]"): not a preamble chunk.
        }

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
