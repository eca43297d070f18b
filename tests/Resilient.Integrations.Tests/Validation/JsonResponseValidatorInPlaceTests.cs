using System.Net;
using System.Text;
using Resilient.Integrations.Validation;

namespace Resilient.Integrations.Tests.Validation;

/// <summary>
/// Validation of a buffered body where it lies: a body larger than the validator's 64 KiB window is checked token by
/// token as the window slides, and must reach the verdicts the whole-body check reaches, leaving the body readable.
/// </summary>
public sealed class JsonResponseValidatorInPlaceTests
{
    private static readonly JsonResponseValidator Validator = new(new JsonResponseValidatorOptions { MaxBodyBytes = 4 * 1024 * 1024 });

    private static byte[] Records(int bytes, string? extra = null)
    {
        var text = new StringBuilder("{").Append(extra).Append("\"items\":[");
        for (int i = 0; text.Length < bytes; i++)
        {
            text.Append(i == 0 ? "" : ",").Append("{\"id\":").Append(i).Append(",\"name\":\"Ada Lovelace\",\"note\":\"caf\u00e9 \\u00e9\"}");
        }

        return Encoding.UTF8.GetBytes(text.Append("]}").ToString());
    }

    private static HttpResponseMessage Response(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
    }

    [Fact]
    public async Task ValidateAsync_LargeValidBody_ValidAndReadableFromItsStart()
    {
        var body = Records(300 * 1024);
        using var response = Response(body);

        var verdict = await Validator.ValidateAsync(response, TestContext.Current.CancellationToken);

        Assert.True(verdict.IsValid, verdict.Reason);
        Assert.Equal(body, await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        using var stream = await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken);
        Assert.Equal((byte)'{', stream.ReadByte());
    }

    [Fact]
    public async Task ValidateAsync_LargeBodyWithErrorEnvelope_InvalidWithProviderCode()
    {
        using var response = Response(Records(300 * 1024, "\"error\":{\"message\":\"internal\",\"code\":\"server_error\"},"));

        var verdict = await Validator.ValidateAsync(response, TestContext.Current.CancellationToken);

        Assert.False(verdict.IsValid);
        Assert.Equal("server_error", verdict.ProviderCode);
    }

    [Fact]
    public async Task ValidateAsync_LargeBodyCutShort_Invalid()
    {
        var body = Records(300 * 1024);
        using var response = Response(body[..^2]);

        var verdict = await Validator.ValidateAsync(response, TestContext.Current.CancellationToken);

        Assert.False(verdict.IsValid);
        Assert.Contains("malformed or truncated JSON", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateAsync_InvalidUtf8PastTheFirstWindow_Invalid()
    {
        var body = Records(300 * 1024);
        int at = Array.IndexOf(body, (byte)'L', 200 * 1024); // inside an "Ada Lovelace" well past the first window
        body[at] = 0xFF;
        using var response = Response(body);

        var verdict = await Validator.ValidateAsync(response, TestContext.Current.CancellationToken);

        Assert.False(verdict.IsValid);
        Assert.Contains("invalid UTF-8", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateAsync_OneStringLongerThanTheWindow_Valid()
    {
        var body = Encoding.UTF8.GetBytes("\uFEFF{\"blob\":\"" + new string('x', 200 * 1024) + "\",\"ok\":true}");
        using var response = Response(body);

        var verdict = await Validator.ValidateAsync(response, TestContext.Current.CancellationToken);

        Assert.True(verdict.IsValid, verdict.Reason);
        Assert.Equal(body, await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ValidateAsync_LargeBodyWithRequiredPropertyMissing_Invalid()
    {
        var validator = new JsonResponseValidator(new JsonResponseValidatorOptions { MaxBodyBytes = 4 * 1024 * 1024, RequiredProperties = { "total" } });
        using var response = Response(Records(300 * 1024));

        var verdict = await validator.ValidateAsync(response, TestContext.Current.CancellationToken);

        Assert.False(verdict.IsValid);
        Assert.Contains("'total'", verdict.Reason, StringComparison.Ordinal);
    }
}
