using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Resilient.Integrations.Benchmarks.Scenarios;

/// <summary>A chat completions endpoint in OpenAI's dialect on a loopback Kestrel server: always the same status and body; counts attempts.</summary>
internal sealed class LoopbackChatUpstream : IAsyncDisposable
{
    public const string Completion = """{"id":"chatcmpl-1","object":"chat.completion","created":1764050000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Weekly summary"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}""";
    public const string Overloaded = """{"error":{"message":"The engine is currently overloaded.","type":"server_error","code":null}}""";

    private readonly WebApplication _app;
    private int _attempts;

    private LoopbackChatUpstream(WebApplication app, int status, string body)
    {
        _app = app;
        app.MapPost("/v1/chat/completions", async context =>
        {
            Interlocked.Increment(ref _attempts);
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(body).ConfigureAwait(false);
        });
    }

    public int Attempts => Volatile.Read(ref _attempts);

    public Uri Endpoint { get; private set; } = null!;

    public static async Task<LoopbackChatUpstream> StartAsync(int status, string body)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var upstream = new LoopbackChatUpstream(builder.Build(), status, body);
        await upstream._app.StartAsync().ConfigureAwait(false);
        var address = upstream._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        upstream.Endpoint = new Uri(address + "/v1");
        return upstream;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
