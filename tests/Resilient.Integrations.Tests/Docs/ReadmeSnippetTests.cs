using Microsoft.Extensions.DependencyInjection;

namespace Resilient.Integrations.Tests.Docs;

/// <summary>
/// Every C# block of README.md compiles as written, and the drill block runs and passes over loopback. The
/// convention a block is compiled under (top-level statements, the global usings, the names it may use
/// without declaring them) is written down in <see cref="ReadmeSnippets"/>.
/// </summary>
public sealed class ReadmeSnippetTests
{
    public static TheoryData<int, string> Blocks() => new(ReadmeSnippets.Blocks.Select(b => (b.Line, b.Heading)));

    [Theory]
    [MemberData(nameof(Blocks))]
    public void Block_CompiledInTheReadmeContext_HasNoErrorsOrWarnings(int line, string heading)
    {
        var block = ReadmeSnippets.Blocks.Single(b => b.Line == line);

        var problems = ReadmeSnippets.Problems(block);

        Assert.True(problems.Count == 0, $"The C# block under \"{heading}\" does not compile as written:\n" + string.Join('\n', problems));
    }

    [Fact]
    public void Extract_Readme_FindsEveryCsharpFence()
    {
        var markdown = File.ReadAllText(ReadmeSnippets.ReadmePath);
        int fences = markdown.ReplaceLineEndings("\n").Split('\n').Count(l => l.Trim() == "```csharp");

        var blocks = ReadmeSnippets.Extract(markdown);

        Assert.True(fences >= 10, $"only {fences} ```csharp fences: is this the README?");
        Assert.Equal(fences, blocks.Count);
        Assert.All(blocks, b => Assert.False(string.IsNullOrWhiteSpace(b.Code), $"{b} is empty"));
    }

    [Theory]
    [InlineData("cs")]
    [InlineData("c#")]
    public void Extract_CsharpBlockFencedOtherwise_FailsInsteadOfSkippingIt(string language)
    {
        string markdown = $"# Title\n\n```{language}\nvar x = 1;\n```\n";

        var ex = Assert.Throws<InvalidOperationException>(() => ReadmeSnippets.Extract(markdown));

        Assert.Contains("README.md:3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Extract_BlocksOfOtherLanguages_AreLeftOutAndLinesCounted()
    {
        const string markdown = "# A\n\n```bash\ndotnet test\n```\n\n## B\n\n```csharp\nvar x = 1;\n```\n";

        var block = Assert.Single(ReadmeSnippets.Extract(markdown));

        Assert.Equal(new ReadmeBlock(10, "B", "var x = 1;"), block);
    }

    [Fact]
    public void Problems_BlockUsingAnUndeclaredName_ReportsTheNameAtItsReadmeLine()
    {
        var block = new ReadmeBlock(40, "test", "var ai = provider.GetRequiredKeyedService<IResilientIntegration>(\"openai\");\nvar text = prompt;");

        var problem = Assert.Single(ReadmeSnippets.Problems(block));

        Assert.StartsWith("README.md:41: CS0103:", problem, StringComparison.Ordinal);
        Assert.Contains("'prompt'", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Problems_BlockWithANullableWarning_ReportsItAsAProblem()
    {
        var block = new ReadmeBlock(7, "test", "string key = config[\"OpenAI:ApiKey\"];\nConsole.WriteLine(key);");

        var problem = Assert.Single(ReadmeSnippets.Problems(block));

        Assert.StartsWith("README.md:7: CS8600:", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Problems_BlockUsingTheContextAndTheCorePackage_HasNone()
    {
        var block = new ReadmeBlock(1, "test", """
            using var response = await crm.GetAsync("/contacts", ct);
            var kind = response.GetFailureClassification().Kind;
            Console.WriteLine($"{kind} {contact.Name} {contactIds.Count}");
            """);

        Assert.Empty(ReadmeSnippets.Problems(block));
    }

    [Fact]
    public async Task DrillBlock_RunOverLoopback_EveryScenarioPasses()
    {
        // The block asserts report.Passed itself: running it as written is the test.
        var drill = Assert.Single(ReadmeSnippets.Blocks, b => b.Code.Contains("DrillRunner.RunAsync", StringComparison.Ordinal));

        await ReadmeSnippets.RunAsync(drill, new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["services"] = new ServiceCollection(),
            ["ct"] = TestContext.Current.CancellationToken,
        });
    }
}
