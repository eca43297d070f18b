using Resilient.Integrations.Classification;
using Resilient.Integrations.Tests.Support;
using Resilient.Integrations.Validation;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Validation;

public sealed class JsonResponseValidatorTests : ClassifierTestBase
{
    public static TheoryData<string, string, string, string> BadBodies => new()
    {
        { "HTML error page", "text/html", "<html><body>502 Bad Gateway</body></html>", "unexpected content type 'text/html'" },
        { "truncated JSON", "application/json", """{"items":[{"id":1},{"id":2""", "malformed or truncated JSON" },
        { "unparsable JSON", "application/json", """{"items": [1, 2,, 3]}""", "malformed or truncated JSON" },
        { "trailing garbage", "application/json", """{"ok":true} <!-- cached -->""", "malformed or truncated JSON" },
        { "error envelope in 200", "application/json", """{"error":{"message":"internal","code":"server_error"}}""", "error envelope" },
        { "plain text", "text/plain", "OK", "unexpected content type 'text/plain'" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task ClassifyAsync_SuccessStatusWithBadBody_IsBadResponse(string name, string contentType, string body, string reason)
    {
        _ = name;
        Respond(200, body, contentType);

        var result = await CallAndClassifyAsync();

        Assert.Equal(FailureKind.BadResponse, result.Kind);
        Assert.False(result.RetryMayHelp);
        Assert.Contains(reason, result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClassifyAsync_ErrorEnvelopeInSuccess_CarriesProviderCode()
    {
        Respond(200, """{"error":{"message":"internal","code":"server_error"}}""");

        var result = await CallAndClassifyAsync();

        Assert.Equal("server_error", result.ProviderCode);
    }

    public static TheoryData<string, string, string> GoodBodies => new()
    {
        { "object", "application/json; charset=utf-8", """{"data":[{"id":1}],"error":null}""" },
        { "array", "application/json", """[{"id":1},{"id":2}]""" },
        { "vendor json", "application/vnd.api+json", """{"data":{"type":"contacts"}}""" },
        { "nested error member", "application/json", """{"data":{"error":"field-level note"}}""" },
        { "error false", "application/json", """{"error":false,"data":[]}""" },
        { "error empty", "application/json", """{"error":"","data":[]}""" },
        { "error zero", "application/json", """{"error":0,"data":[]}""" },
        { "byte order mark", "application/json", "\uFEFF{\"ok\":true}" },
        { "event stream", "text/event-stream", "data: {\"delta\":\"Hel" },
    };

    [Theory]
    [MemberData(nameof(GoodBodies))]
    public async Task ClassifyAsync_SuccessStatusWithGoodBody_IsSuccessAndBodyStaysReadable(string name, string contentType, string body)
    {
        _ = name;
        Respond(200, body, contentType);
        using var response = await CallAsync(HttpCompletionOption.ResponseHeadersRead);

        var result = await CreateClassifier().ClassifyAsync(response, Ct);

        Assert.False(result.IsFailure, result.ToString());
        Assert.Equal(body.TrimStart('\uFEFF'), await response.Content.ReadAsStringAsync(Ct)); // the reader drops a BOM itself
    }

    public static TheoryData<string, byte[]> InvalidText => new()
    {
        { "invalid UTF-8 in a value", [.. """{"name":"M"""u8, 0xC3, 0x28, .. "ller\"}"u8] },
        { "invalid UTF-8 in a name", [.. "{\""u8, 0xFF, .. "\":1}"u8] },
        { "invalid UTF-8 beside an escape", [.. """{"note":"a\n"""u8, 0xE2, 0x82, .. "\"}"u8] },
        { "unpaired surrogate escape", """{"name":"\ud800"}"""u8.ToArray() },
    };

    [Theory]
    [MemberData(nameof(InvalidText))]
    public async Task ClassifyAsync_JsonStringThatCannotBeDecoded_IsBadResponse(string name, byte[] body)
    {
        _ = name;
        Server.Given(Request.Create().WithPath("/call").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(body));

        var result = await CallAndClassifyAsync();

        Assert.Equal(FailureKind.BadResponse, result.Kind);
        Assert.Contains("invalid UTF-8", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClassifyAsync_EscapesAndMultiByteText_IsSuccess()
    {
        Respond(200, """{"name":"Müller \u00e9 \ud83d\ude00 😀","note":"line\nbreak \"quoted\""}""");

        var result = await CallAndClassifyAsync();

        Assert.False(result.IsFailure, result.ToString());
    }

    [Fact]
    public async Task ClassifyAsync_BodyLargerThanLimit_ChecksPrefixAndKeepsWholeBody()
    {
        string body = "[" + string.Join(",", Enumerable.Range(0, 5_000).Select(i => $"{{\"id\":{i}}}")) + "]";
        Respond(200, body);
        var classifier = CreateClassifier(o => o.ResponseValidator = new JsonResponseValidator(new JsonResponseValidatorOptions { MaxBodyBytes = 1024 }));
        using var response = await CallAsync(HttpCompletionOption.ResponseHeadersRead);

        var result = await classifier.ClassifyAsync(response, Ct);

        Assert.False(result.IsFailure, result.ToString());
        Assert.Equal(body, await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task ClassifyAsync_BodyLargerThanLimitBrokenEarly_IsBadResponse()
    {
        string body = "[{\"id\":1}}" + new string(' ', 5_000) + "]";
        Respond(200, body);
        var classifier = CreateClassifier(o => o.ResponseValidator = new JsonResponseValidator(new JsonResponseValidatorOptions { MaxBodyBytes = 1024 }));

        var result = await CallAndClassifyAsync(classifier);

        Assert.Equal(FailureKind.BadResponse, result.Kind);
    }

    [Fact]
    public async Task ClassifyAsync_RequiredPropertyMissing_IsBadResponse()
    {
        Respond(200, """{"data":{"contacts":null},"next":"abc"}""");
        var options = new JsonResponseValidatorOptions();
        options.RequiredProperties.Add("next");
        options.RequiredProperties.Add("data.contacts");
        var classifier = CreateClassifier(o => o.ResponseValidator = new JsonResponseValidator(options));

        var result = await CallAndClassifyAsync(classifier);

        Assert.Equal(FailureKind.BadResponse, result.Kind);
        Assert.Equal("required property 'data.contacts' is missing", result.Reason);
    }

    [Fact]
    public async Task ClassifyAsync_RequiredPropertiesPresent_IsSuccess()
    {
        Respond(200, """{"data":{"contacts":[]},"next":"abc"}""");
        var options = new JsonResponseValidatorOptions();
        options.RequiredProperties.Add("data.contacts");
        var classifier = CreateClassifier(o => o.ResponseValidator = new JsonResponseValidator(options));

        Assert.False((await CallAndClassifyAsync(classifier)).IsFailure);
    }

    [Fact]
    public async Task ClassifyAsync_EmptyBodyDisallowed_IsBadResponse()
    {
        Respond(200, "");
        var classifier = CreateClassifier(o => o.ResponseValidator = new JsonResponseValidator(new JsonResponseValidatorOptions { AllowEmptyBody = false }));

        var result = await CallAndClassifyAsync(classifier);

        Assert.Equal(FailureKind.BadResponse, result.Kind);
    }

    [Fact]
    public async Task ClassifyAsync_EmptyBodyByDefault_IsSuccess()
    {
        Respond(200, "");

        Assert.False((await CallAndClassifyAsync()).IsFailure);
    }

    [Fact]
    public async Task ClassifyAsync_NoValidator_AcceptsHtml()
    {
        Respond(200, "<html></html>", "text/html");

        var result = await CallAndClassifyAsync(CreateClassifier(o => o.ResponseValidator = null));

        Assert.False(result.IsFailure);
    }

    [Fact]
    public async Task ClassifyAsync_DelegateValidator_DecidesBadResponse()
    {
        Respond(200, """{"items":[]}""");
        var validator = ResponseValidator.FromDelegate(r =>
            r.Headers.Contains("x-page") ? ResponseValidationResult.Valid : ResponseValidationResult.Invalid("missing x-page header"));

        var result = await CallAndClassifyAsync(CreateClassifier(o => o.ResponseValidator = validator));

        Assert.Equal(FailureKind.BadResponse, result.Kind);
        Assert.Equal("missing x-page header", result.Reason);
    }

    [Fact]
    public async Task ClassifyAsync_AllValidators_FirstFailureWins()
    {
        Respond(200, """{"error":{"code":"boom"}}""");
        var passes = ResponseValidator.FromDelegate(_ => ResponseValidationResult.Valid);
        var validator = ResponseValidator.All(passes, JsonResponseValidator.Default);

        var result = await CallAndClassifyAsync(CreateClassifier(o => o.ResponseValidator = validator));

        Assert.Equal("boom", result.ProviderCode);
    }

    [Fact]
    public async Task ClassifyAsync_HeadRequest_SkipsBodyValidation()
    {
        Server.Given(Request.Create().WithPath("/call").UsingHead())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/html"));
        using var response = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/call"), Ct);

        var result = await CreateClassifier().ClassifyAsync(response, Ct);

        Assert.False(result.IsFailure);
    }

    [Fact]
    public void Constructor_BodyLimitOutOfRange_ThrowsNamingTheOption()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new JsonResponseValidator(new JsonResponseValidatorOptions { MaxBodyBytes = 0 }));

        Assert.Contains("MaxBodyBytes", ex.Message, StringComparison.Ordinal);
    }
}
