using MailKit.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Alerts;

/// <summary>
/// The e-mail sink (Resilient.Integrations.Smtp, MailKit's SmtpClient:
/// https://mimekit.net/docs/html/T_MailKit_Net_Smtp_SmtpClient.htm) against <see cref="FakeSmtpServer"/> on 127.0.0.1.
/// </summary>
public sealed class SmtpAlertSinkTests
{
    private const string Password = "p4ss-W0rd-n0t-for-logs";

    private static IntegrationHarness Create(int port, string? user = "alerts@example.com") => IntegrationHarness.Create(build: b => b.AddSmtpAlertSink(o =>
    {
        o.Host = "127.0.0.1";
        o.Port = port;
        o.Security = SecureSocketOptions.None; // the fake speaks no TLS
        o.UserName = user;
        o.Password = user is null ? null : Password;
        o.From = "Alerts <alerts@example.com>";
        o.To.Add("oncall@example.com");
        o.To.Add("Team Lead <lead@example.com>");
    }));

    private static void AnswerCallWith(IntegrationHarness h, int status) =>
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(status));

    [Theory]
    [InlineData("PLAIN")]
    [InlineData("LOGIN")]
    public async Task SendAsync_AuthFailure_MailsSubjectRecipientsAndBody(string mechanism)
    {
        await using var smtp = new FakeSmtpServer(mechanism, Password);
        await using var h = Create(smtp.Port);
        AnswerCallWith(h, 401);

        await h.GetAsync();
        await Eventually.WaitUntilAsync(() => !smtp.Messages.IsEmpty);

        var envelope = smtp.Messages.First();
        Assert.Equal(("alerts@example.com", Password), smtp.Logins.Single());
        Assert.Equal("alerts@example.com", envelope.AuthenticatedUser);
        Assert.Equal("alerts@example.com", envelope.From);
        Assert.Equal(["oncall@example.com", "lead@example.com"], envelope.Recipients);

        var message = envelope.Parse();
        Assert.StartsWith("[Critical] crm: Auth failure on GET /call", message.Subject, StringComparison.Ordinal);
        Assert.Equal(["oncall@example.com", "lead@example.com"], message.To.Mailboxes.Select(m => m.Address));
        Assert.Equal("alerts@example.com", message.From.Mailboxes.Single().Address);
        string body = message.TextBody ?? string.Empty;
        Assert.Contains("Auth failure on GET /call", body, StringComparison.Ordinal);
        Assert.Contains("Failure kind: Auth", body, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, envelope.Data, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_NoCredentials_MailsWithoutAuthenticating()
    {
        await using var smtp = new FakeSmtpServer();
        await using var h = Create(smtp.Port, user: null);
        AnswerCallWith(h, 401);

        await h.GetAsync();
        await Eventually.WaitUntilAsync(() => !smtp.Messages.IsEmpty);

        Assert.Empty(smtp.Logins);
        Assert.Null(smtp.Messages.First().AuthenticatedUser);
    }

    [Fact]
    public async Task SendAsync_ServerUnreachable_FailsAndBacksOffWithoutLeakingPassword()
    {
        using var closed = FakeSmtpServer.ClosedPort(out int port);
        await using var h = Create(port);
        using var failures = h.Metric("resilient_integrations.alerts.sink_failures");
        AnswerCallWith(h, 401);

        await h.GetAsync();
        await failures.WaitForMeasurementsAsync(1, Eventually.Deadline);

        var logs = h.Logs.GetSnapshot();
        Assert.Contains(logs, r => r.Message.Contains("SmtpAlertSink failed", StringComparison.Ordinal) && r.Message.Contains("backed off", StringComparison.Ordinal));
        Assert.DoesNotContain(logs, r => r.Message.Contains(Password, StringComparison.Ordinal) || (r.Exception?.ToString().Contains(Password, StringComparison.Ordinal) ?? false));
    }

    [Fact]
    public async Task SendAsync_PasswordRefused_FailsWithoutLeakingPassword()
    {
        await using var smtp = new FakeSmtpServer("PLAIN", password: "the-right-one");
        await using var h = Create(smtp.Port);
        using var failures = h.Metric("resilient_integrations.alerts.sink_failures");
        AnswerCallWith(h, 401);

        await h.GetAsync();
        await failures.WaitForMeasurementsAsync(1, Eventually.Deadline);

        Assert.Empty(smtp.Messages);
        var logs = h.Logs.GetSnapshot();
        Assert.Contains(logs, r => r.Message.Contains("SmtpAlertDeliveryException", StringComparison.Ordinal));
        Assert.DoesNotContain(logs, r => r.Message.Contains(Password, StringComparison.Ordinal));
    }

    [Fact]
    public void AddSmtpAlertSink_NoHostNoRecipients_FailsAtStartupNamingTheKeys()
    {
        var services = new ServiceCollection();
        services.AddResilientIntegration("crm").AddSmtpAlertSink(o =>
        {
            o.From = "alerts@example.com";
            o.UserName = "alerts";
        });
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("Alerts:Smtp:Host", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Alerts:Smtp:To", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Alerts:Smtp:Password", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Alerts:Smtp:From", ex.Message, StringComparison.Ordinal);
    }
}
