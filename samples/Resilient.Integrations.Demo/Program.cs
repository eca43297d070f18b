using Resilient.Integrations.Classification;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;

Console.WriteLine("== The AI weekly report, through every failure there is");
await WeeklyReportDemo.RunAsync();

Console.WriteLine();
Console.WriteLine("== Appendix: what the classifier calls each failure");
Console.WriteLine();

// A simulated AI provider on loopback answers each call the way a real provider fails; the classifier
// names every failure and says what a policy may do about it.
using var provider = WireMockServer.Start(new WireMockServerSettings { Urls = ["http://127.0.0.1:0"] });
using var http = new HttpClient { BaseAddress = new Uri(provider.Url!) };
var classifier = new FailureClassifier();

var scenarios = new (string Name, int Status, string ContentType, string Body, (string, string)[] Headers)[]
{
    ("healthy completion", 200, "application/json", """{"id":"chatcmpl-1","choices":[{"message":{"content":"Weekly summary"}}]}""", []),
    ("rate limited (OpenAI)", 429, "application/json", """{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}""", [("retry-after-ms", "1200"), ("x-ratelimit-remaining-requests", "0"), ("x-ratelimit-reset-requests", "1.2s")]),
    ("billing quota spent (OpenAI)", 429, "application/json", """{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}""", []),
    ("token expired", 401, "application/json", """{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}""", []),
    ("overloaded (Anthropic)", 529, "application/json", """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""", [("retry-after", "3")]),
    ("prompt too long", 400, "application/json", """{"error":{"message":"maximum context length","type":"invalid_request_error","code":"context_length_exceeded"}}""", []),
    ("gateway timeout", 504, "text/html", "<html>504 Gateway Time-out</html>", []),
    ("HTML page behind a 200", 200, "text/html", "<html><body>Sign in to continue</body></html>", []),
    ("truncated JSON", 200, "application/json", """{"contacts":[{"id":1},{"id":""", []),
    ("error inside a 200", 200, "application/json", """{"error":{"code":"server_error","message":"try later"}}""", []),
};

Console.WriteLine($"Simulated provider on {provider.Url}");
Console.WriteLine();
Console.WriteLine($"{"scenario",-30} {"kind",-15} {"retry?",-7} details");
Console.WriteLine(new string('-', 100));

foreach (var (index, (name, status, contentType, body, headers)) in scenarios.Index())
{
    string path = $"/scenario/{index}";
    var response = Response.Create().WithStatusCode(status).WithHeader("Content-Type", contentType).WithBody(body);
    foreach (var (header, value) in headers)
    {
        response = response.WithHeader(header, value);
    }

    provider.Given(Request.Create().WithPath(path).UsingGet()).RespondWith(response);
    using var answer = await http.GetAsync(path);
    Print(name, await classifier.ClassifyAsync(answer));
}

// Failures that never produce a response.
using (var refused = new HttpClient())
{
    try
    {
        await refused.GetAsync($"http://127.0.0.1:{ClosedPort()}/");
    }
    catch (HttpRequestException ex)
    {
        Print("connection refused", classifier.Classify(ex));
    }
}

using (var cts = new CancellationTokenSource())
{
    cts.Cancel();
    try
    {
        await http.GetAsync("/", cts.Token);
    }
    catch (OperationCanceledException ex)
    {
        Print("caller cancelled", classifier.Classify(ex, cts.Token));
    }
}

return 0;

static int ClosedPort()
{
    using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
    listener.Start();
    return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
}

static void Print(string name, FailureClassification result)
{
    string kind = result.IsCancellation ? "(cancelled)" : result.Kind.ToString();
    Console.WriteLine($"{name,-30} {kind,-15} {(result.RetryMayHelp ? "yes" : "no"),-7} {result}");
}
