using System.Text;
using System.Text.Json;
using Resilient.Integrations.Validation.Internal;

namespace Resilient.Integrations.Tests.Validation;

/// <summary>
/// The quick scan may only ever spare the reader work: whatever it passes, the reader must read to the end without a
/// top-level "error" member. Checked on hand-picked texts and on many thousands of mutated ones.
/// </summary>
public sealed class JsonScanTests
{
    [Theory]
    [InlineData("""{"id":1,"name":"Ada Lovelace","email":"ada@example.com"}""")]
    [InlineData("""[1, -2.5e+3, 0, 0.25, true, false, null, "x", {}, []]""")]
    [InlineData(" \r\n\t{\"a\":{\"b\":[{\"c\":\"d\\n\\u00e9\\\"\"}]}} ")]
    [InlineData("\"just a string\"")]
    [InlineData("42")]
    [InlineData("{\"summary\":\"Revenue grew four percent week over week; churn held steady and two deals closed.\"}")]
    [InlineData("{\"data\":{\"error\":null}}")]
    public void IsPlainValid_WellFormed_Passes(string json) =>
        Assert.True(JsonScan.IsPlainValid(Encoding.UTF8.GetBytes(json), deferErrorMember: true));

    [Theory]
    [InlineData("{\"a\":1,}")]
    [InlineData("[1,2,]")]
    [InlineData("{\"a\":1")]
    [InlineData("{\"a\" 1}")]
    [InlineData("{a:1}")]
    [InlineData("01")]
    [InlineData("1.")]
    [InlineData("-")]
    [InlineData("tru")]
    [InlineData("{} {}")]
    [InlineData("\"tab\there\"")]
    [InlineData("{\"summary\":\"Revenue grew four percent week over week\there, past the first vector\"}")]
    [InlineData("{\"summary\":\"Revenue grew four percent week over week, and the quote never closes}")]
    [InlineData("{\"summary\":\"Revenue grew four percent week over week \\q past the first vector\"}")]
    [InlineData("\"\\x\"")]
    [InlineData("\"\\uD800\"")]
    [InlineData("{\"error\":{\"message\":\"no\"}}")]
    [InlineData("{\"err\\u006fr\":1}")]
    [InlineData("// comment\n{}")]
    [InlineData("")]
    public void IsPlainValid_FlawedOrForTheReader_LeavesItToTheReader(string json) =>
        Assert.False(JsonScan.IsPlainValid(Encoding.UTF8.GetBytes(json), deferErrorMember: true));

    [Fact]
    public void IsPlainValid_DeepestNesting_LeftToTheReader()
    {
        Assert.True(JsonScan.IsPlainValid(Encoding.UTF8.GetBytes(new string('[', 63) + new string(']', 63)), deferErrorMember: true));
        Assert.False(JsonScan.IsPlainValid(Encoding.UTF8.GetBytes(new string('[', 64) + new string(']', 64)), deferErrorMember: true));
    }

    [Fact]
    public void IsPlainValid_MutatedTexts_NeverPassesWhatTheReaderRejects()
    {
        var random = new Random(20261202);
        string[] seeds =
        [
            """{"id":1,"name":"Ada","tags":["a","b"],"score":12.5,"ok":true,"next":null}""",
            """[{"a":[1,2,{"b":"c\u00e9\n"}]},-0.5e-3,"x",false]""",
            """{"data":{"items":[],"error":null},"count":0}""",
            """{"summary":"Revenue grew four percent week over week, churn held steady \u00e9 and two deals closed","n":[1,2]}""",
        ];
        byte[] alphabet = Encoding.UTF8.GetBytes("{}[]:,\"\\ tfnrlue0123456789-+.eE/abu\t\n\r\u0001");
        int passed = 0;
        for (int n = 0; n < 30_000; n++)
        {
            var text = Encoding.UTF8.GetBytes(seeds[n % seeds.Length]).ToList();
            for (int edits = random.Next(1, 4); edits > 0; edits--)
            {
                int at = random.Next(text.Count + 1);
                switch (random.Next(3))
                {
                    case 0 when text.Count > 0 && at < text.Count:
                        text.RemoveAt(at);
                        break;
                    case 1 when at < text.Count:
                        text[at] = alphabet[random.Next(alphabet.Length)];
                        break;
                    default:
                        text.Insert(at, alphabet[random.Next(alphabet.Length)]);
                        break;
                }
            }

            var bytes = text.ToArray();
            if (JsonScan.IsPlainValid(bytes, deferErrorMember: true))
            {
                passed++;
                Assert.True(ReaderAccepts(bytes), Encoding.UTF8.GetString(bytes));
            }
        }

        Assert.True(passed > 1_000, $"only {passed} mutated texts passed: the test would prove little");
    }

    private static bool ReaderAccepts(byte[] json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("error"u8))
                {
                    return false;
                }

                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName)
                {
                    _ = reader.GetString(); // throws on an escape that decodes to a lone surrogate
                }
            }

            return reader.BytesConsumed == json.Length || json.AsSpan((int)reader.BytesConsumed).Trim(" \t\r\n"u8).IsEmpty;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return false;
        }
    }
}
