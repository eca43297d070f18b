using System.Text.Json;

namespace Resilient.Integrations.Classification.Internal;

/// <summary>
/// Reads the provider's error code from the common JSON error envelopes: OpenAI and Azure
/// (<c>{"error":{"code","type"}}</c>), Anthropic (<c>{"type":"error","error":{"type"}}</c>), Gemini
/// (<c>{"error":{"status"}}</c>), and flat or array forms (<c>{"code"}</c>, <c>[{"errorCode"}]</c>).
/// Works on a prefix: a cut-off body yields whatever was read before the cut.
/// </summary>
internal static class ErrorEnvelope
{
    /// <summary>Finds a top-level, non-null <c>error</c> member and the code inside it.</summary>
    public static bool TryRead(ReadOnlySpan<byte> json, bool isComplete, out bool hasErrorMember, out string? code)
    {
        hasErrorMember = false;
        code = null;
        try
        {
            var reader = new Utf8JsonReader(SkipBom(json), isComplete, default);
            if (!reader.Read())
            {
                return false;
            }

            if (reader.TokenType == JsonTokenType.StartArray && (!reader.Read() || reader.TokenType != JsonTokenType.StartObject))
            {
                return false;
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            ReadObject(ref reader, out hasErrorMember, out code);
            return true;
        }
        catch (JsonException)
        {
            return hasErrorMember || code is not null;
        }
    }

    /// <summary>Whether an <c>error</c> value says something went wrong: an object, a non-empty string or <c>true</c>; not <c>null</c>, <c>false</c> or <c>""</c>.</summary>
    public static bool IsMeaningfulError(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.StartObject or JsonTokenType.StartArray or JsonTokenType.True => true,
        JsonTokenType.Number => !reader.TryGetDouble(out double code) || code != 0,
        JsonTokenType.String => reader.ValueSpan.Length > 0,
        _ => false,
    };

    public static ReadOnlySpan<byte> SkipBom(ReadOnlySpan<byte> json) =>
        json.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? json[3..] : json;

    private static void ReadObject(ref Utf8JsonReader reader, out bool hasErrorMember, out string? code)
    {
        hasErrorMember = false;
        string? errorCode = null, flatCode = null;
        int depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            bool isError = reader.ValueTextEquals("error"u8);
            bool isFlatCode = reader.ValueTextEquals("code"u8) || reader.ValueTextEquals("errorCode"u8) || reader.ValueTextEquals("error_code"u8);
            if (!reader.Read())
            {
                break;
            }

            if (isError && IsMeaningfulError(ref reader))
            {
                hasErrorMember = true;
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    errorCode = ReadErrorObject(ref reader);
                }
            }
            else if (isFlatCode && reader.TokenType == JsonTokenType.String)
            {
                flatCode = reader.GetString();
            }
            else if (!reader.TrySkip())
            {
                break;
            }
        }

        code = errorCode ?? flatCode;
    }

    private static string? ReadErrorObject(ref Utf8JsonReader reader)
    {
        string? code = null, type = null, status = null;
        int depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            int field = reader.ValueTextEquals("code"u8) ? 1 : reader.ValueTextEquals("type"u8) ? 2 : reader.ValueTextEquals("status"u8) ? 3 : 0;
            if (!reader.Read())
            {
                break;
            }

            if (field != 0 && reader.TokenType == JsonTokenType.String)
            {
                string? value = reader.GetString();
                if (field == 1) { code = value; } else if (field == 2) { type = value; } else { status = value; }
            }
            else if (!reader.TrySkip())
            {
                break;
            }
        }

        // A string code is the most specific (OpenAI's insufficient_quota); Gemini's numeric code is just the status again.
        return NullIfEmpty(code) ?? NullIfEmpty(type) ?? NullIfEmpty(status);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
