using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Resilient.Integrations.Tests.Docs;

/// <summary>One <c>```csharp</c> block of README.md.</summary>
/// <param name="Line">The README line of the block's first line of code (1-based).</param>
/// <param name="Heading">The heading the block stands under.</param>
/// <param name="Code">The block's code.</param>
internal sealed record ReadmeBlock(int Line, string Heading, string Code)
{
    public override string ToString() => $"README.md:{Line} ({Heading})";
}

/// <summary>
/// Compiles the README's C# blocks as they are written, under one convention that README.md names at its top:
/// <list type="bullet">
/// <item>A block is a C# program of top-level statements: its <c>using</c> directives first, then statements,
/// then any type declarations. It is compiled with nullable reference types on, and a warning fails it as an
/// error would (the repository builds with warnings as errors).</item>
/// <item>Every block sees the implicit global usings of an ASP.NET Core app (Microsoft.NET.Sdk.Web) and the core
/// package's namespaces (<see cref="GlobalUsings"/>). Any other namespace, an optional package's
/// (Resilient.Integrations.AI, .Testing), an SDK's, WireMock.Net's or xunit's, is a <c>using</c> in the block.</item>
/// <item>A block may use, without declaring them, the names of <see cref="Context"/>: what an app has at hand in
/// Program.cs or in a service (the builder, the container, a token, the examples' CRM client and its contacts).
/// Whatever else a block uses, it declares.</item>
/// <item>Nothing is excluded: a C# block fenced as <c>```cs</c> or <c>```c#</c> fails the test instead of
/// escaping it.</item>
/// </list>
/// The references are this test's own (its trusted platform assemblies): the packages, the official SDKs,
/// WireMock.Net, xunit and ASP.NET Core.
/// </summary>
internal static class ReadmeSnippets
{
    /// <summary>The usings every block gets: an ASP.NET Core app's implicit ones and the core package's namespaces.</summary>
    public const string GlobalUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Net.Http.Json;
        global using System.Threading;
        global using System.Threading.Tasks;
        global using Microsoft.AspNetCore.Builder;
        global using Microsoft.AspNetCore.Hosting;
        global using Microsoft.AspNetCore.Http;
        global using Microsoft.AspNetCore.Routing;
        global using Microsoft.Extensions.Configuration;
        global using Microsoft.Extensions.DependencyInjection;
        global using Microsoft.Extensions.Hosting;
        global using Microsoft.Extensions.Logging;
        global using Resilient.Integrations;
        global using Resilient.Integrations.Alerts;
        global using Resilient.Integrations.Batch;
        global using Resilient.Integrations.Classification;
        global using Resilient.Integrations.Deferral;
        global using Resilient.Integrations.Fallback;
        global using Resilient.Integrations.Health;
        global using Resilient.Integrations.Policies;
        global using Resilient.Integrations.Validation;
        """;

    /// <summary>
    /// The names a block may use without declaring them. They only have to exist for a block to compile;
    /// the drill block, which is run, gets a real <c>services</c> and <c>ct</c> (see <see cref="RunAsync"/>).
    /// </summary>
    public const string Context = """
        partial class Program
        {
            // Program.cs of an ASP.NET Core app.
            static WebApplicationBuilder builder = null!;
            static WebApplication app = null!;

            // Code with the container at hand: a test's or a library's service collection, the built provider.
            static IServiceCollection services = null!;
            static IServiceProvider provider = null!;
            static IHttpClientFactory httpClientFactory = null!;
            static IConfiguration config = null!;

            // The caller's cancellation token.
            static CancellationToken ct = default;

            // The examples' CRM: the HttpClient of the integration named "crm", a contact, the ids of contacts.
            static HttpClient crm = null!;
            static Contact contact = null!;
            static IReadOnlyList<int> contactIds = null!;

            // Any HttpClient, for code that uses the classifier on its own.
            static HttpClient http = null!;

            // OpenAI SDK chat clients (package OpenAI): one an app already has, and one on a plain HttpClient with
            // the SDK's retries off (the one the chat middleware wraps).
            static OpenAI.Chat.ChatClient chat = null!;
            static OpenAI.Chat.ChatClient openAiChatClient = null!;
        }

