using Microsoft.Extensions.Options;

namespace Resilient.Integrations.Alerts.Internal;

/// <summary>Validates alert options; each message names the configuration key at fault.</summary>
internal sealed class AlertOptionsValidator : IValidateOptions<AlertOptions>
{
    public const string SectionName = "ResilientIntegrations:Alerts";

    public ValidateOptionsResult Validate(string? name, AlertOptions options)
    {
        var errors = new List<string>();
        if (options.Cooldown < TimeSpan.Zero)
        {
            errors.Add($"{SectionName}:Cooldown must not be negative (was {options.Cooldown}).");
        }

        if (options.SettleTime < TimeSpan.Zero || options.SettleTime > TimeSpan.FromDays(1))
        {
            errors.Add($"{SectionName}:SettleTime must be between 00:00:00 and 1.00:00:00 (was {options.SettleTime}).");
        }

        // Bounded: a timer cannot take more than about 49 days, and a sink given a day has hung.
        if (options.SinkTimeout <= TimeSpan.Zero || options.SinkTimeout > TimeSpan.FromDays(1))
        {
            errors.Add($"{SectionName}:SinkTimeout must be positive and at most 1.00:00:00 (was {options.SinkTimeout}).");
        }

        if (options.QueueCapacity is < 1 or > 1_000_000)
        {
            errors.Add($"{SectionName}:QueueCapacity must be between 1 and 1000000 (was {options.QueueCapacity}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
