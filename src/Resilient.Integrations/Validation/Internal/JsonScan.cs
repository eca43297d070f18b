using System.Buffers;
using System.Runtime.CompilerServices;

namespace Resilient.Integrations.Validation.Internal;

/// <summary>
/// A strict, allocation-free scan of a whole JSON text, for the small bodies most APIs answer with: it passes a text
/// only when <see cref="System.Text.Json.Utf8JsonReader"/> with default options would read it to the end (RFC 8259: no
/// comments, no trailing commas, one value, depth at most 64) and nothing in it needs a closer look. Anything else
/// (a flaw, an escape that may decode to a surrogate, a top-level member named <c>error</c>) goes to the reader, which
/// decides and words the verdict: the scan only ever saves the reader's work, never overrules it.
/// </summary>
internal static class JsonScan
{
    private const int MaxDepth = 64; // the reader's default; the scan stops one short and leaves the deepest texts to it

    /// <summary>Whether <paramref name="json"/> (UTF-8 checked by the caller) is one well-formed value with nothing to look closer at.</summary>
    public static bool IsPlainValid(ReadOnlySpan<byte> json, bool deferErrorMember)
    {
        int i = SkipSpace(json, 0);
        int depth = 0;
        ulong arrays = 0; // bit d-1: the container at depth d is an array

        while (true)
        {
            // A value starts at i.
            if (i >= json.Length)
            {
                return false;
            }

            switch (json[i])
            {
                case (byte)'{':
                    if (++depth >= MaxDepth)
                    {
                        return false;
                    }

                    arrays &= ~(1UL << (depth - 1));
                    i = SkipSpace(json, i + 1);
                    if (i < json.Length && json[i] == '}')
                    {
                        depth--;
                        i++;
                        break;
                    }

                    if (!Member(json, ref i, depth, deferErrorMember))
                    {
                        return false;
                    }

                    continue; // its value

                case (byte)'[':
                    if (++depth >= MaxDepth)
                    {
                        return false;
                    }

                    arrays |= 1UL << (depth - 1);
                    i = SkipSpace(json, i + 1);
                    if (i < json.Length && json[i] == ']')
                    {
                        depth--;
                        i++;
                        break;
                    }

                    continue; // its first element

                case (byte)'"':
                    if (!String(json, ref i, out _))
                    {
                        return false;
                    }

                    break;

                case (byte)'t':
                    if (!Literal(json, ref i, "true"u8))
                    {
                        return false;
                    }

                    break;

                case (byte)'f':
                    if (!Literal(json, ref i, "false"u8))
                    {
                        return false;
                    }

                    break;

                case (byte)'n':
                    if (!Literal(json, ref i, "null"u8))
                    {
                        return false;
                    }

                    break;

                default:
                    if (!Number(json, ref i))
                    {
                        return false;
                    }

                    break;
            }

            // After a value: close containers, or move to the next element or member.
            while (true)
            {
                i = SkipSpace(json, i);
                if (depth == 0)
                {
                    return i == json.Length;
                }

                if (i >= json.Length)
                {
                    return false;
                }

                bool inArray = (arrays & (1UL << (depth - 1))) != 0;
                byte c = json[i];
                if (c == (inArray ? (byte)']' : (byte)'}'))
                {
                    depth--;
                    i++;
                    continue;
                }

                if (c != ',')
                {
                    return false;
                }

                i = SkipSpace(json, i + 1);
                if (!inArray && !Member(json, ref i, depth, deferErrorMember))
                {
                    return false;
                }

                break; // the next value
            }
        }
    }

    /// <summary>A member's name and colon; <paramref name="i"/> ends at its value.</summary>
    private static bool Member(ReadOnlySpan<byte> json, ref int i, int depth, bool deferErrorMember)
    {
        int start = i;
        if (i >= json.Length || json[i] != '"' || !String(json, ref i, out bool escaped))
        {
            return false;
        }

        // A top-level "error" (or a name that may unescape to it) is the reader's to judge: an envelope or not.
        if (deferErrorMember && depth == 1 && (escaped || json[(start + 1)..(i - 1)].SequenceEqual("error"u8)))
        {
            return false;
        }

        i = SkipSpace(json, i);
        if (i >= json.Length || json[i] != ':')
        {
            return false;
        }

        i = SkipSpace(json, i + 1);
        return true;
    }

    // What ends a run of plain string bytes: its closing quote, an escape, or a control character (invalid in JSON).
    private static readonly SearchValues<byte> StringStops = SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D\u000E\u000F\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\"\\"u8);

    /// <summary>A string from its opening quote; no control characters, only valid escapes, none of a surrogate.</summary>
    private static bool String(ReadOnlySpan<byte> json, ref int i, out bool escaped)
    {
        escaped = false;
        i++;
        while (true)
        {
            // Plain bytes are skipped a vector at a time.
            int run = (uint)i < (uint)json.Length ? json[i..].IndexOfAny(StringStops) : -1;
            if (run < 0)
            {
                return false;
            }

            i += run;
            byte c = json[i++];
            if (c == '"')
            {
                return true;
            }

            if (c != '\\' || i >= json.Length)
            {
                return false;
            }

            escaped = true;
            switch (json[i++])
            {
                case (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t':
                    break;
                case (byte)'u':
                    if (i + 4 > json.Length || !Hex(json[i], out int h0) || !Hex(json[i + 1], out int h1) || !Hex(json[i + 2], out _) || !Hex(json[i + 3], out _))
                    {
                        return false;
                    }

                    // \uD800–\uDFFF: whether it pairs is the reader's (and the text check's) to say.
                    if (h0 == 0xD && h1 >= 0x8)
                    {
                        return false;
                    }

                    i += 4;
                    break;
                default:
                    return false;
            }
        }
    }

    private static bool Hex(byte c, out int value)
    {
        value = c is >= (byte)'0' and <= (byte)'9' ? c - '0' : (c | 0x20) is >= 'a' and <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
        return value >= 0;
    }

    private static bool Literal(ReadOnlySpan<byte> json, ref int i, ReadOnlySpan<byte> literal)
    {
        if (!json[i..].StartsWith(literal))
        {
            return false;
        }

        i += literal.Length;
        return true;
    }

    /// <summary>-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?</summary>
    private static bool Number(ReadOnlySpan<byte> json, ref int i)
    {
        if (json[i] == '-')
        {
            i++;
        }

        if (i >= json.Length || !IsDigit(json[i]))
        {
            return false;
        }

        if (json[i++] != '0')
        {
            SkipDigits(json, ref i);
        }

        if (i < json.Length && json[i] == '.')
        {
            i++;
            if (i >= json.Length || !IsDigit(json[i]))
            {
                return false;
            }

            SkipDigits(json, ref i);
        }

        if (i < json.Length && (json[i] | 0x20) == 'e')
        {
            i++;
            if (i < json.Length && json[i] is (byte)'+' or (byte)'-')
            {
                i++;
            }

            if (i >= json.Length || !IsDigit(json[i]))
            {
                return false;
            }

            SkipDigits(json, ref i);
        }

        return true;
    }

    private static bool IsDigit(byte c) => c is >= (byte)'0' and <= (byte)'9';

    private static void SkipDigits(ReadOnlySpan<byte> json, ref int i)
    {
        while (i < json.Length && IsDigit(json[i]))
        {
            i++;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SkipSpace(ReadOnlySpan<byte> json, int i)
    {
        // Most tokens are not followed by space: one test, inlined.
        if ((uint)i >= (uint)json.Length || json[i] > (byte)' ')
        {
            return i;
        }

        while (i < json.Length && json[i] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
        {
            i++;
        }

        return i;
    }
}