        // The examples' own types: a CRM contact, the CRM SDK's exception for an expired session.
        sealed record Contact(int Id, string Name);
        sealed class CrmSessionException(string message) : Exception(message);
        """;

    private static readonly CSharpParseOptions ParseOptions = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest);

    private static readonly Lazy<MetadataReference[]> References = new(() =>
        [.. ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(path => path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            .DistinctBy(Path.GetFileName, StringComparer.OrdinalIgnoreCase)
            .Select(path => MetadataReference.CreateFromFile(path))]);

    private static readonly Lazy<IReadOnlyList<ReadmeBlock>> ReadmeBlocks = new(() => Extract(File.ReadAllText(ReadmePath)));

    /// <summary>The README as built next to the tests (the project links the repository's README.md).</summary>
    public static string ReadmePath => Path.Combine(AppContext.BaseDirectory, "README.md");

    /// <summary>Every <c>```csharp</c> block of the README, in order.</summary>
    public static IReadOnlyList<ReadmeBlock> Blocks => ReadmeBlocks.Value;

    /// <summary>Finds the fenced C# blocks of a Markdown text.</summary>
    /// <exception cref="InvalidOperationException">A C# block is fenced as <c>```cs</c> or <c>```c#</c>, or a fence is not closed.</exception>
    public static IReadOnlyList<ReadmeBlock> Extract(string markdown)
    {
        var lines = markdown.ReplaceLineEndings("\n").Split('\n');
        var blocks = new List<ReadmeBlock>();
        string heading = "(top)";
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            if (line.StartsWith('#'))
            {
                heading = line.TrimStart('#').Trim();
                continue;
            }

            if (!line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                continue;
            }

            string language = line.Trim()[3..].Trim();
            if (language is "cs" or "c#" or "C#" or "CSharp" or "dotnet")
            {
                throw new InvalidOperationException($"README.md:{i + 1}: fence a C# block as ```csharp so that it is compiled, not as ```{language}.");
            }

            int start = i + 1;
            int end = start;
            while (end < lines.Length && !lines[end].TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                end++;
            }

            if (end == lines.Length)
            {
                throw new InvalidOperationException($"README.md:{i + 1}: the fence is never closed.");
            }

            if (language == "csharp")
            {
                blocks.Add(new ReadmeBlock(start + 1, heading, string.Join('\n', lines[start..end])));
            }

            i = end;
        }

        return blocks;
    }

    /// <summary>Compiles a block in its context.</summary>
    public static CSharpCompilation Compile(ReadmeBlock block) =>
        CSharpCompilation.Create(
            "ReadmeBlock" + block.Line.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [
                CSharpSyntaxTree.ParseText(block.Code, ParseOptions, path: "README.md"),
                CSharpSyntaxTree.ParseText(GlobalUsings, ParseOptions, path: "GlobalUsings.cs"),
                CSharpSyntaxTree.ParseText(Context, ParseOptions, path: "Context.cs"),
            ],
            References.Value,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable, warningLevel: 9999));

    /// <summary>
    /// What keeps a block from compiling as written: any error, and any warning in the block itself (the context
    /// declares names it does not use, which is no finding). Each is reported at its README line.
    /// </summary>
    public static IReadOnlyList<string> Problems(ReadmeBlock block) => Problems(block, Compile(block).GetDiagnostics());

    /// <summary>Emits a block and runs it: its top-level statements, with the given context values.</summary>
    /// <param name="block">The block.</param>
    /// <param name="context">Values for names of <see cref="Context"/>, by name.</param>
    public static async Task RunAsync(ReadmeBlock block, IReadOnlyDictionary<string, object> context)
    {
        using var image = new MemoryStream();
        var emitted = Compile(block).Emit(image);
        Assert.True(emitted.Success, string.Join('\n', Problems(block, emitted.Diagnostics)));

        var loader = new AssemblyLoadContext(block.ToString(), isCollectible: true);
        try
        {
            image.Position = 0;
            var program = loader.LoadFromStream(image).GetType("Program", throwOnError: true)!;
            foreach (var (name, value) in context)
            {
                var field = program.GetField(name, BindingFlags.Static | BindingFlags.NonPublic)
                    ?? throw new InvalidOperationException($"'{name}' is not a name of the README context.");
                field.SetValue(null, value);
            }

            // The top-level statements themselves, not the synthesized entry point that blocks on them.
            var main = program.GetMethod("<Main>$", BindingFlags.Static | BindingFlags.NonPublic)!;
            if (main.Invoke(null, [Array.Empty<string>()]) is Task run)
            {
                await run;
            }
        }
        finally
        {
            loader.Unload();
        }
    }

    private static IReadOnlyList<string> Problems(ReadmeBlock block, ImmutableArray<Diagnostic> diagnostics) =>
        [.. diagnostics
            .Where(d => !d.IsSuppressed && (d.Severity == DiagnosticSeverity.Error ||
                (d.Severity == DiagnosticSeverity.Warning && d.Location.SourceTree?.FilePath == "README.md")))
            .Select(d => d.Location.SourceTree?.FilePath == "README.md"
                ? $"README.md:{block.Line + d.Location.GetLineSpan().StartLinePosition.Line}: {d.Id}: {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}"
                : $"{d.Location.SourceTree?.FilePath ?? "(no file)"}: {d.Id}: {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}")];
}
