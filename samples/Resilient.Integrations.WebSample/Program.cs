using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Resilient.Integrations;
using Resilient.Integrations.Fallback;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;

// An ASP.NET minimal API over a resilient CRM integration:
//   GET /report  a report that says plainly when it is built from the last good data
//   GET /health  the integration's cached state (never calls the CRM)
//   GET /resilience  the operator's status page (and /resilience/status.json): state since when, copies served, alerts
//   POST /simulate/{up|down|expired}  switches the simulated CRM (only when no Crm:BaseAddress is configured)
// Run: dotnet run --project samples/Resilient.Integrations.WebSample --urls http://127.0.0.1:5080
var builder = WebApplication.CreateBuilder(args);

WireMockServer? simulated = null;
string crmAddress = builder.Configuration["Crm:BaseAddress"] ?? StartSimulatedCrm(out simulated);

builder.Services
    .AddResilientIntegration("crm", o => o.BaseAddress = new Uri(crmAddress))
    .AddHttpHealthProbe("/v1/ping", o => o.Interval = TimeSpan.FromSeconds(30));
builder.Services.AddHealthChecks().AddResilientIntegrations();
builder.Services.AddAntiforgery(); // the status page's dead-letter buttons post with a token

var app = builder.Build();

app.MapGet("/report", async (IHttpClientFactory clients, CancellationToken ct) =>
{
    try
    {
        using var answer = await clients.CreateClient("crm").GetAsync("/v1/deals", ct);
        var deals = await answer.Content.ReadFromJsonAsync<JsonElement>(ct);
        var stale = answer.GetDegradation();
        return Results.Json(new
        {
            deals,
            live = stale is null,
            notice = stale?.NoticeFor("Report generated with data"),
        });
    }
    catch (IntegrationFailureException ex)
    {
        // No fresh-enough copy: say what failed, in the problem-details shape.
        return Results.Problem(title: "The CRM is unavailable and no recent data is kept", detail: ex.Classification.ToString(), statusCode: 503);
    }
});

// The sample listens on 127.0.0.1 only, so it opens the page on purpose; a real app names its policy instead:
// app.MapResilientIntegrations("/resilience", o => o.AuthorizationPolicy = "operators");
app.MapResilientIntegrations("/resilience", o => o.AllowAnonymous = true);

app.MapHealthChecks("/health", new HealthCheckOptions
{
    ResponseWriter = (context, report) => context.Response.WriteAsJsonAsync(new
    {
        status = report.Status.ToString(),
        integrations = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), e.Value.Description, e.Value.Data }),
    }),
});

if (simulated is not null)
{
    app.MapPost("/simulate/{mode}", (string mode) =>
    {
        Simulate(simulated, mode);
        return Results.Ok(new { crm = mode });
    });
}

app.Lifetime.ApplicationStopped.Register(() => simulated?.Stop());
app.Run();

static string StartSimulatedCrm(out WireMockServer server)
{
    server = WireMockServer.Start(new WireMockServerSettings { Urls = ["http://127.0.0.1:0"] });
    Simulate(server, "up");
    return server.Url!;
}

static void Simulate(WireMockServer crm, string mode)
{
    crm.Reset();
    var (status, body) = mode switch
    {
        "down" => (503, """{"error":{"code":"unavailable"}}"""),
        "expired" => (401, """{"error":{"code":"invalid_token"}}"""),
        _ => (200, """{"deals":[{"name":"Acme renewal","value":42000},{"name":"Globex pilot","value":12500}]}"""),
    };
    foreach (var path in new[] { "/v1/deals", "/v1/ping" })
    {
        crm.Given(Request.Create().WithPath(path).UsingGet())
            .RespondWith(Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(body));
    }
}
